//! The rules of a delivery, on `decide` (no AWS).

use custops::entity::Entity;
use custops::fixtures::{at, customer, envelope, northside, state_after};
use custops::model::{Customer, LapseContact, Origin, TaskStatus};
use serde_json::json;

use super::*;

const MARIA: &str = "+15125550142";

fn delivered(event_id: &str, deal_id: &str, when: &str, consent: Option<bool>) -> (Envelope, DealDelivered) {
    let mut data = json!({
        "deal_id": deal_id, "delivered_at": when,
        "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": "(512) 555-0142"},
        "vehicle": {"vin": "1GNSKCKD5MR100001", "year": 2025, "make": "Chevrolet", "model": "Tahoe"},
        "salesperson": {"id": "sp-7", "name": "Jordan Lee"}
    });
    if let Some(c) = consent {
        data["customer"]["marketing_consent"] = json!(c);
    }
    let e = envelope("deal.delivered", event_id, when, data);
    let d = serde_json::from_value(e.data.clone()).unwrap();
    (e, d)
}

fn deliver(state: &CustomerState, consent: Option<bool>) -> Change {
    let (e, d) = delivered("dms-d1", "D-9001", "2026-11-24T21:00:00Z", consent);
    decide(&northside(), &e, &d, &customer(MARIA), state, at("2026-11-24T21:00:05Z"))
}

#[test]
fn a_delivery_puts_the_purchase_on_the_record_and_starts_the_lapse_clock() {
    let change = deliver(&CustomerState::default(), Some(true));
    let r = &change.records[0];
    let (profile, version) = r.profile.as_ref().unwrap();
    assert_eq!(*version, None, "a new record");
    assert_eq!(profile.origin, Origin::Dms);
    assert_eq!(profile.purchases.len(), 1);
    assert_eq!(profile.purchases[0].deal_id, "D-9001");
    assert_eq!(profile.purchases[0].salesperson.name, "Jordan Lee");
    assert_eq!(profile.salesperson.as_ref().map(|s| s.id.as_str()), Some("sp-7"));
    assert_eq!(profile.vehicles[0].model, "Tahoe");
    assert_eq!(profile.last_visit_at, Some(at("2026-11-24T21:00:00Z")), "the lapse clock starts at delivery");
    assert!(r.consent.as_ref().is_some_and(|(c, _)| c.marketing_granted()), "the DMS's consent is recorded");
    assert_eq!(change.lasting_keys, ["deal.delivered#northside-chevy#D-9001"]);
    assert_eq!(change.facts.iter().map(|f| f.kind).collect::<Vec<_>>(), [FactKind::DealDelivered]);
}

#[test]
fn the_service_owner_gets_the_first_service_appointment_and_the_customer_gets_no_text() {
    let change = deliver(&CustomerState::default(), Some(true));
    let r = &change.records[0];
    assert!(r.text.is_none(), "a delivery texts nobody");
    assert_eq!(r.tasks.len(), 1);
    let t = &r.tasks[0];
    assert_eq!((t.kind, t.status, t.owner.as_str()), (TaskKind::FirstService, TaskStatus::Open, "bdc-service"));
    assert_eq!(t.task_id, "first-service-D-9001");
    assert_eq!(t.due_at, at("2026-11-27T21:00:05Z"));
    assert!(t.note.contains("2025 Chevrolet Tahoe"), "{}", t.note);
}

#[test]
fn a_lead_from_a_missed_call_becomes_the_buyer() {
    let lead = Customer::lead("northside-chevy", custops::Phone::parse(MARIA).unwrap(), at("2026-11-20T15:00:00Z"));
    let state = CustomerState { profile: Some(lead), version: Some(3), ..Default::default() };
    let change = deliver(&state, None);
    let (profile, version) = change.records[0].profile.as_ref().unwrap();
    assert_eq!(*version, Some(3), "the lead's record, written over its version");
    assert_eq!((profile.origin, profile.dms_id.as_deref()), (Origin::Dms, Some("C1001")));
    assert_eq!(profile.created_at, at("2026-11-20T15:00:00Z"));
    assert!(change.records[0].touchpoints.iter().any(|t| t.summary.contains("lead")));
}

