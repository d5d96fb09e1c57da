//! What DynamoDB enforces and the emulator does not, for records that grow:
//! a transaction holds at most 100 actions and an item 400 KB, and a
//! customer's state is read on every event. Ended work (closed repair orders,
//! recovered or declined lines, ended steps, done tasks) moves to the history,
//! so the state a trigger reads is the customer's open work; a change larger
//! than one transaction is shaped to fit; a resend, however late, reopens
//! nothing.

use custops::model::LineStatus;
use custops::{CustomerId, Phone};
use custops_tests::{at, ro_status, Harness};
use serde_json::{json, Value};

const MARIA: &str = "+15125550142";

fn maria() -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap())
}

fn ro_closed(event_id: &str, ro: &str, closed_at: &str, performed: &[&str], declined: Value) -> Value {
    json!({
        "event_id": event_id, "event_type": "ro.closed", "occurred_at": closed_at, "store_id": "northside-chevy",
        "data": {
            "ro_number": ro, "closed_at": closed_at,
            "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA,
                         "marketing_consent": true},
            "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
            "advisor": {"id": "adv-7", "name": "Dana Whitfield"},
            "performed": performed, "declined": declined
        }
    })
}

fn lines(n: usize) -> Value {
    json!((1..=n)
        .map(|i| json!({"line_id": format!("L{i}"), "op_code": format!("OP-{i}"), "description": format!("Work {i}"),
                        "estimate_cents": 1000}))
        .collect::<Vec<_>>())
}

