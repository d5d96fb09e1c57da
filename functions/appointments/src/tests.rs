//! The rules of booked and missed appointments, on `booked` and `missed` (no AWS).

use custops::fixtures::{at, customer, envelope, northside};
use custops::model::TaskStatus;
use custops::outbound::Plan;
use serde_json::json;

use super::*;

const MARIA: &str = "+15125550142";

fn appointment(event_type: &str, event_id: &str, when: &str, op_codes: Option<Vec<&str>>) -> (Envelope, Appointment) {
    let mut data = json!({
        "appointment_id": "A-77", "at": when,
        "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA}
    });
    if let Some(codes) = op_codes {
        data["op_codes"] = json!(codes);
    }
    let e = envelope(event_type, event_id, "2026-11-27T15:00:00Z", data);
    let a = serde_json::from_value(e.data.clone()).unwrap();
    (e, a)
}

/// Maria with brakes and a cabin filter declined on RO-1 (a step scheduled,
/// the advisor's follow-up task open), and a callback open too.
fn with_declined_work() -> CustomerState {
    let mut state = custops::fixtures::declined_work();
    let now = at("2026-11-26T16:00:00Z");
    let owner = ("bdc-service".to_owned(), Department::Service);
    state.tasks.push(Task::open(&customer(MARIA), TaskKind::Callback, "callback-1", owner, now, now));
    state
}

/// Maria books appointment A-77, for `op_codes` (or any work).
fn book(op_codes: Option<Vec<&str>>) -> Change {
    let (e, a) = appointment("appointment.booked", "b-1", "2026-11-30T15:00:00Z", op_codes);
    decide(&northside(), &e, &Kept::Booked(a), &customer(MARIA), &with_declined_work(), at("2026-11-27T15:00:05Z"))
}

#[test]
fn a_booking_for_one_op_code_ends_that_line_only_and_keeps_the_cadence_for_the_rest() {
    let change = book(Some(vec!["BRK-FRT-PR"]));
    let r = &change.records[0];
    assert_eq!(r.declined.len(), 1);
    assert_eq!((r.declined[0].op_code.as_str(), r.declined[0].status), ("BRK-FRT-PR", LineStatus::Booked));
    assert!(r.follow_ups.is_empty(), "the filter is still open: the cadence goes on");
    let closed: Vec<&str> = r.tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(closed, ["declined-RO-1-1", "callback-1"]);
    // Two tasks closed by one booking: two touchpoints, two items.
    let keys: std::collections::BTreeSet<String> =
        r.touchpoints.iter().map(|t| custops::entity::Entity::keys(t, &customer(MARIA)).sk).collect();
    assert_eq!(keys.len(), r.touchpoints.len(), "every touchpoint its own item");
    assert!(r.tasks.iter().all(|t| t.status == TaskStatus::Done && t.outcome == Some(TaskOutcome::Booked)));
    assert_eq!(
        change.natural_keys,
        [format!("appointment.booked#northside-chevy#A-77#{}", at("2026-11-30T15:00:00Z").timestamp_millis())]
    );
    assert!(change.plan().is_none(), "appointment texts are off by default: nothing is confirmed");
    assert_eq!(r.bookings[0].remind_at, None, "and nothing reminded");
}

#[test]
fn a_booking_without_op_codes_ends_every_open_line_and_cancels_the_rest_of_the_cadence() {
    let change = book(None);
    let r = &change.records[0];
    assert_eq!(r.declined.iter().filter(|l| l.status == LineStatus::Booked).count(), 2);
    assert_eq!(r.follow_ups[0].status, StepStatus::Cancelled);
    assert!(r.touchpoints.iter().any(|t| t.kind == "appointment.booked"));
}

#[test]
fn a_no_show_gets_a_rebook_text_and_a_task_for_the_service_owner_due_that_day() {
    // Friday 09:00 in Chicago: the store closes at 19:00.
    let (e, a) = appointment("appointment.missed", "m-1", "2026-11-27T14:30:00Z", None);
    let kept = Kept::Missed(a);
    let change =
        decide(&northside(), &e, &kept, &customer(MARIA), &CustomerState::default(), at("2026-11-27T15:00:05Z"));
    let Some(Plan::Send(text)) = change.plan() else { panic!("a text now: {:?}", change.plan()) };
    assert_eq!(text.class, MessageClass::Transactional);
    assert!(text.body.contains("Northside Chevrolet") && text.body.contains("https://northside.example/service"));
    assert_eq!(text.dedupe_key, "no-show#A-77");
    let task = &change.records[0].tasks[0];
    assert_eq!((task.kind, task.owner.as_str()), (TaskKind::NoShow, "bdc-service"));
    assert_eq!(task.due_at, at("2026-11-28T01:00:00Z"), "19:00 Chicago that day");
    assert_eq!(
        change.natural_keys,
        ["appointment.missed#northside-chevy#A-77"],
        "a second no-show event does nothing more"
    );

    // At 22:00 the invitation waits for the morning.
    let late = decide(&northside(), &e, &kept, &customer(MARIA), &CustomerState::default(), at("2026-11-28T04:00:00Z"));
    assert!(matches!(late.plan(), Some(Plan::Defer(_))));
}