#[test]
fn a_later_service_visit_keeps_the_lapse_clock() {
    let first = deliver(&CustomerState::default(), None);
    let mut state = state_after(&first);
    let later_visit = at("2027-01-05T16:00:00Z");
    state.profile.as_mut().unwrap().last_visit_at = Some(later_visit);
    // The DMS reports the delivery late (a second deal delivered earlier).
    let (e, d) = delivered("dms-d2", "D-8000", "2026-12-01T18:00:00Z", None);
    let change = decide(&northside(), &e, &d, &customer(MARIA), &state, at("2027-01-06T10:00:00Z"));
    let profile = &change.records[0].profile.as_ref().unwrap().0;
    assert_eq!(profile.last_visit_at, Some(later_visit));
    assert_eq!(profile.purchases.len(), 2);
}

#[test]
fn buying_again_after_a_win_back_counts_as_coming_back() {
    let mut state = state_after(&deliver(&CustomerState::default(), None));
    let visit = at("2025-06-01T15:00:00Z");
    let profile = state.profile.as_mut().unwrap();
    profile.last_visit_at = Some(visit);
    profile.lapse_contacted = Some(LapseContact { visit_at: visit, at: at("2026-07-02T15:00:00Z") });
    let (e, d) = delivered("dms-d3", "D-9100", "2026-11-24T21:00:00Z", None);
    let change = decide(&northside(), &e, &d, &customer(MARIA), &state, at("2026-11-24T21:00:05Z"));
    assert!(change.facts.iter().any(|f| f.kind == FactKind::WinBackReturned));
}

fn unwind(event_id: &str, when: &str) -> (Envelope, DealUnwound) {
    let data = json!({
        "deal_id": "D-9001",
        "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": "(512) 555-0142"},
        "vehicle": {"vin": "1GNSKCKD5MR100001", "year": 2025, "make": "Chevrolet", "model": "Tahoe"},
        "salesperson": {"id": "sp-7", "name": "Jordan Lee"}
    });
    let e = envelope("deal.unwound", event_id, when, data);
    let d = serde_json::from_value(e.data.clone()).unwrap();
    (e, d)
}

#[test]
fn an_unwound_deal_closes_its_first_service_task_and_stays_on_the_record_as_unwound() {
    let delivered = state_after(&deliver(&CustomerState::default(), Some(true)));
    let (e, d) = unwind("feed-u1", "2026-11-26T15:00:00Z");
    let change = unwound(&northside(), &e, &d, &customer(MARIA), &delivered, at("2026-11-26T15:00:05Z"));
    let r = &change.records[0];
    assert!(r.text.is_none(), "an unwind texts nobody");
    assert_eq!(r.tasks.len(), 1);
    assert_eq!((r.tasks[0].task_id.as_str(), r.tasks[0].status), ("first-service-D-9001", TaskStatus::Done));
    let (profile, _) = r.profile.as_ref().unwrap();
    assert_eq!(profile.purchases.len(), 1);
    assert_eq!(profile.purchases[0].unwound_at, Some(at("2026-11-26T15:00:00Z")));
    assert!(profile.vehicles.is_empty() && profile.main_vehicle().is_none(), "the vehicle went back");
    assert_eq!(change.lasting_keys, ["deal.unwound#northside-chevy#D-9001"]);

    let again = unwound(&northside(), &e, &d, &customer(MARIA), &state_after(&change), at("2026-11-26T16:00:00Z"));
    assert!(again.records.is_empty(), "an unwind twice changes nothing more");
}