/// Given an RO closed with 60 declined lines, when it arrives, then it is
/// recorded whole with its cadence (one transaction of at most 100 actions);
/// and when a booking that names no op codes ends all 60 (120 actions: each
/// line moves to the history), then the moves go in transactions of their own
/// before the booking's, and everything lands, nothing dead-lettered.
#[tokio::test]
async fn sixty_declined_lines_are_recorded_whole_and_a_booking_ends_them_all() {
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    h.publish(&ro_closed("d-60", "RO-60", "2026-11-23T23:20:00Z", &["LOF"], lines(60))).await;
    h.settle().await;
    let state = h.table().customer_state(&maria()).await.unwrap();
    assert_eq!(state.declined.len(), 60);
    assert_eq!(state.follow_ups.len(), 3, "with its cadence");
    assert!(h.dlq().await.is_empty());

    h.publish(&json!({"event_id": "a-1", "event_type": "appointment.booked", "occurred_at": "2026-11-24T15:00:00Z",
        "store_id": "northside-chevy",
        "data": {"appointment_id": "A-1", "at": "2026-11-30T15:00:00Z",
                 "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA}}}))
        .await;
    h.settle().await;
    assert!(h.dlq().await.is_empty(), "{:?}", h.dlq().await);
    let state = h.table().customer_state(&maria()).await.unwrap();
    assert!(state.declined.iter().all(|l| l.status == LineStatus::Booked), "every line booked");
    assert!(state.follow_ups.is_empty(), "the cadence ended: its steps are history");
    let timeline = h.table().timeline(&maria()).await.unwrap();
    assert!(timeline.touchpoints.iter().any(|t| t.event_id.as_deref() == Some("a-1")), "the booking committed");

    // The booked work is done on a later RO: 60 lines recovered, each moving
    // to the history (120 actions with the RO's own): more than one
    // transaction holds, so the moves go first and the close's claims last.
    h.clock.set(at("2026-11-30T18:00:05Z"));
    let ops: Vec<String> = (1..=60).map(|i| format!("OP-{i}")).collect();
    let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
    h.publish(&ro_closed("d-61", "RO-61", "2026-11-30T18:00:00Z", &ops, json!([]))).await;
    h.settle().await;
    assert!(h.dlq().await.is_empty(), "{:?}", h.dlq().await);
    let state = h.table().customer_state(&maria()).await.unwrap();
    assert!(state.declined.is_empty(), "every line recovered: history, not state");
    let timeline = h.table().timeline(&maria()).await.unwrap();
    assert_eq!(timeline.state.declined.iter().filter(|l| l.status == LineStatus::Recovered).count(), 60);
    let day = at("2026-11-30T18:00:00Z").date_naive();
    let facts = h.table().day_facts("northside-chevy", day).await.unwrap();
    let recovered: i64 =
        facts.iter().filter(|f| f.kind == custops::model::FactKind::LineRecovered).filter_map(|f| f.cents).sum();
    assert_eq!(recovered, 60_000, "the day counts all 60 once");
}

/// Given a customer with many closed repair orders, when the next event
/// arrives, then the state it reads holds none of them (they are history):
/// a fleet's ten-year record costs what a new customer's does. The timeline
/// still shows every one.
#[tokio::test]
async fn closed_repair_orders_leave_the_state_and_stay_on_the_timeline() {
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    h.publish(&ro_status("s-open", "in_progress", "2026-11-01T15:00:00Z")).await;
    for i in 0..30 {
        let mut status = ro_status(&format!("s-{i}"), "in_progress", "2026-11-01T15:00:00Z");
        status["data"]["ro_number"] = json!(format!("RO-{i}"));
        h.publish(&status).await;
        h.publish(&ro_closed(&format!("c-{i}"), &format!("RO-{i}"), "2026-11-02T15:00:00Z", &["LOF"], json!([]))).await;
        h.settle().await;
    }
    let state = h.table().customer_state(&maria()).await.unwrap();
    let open: Vec<&str> = state.repair_orders.iter().map(|r| r.ro_number.as_str()).collect();
    assert_eq!(open, ["RO-48213"], "only the RO still open is state");
    let timeline = h.table().timeline(&maria()).await.unwrap();
    assert_eq!(timeline.state.repair_orders.iter().filter(|r| r.closed_at.is_some()).count(), 30);

    // A status for a closed RO, arriving late, reopens nothing.
    let mut late = ro_status("late-1", "ready_for_pickup", "2026-11-03T15:00:00Z");
    late["data"]["ro_number"] = json!("RO-7");
    h.publish(&late).await;
    h.settle().await;
    let state = h.table().customer_state(&maria()).await.unwrap();
    assert_eq!(state.repair_orders.len(), 1, "RO-7 stays closed");
    assert!(!h.sms().await.iter().any(|m| m.message.contains("ready")), "no text for a closed RO");
    assert!(h.dlq().await.is_empty(), "acknowledged, not dead-lettered");
}

/// Given an RO closed with declined work whose lines were then recovered,
/// when the DMS resends the close 60 days later (every 30-day claim
/// expired), then nothing changes: no line reopens, no step is scheduled again.
#[tokio::test]
async fn a_close_resent_after_its_claims_expired_reopens_nothing() {
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    let first = ro_closed("d-1", "RO-1", "2026-11-23T23:20:00Z", &["LOF"], lines(2));
    h.publish(&first).await;
    h.settle().await;
    h.clock.set(at("2026-11-30T16:00:05Z"));
    h.publish(&ro_closed("d-2", "RO-2", "2026-11-30T16:00:00Z", &["OP-1", "OP-2"], json!([]))).await;
    h.settle().await;
    let before = h.table().customer_state(&maria()).await.unwrap();
    assert!(before.declined.is_empty(), "both recovered: history");

    h.clock.set(at("2027-01-29T16:00:00Z"));
    let mut resend = first.clone();
    resend["event_id"] = json!("d-1-resent");
    h.publish(&resend).await;
    h.settle().await;
    let state = h.table().customer_state(&maria()).await.unwrap();
    assert!(state.declined.is_empty(), "no line reopened: {state:?}");
    assert_eq!(state.follow_ups, before.follow_ups, "no step scheduled again");
    let timeline = h.table().timeline(&maria()).await.unwrap();
    let recovered = timeline.state.declined.iter().filter(|l| l.status == LineStatus::Recovered).count();
    assert_eq!(recovered, 2);
    assert!(h.dlq().await.is_empty());
}
