//! The rules of a missed call, on `decide` (no AWS).

use custops::fixtures::{at, customer, envelope, northside};
use custops::model::{Consent, CustomerState, RepairOrder, TaskKind};
use custops::outbound::{Plan, Suppressed};
use serde_json::json;

use super::*;

const CALLER: &str = "+15125550142";

fn call(event_id: &str, call_id: &str, from: &str, occurred_at: &str, department: &str) -> (Envelope, CallMissed) {
    let e = envelope(
        "call.missed",
        event_id,
        occurred_at,
        json!({"call_id": call_id, "from": from, "to": "+15125550100", "department": department, "voicemail": true}),
    );
    let data = e.data().unwrap();
    (e, data)
}

/// Decides a service call from CALLER at `occurred_at`, handled 5 s later.
fn missed(state: &CustomerState, occurred_at: &str) -> Change {
    let (e, c) = call("c-1", "call-1", CALLER, occurred_at, "service");
    decide(&northside(), &e, &c, &customer(CALLER), state, at(occurred_at) + Duration::seconds(5))
}

fn record(change: &Change) -> &RecordChange {
    &change.records[0]
}

fn text_body(change: &Change) -> String {
    match change.plan() {
        Some(Plan::Send(t)) => t.body.clone(),
        other => panic!("expected a text to send now, got {other:?}"),
    }
}

fn maria_with_open_ro() -> CustomerState {
    let now = at("2026-11-20T15:00:00Z");
    let mut maria = Customer::lead("northside-chevy", customer(CALLER).phone, now);
    maria.first_name = Some("Maria".into());
    CustomerState {
        profile: Some(maria),
        version: Some(3),
        repair_orders: vec![RepairOrder {
            ro_number: "RO-48213".into(),
            status: "waiting_parts".into(),
            status_at: now,
            vehicle: serde_json::from_value(json!({"vin": "V1", "year": 2021, "make": "Chevrolet", "model": "Tahoe"}))
                .unwrap(),
            advisor: serde_json::from_value(json!({"id": "adv-7", "name": "Dana Whitfield"})).unwrap(),
            amount_due_cents: None,
            closed_at: None,
            texted: vec![],
            performed: vec![],
            mileage: None,
        }],
        ..Default::default()
    }
}

#[test]
fn a_known_customer_with_an_open_repair_order_is_greeted_by_name_and_their_advisor_owns_the_callback() {
    // Monday 10:05 in Chicago: open.
    let change = missed(&maria_with_open_ro(), "2026-11-23T16:05:00Z");
    let body = text_body(&change);
    assert!(body.starts_with("Hi Maria"), "{body}");
    assert!(body.contains("RO-48213") && body.contains("2021 Chevrolet Tahoe") && body.contains("waiting parts"));
    assert!(!body.contains("STOP"), "a known customer is not told how to opt out each time: {body}");
    let task = &record(&change).tasks[0];
    assert_eq!(task.owner, "adv-7");
    assert_eq!(task.ro_number.as_deref(), Some("RO-48213"));
    assert_eq!(task.due_at, at("2026-11-23T16:20:00Z"), "15 minutes after the call");
    assert_eq!(record(&change).profile.as_ref().unwrap().1, Some(3), "written against the version read");
    let facts: Vec<(FactKind, Option<Department>)> = change.facts.iter().map(|f| (f.kind, f.department)).collect();
    assert_eq!(
        facts,
        [(FactKind::MissedCall, Some(Department::Service)), (FactKind::CallbackCreated, Some(Department::Service))],
        "the day counts the call and the new callback, by department"
    );
    assert_eq!(change.facts[1].task.as_ref().map(|t| t.task_id.as_str()), Some(task.task_id.as_str()));
}

#[test]
fn an_unknown_caller_becomes_a_lead_and_the_departments_owner_gets_the_callback() {
    let change = missed(&CustomerState::default(), "2026-11-23T16:05:00Z");
    let (profile, version) = record(&change).profile.clone().unwrap();
    assert_eq!(profile.origin, custops::model::Origin::Lead);
    assert_eq!(version, None, "a new record");
    let body = text_body(&change);
    assert!(body.starts_with("Hi, this is Northside Chevrolet") && body.ends_with("Reply STOP to opt out."), "{body}");
    assert_eq!(record(&change).tasks[0].owner, "bdc-service");
}