/// Northside with appointment texts on.
fn confirming() -> StoreConfig {
    let mut json = custops::fixtures::northside_json();
    json["appointment_texts"] = json!(true);
    StoreConfig::from_json(&json.to_string()).unwrap()
}

/// Maria books A-77 for `when` at `now`, with a vehicle, on `state`.
fn book_at(state: &CustomerState, event_id: &str, when: &str, now: &str) -> Change {
    let (mut e, _) = appointment("appointment.booked", event_id, when, None);
    e.data["vehicle"] = json!({"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"});
    let a: Appointment = serde_json::from_value(e.data.clone()).unwrap();
    decide(&confirming(), &e, &Kept::Booked(a), &customer(MARIA), state, at(now))
}

#[test]
fn a_booking_is_confirmed_at_once_and_reminded_when_the_window_opens_the_day_before() {
    // Friday 09:00 Chicago, for Monday 30 November 09:00 Chicago.
    let change = book_at(&CustomerState::default(), "b-1", "2026-11-30T15:00:00Z", "2026-11-27T15:00:05Z");
    let Some(Plan::Send(text)) = change.plan() else { panic!("a confirmation now: {:?}", change.plan()) };
    assert_eq!(text.class, MessageClass::Transactional);
    for part in ["Maria", "Northside Chevrolet", "Monday, November 30 at 9:00 AM", "2021 Chevrolet Tahoe"] {
        assert!(text.body.contains(part), "{part:?} missing from {}", text.body);
    }
    assert_eq!(text.while_open, ["#APPT#A-77"], "withdrawn if the booking ends before it goes");
    let booking = &change.records[0].bookings[0];
    assert_eq!(booking.remind_at, Some(at("2026-11-29T14:00:00Z")), "Sunday 08:00 Chicago");
    let keys = booking.keys(&());
    assert!(keys.gsi3.is_some_and(|(_, sk)| sk.starts_with("2026-11-29T14:00:00")), "on the due index");

    // The day before: one reminder, naming the day and time.
    let state = custops::fixtures::state_after(&change);
    let reminder = decide_reminder(&confirming(), booking, &state, at("2026-11-29T14:05:00Z"));
    let Some(Plan::Send(text)) = reminder.plan() else { panic!("a reminder now: {:?}", reminder.plan()) };
    assert!(text.body.contains("tomorrow") && text.body.contains("9:00 AM"), "{}", text.body);
    assert_eq!(text.class, MessageClass::Transactional);
    let after = custops::fixtures::state_after(&reminder);
    assert!(after.bookings[0].reminded_at.is_some());
    assert!(after.bookings[0].keys(&()).gsi3.is_none(), "off the due index once decided");
    // Handed over twice: the second finds it decided.
    assert!(decide_reminder(&confirming(), booking, &after, at("2026-11-29T14:10:00Z")).plan().is_none());
}

#[test]
fn a_reschedule_confirms_again_and_moves_the_reminder() {
    let first = book_at(&CustomerState::default(), "b-1", "2026-11-30T15:00:00Z", "2026-11-27T15:00:05Z");
    let state = custops::fixtures::state_after(&first);
    let moved = book_at(&state, "b-2", "2026-12-03T21:00:00Z", "2026-11-28T15:00:00Z");
    assert_ne!(moved.natural_keys, first.natural_keys, "another time is another booking event");
    let Some(Plan::Send(text)) = moved.plan() else { panic!("a new confirmation: {:?}", moved.plan()) };
    assert!(text.body.contains("Thursday, December 3 at 3:00 PM"), "{}", text.body);
    assert!(moved.records[0].touchpoints.iter().any(|t| t.summary.contains("rescheduled")));
    let booking = &moved.records[0].bookings[0];
    assert_eq!(booking.remind_at, Some(at("2026-12-02T14:00:00Z")));
    // The old time's reminder, handed over anyway, sends nothing.
    let after = custops::fixtures::state_after(&moved);
    let old = &first.records[0].bookings[0];
    assert!(decide_reminder(&confirming(), old, &after, at("2026-11-29T14:05:00Z")).plan().is_none());
}

