//! The real `missed-call` executable, run as Lambda runs it: behind the Lambda
//! Runtime API (next / response), fed SQS batches by the local stack, talking
//! to the emulator. A missed call published to the topic is texted back.

use std::path::Path;

use custops_tests::{call_missed, Harness};

#[tokio::test]
async fn the_bootstrap_binary_handles_a_batch_through_the_runtime_api() {
    let mut h = Harness::start("2026-11-23T16:05:00Z").await;
    h.stack
        .run_bootstrap("missed-call", Path::new(env!("CARGO_BIN_EXE_missed-call")))
        .await
        .expect("the binary starts and asks for its first event");

    h.publish(&call_missed("c-1", "call-1", "(512) 555-0177", "2026-11-23T16:05:00Z")).await;
    let mut bad = call_missed("c-2", "call-2", "+15125550178", "2026-11-23T16:05:00Z");
    bad["data"].as_object_mut().unwrap().remove("from");
    h.publish(&bad).await;
    h.settle().await;

    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(
        sms[0].message,
        "Hi, this is Northside Chevrolet. Sorry we missed your call; we'll call you back shortly. Reply STOP to opt out."
    );
    let dlq = h.dlq().await;
    assert_eq!(dlq.len(), 1);
    assert!(dlq[0].reason.contains("missing field `from`"), "{dlq:?}");

    // Its log (CloudWatch on Lambda): the cold start's breakdown with the
    // template's warm-up, and not one raw phone number.
    let logs = h.function_logs("missed-call");
    let init = logs.iter().find(|l| l.contains(r#""message":"init""#)).expect("an init line");
    assert!(init.contains(r#""warm_up":"dynamodb,sns""#) && init.contains("total_ms"), "{init}");
    assert!(logs.iter().any(|l| l.contains("c-2")), "the bad event is logged with its id: {logs:?}");
    for number in ["5125550177", "512) 555-0177", "5125550178", "5125550100"] {
        assert!(!logs.iter().any(|l| l.contains(number)), "a raw number in the log: {logs:?}");
    }
}