#[test]
fn an_unwind_that_arrives_before_its_delivery_keeps_the_delivery_from_opening_work() {
    let (e, d) = unwind("feed-u1", "2026-11-26T15:00:00Z");
    let first = unwound(&northside(), &e, &d, &customer(MARIA), &CustomerState::default(), at("2026-11-26T15:00:05Z"));
    assert!(first.records[0].tasks.is_empty());
    let after = deliver(&state_after(&first), Some(true));
    assert!(after.records.is_empty(), "the delivery of an unwound deal opens no first-service task");
}

#[test]
fn a_co_buyer_and_the_buyer_become_one_household_and_the_terms_stay_on_the_purchase() {
    let (mut e, _) = delivered("dms-d2", "D-9002", "2026-11-24T21:00:00Z", Some(true));
    e.data["co_buyer"] =
        json!({"dms_id": "C1002", "first_name": "Luis", "last_name": "Gonzalez", "phone": "512-555-0143"});
    e.data["purchase_type"] = json!("lease");
    e.data["term_months"] = json!(36);
    e.data["first_payment_on"] = json!("2026-12-20");
    e.data["mileage"] = json!(12);
    let d: DealDelivered = serde_json::from_value(e.data.clone()).unwrap();
    let change = decide(&northside(), &e, &d, &customer(MARIA), &CustomerState::default(), at("2026-11-24T21:00:05Z"));
    assert_eq!(change.records.len(), 2, "the buyer's record and the co-buyer's");
    let buyer = &change.records[0];
    assert_eq!(buyer.household.len(), 1);
    assert_eq!(buyer.household[0].member.e164(), "+15125550143");
    assert_eq!(buyer.household[0].name(), "Luis Gonzalez");
    assert_eq!(buyer.household[0].linked, LinkedBy::CoBuyer { deal_id: "D-9002".into() });
    let co = &change.records[1];
    assert_eq!(co.customer.phone.e164(), "+15125550143");
    assert_eq!((co.household[0].member.e164(), co.household[0].name()), ("+15125550142", "Maria Gonzalez".to_owned()));
    assert!(co.profile.is_none() && co.consent.is_none(), "the co-buyer's own record and consent are not touched");
    assert!(co.tasks.is_empty() && co.text.is_none());
    let (profile, _) = buyer.profile.as_ref().unwrap();
    let p = &profile.purchases[0];
    assert_eq!(
        (p.purchase_type, p.term_months, p.first_payment_on.map(|d| d.to_string()), p.mileage),
        (Some(custops::event::PurchaseType::Lease), Some(36), Some("2026-12-20".into()), Some(12))
    );

    // Bought together again: already one household, nothing more to link.
    let mut after = state_after(&change);
    after.household = buyer.household.clone();
    let (mut e, _) = delivered("dms-d3", "D-9003", "2027-03-02T21:00:00Z", Some(true));
    e.data["co_buyer"] =
        json!({"dms_id": "C1002", "first_name": "Luis", "last_name": "Gonzalez", "phone": "512-555-0143"});
    let d: DealDelivered = serde_json::from_value(e.data.clone()).unwrap();
    let again = decide(&northside(), &e, &d, &customer(MARIA), &after, at("2027-03-02T21:00:05Z"));
    assert_eq!(again.records.len(), 1);
    assert!(again.records[0].household.is_empty());
}

/// Northside with the delivery check on (42 days, the default).
fn checking() -> StoreConfig {
    let mut json = custops::fixtures::northside_json();
    json["delivery_check"] = json!(true);
    StoreConfig::from_json(&json.to_string()).unwrap()
}

fn deliver_checked(state: &CustomerState, when: &str, now: &str) -> Change {
    let (e, d) = delivered("dms-d1", "D-9001", when, Some(true));
    decide(&checking(), &e, &d, &customer(MARIA), state, at(now))
}