#[test]
fn a_cancellation_or_a_no_show_ends_the_booking_and_its_reminder() {
    let first = book_at(&CustomerState::default(), "b-1", "2026-11-30T15:00:00Z", "2026-11-27T15:00:05Z");
    let state = custops::fixtures::state_after(&first);
    let (e, _) = appointment("appointment.cancelled", "c-1", "2026-11-30T15:00:00Z", None);
    let c: AppointmentCancelled = e.data().unwrap();
    let change = decide(&confirming(), &e, &Kept::Cancelled(c), &customer(MARIA), &state, at("2026-11-28T15:00:00Z"));
    let ended = &change.records[0].bookings[0];
    assert_eq!((ended.status, ended.outcome.as_deref()), (BookingStatus::Ended, Some("cancelled")));
    assert!(ended.keys(&()).sk.starts_with("H#"), "to the history: a waiting text naming it is withdrawn");
    assert_eq!(change.natural_keys, ["appointment.cancelled#northside-chevy#A-77"]);
    assert_eq!(change.facts[0].kind, FactKind::AppointmentCancelled);
    let after = custops::fixtures::state_after(&change);
    assert!(decide_reminder(&confirming(), ended, &after, at("2026-11-29T14:05:00Z")).plan().is_none());

    let (e, a) = appointment("appointment.missed", "m-1", "2026-11-30T15:00:00Z", None);
    let missed = decide(&confirming(), &e, &Kept::Missed(a), &customer(MARIA), &state, at("2026-11-30T16:00:00Z"));
    assert_eq!(missed.records[0].bookings[0].outcome.as_deref(), Some("missed"));
}

#[test]
fn an_opted_out_customer_gets_no_confirmation_and_no_reminder() {
    let state = CustomerState {
        consent: custops::model::Consent { opted_out_at: Some(at("2026-11-01T00:00:00Z")), ..Default::default() },
        ..Default::default()
    };
    let change = book_at(&state, "b-1", "2026-11-30T15:00:00Z", "2026-11-27T15:00:05Z");
    assert!(matches!(change.plan(), Some(Plan::Suppress(_))));
    let mut after = custops::fixtures::state_after(&change);
    after.consent = state.consent.clone();
    let booking = &change.records[0].bookings[0];
    let reminder = decide_reminder(&confirming(), booking, &after, at("2026-11-29T14:05:00Z"));
    assert!(matches!(reminder.plan(), Some(Plan::Suppress(_))), "{:?}", reminder.plan());
}

#[test]
fn an_appointment_a_day_ahead_or_less_is_confirmed_but_not_reminded() {
    // Friday 09:00 for Saturday 08:00: 23 hours ahead.
    let change = book_at(&CustomerState::default(), "b-1", "2026-11-28T14:00:00Z", "2026-11-27T15:00:00Z");
    assert!(matches!(change.plan(), Some(Plan::Send(_))));
    assert_eq!(change.records[0].bookings[0].remind_at, None);
    // Friday 09:00 for Saturday 10:00 (25 hours): the day before is today.
    let change = book_at(&CustomerState::default(), "b-1", "2026-11-28T16:00:00Z", "2026-11-27T15:00:00Z");
    assert_eq!(change.records[0].bookings[0].remind_at, None);
    // A booking sent after its time: recorded, nothing texted.
    let change = book_at(&CustomerState::default(), "b-1", "2026-11-26T16:00:00Z", "2026-11-27T15:00:00Z");
    assert!(change.plan().is_none());
    assert_eq!(change.records[0].bookings[0].status, BookingStatus::Ended);
}

#[test]
fn a_reminder_for_an_appointment_that_passed_sends_nothing() {
    let first = book_at(&CustomerState::default(), "b-1", "2026-11-30T15:00:00Z", "2026-11-27T15:00:05Z");
    let state = custops::fixtures::state_after(&first);
    let late = decide_reminder(&confirming(), &first.records[0].bookings[0], &state, at("2026-11-30T16:00:00Z"));
    assert!(late.plan().is_none());
    assert_eq!(late.records[0].bookings[0].outcome.as_deref(), Some("the appointment has passed"));
}

#[test]
fn a_confirmation_waiting_for_the_window_needs_the_booking_still_open() {
    // 22:00 Chicago: the confirmation waits for the morning, while the booking is open.
    let change = book_at(&CustomerState::default(), "b-1", "2026-11-30T15:00:00Z", "2026-11-27T04:00:00Z");
    let Some(Plan::Defer(text)) = change.plan() else { panic!("deferred: {:?}", change.plan()) };
    assert_eq!(text.while_open, ["#APPT#A-77"]);
    // The release checks the item's status is `open` (table::Tx::require_open).
    let item = serde_json::to_value(&change.records[0].bookings[0]).unwrap();
    assert_eq!(item["status"], "open");
}
