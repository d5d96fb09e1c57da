//! What customers text the store, against the emulator: STOP really stops
//! every later text, START brings texts back, other texts become work.

use custops::model::TaskKind;
use custops::Phone;
use custops_tests::{call_missed, Harness};
use serde_json::json;

const NOW: &str = "2026-11-23T16:05:00Z";

fn sms(id: &str, from: &str, body: &str) -> serde_json::Value {
    json!({"originationNumber": from, "destinationNumber": "+15125550100", "messageKeyword": body.to_uppercase(),
           "messageBody": body, "inboundMessageId": id, "previousPublishedMessageId": "prev-1"})
}

#[tokio::test]
async fn stop_puts_the_number_on_the_ledger_and_no_later_text_goes_out_until_start() {
    let h = Harness::start(NOW).await;
    h.publish(&sms("m-1", "+15125550188", "STOP")).await;
    h.settle().await;
    let phone = Phone::parse("+15125550188").unwrap();
    let consent =
        h.table().customer_state(&custops::CustomerId::new("northside-chevy", phone.clone())).await.unwrap().consent;
    assert!(consent.opted_out());
    assert_eq!(consent.opt_out_source.as_deref(), Some("sms keyword STOP (message m-1)"));

    h.publish(&call_missed("c-1", "call-1", "+15125550188", NOW)).await;
    h.settle().await;
    assert!(h.sms().await.is_empty(), "no text after STOP");

    h.publish(&sms("m-2", "+15125550188", "START")).await;
    h.settle().await;
    h.publish(&call_missed("c-2", "call-2", "+15125550188", "2026-11-25T16:05:00Z")).await;
    h.settle().await;
    assert_eq!(h.sms().await.len(), 1, "texts again after START");
}

#[tokio::test]
async fn any_other_text_lands_on_the_timeline_with_a_reply_task_for_the_bdc() {
    let h = Harness::start(NOW).await;
    h.publish(&sms("m-1", "+15125550177", "Is my truck done yet?")).await;
    h.publish(&sms("m-1", "+15125550177", "Is my truck done yet?")).await;
    h.settle().await;

    let t = h
        .table()
        .timeline(&custops::CustomerId::new("northside-chevy", Phone::parse("+15125550177").unwrap()))
        .await
        .unwrap();
    assert_eq!(t.touchpoints.iter().filter(|p| p.kind == "sms.received").count(), 1, "once, however often delivered");
    assert_eq!(t.touchpoints[0].summary, "Is my truck done yet?");
    let task = t.state.open_task(TaskKind::ReplySms).expect("a reply task");
    assert_eq!(task.owner, "bdc");
    assert!(h.sms().await.is_empty());
}

#[tokio::test]
async fn a_text_to_a_number_no_store_uses_is_dead_lettered_with_the_reason() {
    let h = Harness::start(NOW).await;
    let mut wrong = sms("m-1", "+15125550177", "hi");
    wrong["destinationNumber"] = "+15125550999".into();
    h.publish(&wrong).await;
    h.publish_raw(r#"{"originationNumber": "+15125550177"}"#).await;
    h.settle().await;
    let dlq = h.dlq().await;
    assert_eq!(dlq.len(), 2, "{dlq:?}");
    assert!(dlq.iter().any(|d| d.reason.contains("unknown store")), "{dlq:?}");
    assert!(dlq.iter().any(|d| d.reason.contains("not an inbound SMS payload")), "{dlq:?}");
    assert!(dlq.iter().all(|d| !d.reason.contains("5550999")), "numbers are masked in reasons");
}
