//! No item is written by two customers' transactions. Real DynamoDB cancels a
//! transaction that overlaps another on the same item (`TransactionConflict`);
//! the emulator serialises writes and never would, so these tests run it in
//! its conflict mode (cli/local/src/moto_server.py, 6): each transaction holds its
//! items for a while, and an overlapping one is cancelled, as on DynamoDB.

use std::time::Duration;

use custops::table::{Guard, TxError};
use custops::{Clock, Phone};
use custops_tests::{call_missed, Harness};
use serde_json::json;

/// Long enough that every transaction of a batch overlaps the others.
const HELD: Duration = Duration::from_millis(300);

#[tokio::test]
async fn the_stand_in_cancels_two_overlapping_transactions_on_one_item_as_dynamodb_does() {
    let h = Harness::start_with_conflicts("2026-11-23T16:05:00Z", HELD).await;
    let table = h.table();
    let customer =
        custops::model::Customer::lead("northside-chevy", Phone::parse("+15125550177").unwrap(), h.clock.now());
    let write = |event: &'static str| {
        let (table, customer) = (table.clone(), customer.clone());
        async move {
            let mut tx = table.tx();
            tx.claim("s", event, customer.created_at).put(&customer, Guard::Always);
            table.commit(tx).await
        }
    };
    let (a, b) = tokio::join!(write("e-a"), write("e-b"));
    let failed: Vec<_> = [a, b].into_iter().filter_map(Result::err).collect();
    assert_eq!(failed.len(), 1, "one of two overlapping transactions is cancelled");
    assert!(
        matches!(&failed[0], TxError::Table(custops::table::TableError::Aws { code: Some(c), .. }) if c == "TransactionConflict"),
        "{failed:?}"
    );
}

#[tokio::test]
async fn ten_missed_calls_to_one_store_in_one_batch_never_conflict() {
    let h = Harness::start_with_conflicts("2026-11-23T16:05:00Z", HELD).await;
    let bodies: Vec<String> = (0..10)
        .map(|i| {
            call_missed(&format!("c-{i}"), &format!("call-{i}"), &format!("+1512555020{i}"), "2026-11-23T16:05:00Z")
        })
        .map(|e| e.to_string())
        .collect();
    let response = h.stack.invoke("missed-call", &bodies).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    assert_eq!(h.sms().await.len(), 10, "every caller texted back at once");
    let day = custops_tests::at("2026-11-23T16:05:00Z").date_naive();
    let facts = h.table().day_facts("northside-chevy", day).await.unwrap();
    let calls = facts.iter().filter(|f| f.kind == custops::model::FactKind::MissedCall).count();
    assert_eq!(calls, 10, "every call counted");
}

#[tokio::test]
async fn a_burst_of_stops_after_a_blast_is_recorded_at_once() {
    let h = Harness::start_with_conflicts("2026-11-23T16:05:00Z", HELD).await;
    let bodies: Vec<String> = (0..10)
        .map(|i| {
            json!({
                "originationNumber": format!("+1512555030{i}"), "destinationNumber": "+15125550100",
                "messageKeyword": "JOIN", "messageBody": "STOP", "inboundMessageId": format!("m-{i}")
            })
            .to_string()
        })
        .collect();
    let response = h.stack.invoke("inbound-sms", &bodies).await.unwrap();
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    for i in 0..10 {
        let phone = Phone::parse(&format!("+1512555030{i}")).unwrap();
        let state = h.table().customer_state(&custops::CustomerId::new("northside-chevy", phone)).await.unwrap();
        assert!(state.consent.opted_out(), "{i}");
    }
}
