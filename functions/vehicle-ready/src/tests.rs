//! The rules of a repair-order status change, on `decide` (no AWS).

use custops::fixtures::{at, customer, envelope, northside};
use custops::model::{Consent, CustomerState, TaskStatus};
use custops::outbound::{Plan, Suppressed};
use serde_json::json;

use super::*;

const MARIA: &str = "+15125550142";

fn status(event_id: &str, status: &str, occurred_at: &str) -> (Envelope, RoStatusChanged) {
    let e = envelope(
        "ro.status_changed",
        event_id,
        occurred_at,
        json!({
            "ro_number": "RO-48213",
            "status": status,
            "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez",
                         "phone": "(512) 555-0142", "marketing_consent": true},
            "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
            "advisor": {"id": "adv-7", "name": "Dana Whitfield"},
            "amount_due_cents": 48735
        }),
    );
    let data = e.data().unwrap();
    (e, data)
}

/// Decides `status` at `occurred_at` (handled 5 s later) on `state`.
fn decided(state: &CustomerState, s: &str, occurred_at: &str) -> Change {
    let (e, c) = status("d-1", s, occurred_at);
    decide(&northside(), &e, &c, &customer(MARIA), state, None, at(occurred_at) + Duration::seconds(5))
}

/// The state a committed change leaves (for the next event).
fn after(change: &Change) -> CustomerState {
    custops::fixtures::state_after(change)
}

fn main_record(change: &Change) -> &RecordChange {
    change.records.last().unwrap()
}

fn sent_body(change: &Change) -> String {
    match change.plan() {
        Some(Plan::Send(t)) => t.body.clone(),
        other => panic!("expected a text now, got {other:?}"),
    }
}

#[test]
fn ready_for_pickup_texts_the_vehicle_the_amount_due_the_hours_and_the_advisor() {
    // Monday 10:05 Chicago.
    let change = decided(&CustomerState::default(), READY_FOR_PICKUP, "2026-11-23T16:05:00Z");
    let body = sent_body(&change);
    for part in ["Maria", "2021 Chevrolet Tahoe", "Northside Chevrolet", "$487.35", "Dana Whitfield", "7:00 AM"] {
        assert!(body.contains(part), "{part:?} missing from {body}");
    }
    let text = change.plan().unwrap().text().unwrap();
    assert_eq!(text.class, MessageClass::Transactional);
    assert_eq!(text.dedupe_key, "ro-status#RO-48213#ready_for_pickup");
}

#[test]
fn parts_arrived_texts_once_and_gives_the_advisor_a_task_to_book_the_install() {
    let change = decided(&CustomerState::default(), PARTS_ARRIVED, "2026-11-23T16:05:00Z");
    assert!(sent_body(&change).contains("part"));
    let task = &main_record(&change).tasks[0];
    assert_eq!((task.kind, task.owner.as_str()), (TaskKind::BookInstall, "adv-7"));
    assert_eq!(task.due_at, at("2026-11-25T01:00:00Z"), "close of the next business day: Tuesday 19:00 CST");

    // The same status again (another event) texts nothing and adds no task.
    let again = decided(&after(&change), PARTS_ARRIVED, "2026-11-23T17:00:00Z");
    assert!(again.plan().is_none());
    assert!(main_record(&again).tasks.is_empty());
}

#[test]
fn ready_for_pickup_closes_the_open_install_task() {
    let parts = decided(&CustomerState::default(), PARTS_ARRIVED, "2026-11-23T16:05:00Z");
    let ready = decided(&after(&parts), READY_FOR_PICKUP, "2026-11-24T16:05:00Z");
    let closed = &main_record(&ready).tasks[0];
    assert_eq!((closed.kind, closed.status), (TaskKind::BookInstall, TaskStatus::Done));
    assert!(main_record(&ready).touchpoints.iter().any(|t| t.kind == "task.closed"));
}

#[test]
fn a_voided_repair_order_leaves_the_open_work_texting_nobody() {
    let parts = decided(&CustomerState::default(), PARTS_ARRIVED, "2026-11-23T16:05:00Z");
    let voided = decided(&after(&parts), VOIDED, "2026-11-24T16:05:00Z");
    assert!(voided.plan().is_none());
    let record = main_record(&voided);
    let ro = &record.repair_orders[0];
    assert_eq!((ro.status.as_str(), ro.closed_at), (VOIDED, Some(at("2026-11-24T16:05:00Z"))), "kept as history");
    assert_eq!((record.tasks[0].kind, record.tasks[0].status), (TaskKind::BookInstall, TaskStatus::Done));
    let left = after(&voided);
    assert!(left.repair_orders.iter().all(|r| r.ro_number != "RO-48213"), "no longer open: {:?}", left.repair_orders);
    // A repair order never seen open: nothing to leave, nothing written.
    let first = decided(&CustomerState::default(), VOIDED, "2026-11-24T16:05:00Z");
    assert!(main_record(&first).repair_orders.is_empty() && first.plan().is_none());
}

