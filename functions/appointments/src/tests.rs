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
    assert_eq!(change.natural_keys, ["appointment.booked#northside-chevy#A-77"]);
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
