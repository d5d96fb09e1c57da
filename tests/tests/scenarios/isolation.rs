//! Tenant isolation: one phone number known at two stores is two customers.
//! An event for one store never reads or changes the other's record, a STOP at
//! one store does not stop the other, and every operator command scoped to a
//! store shows that store's data only.

use custops::{CustomerId, Phone};
use custops_cli::commands;
use custops_tests::{at, ro_status, Harness};
use serde_json::{json, Value};

const MARIA: &str = "+15125550142";
const NORTHSIDE_LINE: &str = "+15125550100";
const LAKESIDE_LINE: &str = "+13055550100";

fn lakeside() -> Value {
    serde_json::from_str(include_str!("../../../events/stores/lakeside-ford.json")).unwrap()
}

fn call(event_id: &str, store: &str, to: &str, when: &str) -> Value {
    json!({"event_id": event_id, "event_type": "call.missed", "occurred_at": when, "store_id": store,
           "data": {"call_id": event_id, "from": MARIA, "to": to, "department": "service"}})
}

fn stop(id: &str, to: &str) -> Value {
    json!({"originationNumber": MARIA, "destinationNumber": to, "messageKeyword": "JOIN", "messageBody": "STOP",
           "inboundMessageId": id, "previousPublishedMessageId": "p"})
}

#[tokio::test]
async fn one_number_at_two_stores_is_two_customers_and_commands_never_cross_stores() {
    let h = Harness::start("2026-11-23T16:05:05Z").await;
    h.put_store(lakeside()).await;
    // Maria has an open RO at Northside and calls Lakeside too.
    h.publish(&ro_status("d-1", "waiting_parts", "2026-11-23T15:00:00Z")).await;
    h.publish(&call("c-lake", "lakeside-ford", LAKESIDE_LINE, "2026-11-23T16:05:00Z")).await;
    h.settle().await;

    let phone = Phone::parse(MARIA).unwrap();
    let north = h.table().customer_state(&CustomerId::new("northside-chevy", phone.clone())).await.unwrap();
    let lake = h.table().customer_state(&CustomerId::new("lakeside-ford", phone.clone())).await.unwrap();
    assert_eq!(north.repair_orders.len(), 1);
    assert!(lake.repair_orders.is_empty(), "Lakeside never sees Northside's RO");
    assert_eq!(lake.tasks.len(), 1);
    assert!(north.tasks.is_empty());
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1);
    assert!(sms[0].message.contains("Lakeside Ford") && !sms[0].message.contains("RO-48213"), "{}", sms[0].message);

    // STOP to Northside's line stops Northside only.
    h.publish(&stop("m-1", NORTHSIDE_LINE)).await;
    h.settle().await;
    h.clock.set(at("2026-11-24T16:05:05Z"));
    h.publish(&call("c-north", "northside-chevy", NORTHSIDE_LINE, "2026-11-24T16:05:00Z")).await;
    h.publish(&call("c-lake-2", "lakeside-ford", LAKESIDE_LINE, "2026-11-24T16:05:00Z")).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 2, "Lakeside texts back again; Northside does not: {sms:?}");
    assert!(sms[1].message.contains("Lakeside Ford"));

    // Operator commands scoped to a store.
    let texts = commands::texts(&h.target, Some("lakeside-ford")).await.unwrap();
    assert!(!texts.is_empty() && texts.iter().all(|t| t.store_id == "lakeside-ford"));
    let texts = commands::texts(&h.target, Some("northside-chevy")).await.unwrap();
    assert!(texts.iter().all(|t| t.store_id == "northside-chevy"));
    let tasks = commands::tasks(&h.target, Some("lakeside-ford"), None).await.unwrap();
    assert!(!tasks.is_empty() && tasks.iter().all(|t| t.store_id == "lakeside-ford"));
    let day = "2026-11-24".parse().unwrap();
    let (report, _) = commands::report(&h.target, "lakeside-ford", day, at("2026-11-25T12:00:00Z")).await.unwrap();
    assert_eq!(report.missed_calls.total, 1, "Lakeside's day: its own call only");
    assert_eq!(report.opt_outs, 0, "the STOP was Northside's");
}