#[test]
fn other_statuses_are_recorded_never_texted() {
    let change = decided(&CustomerState::default(), "in_progress", "2026-11-23T16:05:00Z");
    assert!(change.plan().is_none());
    assert_eq!(main_record(&change).repair_orders[0].status, "in_progress");
    let profile = &main_record(&change).profile.as_ref().unwrap().0;
    assert_eq!(profile.ro_activity_at, Some(at("2026-11-23T16:05:05Z")), "a waiting win-back text is withdrawn");
}

#[test]
fn a_status_older_than_the_current_one_is_history_only() {
    let ready = decided(&CustomerState::default(), READY_FOR_PICKUP, "2026-11-23T16:05:00Z");
    let late = decided(&after(&ready), "in_progress", "2026-11-23T15:00:00Z");
    assert!(main_record(&late).repair_orders.is_empty(), "the current status is kept");
    assert!(late.plan().is_none());
    assert!(main_record(&late).touchpoints.iter().any(|t| t.summary.contains("arrived late")));
    let before = after(&ready).profile.unwrap().ro_activity_at;
    assert_eq!(main_record(&late).profile.as_ref().unwrap().0.ro_activity_at, before, "history moves nothing");
}

#[test]
fn outside_the_texting_window_the_text_is_deferred_to_0800() {
    // Monday 21:30 Chicago.
    let change = decided(&CustomerState::default(), READY_FOR_PICKUP, "2026-11-24T03:30:00Z");
    let Some(Plan::Defer(text)) = change.plan() else { panic!("expected a deferred text: {:?}", change.plan()) };
    assert_eq!(text.due_at, Some(at("2026-11-24T14:00:00Z")));
    assert!(sent_body_or_deferred(&change).contains("7:00 AM"), "Tuesday's hours, the day it goes out");
}

fn sent_body_or_deferred(change: &Change) -> String {
    change.plan().and_then(Plan::text).map(|t| t.body.clone()).unwrap_or_default()
}

#[test]
fn a_lead_from_a_missed_call_becomes_the_dms_customer_and_marketing_consent_is_recorded() {
    let lead = Customer::lead("northside-chevy", customer(MARIA).phone, at("2026-11-20T00:00:00Z"));
    let state = CustomerState { profile: Some(lead), version: Some(2), ..Default::default() };
    let change = decided(&state, "checked_in", "2026-11-23T16:05:00Z");
    let r = main_record(&change);
    let (profile, version) = r.profile.clone().unwrap();
    assert_eq!((profile.origin, profile.dms_id.as_deref(), version), (Origin::Dms, Some("C1001"), Some(2)));
    assert_eq!(profile.vehicles.len(), 1);
    assert!(r.touchpoints.iter().any(|t| t.kind == "customer.merged"));
    let (consent, read) = r.consent.clone().unwrap();
    assert!(consent.marketing_granted() && read.is_none());
}

#[test]
fn a_dms_customer_at_a_new_number_continues_their_record_and_the_old_one_points_to_it() {
    let old_phone = customer("+15125550111").phone;
    let mut old = Customer::lead("northside-chevy", old_phone.clone(), at("2026-01-01T00:00:00Z"));
    old.first_name = Some("Maria".into());
    let (e, c) = status("d-1", "checked_in", "2026-11-23T16:05:00Z");
    let change = decide(
        &northside(),
        &e,
        &c,
        &customer(MARIA),
        &CustomerState::default(),
        Some((old, Some(4))),
        at("2026-11-23T16:05:05Z"),
    );
    assert_eq!(change.records.len(), 2);
    let left = &change.records[0];
    let (was, version) = left.profile.clone().unwrap();
    assert_eq!(
        (was.phone.clone(), was.moved_to.map(|p| p.e164().to_owned()), version),
        (old_phone, Some(MARIA.into()), Some(4))
    );
    let (now_at, new_version) = main_record(&change).profile.clone().unwrap();
    assert_eq!((now_at.phone.e164(), new_version), (MARIA, None));
    assert!(main_record(&change).touchpoints.iter().any(|t| t.kind == "customer.moved"));
}

