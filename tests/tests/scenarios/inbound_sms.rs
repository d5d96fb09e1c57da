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

/// Given a START that failed and went to the DLQ (first received Monday), and
/// a STOP the customer sent after it (processed now), when an operator runs
/// `custops dlq --redrive`, then the redriven START (a new copy, a new
/// `SentTimestamp`) keeps the time it was first received and changes
/// nothing: the customer stays opted out and is not texted.
#[tokio::test]
async fn a_start_redriven_after_a_later_stop_leaves_the_customer_opted_out() {
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    let h = Harness::start(NOW).await;
    let from = "+15125550188";
    // The START's first delivery failed for good: the adapter dead-lettered it.
    let dlq = h.stack.queue_url("InboundSmsDlq").expect("the DLQ");
    let adapter = custops::batch::BatchAdapter::new(h.stack.clients.sqs.clone(), dlq, 5, "inbound-sms");
    let mut record = SqsMessage::default();
    record.message_id = Some("start-1".into());
    record.body = Some(sms("m-start", from, "START").to_string());
    let monday = custops_tests::at("2026-11-23T16:00:00Z").timestamp_millis();
    record.attributes.insert("SentTimestamp".into(), monday.to_string());
    let mut event = SqsEvent::default();
    event.records.push(record);
    adapter
        .run(event, |_| async {
            Err(custops::ProcessError::Invalid { event_id: "m-start".into(), reason: "failed here".into() })
        })
        .await;
    assert_eq!(h.dlq().await.len(), 1);

    // The STOP, sent after the START, processed now.
    h.publish(&sms("m-stop", from, "STOP")).await;
    h.settle().await;
    let customer = custops::CustomerId::new("northside-chevy", Phone::parse(from).unwrap());
    assert!(h.table().customer_state(&customer).await.unwrap().consent.opted_out());

    custops_cli::commands::dlq(&h.target, true).await.unwrap();
    h.settle().await;
    let consent = h.table().customer_state(&customer).await.unwrap().consent;
    assert!(consent.opted_out(), "the customer's last word was STOP: {consent:?}");
    h.publish(&call_missed("c-1", "call-1", from, NOW)).await;
    h.settle().await;
    assert!(h.sms().await.is_empty(), "never texted after STOP");
}

/// Two keywords decided on one read of the ledger: the START (sent 16:03)
/// commits first, then the STOP (sent 16:02) tries to commit what it decided
/// on the old ledger. It is refused (the ledger's version moved), decided
/// again on the new ledger, and both land on the history in the customer's
/// order, the number opted in.
#[tokio::test]
async fn a_stop_committed_after_a_later_start_is_decided_again_and_both_stay_on_the_ledger_in_order() {
    use custops::function::SqsFunction;
    let h = Harness::start(NOW).await;
    let from = "+15125550188";
    let deps = h.deps("inbound-sms", &h.emulator.endpoint).await;
    let store = custops::fixtures::northside();
    let customer = custops::CustomerId::new("northside-chevy", Phone::parse(from).unwrap());
    let parse = |id: &str, body: &str| custops::event::InboundSms::parse(&sms(id, from, body).to_string()).unwrap();
    let (stop, start) = (parse("m-stop", "STOP"), parse("m-start", "START"));
    let (stop_sent, start_sent) =
        (custops_tests::at("2026-11-23T16:02:00Z"), custops_tests::at("2026-11-23T16:03:00Z"));
    let now = custops_tests::at(NOW);

    let read = h.table().customer_state(&customer).await.unwrap();
    let started = inbound_sms::decide(&store, &start, &customer, &read, start_sent, now);
    let stopped = inbound_sms::decide(&store, &stop, &customer, &read, stop_sent, now);
    deps.apply(&store, started).await.unwrap();
    let lost = deps.apply(&store, stopped).await.expect_err("decided on a ledger that changed");
    assert!(lost.is_conflict(), "{lost}");

    // What the function does with the STOP's message: read, decide again.
    let message = custops::batch::Message {
        message_id: "sqs-stop".into(),
        body: sms("m-stop", from, "STOP").to_string(),
        receive_count: 1,
        sent_at: Some(stop_sent),
        event_type: None,
    };
    inbound_sms::InboundSmsHandler::process(&deps, message).await.unwrap();
    let consent = h.table().customer_state(&customer).await.unwrap().consent;
    assert!(!consent.opted_out(), "the customer's last word was START");
    let history: Vec<(&str, chrono::DateTime<chrono::Utc>)> =
        consent.history.iter().map(|c| (c.change.as_str(), c.at)).collect();
    assert_eq!(history, [("opted_out", stop_sent), ("opted_in", start_sent)]);
}
