//! The foundation, end to end against the emulator: an event published to its
//! topic reaches its function through the queue, lands in the table and texts
//! the customer; duplicates and bad input behave as CONTRACT §6 says.

use custops::Phone;
use custops_tests::{call_missed, Harness};

const MONDAY_MORNING: &str = "2026-11-23T16:05:00Z"; // 10:05 in Chicago

#[tokio::test]
async fn a_missed_call_flows_from_the_topic_to_a_row_and_a_text() {
    let h = Harness::start(MONDAY_MORNING).await;

    h.publish(&call_missed("c-1", "call-1", "(512) 555-0177", MONDAY_MORNING)).await;
    h.settle().await;

    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0].phone_number, "+15125550177");
    assert!(sms[0].message.contains("Northside Chevrolet"), "{}", sms[0].message);

    let phone = Phone::parse("+15125550177").unwrap();
    let timeline = h.table().timeline(&custops::CustomerId::new("northside-chevy", phone.clone())).await.unwrap();
    assert!(timeline.state.profile.is_some(), "a lead record exists for the caller");
    assert_eq!(timeline.texts.len(), 1);
    assert_eq!(timeline.texts[0].sns_message_id.as_deref(), Some(sms[0].message_id.as_str()));

    // `custops texts` shows it.
    let texts = custops_cli::commands::texts(&h.target, None).await.unwrap();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].body, sms[0].message);
}

#[tokio::test]
async fn the_same_event_delivered_twice_produces_one_row_and_one_text() {
    let h = Harness::start(MONDAY_MORNING).await;
    let event = call_missed("c-dup", "call-dup", "+15125550177", MONDAY_MORNING);

    h.publish(&event).await;
    h.publish(&event).await;
    h.settle().await;
    h.publish(&event).await;
    h.settle().await;

    assert_eq!(h.sms().await.len(), 1);
    let phone = Phone::parse("+15125550177").unwrap();
    let timeline = h.table().timeline(&custops::CustomerId::new("northside-chevy", phone.clone())).await.unwrap();
    assert_eq!(timeline.texts.len(), 1);
    assert_eq!(timeline.state.tasks.len(), 1);
    assert_eq!(
        timeline.state.tasks[0].calls.as_ref().map(|c| c.count),
        Some(1),
        "the duplicate did not count as a second call"
    );
    assert_eq!(timeline.touchpoints.iter().filter(|t| t.kind == "call.missed").count(), 1);
}

#[tokio::test]
async fn a_malformed_message_goes_to_the_dlq_and_its_batch_siblings_are_processed_once() {
    let h = Harness::start(MONDAY_MORNING).await;

    // All published before the function runs, so they share one batch.
    h.publish(&call_missed("c-a", "call-a", "+15125550171", MONDAY_MORNING)).await;
    h.publish_as("carrier-events", "call.missed", "{ this is not json").await;
    let mut missing_from = call_missed("c-bad", "call-bad", "+15125550172", MONDAY_MORNING);
    missing_from["data"].as_object_mut().unwrap().remove("from");
    h.publish(&missing_from).await;
    h.publish(&call_missed("c-b", "call-b", "+15125550173", MONDAY_MORNING)).await;
    let mut unknown_store = call_missed("c-store", "call-store", "+15125550174", MONDAY_MORNING);
    unknown_store["store_id"] = "no-such-store".into();
    h.publish(&unknown_store).await;
    h.settle().await;

    let mut to: Vec<_> = h.sms().await.into_iter().map(|m| m.phone_number).collect();
    to.sort();
    assert_eq!(to, ["+15125550171", "+15125550173"]);

    let dlq = h.dlq().await;
    assert_eq!(dlq.len(), 3, "{dlq:?}");
    let reason_of =
        |id: Option<&str>| dlq.iter().find(|d| d.event_id.as_deref() == id).map(|d| d.reason.clone()).unwrap();
    assert!(reason_of(None).contains("not a JSON event envelope"));
    assert!(reason_of(Some("c-bad")).contains("missing field `from`"));
    assert!(reason_of(Some("c-store")).contains("unknown store"));
    assert!(dlq.iter().all(|d| d.kind == "permanent"));
    assert!(dlq.iter().all(|d| !d.reason.contains("555017")), "no raw phone number in a reason");
}

#[tokio::test]
async fn a_dead_letter_redriven_after_the_fix_is_processed() {
    let h = Harness::start(MONDAY_MORNING).await;
    let mut event = call_missed("c-later", "call-later", "+15125550175", MONDAY_MORNING);
    event["store_id"] = "lakeside-ford".into();
    h.publish(&event).await;
    h.settle().await;
    assert_eq!(h.dlq().await.len(), 1);
    assert!(h.sms().await.is_empty());

    // The operator adds the missing store and sends the message back.
    h.put_store(serde_json::json!({"store_id": "lakeside-ford", "name": "Lakeside Ford",
        "timezone": "America/New_York", "sms_number": "+13055550100"}))
        .await;
    let redriven = custops_cli::commands::dlq(&h.target, true).await.unwrap();
    assert_eq!(redriven.len(), 1);
    h.settle().await;

    assert!(h.dlq().await.is_empty());
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1);
    assert!(sms[0].message.contains("Lakeside Ford"));
}

#[tokio::test]
async fn a_failure_that_keeps_failing_is_retried_then_dead_lettered_with_its_reason() {
    let h = Harness::start(MONDAY_MORNING).await;
    // The table disappears: every attempt fails with a retryable error.
    h.stack.clients.dynamodb.delete_table().table_name(h.table().name()).send().await.unwrap();

    h.publish(&call_missed("c-t", "call-t", "+15125550176", MONDAY_MORNING)).await;
    h.settle().await;

    let dlq = h.dlq().await;
    assert_eq!(dlq.len(), 1, "{dlq:?}");
    assert_eq!(dlq[0].kind, "transient");
    assert_eq!(dlq[0].event_id.as_deref(), Some("c-t"));
    assert!(h.sms().await.is_empty());
}
