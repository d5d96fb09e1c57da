//! Trigger 4, silent defectors, against the emulator: a delivered vehicle
//! goes on the record with a first-service task; the daily sweep (`local
//! tick`) finds who lapsed through the sparse lapse index and the win-back
//! worker contacts each once per lapse, by text only when the store may.

use custops::model::{TaskKind, TaskStatus};
use custops::text::{MessageClass, TextState};
use custops::{CustomerId, Phone};
use custops_tests::{at, ro_status, Harness};
use serde_json::{json, Value};

const MARIA: &str = "+15125550142";

fn delivered(event_id: &str, when: &str, consent: bool) -> Value {
    json!({
        "event_id": event_id, "event_type": "deal.delivered", "occurred_at": when, "store_id": "northside-chevy",
        "data": {
            "deal_id": "D-9001", "delivered_at": when,
            "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA,
                         "marketing_consent": consent},
            "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2025, "make": "Chevrolet", "model": "Tahoe"},
            "salesperson": {"id": "sp-7", "name": "Jordan Lee"}
        }
    })
}

fn serviced(event_id: &str, when: &str) -> Value {
    json!({
        "event_id": event_id, "event_type": "ro.closed", "occurred_at": when, "store_id": "northside-chevy",
        "data": {
            "ro_number": format!("RO-{event_id}"), "closed_at": when,
            "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA},
            "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2025, "make": "Chevrolet", "model": "Tahoe"},
            "advisor": {"id": "adv-7", "name": "Dana Whitfield"},
            "performed": ["LOF-SYN"], "declined": []
        }
    })
}

fn maria() -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap())
}

/// `local tick` at `when` (10:00 in Chicago on the days used), then the
/// worker's queue drained; returns the sweep's report.
async fn sweep(h: &Harness, when: &str) -> Value {
    h.clock.set(at(when));
    let fired = h.stack.tick().await.unwrap();
    h.settle().await;
    fired.into_iter().find(|(f, _)| f == "lapse-sweep").map(|(_, r)| r).expect("the sweep ran")
}

async fn delivered_on_1_october_2025(consent: bool) -> Harness {
    let h = Harness::start("2025-10-01T20:00:05Z").await;
    h.publish(&delivered("d-1", "2025-10-01T20:00:00Z", consent)).await;
    h.settle().await;
    h
}

#[tokio::test]
async fn a_buyer_who_never_came_in_is_contacted_lapse_months_after_delivery_once_across_two_sweeps() {
    let h = delivered_on_1_october_2025(true).await;
    let state = h.table().customer_state(&maria()).await.unwrap();
    let first = state.open_task(TaskKind::FirstService).expect("the service owner sets the first appointment");
    assert_eq!(first.owner, "bdc-service");
    assert_eq!(state.profile.as_ref().unwrap().purchases.len(), 1);
    assert!(h.sms().await.is_empty(), "a delivery texts nobody");

    let report = sweep(&h, "2026-10-30T15:00:00Z").await; // 12 months and 29 days
    assert_eq!((report["read"].as_u64(), report["handed_off"].as_u64()), (Some(0), Some(0)));
    assert!(h.sms().await.is_empty());

    let report = sweep(&h, "2026-11-02T15:00:00Z").await; // over 13 months
    assert_eq!(report["handed_off"], 1, "{report}");
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].message.contains("Northside Chevrolet") && sms[0].message.contains("2025 Chevrolet Tahoe"));
    assert_eq!(h.table().store_texts("northside-chevy").await.unwrap()[0].class, MessageClass::Marketing);

    // The next sweeps do not read her again: she left the lapse index.
    for when in ["2026-11-02T15:30:00Z", "2026-11-03T15:00:00Z"] {
        let report = sweep(&h, when).await;
        assert_eq!(report["read"], 0, "{report}");
    }
    assert_eq!(h.sms().await.len(), 1, "once per lapse");
    let state = h.table().customer_state(&maria()).await.unwrap();
    let tasks: Vec<_> = state.tasks.iter().filter(|t| t.kind == TaskKind::WinBack).collect();
    assert_eq!(tasks.len(), 1);
    assert_eq!((tasks[0].owner.as_str(), tasks[0].status), ("bdc-service", TaskStatus::Open));
    assert!(h.dlq().await.is_empty());
}

#[tokio::test]
async fn a_customer_who_came_back_is_not_contacted_and_a_second_lapse_is() {
    let h = delivered_on_1_october_2025(true).await;
    h.clock.set(at("2026-06-01T18:00:05Z"));
    h.publish(&serviced("r1", "2026-06-01T18:00:00Z")).await;
    h.settle().await;
    let report = sweep(&h, "2026-11-02T15:00:00Z").await;
    assert_eq!(report["read"], 0, "{report}");
    assert!(h.sms().await.is_empty());

    // 13 months after that visit she has lapsed again.
    sweep(&h, "2027-07-02T15:00:00Z").await;
    assert_eq!(h.sms().await.len(), 1);
    // She comes back after the win-back: a new lapse clock, and the day counts her return.
    h.clock.set(at("2027-07-10T18:00:05Z"));
    h.publish(&serviced("r2", "2027-07-10T18:00:00Z")).await;
    h.settle().await;
    let facts = h.table().day_facts("northside-chevy", at("2027-07-10T18:00:00Z").date_naive()).await.unwrap();
    assert!(facts.iter().any(|f| f.kind == custops::model::FactKind::WinBackReturned), "{facts:?}");
    sweep(&h, "2028-08-11T15:00:00Z").await;
    assert_eq!(h.sms().await.len(), 2, "the second lapse is contacted again");
}