/// Given two stores whose DMSes both number an event `dms-000123`, when both
/// arrive, then each is processed once for its own store: event ids are
/// unique per store, not across stores (claims are per store).
#[tokio::test]
async fn one_event_id_at_two_stores_is_two_events() {
    let h = Harness::start("2026-11-23T16:05:05Z").await;
    h.put_store(lakeside()).await;
    let mut north = ro_status("dms-000123", "ready_for_pickup", "2026-11-23T16:00:00Z");
    let mut lake = north.clone();
    lake["store_id"] = json!("lakeside-ford");
    h.publish(&north).await;
    h.publish(&lake).await;
    h.settle().await;
    let phone = Phone::parse(MARIA).unwrap();
    for store in ["northside-chevy", "lakeside-ford"] {
        let state = h.table().customer_state(&CustomerId::new(store, phone.clone())).await.unwrap();
        assert_eq!(state.repair_orders.len(), 1, "{store} recorded its own RO-48213");
    }
    let sms = h.sms().await;
    assert_eq!(sms.len(), 2, "each store texted its own customer once: {sms:?}");
    assert!(sms.iter().any(|m| m.message.contains("Lakeside Ford")));
    assert!(sms.iter().any(|m| m.message.contains("Northside Chevrolet")));
    assert!(h.dlq().await.is_empty());

    // The same id again at one store is still that store's duplicate.
    north["occurred_at"] = json!("2026-11-23T16:01:00Z");
    h.publish(&north).await;
    h.settle().await;
    assert_eq!(h.sms().await.len(), 2, "a duplicate at Northside changes nothing");
}

/// Given an internal repair order entered with the store's own number (its
/// texting number, or one of its `lines`), when its events arrive, then each
/// is acknowledged, no customer record is made and nothing is texted.
#[tokio::test]
async fn an_event_with_the_stores_own_number_is_not_a_customer() {
    let h = Harness::start("2026-11-23T16:05:05Z").await;
    let mut store = custops_tests::northside();
    store["lines"] = json!({"+15125550110": "service", "(512) 555-0120": "sales"});
    h.put_store(store).await;
    for (i, number) in ["+15125550100", "512-555-0110", "+15125550120"].iter().enumerate() {
        let mut event = ro_status(&format!("own-{i}"), "ready_for_pickup", "2026-11-23T16:00:00Z");
        event["data"]["customer"]["phone"] = json!(number);
        event["data"]["ro_number"] = json!(format!("RO-INT-{i}"));
        h.publish(&event).await;
        let phone = Phone::parse(number).unwrap();
        let closed = json!({"event_id": format!("own-close-{i}"), "event_type": "ro.closed",
            "occurred_at": "2026-11-23T16:00:00Z", "store_id": "northside-chevy",
            "data": {"ro_number": format!("RO-INT-{i}"), "closed_at": "2026-11-23T16:00:00Z",
                     "customer": event["data"]["customer"].clone(), "vehicle": event["data"]["vehicle"].clone(),
                     "advisor": event["data"]["advisor"].clone(), "performed": ["LOF"],
                     "declined": [{"line_id": "L1", "op_code": "BRK", "description": "Brakes", "estimate_cents": 1000}]}});
        h.publish(&closed).await;
        h.settle().await;
        let timeline = h.table().timeline(&CustomerId::new("northside-chevy", phone)).await.unwrap();
        assert!(timeline.state.profile.is_none() && timeline.touchpoints.is_empty(), "no record for {number}");
    }
    assert!(h.sms().await.is_empty(), "nothing texted to the store's own numbers");
    assert!(h.dlq().await.is_empty(), "acknowledged, not dead-lettered");
}