#[test]
fn the_delivery_check_is_scheduled_for_the_window_of_the_day_delivery_check_days_after() {
    // Delivered Tuesday 24 November 15:00 Chicago: the check is due 42
    // store-local days later, Tuesday 5 January, when the window opens (08:00).
    let change = deliver_checked(&CustomerState::default(), "2026-11-24T21:00:00Z", "2026-11-24T21:00:05Z");
    let r = &change.records[0];
    assert_eq!(r.checks.len(), 1);
    let check = &r.checks[0];
    assert_eq!((check.about, check.ro_number.as_str()), (CheckAbout::Delivery, "D-9001"));
    assert_eq!((check.status, check.due_at), (CheckStatus::Scheduled, at("2027-01-05T14:00:00Z")));
    assert_eq!(check.vehicle.as_deref(), Some("2025 Chevrolet Tahoe"));
    assert!(check.keys(&()).gsi3.is_some(), "on the due index until the scheduler hands it on");
    assert!(r.touchpoints.iter().any(|t| t.kind == "delivery_check.scheduled"));
    assert!(r.text.is_none(), "nothing is texted at delivery");

    // Off by default.
    assert!(deliver(&CustomerState::default(), Some(true)).records[0].checks.is_empty());
    // Opted out: never asked.
    let mut opted = CustomerState::default();
    opted.consent.opted_out_at = Some(at("2026-11-01T00:00:00Z"));
    let c = deliver_checked(&opted, "2026-11-24T21:00:00Z", "2026-11-24T21:00:05Z");
    assert!(c.records[0].checks.is_empty());
}

#[test]
fn a_delivery_that_reaches_custops_on_its_check_day_is_asked_that_day_before_16_00_and_never_after() {
    // The DMS reports a delivery 42 days late, at 11:00 Chicago on the check's day: asked at once.
    let late = deliver_checked(&CustomerState::default(), "2026-11-24T21:00:00Z", "2027-01-05T17:00:00Z");
    assert_eq!(late.records[0].checks[0].due_at, at("2027-01-05T17:00:00Z"));
    // At 16:00 on that day, or any day after: not asked.
    let after_four = deliver_checked(&CustomerState::default(), "2026-11-24T21:00:00Z", "2027-01-05T22:00:00Z");
    assert!(after_four.records[0].checks.is_empty());
    let old = deliver_checked(&CustomerState::default(), "2025-03-02T21:00:00Z", "2026-11-24T21:00:05Z");
    assert!(old.records[0].checks.is_empty(), "an old deal (an import, a feed's first file) is not asked");
}

#[test]
fn an_unwind_ends_the_scheduled_delivery_check() {
    let delivered =
        state_after(&deliver_checked(&CustomerState::default(), "2026-11-24T21:00:00Z", "2026-11-24T21:00:05Z"));
    let (e, d) = unwind("feed-u1", "2026-11-26T15:00:00Z");
    let change = unwound(&checking(), &e, &d, &customer(MARIA), &delivered, at("2026-11-26T15:00:05Z"));
    let check = &change.records[0].checks[0];
    assert_eq!((check.status, check.outcome.as_deref()), (CheckStatus::Ended, Some("the deal was unwound")));
    assert!(check.keys(&()).gsi3.is_none(), "off the due index");
}

fn leased(event_id: &str, deal_id: &str, vin: &str, when: &str) -> (Envelope, DealDelivered) {
    let (mut e, _) = delivered(event_id, deal_id, when, Some(true));
    e.data["vehicle"]["vin"] = json!(vin);
    e.data["mileage"] = json!(12);
    e.data["purchase_type"] = json!("lease");
    e.data["term_months"] = json!(36);
    e.data["first_payment_on"] = json!("2026-12-20");
    let d = serde_json::from_value(e.data.clone()).unwrap();
    (e, d)
}

