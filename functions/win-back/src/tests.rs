//! The rules of a win-back, on `decide` (no AWS).

use custops::fixtures::{at, northside};
use custops::model::{Consent, Customer, MarketingConsent, RepairOrder, StepStatus, TaskStatus};
use custops::outbound::Plan;

use super::*;

const MARIA: &str = "+15125550142";

fn last_visit() -> DateTime<Utc> {
    at("2025-09-15T16:00:00Z")
}

/// Maria, last in on 15 September 2025, with marketing consent.
fn maria(consent: bool) -> CustomerState {
    let mut profile = Customer::lead("northside-chevy", Phone::parse(MARIA).unwrap(), at("2024-01-01T00:00:00Z"));
    profile.first_name = Some("Maria".into());
    profile.last_visit_at = Some(last_visit());
    profile.vehicles = vec![serde_json_vehicle()];
    let consent = Consent {
        marketing: consent.then(|| MarketingConsent { granted: true, source: "dms".into(), at: last_visit() }),
        ..Default::default()
    };
    CustomerState { profile: Some(profile), version: Some(4), consent, ..Default::default() }
}

fn serde_json_vehicle() -> custops::event::Vehicle {
    custops::event::Vehicle { vin: "V1".into(), year: 2021, make: "Chevrolet".into(), model: "Tahoe".into() }
}

fn lapsed() -> Lapsed {
    Lapsed {
        store_id: "northside-chevy".into(),
        phone: Phone::parse(MARIA).unwrap(),
        last_visit_at: last_visit(),
        lapse_months: 13,
        at: None,
    }
}

/// 25 November 2026, 10:00 in Chicago: over 13 months after the visit.
fn now() -> DateTime<Utc> {
    at("2026-11-25T16:00:00Z")
}

#[test]
fn a_lapsed_customer_with_consent_gets_one_marketing_text_naming_the_store_and_vehicle_and_a_task() {
    let change = decide(&northside(), &lapsed(), &maria(true), now());
    let r = &change.records[0];
    let Some(Plan::Send(text)) = change.plan() else { panic!("{:?}", change.plan()) };
    assert_eq!(text.class, MessageClass::Marketing);
    assert!(text.body.contains("Northside Chevrolet") && text.body.contains("2021 Chevrolet Tahoe"), "{}", text.body);
    assert!(text.body.contains("https://northside.example/service"), "{}", text.body);
    assert_eq!(text.withdrawn_if, Some(WithdrawnIf::Visited), "a visit before it goes withdraws it");
    assert_eq!(r.tasks.len(), 1);
    let t = &r.tasks[0];
    assert_eq!((t.kind, t.status, t.owner.as_str()), (TaskKind::WinBack, TaskStatus::Open, "bdc-service"));
    let (profile, version) = r.profile.as_ref().unwrap();
    assert_eq!(*version, Some(4));
    assert_eq!(profile.lapse_contacted.as_ref().map(|c| c.visit_at), Some(last_visit()), "marked contacted");
    assert_eq!(profile.uncontacted_visit(), None, "so it leaves the sweep's index");
    assert_eq!(
        change.event_id,
        format!("win-back#northside-chevy#{}#2025-09-15T16:00:00.000Z", lapsed().customer().token())
    );
    assert!(!change.event_id.contains("5125550142"), "no phone number in an id that is logged");
    assert_eq!(change.facts[0].kind, FactKind::WinBackTexted);
}

#[test]
fn without_marketing_consent_the_service_owner_gets_the_task_and_no_text() {
    let change = decide(&northside(), &lapsed(), &maria(false), now());
    assert!(matches!(change.plan(), Some(Plan::Suppress(Suppressed::NoMarketingConsent))), "{:?}", change.plan());
    assert_eq!(change.records[0].tasks[0].kind, TaskKind::WinBack);
    assert_eq!(change.facts[0].kind, FactKind::WinBackTaskOnly);
}

#[test]
fn one_voice_an_open_repair_order_or_a_declined_follow_up_gets_the_task_not_the_text() {
    let mut open_ro = maria(true);
    open_ro.repair_orders.push(RepairOrder {
        ro_number: "RO-9".into(),
        status: "in_progress".into(),
        status_at: now(),
        vehicle: serde_json_vehicle(),
        advisor: custops::event::Person { id: "a".into(), name: "A".into() },
        amount_due_cents: None,
        closed_at: None,
        texted: vec![],
        performed: vec![],
        mileage: None,
    });
    let mut following_up = maria(true);
    following_up.follow_ups = custops::fixtures::declined_work().follow_ups;
    assert!(following_up.follow_ups.iter().any(|s| s.status == StepStatus::Scheduled));
    for state in [open_ro, following_up] {
        let change = decide(&northside(), &lapsed(), &state, now());
        assert!(matches!(change.plan(), Some(Plan::Suppress(Suppressed::OneVoice(_)))), "{:?}", change.plan());
        assert_eq!(change.records[0].tasks.len(), 1);
        assert_eq!(change.facts[0].kind, FactKind::WinBackTaskOnly);
    }
}

#[test]
fn a_visit_since_the_sweep_cancels_it() {
    let mut state = maria(true);
    state.profile.as_mut().unwrap().last_visit_at = Some(at("2026-11-24T20:00:00Z"));
    let change = decide(&northside(), &lapsed(), &state, now());
    let r = &change.records[0];
    assert!(r.text.is_none() && r.tasks.is_empty() && r.profile.is_none() && change.facts.is_empty());
    assert_eq!(r.touchpoints[0].kind, "win_back.cancelled");
}

#[test]
fn a_lapse_already_contacted_changes_nothing() {
    let mut state = maria(true);
    state.profile.as_mut().unwrap().lapse_contacted =
        Some(custops::model::LapseContact { visit_at: last_visit(), at: at("2026-10-16T15:00:00Z") });
    let change = decide(&northside(), &lapsed(), &state, now());
    assert!(change.records.is_empty());
}

#[test]
fn the_lapse_index_holds_a_customer_until_contacted_and_again_after_the_next_visit() {
    use custops::entity::Entity;
    let mut profile = maria(true).profile.unwrap();
    let on_index = |p: &Customer| p.keys(&()).gsi2.map(|(pk, sk)| (pk, sk[..24].to_owned()));
    assert_eq!(on_index(&profile), Some(("LAPSE#northside-chevy".into(), "2025-09-15T16:00:00.000Z".into())));
    profile.lapse_contacted = Some(custops::model::LapseContact { visit_at: last_visit(), at: now() });
    assert_eq!(on_index(&profile), None);
    profile.visited(at("2027-02-01T16:00:00Z"));
    assert_eq!(on_index(&profile).map(|(_, sk)| sk), Some("2027-02-01T16:00:00.000Z".into()));
}

#[test]
fn a_lapse_is_more_than_lapse_months_of_calendar_months() {
    let store = northside();
    assert_eq!(store.lapse_cutoff(at("2026-11-25T16:00:00Z")), at("2025-10-25T16:00:00Z"));
    let mut short = northside();
    short.lapse_months = 6;
    assert_eq!(short.lapse_cutoff(at("2026-08-31T12:00:00Z")), at("2026-02-28T12:00:00Z"));
}