#[test]
fn after_hours_the_text_says_when_the_store_opens_with_the_booking_link_and_the_callback_is_due_after_opening() {
    // Saturday 20:30 in Chicago: closed until Monday 07:00 (Sunday closed).
    let change = missed(&CustomerState::default(), "2026-11-29T02:30:00Z");
    let body = text_body(&change);
    assert!(body.contains("We open Monday at 7:00 AM"), "{body}");
    assert!(body.contains("https://northside.example/service"), "{body}");
    assert_eq!(record(&change).tasks[0].due_at, at("2026-11-30T13:15:00Z"), "07:15 Monday CST");
    assert!(matches!(change.plan(), Some(Plan::Send(_))), "a reply goes at any hour");
}

#[test]
fn a_sales_call_from_a_customer_with_a_salesperson_goes_to_that_salesperson() {
    let mut state = CustomerState::default();
    let mut c = Customer::lead("northside-chevy", customer(CALLER).phone, at("2026-11-01T00:00:00Z"));
    c.salesperson = serde_json::from_value(json!({"id": "sp-3", "name": "Lee"})).unwrap();
    state.profile = Some(c);
    let (e, data) = call("c-1", "call-1", CALLER, "2026-11-23T16:05:00Z", "sales");
    let change = decide(&northside(), &e, &data, &customer(CALLER), &state, at("2026-11-23T16:05:05Z"));
    assert_eq!(record(&change).tasks[0].owner, "sp-3");
    assert_eq!(record(&change).tasks[0].department, Department::Sales);
}

#[test]
fn a_repeat_call_within_24_hours_adds_to_the_open_callback_and_sends_no_second_text() {
    let first = missed(&CustomerState::default(), "2026-11-23T16:05:00Z");
    let mut state = CustomerState { tasks: record(&first).tasks.clone(), ..Default::default() };
    state.profile = record(&first).profile.clone().map(|(p, _)| p);
    state.version = Some(1);

    let (e, c) = call("c-2", "call-2", CALLER, "2026-11-23T18:00:00Z", "service");
    let again = decide(&northside(), &e, &c, &customer(CALLER), &state, at("2026-11-23T18:00:05Z"));
    assert!(again.plan().is_none(), "no second text-back");
    let task = &record(&again).tasks[0];
    assert_eq!(task.task_id, "callback-call-1", "the same task");
    let calls = task.calls.as_ref().unwrap();
    assert_eq!((calls.count, calls.last_call_at), (2, at("2026-11-23T18:00:00Z")));
    assert!(record(&again).touchpoints.iter().any(|t| t.kind == "text.suppressed" && t.summary.contains("24 hours")));
    assert!(record(&again).touchpoints.iter().any(|t| t.kind == "task.updated"));
    let kinds: Vec<FactKind> = again.facts.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FactKind::MissedCall], "a repeat call is counted, its callback is not new");

    // A day later the caller is texted back again.
    let (e, c) = call("c-3", "call-3", CALLER, "2026-11-24T16:06:00Z", "service");
    let later = decide(&northside(), &e, &c, &customer(CALLER), &state, at("2026-11-24T16:06:05Z"));
    assert!(matches!(later.plan(), Some(Plan::Send(_))));
}

#[test]
fn an_opted_out_caller_gets_no_text_but_still_a_callback() {
    let state = CustomerState {
        consent: Consent { opted_out_at: Some(at("2026-11-01T00:00:00Z")), ..Default::default() },
        ..Default::default()
    };
    let change = missed(&state, "2026-11-23T16:05:00Z");
    assert!(matches!(change.plan(), Some(Plan::Suppress(Suppressed::OptedOut))));
    assert_eq!(record(&change).tasks.len(), 1);
    assert!(record(&change).touchpoints.iter().any(|t| t.kind == "text.suppressed" && t.summary.contains("opted out")));
}