#[tokio::test]
async fn a_visit_while_the_win_back_text_waits_for_the_window_withdraws_it() {
    let h = delivered_on_1_october_2025(true).await;
    // 07:00 in Chicago: marketing to her Texas number waits for 09:00.
    let report = sweep(&h, "2026-11-02T13:00:00Z").await;
    assert_eq!(report["handed_off"], 1, "{report}");
    assert!(h.sms().await.is_empty(), "not before the window");
    let text = h.table().store_texts("northside-chevy").await.unwrap().remove(0);
    assert_eq!((text.state, text.due_at), (TextState::Deferred, Some(at("2026-11-02T15:00:00Z"))));

    // She brings the Tahoe in at 08:00: the lapse is over before the text goes.
    h.clock.set(at("2026-11-02T14:00:05Z"));
    h.publish(&serviced("r1", "2026-11-02T14:00:00Z")).await;
    h.settle().await;
    sweep(&h, "2026-11-02T15:05:00Z").await; // the scheduler releases what is due
    assert!(h.sms().await.is_empty(), "the visit withdrew the win-back text");
    let text = h.table().store_texts("northside-chevy").await.unwrap().remove(0);
    assert_eq!(text.state, TextState::Suppressed);
    assert_eq!(
        text.suppressed_reason.as_deref(),
        Some("withdrawn: the customer has been in since (a visit or a repair order)")
    );
    assert!(h.dlq().await.is_empty());
}

#[tokio::test]
async fn a_repair_order_opened_while_the_win_back_text_waits_withdraws_it() {
    let h = delivered_on_1_october_2025(true).await;
    sweep(&h, "2026-11-02T13:00:00Z").await; // 07:00 in Chicago: the text waits for 09:00
                                             // Her Tahoe checks in at 08:00: the store now speaks to her about the RO.
    h.clock.set(at("2026-11-02T14:00:05Z"));
    h.publish(&ro_status("s-1", "in_progress", "2026-11-02T14:00:00Z")).await;
    h.settle().await;
    sweep(&h, "2026-11-02T15:05:00Z").await;
    assert!(h.sms().await.is_empty(), "one voice: no win-back text while her car is in the shop");
    let text = h.table().store_texts("northside-chevy").await.unwrap().remove(0);
    assert_eq!(text.state, TextState::Suppressed);
    let state = h.table().customer_state(&maria()).await.unwrap();
    assert!(state.open_task(TaskKind::WinBack).is_some(), "the service owner still has the task");
}

#[tokio::test]
async fn a_win_back_text_that_waits_for_the_window_goes_when_nothing_happened_meanwhile() {
    let h = delivered_on_1_october_2025(true).await;
    sweep(&h, "2026-11-02T13:00:00Z").await;
    assert!(h.sms().await.is_empty());
    sweep(&h, "2026-11-02T15:05:00Z").await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].message.contains("2025 Chevrolet Tahoe"));
}

#[tokio::test]
async fn without_marketing_consent_the_service_owner_gets_the_task_and_no_text() {
    let h = delivered_on_1_october_2025(false).await;
    sweep(&h, "2026-11-02T15:00:00Z").await;
    assert!(h.sms().await.is_empty());
    let state = h.table().customer_state(&maria()).await.unwrap();
    assert!(state.open_task(TaskKind::WinBack).is_some());
    assert!(state.profile.unwrap().lapse_contacted.is_some());
}

#[tokio::test]
async fn an_open_repair_order_gets_the_task_and_no_text() {
    let h = delivered_on_1_october_2025(true).await;
    // Her Tahoe is in the shop when she lapses (the RO is open, not closed: no visit yet).
    h.clock.set(at("2026-11-02T14:00:05Z"));
    h.publish(&ro_status("s-1", "in_progress", "2026-11-02T14:00:00Z")).await;
    h.settle().await;
    sweep(&h, "2026-11-02T15:00:00Z").await;
    assert!(h.sms().await.is_empty(), "one voice: the store already talks to her about the RO");
    let state = h.table().customer_state(&maria()).await.unwrap();
    assert!(state.open_task(TaskKind::WinBack).is_some());
}

#[tokio::test]
async fn a_changed_lapse_months_takes_effect_at_the_next_sweep() {
    let h = delivered_on_1_october_2025(true).await;
    assert_eq!(sweep(&h, "2026-05-04T15:00:00Z").await["read"], 0);
    let mut store = custops_tests::northside();
    store["lapse_months"] = json!(6);
    h.put_store(store).await;
    assert_eq!(sweep(&h, "2026-05-04T15:10:00Z").await["handed_off"], 1);
    assert_eq!(h.sms().await.len(), 1);
}