#[test]
fn an_opted_out_customer_is_not_texted_and_the_resend_key_names_ro_status_and_time() {
    let state = CustomerState {
        consent: Consent { opted_out_at: Some(at("2026-11-01T00:00:00Z")), ..Default::default() },
        ..Default::default()
    };
    let change = decided(&state, READY_FOR_PICKUP, "2026-11-23T16:05:00Z");
    assert!(matches!(change.plan(), Some(Plan::Suppress(Suppressed::OptedOut))));
    assert_eq!(
        change.natural_keys,
        [format!(
            "ro.status_changed#northside-chevy#RO-48213#ready_for_pickup#{}",
            at("2026-11-23T16:05:00Z").timestamp_millis()
        )]
    );
    assert_eq!(change.facts[0].kind, FactKind::RoStatusChanged);
}

#[test]
fn a_status_older_than_the_ros_close_never_reopens_it() {
    let ready = decided(&CustomerState::default(), READY_FOR_PICKUP, "2026-11-23T16:05:00Z");
    let mut state = after(&ready);
    state.repair_orders[0].closed_at = Some(at("2026-11-23T23:20:00Z"));
    state.repair_orders[0].status = "closed".into();
    let late = decided(&state, "in_progress", "2026-11-23T20:00:00Z");
    assert!(main_record(&late).repair_orders.is_empty(), "the closed RO stays closed");
    assert!(late.plan().is_none());
}

/// `waiting_parts` with `eta` at `occurred_at`, on `state`.
fn eta(state: &CustomerState, event_id: &str, eta: Option<&str>, occurred_at: &str) -> Change {
    let (mut e, _) = status(event_id, WAITING_PARTS, occurred_at);
    if let Some(day) = eta {
        e.data["eta"] = json!(day);
    }
    let c: RoStatusChanged = e.data().unwrap();
    decide(&northside(), &e, &c, &customer(MARIA), state, None, at(occurred_at) + Duration::seconds(5))
}

#[test]
fn waiting_parts_with_an_eta_texts_the_expected_day_once_per_ro_and_eta() {
    let first = eta(&CustomerState::default(), "d-1", Some("2026-11-27"), "2026-11-23T16:05:00Z");
    let body = sent_body(&first);
    for part in ["Maria", "Northside Chevrolet", "2021 Chevrolet Tahoe", "Friday, November 27", "Dana Whitfield"] {
        assert!(body.contains(part), "{part:?} missing from {body}");
    }
    let text = first.plan().unwrap().text().unwrap();
    assert_eq!(
        (text.class, text.dedupe_key.as_str()),
        (MessageClass::Transactional, "ro-status#RO-48213#waiting_parts@2026-11-27")
    );
    // The claim is the RO and the ETA, not the time or the id: a resend an
    // hour later under another id is the same event.
    let key = "ro.status_changed#northside-chevy#RO-48213#waiting_parts#eta#2026-11-27";
    assert_eq!(first.natural_keys, [key]);
    let resent = eta(&after(&first), "d-9", Some("2026-11-27"), "2026-11-23T17:05:00Z");
    assert_eq!(resent.natural_keys, [key]);
    assert!(resent.plan().is_none(), "the same ETA is never texted twice");

    // A later ETA is news: one more text.
    let later = eta(&after(&first), "d-2", Some("2026-12-02"), "2026-11-25T15:00:00Z");
    assert!(sent_body(&later).contains("Wednesday, December 2"), "{}", sent_body(&later));
    let twice = after(&later);
    assert_eq!(twice.repair_orders[0].texted, ["waiting_parts@2026-11-27", "waiting_parts@2026-12-02"]);

    // The part arrives: texted as before.
    let arrived = decided(&twice, PARTS_ARRIVED, "2026-12-02T15:00:00Z");
    assert!(sent_body(&arrived).contains("is in"));
}

#[test]
fn waiting_parts_without_an_eta_is_recorded_never_texted() {
    let change = eta(&CustomerState::default(), "d-1", None, "2026-11-23T16:05:00Z");
    assert!(change.plan().is_none());
    assert_eq!(main_record(&change).repair_orders[0].status, WAITING_PARTS);
}

#[test]
fn an_eta_that_is_not_a_day_is_bad_input() {
    let (mut e, _) = status("d-1", WAITING_PARTS, "2026-11-23T16:05:00Z");
    e.data["eta"] = json!("next week");
    let err = e.data::<RoStatusChanged>().unwrap_err().to_string();
    assert!(err.contains("d-1") && err.contains("eta"), "{err}");
}
