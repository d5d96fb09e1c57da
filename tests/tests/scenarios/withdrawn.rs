//! Withdrawn while waiting (CONTRACT section 7): a marketing text written but
//! not yet sent (here a declined-work follow-up to a Florida number, released
//! at 20:30 in Miami and waiting for 08:00) is never sent when anything that
//! would have stopped it happens first: a reply, a booking, a recovery, a
//! task closed `booked` or `declined`, an opt-out, or the DMS withdrawing
//! marketing consent. Each is checked in the transaction that releases the
//! text, and the text says why.

use std::future::Future;
use std::pin::Pin;

use custops::text::TextState;
use custops_tests::{at, Harness};
use serde_json::{json, Value};

const MIAMI: &str = "+13055550123";
const LAKESIDE_LINE: &str = "+13055550100";

fn customer(consent: bool) -> Value {
    json!({"dms_id": "C-7", "first_name": "Ana", "last_name": "Ruiz", "phone": MIAMI, "marketing_consent": consent})
}

fn vehicle() -> Value {
    json!({"vin": "1FTEW1EP5MFA00001", "year": 2021, "make": "Ford", "model": "F-150"})
}

fn ro_closed(id: &str, ro: &str, closed_at: &str, performed: &[&str], declined: Value) -> Value {
    json!({"event_id": id, "event_type": "ro.closed", "occurred_at": closed_at, "store_id": "lakeside-ford",
           "data": {"ro_number": ro, "closed_at": closed_at, "customer": customer(true), "vehicle": vehicle(),
                    "advisor": {"id": "adv-2", "name": "Lee Park"}, "performed": performed, "declined": declined}})
}

fn sms(id: &str, body: &str) -> Value {
    json!({"originationNumber": MIAMI, "destinationNumber": LAKESIDE_LINE, "messageKeyword": "JOIN",
           "messageBody": body, "inboundMessageId": id, "previousPublishedMessageId": "p"})
}

type Cause = for<'a> fn(&'a Harness) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Given the day-3 follow-up of RO-7 waiting for 08:00 in Miami, when `cause`
/// happens overnight, then at 08:00 nothing is sent and the text is withdrawn
/// with a reason that says `why`.
async fn withdrawn_by(cause: Cause, why: &str) {
    let h = Harness::start("2026-11-23T20:00:05Z").await;
    h.put_store(serde_json::from_str(include_str!("../../../events/stores/lakeside-ford.json")).unwrap()).await;
    let brakes =
        json!([{"line_id": "L1", "op_code": "BRK-FRT-PR", "description": "Front brake pads", "estimate_cents": 42000}]);
    h.publish(&ro_closed("close-7", "RO-7", "2026-11-23T20:00:00Z", &["LOF-SYN"], brakes)).await;
    h.settle().await;
    // Thursday 20:30 in Miami: released late, Florida's hours closed at 20:00.
    h.clock.set(at("2026-11-27T01:30:00Z"));
    h.stack.tick().await.unwrap();
    h.settle().await;
    let texts = h.table().store_texts("lakeside-ford").await.unwrap();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].state, TextState::Deferred, "waiting for 08:00");

    h.clock.set(at("2026-11-27T12:00:00Z"));
    cause(&h).await;
    h.settle().await;

    h.clock.set(at("2026-11-27T13:00:00Z"));
    h.stack.tick().await.unwrap();
    h.settle().await;
    assert!(h.sms().await.iter().all(|m| !m.message.contains("brake")), "{:?}", h.sms().await);
    let text = h
        .table()
        .store_texts("lakeside-ford")
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.class.sms_type() == "Promotional")
        .unwrap();
    assert_eq!(text.state, TextState::Suppressed);
    let reason = text.suppressed_reason.unwrap_or_default();
    assert!(reason.contains(why), "{reason:?} should say {why:?}");
}

#[tokio::test]
async fn a_reply_withdraws_it() {
    withdrawn_by(|h| Box::pin(async move { h.publish(&sms("m-1", "Can I come Saturday?")).await }), "replied").await;
}

#[tokio::test]
async fn a_booking_withdraws_it() {
    withdrawn_by(
        |h| {
            Box::pin(async move {
                h.publish(&json!({"event_id": "a-1", "event_type": "appointment.booked",
                    "occurred_at": "2026-11-27T12:00:00Z", "store_id": "lakeside-ford",
                    "data": {"appointment_id": "A-1", "at": "2026-11-30T15:00:00Z", "customer": customer(true),
                             "op_codes": ["BRK-FRT-PR"]}}))
                    .await
            })
        },
        "booked, done or closed",
    )
    .await;
}

#[tokio::test]
async fn a_recovery_withdraws_it() {
    withdrawn_by(
        |h| {
            Box::pin(async move {
                h.publish(&ro_closed("close-8", "RO-8", "2026-11-27T12:00:00Z", &["BRK-FRT-PR"], json!([]))).await
            })
        },
        "booked, done or closed",
    )
    .await;
}

#[tokio::test]
async fn the_advisors_task_closed_as_declined_withdraws_it() {
    withdrawn_by(
        |h| {
            Box::pin(async move {
                let tasks =
                    custops_cli::commands::tasks(&h.target, Some("lakeside-ford"), Some("adv-2")).await.unwrap();
                let task = tasks.first().expect("the advisor's follow-up task");
                custops_cli::commands::task_done(
                    &h.target,
                    "lakeside-ford",
                    MIAMI,
                    &task.task_id,
                    custops::model::TaskOutcome::Declined,
                    std::sync::Arc::new(h.clock.clone()),
                )
                .await
                .unwrap();
            })
        },
        "booked, done or closed",
    )
    .await;
}

#[tokio::test]
async fn an_opt_out_withdraws_it() {
    withdrawn_by(|h| Box::pin(async move { h.publish(&sms("m-2", "STOP")).await }), "opted out").await;
}

#[tokio::test]
async fn the_dms_withdrawing_marketing_consent_withdraws_it() {
    withdrawn_by(
        |h| {
            Box::pin(async move {
                h.publish(&json!({"event_id": "s-1", "event_type": "ro.status_changed",
                    "occurred_at": "2026-11-27T12:00:00Z", "store_id": "lakeside-ford",
                    "data": {"ro_number": "RO-9", "status": "checked_in", "customer": customer(false),
                             "vehicle": vehicle(), "advisor": {"id": "adv-2", "name": "Lee Park"}}}))
                    .await
            })
        },
        "marketing consent",
    )
    .await;
}
