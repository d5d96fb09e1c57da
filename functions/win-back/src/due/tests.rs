//! What falls due between visits, on `decide` (no AWS).

use custops::event::{PurchaseType, Vehicle};
use custops::fixtures::{at, northside};
use custops::model::{Consent, Customer, MarketingConsent, Maturity, TaskStatus};
use serde_json::json;

use super::*;

const MARIA: &str = "+15125550142";

fn day(d: &str) -> NaiveDate {
    d.parse().unwrap()
}

fn maria_id() -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap())
}

fn tahoe() -> Vehicle {
    Vehicle { vin: "1GNSKCKD5MR100001".into(), year: 2021, make: "Chevrolet".into(), model: "Tahoe".into() }
}

fn equinox() -> Vehicle {
    Vehicle { vin: "2GNAXUEV1K6100002".into(), year: 2019, make: "Chevrolet".into(), model: "Equinox".into() }
}

/// A vehicle last serviced on 30 June 2026 at 10,000 miles: by the store's
/// 37 miles a day, due on 13 November 2026.
fn serviced(vehicle: Vehicle, store: &StoreConfig) -> VehicleLife {
    let mut v = VehicleLife::new(&maria_id(), &vehicle, at("2026-06-30T16:00:00Z"));
    v.serviced(at("2026-06-30T16:00:00Z"), Some(10_000));
    v.refresh(store, day("2026-06-30"), at("2026-06-30T16:00:00Z"));
    v
}

/// Maria, last in on 30 June 2026, with marketing consent or not.
fn maria(consent: bool, vehicles: Vec<VehicleLife>) -> CustomerState {
    let mut profile = Customer::lead("northside-chevy", Phone::parse(MARIA).unwrap(), at("2024-01-01T00:00:00Z"));
    profile.first_name = Some("Maria".into());
    profile.last_name = Some("Gonzalez".into());
    profile.last_visit_at = Some(at("2026-06-30T16:00:00Z"));
    let granted = at("2026-06-30T16:00:00Z");
    let consent = Consent {
        marketing: consent.then(|| MarketingConsent { granted: true, source: "dms".into(), at: granted }),
        ..Default::default()
    };
    CustomerState { profile: Some(profile), version: Some(4), consent, vehicles, ..Default::default() }
}

fn due_on(d: &str) -> Due {
    Due { store_id: "northside-chevy".into(), phone: Phone::parse(MARIA).unwrap(), day: day(d) }
}

/// 13 November 2026, 09:00 in Chicago.
fn on_the_day() -> DateTime<Utc> {
    at("2026-11-13T15:00:00Z")
}

#[test]
fn a_vehicle_due_gets_the_service_owner_a_task_saying_how_its_mileage_was_estimated_and_one_text() {
    let state = maria(true, vec![serviced(tahoe(), &northside())]);
    let change = decide(&northside(), &due_on("2026-11-13"), &state, on_the_day());
    let r = &change.records[0];
    assert_eq!(r.tasks.len(), 1);
    let t = &r.tasks[0];
    assert_eq!((t.kind, t.status, t.owner.as_str()), (TaskKind::ServiceDue, TaskStatus::Open, "bdc-service"));
    assert_eq!(t.task_id, "service-due-1GNSKCKD5MR100001-20261113");
    assert!(t.note.contains("2021 Chevrolet Tahoe") && t.note.contains("about 15032 miles"), "{}", t.note);
    assert!(t.note.contains("the store's 37 miles a day from its one reading"), "{}", t.note);
    let Some(Plan::Send(text)) = change.plan() else { panic!("{:?}", change.plan()) };
    assert_eq!(text.class, MessageClass::Marketing);
    assert_eq!(text.dedupe_key, "service-due#2026-11-13");
    assert!(text.body.contains("2021 Chevrolet Tahoe") && text.body.contains("https://northside.example/service"));
    assert!(!text.body.contains('$'), "no price or offer: {}", text.body);
    assert_eq!(text.withdrawn_if, Some(WithdrawnIf::Visited));
    let v = &r.vehicles[0];
    assert_eq!((v.reminded_on, v.texted_at, v.next_on), (Some(day("2026-11-13")), Some(on_the_day()), None));
    assert_eq!(change.facts.iter().map(|f| f.kind).collect::<Vec<_>>(), [FactKind::ServiceDueTask]);
    assert_eq!(r.rests_on, Some(Some(4)), "decided on the record as read");

    // Without marketing consent: the task, no text.
    let c =
        decide(&northside(), &due_on("2026-11-13"), &maria(false, vec![serviced(tahoe(), &northside())]), on_the_day());
    assert_eq!(c.records[0].tasks.len(), 1);
    assert!(matches!(c.plan(), Some(Plan::Suppress(_))), "{:?}", c.plan());
    assert_eq!(c.records[0].vehicles[0].texted_at, None);
    // Taken up: the same day again changes nothing more.
    let after = CustomerState { vehicles: r.vehicles.clone(), ..state };
    assert!(decide(&northside(), &due_on("2026-11-13"), &after, on_the_day()).records.is_empty());
}