#[test]
fn the_call_id_is_claimed_so_a_carrier_resend_under_a_new_event_id_is_a_duplicate_and_the_day_counts_the_call() {
    let change = missed(&CustomerState::default(), "2026-11-23T16:05:00Z");
    assert_eq!(change.event_id, "c-1");
    assert_eq!(change.natural_keys, ["call.missed#northside-chevy#call-1"]);
    assert_eq!(change.facts.len(), 2, "the call and its new callback");
    assert_eq!(change.facts[0].kind, FactKind::MissedCall);
    assert_eq!(change.facts[0].day.to_string(), "2026-11-23", "the store-local day");
}

#[test]
fn calls_from_the_stores_own_line_or_an_unparseable_number_are_counted_not_texted() {
    let store = northside();
    for (from, kind) in
        [("+15125550100", FactKind::MissedCallOwnLine), ("not a number", FactKind::MissedCallInvalidNumber)]
    {
        let (e, c) = call("c-1", "call-1", from, "2026-11-23T16:05:00Z", "service");
        let (got, _) = caller(&store, &c).unwrap_err();
        assert_eq!(got, kind);
        let change = untextable(&store, &e, &c, got);
        assert!(change.records.is_empty() && change.plan().is_none());
        assert_eq!(change.facts[0].kind, kind);
        assert_eq!(change.facts[0].department, Some(Department::Service), "counted by department");
    }
    let (_, c) = call("c-1", "call-1", "(512) 555-0142", "2026-11-23T16:05:00Z", "service");
    assert_eq!(caller(&store, &c).unwrap().e164(), CALLER);
}

#[test]
fn every_change_is_on_the_callers_record_and_the_task_is_one_of_callback_kind() {
    let change = missed(&CustomerState::default(), "2026-11-23T16:05:00Z");
    assert_eq!(change.records.len(), 1);
    assert_eq!(record(&change).customer, customer(CALLER));
    assert_eq!(record(&change).tasks[0].kind, TaskKind::Callback);
    let kinds: Vec<&str> = record(&change).touchpoints.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, ["call.missed", "task.created", "text.queued"]);
}

fn answered_call(occurred_at: &str) -> (Envelope, CallAnswered) {
    let e = envelope(
        "call.answered",
        "twilio-CA9-answered",
        occurred_at,
        json!({"call_id": "CA9", "from": CALLER, "to": "+15125550100", "department": "service", "duration_seconds": 184}),
    );
    let data = e.data().unwrap();
    (e, data)
}

#[test]
fn an_answered_call_goes_on_the_record_and_closes_the_callers_earlier_callbacks_as_reached() {
    let after_missed = custops::fixtures::state_after(&missed(&CustomerState::default(), "2026-11-23T16:05:00Z"));
    let callback =
        after_missed.tasks.iter().find(|t| t.kind == TaskKind::Callback).expect("the missed call's callback");
    let (e, c) = answered_call("2026-11-23T17:30:00Z");
    let change = answered(&northside(), &e, &c, &customer(CALLER), &after_missed);
    assert_eq!(change.lasting_keys, ["call.answered#northside-chevy#CA9"]);
    let r = record(&change);
    assert!(r.text.is_none(), "an answered call texts nobody");
    assert_eq!(r.tasks.len(), 1);
    let closed = &r.tasks[0];
    assert_eq!((closed.task_id.as_str(), closed.outcome), (callback.task_id.as_str(), Some(TaskOutcome::Reached)));
    assert_eq!(closed.done_at, Some(at("2026-11-23T17:30:00Z")));
    let touch = r.touchpoints.iter().find(|t| t.kind == "call.answered").expect("the call on the timeline");
    assert!(touch.summary.contains("service") && touch.summary.contains("3:04"), "{}", touch.summary);

    // A callback from a call after this one is still owed.
    let (early, c) = answered_call("2026-11-23T15:00:00Z");
    let change = answered(&northside(), &early, &c, &customer(CALLER), &after_missed);
    assert!(record(&change).tasks.is_empty(), "the callback is from a later call");
}

#[test]
fn an_answered_call_from_a_number_with_no_record_makes_none() {
    let (e, c) = answered_call("2026-11-23T17:30:00Z");
    let change = answered(&northside(), &e, &c, &customer(CALLER), &CustomerState::default());
    assert!(change.records.is_empty());
    assert_eq!(change.lasting_keys, ["call.answered#northside-chevy#CA9"]);
}
