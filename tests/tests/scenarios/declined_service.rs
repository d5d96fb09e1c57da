//! Trigger 3, declined service, against the emulator: the RO close records
//! the declined work, the scheduler releases the cadence on days 3, 10 and 30
//! inside the window (once per step, however often it runs or the close is
//! delivered), and recovery or a missing consent stops the texts.

use custops::model::{FactKind, LineStatus, StepStatus, TaskKind};
use custops::text::MessageClass;
use custops::{CustomerId, Phone};
use custops_tests::{at, Harness};
use serde_json::{json, Value};

const MARIA: &str = "+15125550142";

fn ro_closed(event_id: &str, ro: &str, closed_at: &str, performed: &[&str], declined: Value, consent: bool) -> Value {
    json!({
        "event_id": event_id, "event_type": "ro.closed", "occurred_at": closed_at, "store_id": "northside-chevy",
        "data": {
            "ro_number": ro, "closed_at": closed_at,
            "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA,
                         "marketing_consent": consent},
            "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
            "advisor": {"id": "adv-7", "name": "Dana Whitfield"},
            "mileage": 38412, "performed": performed, "declined": declined
        }
    })
}

fn brakes_and_filter() -> Value {
    json!([
        {"line_id": "L4", "op_code": "BRK-FRT-PR", "description": "Front brake pads & rotors", "estimate_cents": 62000},
        {"line_id": "L5", "op_code": "CAF-REPL", "description": "Cabin air filter", "estimate_cents": 8900}
    ])
}

fn maria() -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap())
}

/// Ticks the scheduler at `when`, twice (a second run must change nothing).
async fn tick_twice(h: &Harness, when: &str) {
    h.clock.set(at(when));
    h.stack.tick().await.unwrap();
    h.stack.tick().await.unwrap();
}

#[tokio::test]
async fn the_cadence_texts_on_days_3_10_and_30_inside_the_window_once_per_step() {
    // Monday 17:20 in Chicago.
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    let close = ro_closed("d-1", "RO-48213", "2026-11-23T23:20:00Z", &["LOF-SYN", "MPI"], brakes_and_filter(), true);
    h.publish(&close).await;
    h.publish(&close).await; // SQS delivers it twice
    let mut resend = close.clone();
    resend["event_id"] = "d-1-resend".into(); // the DMS resends it under a new id
    h.publish(&resend).await;
    h.settle().await;

    let state = h.table().timeline(&maria()).await.unwrap().state;
    assert_eq!(state.declined.len(), 2);
    assert_eq!(state.follow_ups.len(), 3);
    assert!(state.repair_orders[0].closed_at.is_some());
    let day = at("2026-11-23T23:20:00Z").date_naive();
    let facts = h.table().day_facts("northside-chevy", day).await.unwrap();
    let declined: i64 = facts.iter().filter(|f| f.kind == FactKind::LineDeclined).filter_map(|f| f.cents).sum();
    assert_eq!(declined, 70900, "declined once, however often delivered");

    tick_twice(&h, "2026-11-25T16:00:00Z").await; // day 2: nothing yet
    assert!(h.sms().await.is_empty());
    for (n, when) in [(1, "2026-11-26T16:00:00Z"), (2, "2026-12-03T16:00:00Z"), (3, "2026-12-23T16:00:00Z")] {
        tick_twice(&h, when).await;
        let sms = h.sms().await;
        assert_eq!(sms.len(), n, "step {n}: {sms:?}");
        assert!(sms[n - 1].message.contains("front brake pads & rotors, cabin air filter"), "{}", sms[n - 1].message);
    }
    let texts = h.table().store_texts("northside-chevy").await.unwrap();
    assert!(texts.iter().all(|t| t.class == MessageClass::Marketing));
    for t in &texts {
        let local = t.sent_at.unwrap().with_timezone(&chrono_tz::America::Chicago).time();
        assert!(
            local >= chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap()
                && local <= chrono::NaiveTime::from_hms_opt(16, 0, 0).unwrap()
        );
    }
    let state = h.table().timeline(&maria()).await.unwrap().state;
    assert!(state.follow_ups.iter().all(|s| s.status == StepStatus::Done));
    assert_eq!(state.tasks.iter().filter(|t| t.kind == TaskKind::DeclinedFollowup).count(), 3, "a task at each step");
}

#[tokio::test]
async fn a_later_ro_that_does_the_work_recovers_it_and_stops_the_follow_ups() {
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    h.publish(&ro_closed("d-1", "RO-48213", "2026-11-23T23:20:00Z", &["MPI"], brakes_and_filter(), true)).await;
    h.settle().await;
    tick_twice(&h, "2026-11-26T16:00:00Z").await;
    assert_eq!(h.sms().await.len(), 1, "day 3");

    h.clock.set(at("2026-12-01T18:00:05Z"));
    h.publish(&ro_closed("d-2", "RO-49001", "2026-12-01T18:00:00Z", &["BRK-FRT-PR", "CAF-REPL"], json!([]), true))
        .await;
    h.settle().await;
    let state = h.table().timeline(&maria()).await.unwrap().state;
    assert!(
        state.declined.iter().all(|l| l.status == LineStatus::Recovered),
        "{:?} {:?}",
        state.declined,
        h.dlq().await
    );
    let facts = h.table().day_facts("northside-chevy", at("2026-12-01T18:00:00Z").date_naive()).await.unwrap();
    let recovered: i64 = facts.iter().filter(|f| f.kind == FactKind::LineRecovered).filter_map(|f| f.cents).sum();
    assert_eq!(recovered, 70900);

    tick_twice(&h, "2026-12-03T16:00:00Z").await;
    tick_twice(&h, "2026-12-23T16:00:00Z").await;
    assert_eq!(h.sms().await.len(), 1, "no more texts after recovery");
    let state = h.table().timeline(&maria()).await.unwrap().state;
    let cancelled = state.follow_ups.iter().filter(|s| s.status == StepStatus::Cancelled).count();
    assert_eq!(cancelled, 2);
}

