//! The rules of booked and missed appointments, on `booked` and `missed` (no AWS).

use custops::fixtures::{at, customer, envelope, northside, state_after};
use custops::model::{FollowUp, TaskStatus};
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

/// Maria with brakes ($620) and a cabin filter ($89) declined on RO-1, two
/// steps still scheduled, the advisor's follow-up task and a callback open.
fn with_declined_work() -> CustomerState {
    let now = at("2026-11-26T16:00:00Z");
    let line = |id: &str, op: &str, desc: &str, cents: i64| DeclinedLine {
        ro_number: "RO-1".into(),
        line_id: id.into(),
        op_code: op.into(),
        description: desc.into(),
        estimate_cents: cents,
        advisor: serde_json::from_value(json!({"id": "adv-7", "name": "Dana"})).unwrap(),
        declined_at: now,
        status: LineStatus::Open,
        ended_at: None,
        recovered_by: None,
    };
    let step = FollowUp {
        store_id: "northside-chevy".into(),
        phone: customer(MARIA).phone,
        ro_number: "RO-1".into(),
        step: 2,
        days: 10,
        due_at: at("2026-12-03T16:00:00Z"),
        status: StepStatus::Scheduled,
        outcome: None,
    };
    let task = |kind, id: &str, owner: &str| {
        Task::open(&customer(MARIA), kind, id, (owner.into(), Department::Service), now, now)
    };
    let followup = task(TaskKind::DeclinedFollowup, "declined-RO-1-1", "adv-7").about_ro(Some("RO-1"));
    let callback = task(TaskKind::Callback, "callback-1", "bdc-service");
    CustomerState {
        declined: vec![line("L4", "BRK-FRT-PR", "Front brakes", 62000), line("L5", "CAF-REPL", "Cabin filter", 8900)],
        follow_ups: vec![step],
        tasks: vec![followup, callback],
        ..Default::default()
    }
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
    let _ = state_after(&late);
}