#[test]
fn a_lease_starts_the_vehicles_service_clock_and_its_maturity_and_buying_again_ends_the_old_one() {
    let (e, d) = leased("dms-d1", "D-9001", "1GNSKCKD5MR100001", "2026-11-24T21:00:00Z");
    let change = decide(&northside(), &e, &d, &customer(MARIA), &CustomerState::default(), at("2026-11-24T21:00:05Z"));
    let v = &change.records[0].vehicles[0];
    assert_eq!(v.readings.len(), 1, "the deal's mileage is a reading");
    let m = v.maturity.as_ref().expect("a lease matures");
    assert_eq!((m.matures_on.to_string(), m.steps.clone()), ("2029-11-20".to_owned(), vec![180, 90]));
    assert_eq!(
        v.next_on.map(|d| d.to_string()).as_deref(),
        Some("2027-04-09"),
        "service first: 5,000 miles at 37 a day"
    );

    // A year later they buy again: the lease's maturity work ends.
    let state = state_after(&change);
    let (e, d) = delivered("dms-d2", "D-9100", "2027-11-24T21:00:00Z", Some(true));
    let mut d2 = d;
    d2.vehicle.vin = "2GNAXUEV1K6100002".into();
    let again = decide(&northside(), &e, &d2, &customer(MARIA), &state, at("2027-11-24T21:00:05Z"));
    let old =
        again.records[0].vehicles.iter().find(|v| v.vehicle.vin == "1GNSKCKD5MR100001").expect("the lease's vehicle");
    assert_eq!(old.maturity.as_ref().unwrap().ended.as_deref(), Some("bought again (deal D-9100)"));
}

#[test]
fn an_unwind_takes_the_vehicle_off_service_due_and_maturity() {
    let (e, d) = leased("dms-d1", "D-9001", "1GNSKCKD5MR100001", "2026-11-24T21:00:00Z");
    let state = state_after(&decide(
        &northside(),
        &e,
        &d,
        &customer(MARIA),
        &CustomerState::default(),
        at("2026-11-24T21:00:05Z"),
    ));
    let (e, d) = unwind("feed-u1", "2026-11-26T15:00:00Z");
    let change = unwound(&northside(), &e, &d, &customer(MARIA), &state, at("2026-11-26T15:00:05Z"));
    let v = &change.records[0].vehicles[0];
    assert!(v.gone.as_ref().is_some_and(|g| g.why == "deal D-9001 unwound"), "{:?}", v.gone);
    assert!(v.keys(&()).sk.starts_with("H#VEH#") && v.keys(&()).gsi2.is_none(), "off the due-day feed");
}

#[test]
fn a_full_record_buying_again_writes_the_displaced_lease_once() {
    // 50 vehicles followed; the least recently seen is on a lease.
    let (e, d) = leased("dms-d0", "D-8000", "LEASE000000000000", "2024-01-10T21:00:00Z");
    let mut state = state_after(&decide(
        &northside(),
        &e,
        &d,
        &customer(MARIA),
        &CustomerState::default(),
        at("2024-01-10T21:00:05Z"),
    ));
    for i in 1..custops::model::VEHICLES_FOLLOWED {
        let v = custops::event::Vehicle {
            vin: format!("FLEET{i:012}"),
            year: 2024,
            make: "Chevrolet".into(),
            model: "Malibu".into(),
        };
        let mut life = custops::model::VehicleLife::new(&customer(MARIA), &v, at("2025-01-01T00:00:00Z"));
        life.serviced(at("2025-06-01T00:00:00Z"), None);
        state.vehicles.push(life);
    }
    let (e, mut d) = delivered("dms-d2", "D-9100", "2026-11-24T21:00:00Z", Some(true));
    d.vehicle.vin = "NEWCAR00000000001".into();
    let change = decide(&northside(), &e, &d, &customer(MARIA), &state, at("2026-11-24T21:00:05Z"));
    let vins: Vec<&str> = change.records[0].vehicles.iter().map(|v| v.vehicle.vin.as_str()).collect();
    assert_eq!(vins, ["NEWCAR00000000001", "LEASE000000000000"], "each vehicle written once");
    assert!(change.records[0].vehicles[1].gone.is_some(), "the lease's vehicle is the one no longer followed");
}