#[tokio::test]
async fn without_marketing_consent_the_advisor_gets_the_tasks_and_no_text_goes_out() {
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    h.publish(&ro_closed("d-1", "RO-48213", "2026-11-23T23:20:00Z", &["MPI"], brakes_and_filter(), false)).await;
    h.settle().await;
    tick_twice(&h, "2026-11-26T16:00:00Z").await;
    assert!(h.sms().await.is_empty());
    let state = h.table().timeline(&maria()).await.unwrap().state;
    let task = state.open_task(TaskKind::DeclinedFollowup).expect("a task for the advisor");
    assert_eq!(task.owner, "adv-7");
}

fn appointment(event_type: &str, event_id: &str, occurred_at: &str, op_codes: Option<Value>) -> Value {
    let mut data = json!({
        "appointment_id": "A-77", "at": "2026-11-30T15:00:00Z",
        "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA}
    });
    if let Some(codes) = op_codes {
        data["op_codes"] = codes;
    }
    json!({"event_id": event_id, "event_type": event_type, "occurred_at": occurred_at,
           "store_id": "northside-chevy", "data": data})
}

#[tokio::test]
async fn a_booked_appointment_stops_the_follow_ups_of_the_work_it_covers() {
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    h.publish(&ro_closed("d-1", "RO-48213", "2026-11-23T23:20:00Z", &["MPI"], brakes_and_filter(), true)).await;
    h.settle().await;
    h.clock.set(at("2026-11-24T15:00:05Z"));
    h.publish(&appointment("appointment.booked", "b-1", "2026-11-24T15:00:00Z", None)).await;
    h.settle().await;
    let state = h.table().timeline(&maria()).await.unwrap().state;
    assert!(state.declined.iter().all(|l| l.status == LineStatus::Booked));
    assert!(state.follow_ups.iter().all(|s| s.status == StepStatus::Cancelled));

    tick_twice(&h, "2026-11-26T16:00:00Z").await;
    assert!(h.sms().await.is_empty(), "booked: no follow-up text");
}

#[tokio::test]
async fn a_no_show_is_invited_to_rebook_once_and_the_service_owner_gets_a_task() {
    // Friday 09:05 in Chicago.
    let h = Harness::start("2026-11-27T15:05:05Z").await;
    h.publish(&appointment("appointment.missed", "m-1", "2026-11-27T15:05:00Z", None)).await;
    h.publish(&appointment("appointment.missed", "m-2", "2026-11-27T15:06:00Z", None)).await; // the same no-show again
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(
        sms[0].message.contains("Northside Chevrolet") && sms[0].message.contains("https://northside.example/service")
    );
    let state = h.table().timeline(&maria()).await.unwrap().state;
    let task = state.open_task(TaskKind::NoShow).expect("a no-show task");
    assert_eq!(task.owner, "bdc-service");
}

/// A booking or a reply that commits between a step's read and its commit:
/// the step decided on the old record is refused (the record's version moved
/// on), decided again on the new one, and the customer gets no text.
#[tokio::test]
async fn a_booking_or_a_reply_between_a_steps_read_and_its_commit_sends_no_text() {
    for cause in ["booking", "reply"] {
        let h = Harness::start("2026-11-23T23:20:05Z").await;
        h.publish(&ro_closed("d-1", "RO-48213", "2026-11-23T23:20:00Z", &["MPI"], brakes_and_filter(), true)).await;
        h.settle().await;
        // Day 3, 10:00 in Chicago: the step is due and read.
        let now = at("2026-11-26T16:00:00Z");
        h.clock.set(now);
        let deps = h.deps("declined-service", &h.emulator.endpoint).await;
        let store = custops::fixtures::northside();
        let read = h.table().customer_state(&maria()).await.unwrap();
        let step = read.follow_ups.iter().find(|s| s.step == 1).expect("step 1").clone();
        let stale = declined_service::decide_step(&store, &step, &read, now);
        assert!(matches!(stale.plan(), Some(custops::outbound::Plan::Send(_))), "{cause}: the step would text");

        // Meanwhile the customer books the work, or texts the store.
        let meanwhile = match cause {
            "booking" => appointment("appointment.booked", "b-1", "2026-11-26T15:59:00Z", None),
            _ => json!({"originationNumber": MARIA, "destinationNumber": "+15125550100", "messageKeyword": "",
                        "messageBody": "Can I bring it Friday?", "inboundMessageId": "m-1"}),
        };
        h.publish(&meanwhile).await;
        h.settle().await;

        let lost = deps.apply(&store, stale).await.expect_err("decided on a record that changed");
        assert!(lost.is_conflict(), "{cause}: {lost}");
        // Decided again, as the scheduler hands the step on.
        h.stack.tick().await.unwrap();
        assert!(h.sms().await.is_empty(), "{cause}: no follow-up text");
        let state = h.table().customer_state(&maria()).await.unwrap();
        assert!(state.follow_ups.iter().all(|s| s.step != 1), "{cause}: step 1 ended");
    }
}