#[test]
fn nothing_is_due_before_its_day_or_past_its_grace() {
    let state = maria(true, vec![serviced(tahoe(), &northside())]);
    assert!(decide(&northside(), &due_on("2026-11-12"), &state, at("2026-11-12T15:00:00Z")).records.is_empty());
    let past = decide(&northside(), &due_on("2026-11-17"), &state, at("2026-11-17T15:00:00Z"));
    let r = &past.records[0];
    assert!(r.tasks.is_empty() && past.plan().is_none(), "past its grace: never late");
    assert_eq!(r.vehicles[0].next_on, None, "off the feed: the sweep does not read it again");
    let late = decide(&northside(), &due_on("2026-11-16"), &state, at("2026-11-16T15:00:00Z"));
    assert_eq!(late.records[0].tasks.len(), 1, "a sweep that missed three days still takes it up");
}

#[test]
fn each_suppression_holds_the_task_and_the_text_and_says_why() {
    let base = || maria(true, vec![serviced(tahoe(), &northside())]);
    let mut opted = base();
    opted.consent.opted_out_at = Some(at("2026-10-01T00:00:00Z"));
    let mut booked = base();
    booked.bookings = vec![serde_json::from_value(json!({
        "store_id": "northside-chevy", "phone": MARIA, "appointment_id": "A-1", "at": "2026-11-20T15:00:00Z",
        "status": "open"
    }))
    .unwrap()];
    let mut in_shop = base();
    in_shop.repair_orders = vec![serde_json::from_value(json!({
        "ro_number": "RO-1", "status": "in_progress", "status_at": "2026-11-12T15:00:00Z",
        "vehicle": {"vin": "1GNSKCKD5MR100001", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
        "advisor": {"id": "a-1", "name": "Dana"}
    }))
    .unwrap()];
    let mut following = base();
    following.follow_ups = custops::fixtures::declined_work().follow_ups;
    let mut winning_back = base();
    let owner = ("bdc-service".to_owned(), Department::Service);
    winning_back.tasks =
        vec![Task::open(&maria_id(), TaskKind::WinBack, "win-back-1", owner, on_the_day(), on_the_day())];
    let mut visited = base();
    visited.profile.as_mut().unwrap().last_visit_at = Some(at("2026-11-01T16:00:00Z"));
    for (state, why, until) in [
        (opted, "the customer opted out", None),
        (booked, "an appointment is booked", Some("2026-11-21")),
        (in_shop, "a repair order is open", Some("2026-11-20")),
        (following, "declined work is being followed up", Some("2026-12-04")),
        (winning_back, "a win-back is waiting", Some("2026-11-20")),
        (visited, "a visit in the last 30 days", Some("2026-12-02")),
    ] {
        let c = decide(&northside(), &due_on("2026-11-13"), &state, on_the_day());
        let r = &c.records[0];
        assert!(r.tasks.is_empty() && c.plan().is_none(), "{why}");
        assert!(
            r.touchpoints.iter().any(|t| t.kind == "service_due.held" && t.summary.contains(why)),
            "{why}: {:?}",
            r.touchpoints
        );
        let v = &r.vehicles[0];
        match until {
            // Opted out: taken up, never again (until a visit starts a new clock).
            None => assert_eq!((v.reminded_on, v.next_on), (Some(day("2026-11-13")), None), "{why}"),
            // Held: looked at again on that day.
            Some(d) => {
                assert_eq!((v.held_until, v.next_on, v.reminded_on), (Some(day(d)), Some(day(d)), None), "{why}");
                let later = CustomerState { vehicles: vec![v.clone()], ..maria(true, vec![]) };
                let again = decide(&northside(), &due_on(d), &later, at(&format!("{d}T16:00:00Z")));
                assert_eq!(
                    again.records[0].tasks.len(),
                    1,
                    "{why}: taken up on {d}, once the store no longer speaks to them"
                );
            }
        }
    }
}

#[test]
fn two_vehicles_due_are_named_in_one_text_and_no_second_text_goes_within_30_days() {
    let state = maria(true, vec![serviced(tahoe(), &northside()), serviced(equinox(), &northside())]);
    let change = decide(&northside(), &due_on("2026-11-13"), &state, on_the_day());
    assert_eq!(change.records[0].tasks.len(), 2, "a task per vehicle");
    let Some(Plan::Send(text)) = change.plan() else { panic!("{:?}", change.plan()) };
    assert!(text.body.contains("2021 Chevrolet Tahoe and 2019 Chevrolet Equinox"), "{}", text.body);

    // A third vehicle falls due ten days later: its task, but no text.
    let mut later = serviced(
        Vehicle { vin: "3GCUYDED5NG100003".into(), year: 2022, make: "Chevrolet".into(), model: "Silverado".into() },
        &northside(),
    );
    later.service_due.as_mut().unwrap().on = day("2026-11-23");
    let mut vehicles = change.records[0].vehicles.clone();
    vehicles.push(later);
    let state = CustomerState { vehicles, ..state };
    let c = decide(&northside(), &due_on("2026-11-23"), &state, at("2026-11-23T15:00:00Z"));
    assert_eq!(c.records[0].tasks.len(), 1);
    assert!(c.plan().is_none());
    assert!(c.records[0].touchpoints.iter().any(|t| t.kind == "service_due.text_held"));
}

fn leased(store: &StoreConfig) -> VehicleLife {
    let mut v = VehicleLife::new(&maria_id(), &tahoe(), at("2026-11-20T22:00:00Z"));
    v.maturity = Maturity::of(
        store,
        "D-1",
        Some(PurchaseType::Lease),
        Some(36),
        Some(day("2026-12-20")),
        at("2026-11-20T22:00:00Z"),
        "Jordan Lee",
    );
    v.refresh(store, day("2026-11-20"), at("2026-11-20T22:00:00Z"));
    v
}

#[test]
fn a_lease_gives_sales_a_task_at_180_and_90_days_and_a_text_only_when_the_store_turns_it_on() {
    let state = maria(true, vec![leased(&northside())]);
    let change = decide(&northside(), &due_on("2029-05-24"), &state, at("2029-05-24T15:00:00Z"));
    let t = &change.records[0].tasks[0];
    assert_eq!((t.kind, t.owner.as_str(), t.task_id.as_str()), (TaskKind::Maturity, "bdc-sales", "maturity-D-1-180"));
    assert!(t.note.contains("lease") && t.note.contains("2029-11-20") && t.note.contains("Jordan Lee"), "{}", t.note);
    assert!(change.plan().is_none(), "no text at the first step, nor with maturity_texts off");
    assert_eq!(change.facts[0].kind, FactKind::MaturityTask);
    let v = &change.records[0].vehicles[0];
    assert_eq!(v.next_on, Some(day("2029-08-22")), "on the feed for the next step");

    let mut texting = custops::fixtures::northside_json();
    texting["maturity_texts"] = json!(true);
    let texting = StoreConfig::from_json(&texting.to_string()).unwrap();
    let after = CustomerState { vehicles: vec![v.clone()], ..state.clone() };
    let last = decide(&texting, &due_on("2029-08-22"), &after, at("2029-08-22T15:00:00Z"));
    assert_eq!(last.records[0].tasks[0].task_id, "maturity-D-1-90");
    let Some(Plan::Send(text)) = last.plan() else { panic!("{:?}", last.plan()) };
    assert_eq!(text.class, MessageClass::Marketing);
    assert!(text.body.contains("2021 Chevrolet Tahoe"), "{}", text.body);
    for word in ["payment", "rate", "balance", "term", "$", "%", "month"] {
        assert!(!text.body.to_lowercase().contains(word), "{word} in {}", text.body);
    }
    assert_eq!(last.records[0].vehicles[0].next_on, None, "every step taken");
}

#[test]
fn no_maturity_work_after_the_customer_bought_again() {
    let mut state = maria(true, vec![leased(&northside())]);
    let profile = state.profile.as_mut().unwrap();
    profile.purchased(
        serde_json::from_value(json!({
            "deal_id": "D-2", "delivered_at": "2027-06-01T16:00:00Z",
            "vehicle": {"vin": "2GNAXUEV1K6100002", "year": 2027, "make": "Chevrolet", "model": "Equinox"},
            "salesperson": {"id": "sp-7", "name": "Jordan Lee"}
        }))
        .unwrap(),
    );
    let change = decide(&northside(), &due_on("2029-05-24"), &state, at("2029-05-24T15:00:00Z"));
    let r = &change.records[0];
    assert!(r.tasks.is_empty());
    assert_eq!(r.vehicles[0].maturity.as_ref().unwrap().ended.as_deref(), Some("bought again"));
    assert_eq!(r.vehicles[0].next_on, None);
}
