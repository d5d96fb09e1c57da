//! Between the sale and the next sale (section 14) against the emulator: the
//! delivery check asked on its day through the scheduler's hand-over,
//! answered 1 (a heat case for sales) or 5 (thanked), not asked after an
//! unwind; the report's `lifecycle` counts it.

use custops::model::{CheckAbout, CheckStatus, TaskKind};
use custops::{CustomerId, Phone};
use custops_tests::{at, northside, Harness};
use serde_json::{json, Value};

const MARIA: &str = "+15125550142";

fn maria() -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap())
}

/// Northside with the delivery check on, at its default 42 days.
fn checking() -> Value {
    let mut store = northside();
    store["delivery_check"] = json!(true);
    store["review_url"] = json!("https://g.page/r/northside/review");
    store
}

fn delivered(event_id: &str, deal_id: &str, delivered_at: &str) -> Value {
    json!({
        "event_id": event_id, "event_type": "deal.delivered", "occurred_at": delivered_at,
        "store_id": "northside-chevy",
        "data": {"deal_id": deal_id, "delivered_at": delivered_at,
                 "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA},
                 "vehicle": {"vin": "1GNSKCKD5MR100001", "year": 2025, "make": "Chevrolet", "model": "Tahoe"},
                 "salesperson": {"id": "sp-7", "name": "Jordan Lee"}}
    })
}

fn reply(id: &str, body: &str) -> Value {
    json!({"originationNumber": MARIA, "destinationNumber": "+15125550100", "messageKeyword": "",
           "messageBody": body, "inboundMessageId": id})
}

async fn tick_at(h: &Harness, when: &str) {
    h.clock.set(at(when));
    h.stack.tick().await.unwrap();
    h.settle().await;
}

#[tokio::test]
async fn the_delivery_check_goes_six_weeks_after_the_delivery_and_a_one_is_a_heat_case_for_sales() {
    // Tuesday 6 October, 15:00 Chicago (the dates are in the past: the
    // emulator's SQS stamps a reply with the real time).
    let h = Harness::start("2026-10-06T20:00:05Z").await;
    h.put_store(checking()).await;
    h.publish(&delivered("dms-d1", "D-9001", "2026-10-06T20:00:00Z")).await;
    h.publish(&delivered("dms-d1-resend", "D-9001", "2026-10-06T20:00:00Z")).await;
    h.settle().await;
    tick_at(&h, "2026-11-10T15:00:00Z").await;
    assert!(h.sms().await.is_empty(), "not before its day");
    // Tuesday 17 November, 08:05 Chicago: asked, once, whatever the ticks.
    tick_at(&h, "2026-11-17T14:05:00Z").await;
    tick_at(&h, "2026-11-17T14:10:00Z").await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].message.contains("2025 Chevrolet Tahoe") && sms[0].message.contains("1 (poor) to 5 (great)"));

    h.clock.set(at("2026-11-17T16:00:00Z"));
    h.publish(&reply("m-1", "1")).await;
    h.settle().await;
    assert_eq!(h.sms().await.len(), 1, "a 1 gets no automatic text: a person calls");
    let t = h.table().timeline(&maria()).await.unwrap();
    let heat = t.state.open_task(TaskKind::HeatCase).expect("a heat case");
    assert_eq!((heat.owner.as_str(), heat.due_at), ("bdc-sales", at("2026-11-17T16:00:00Z")));
    assert!(t.state.open_task(TaskKind::ReplySms).is_none(), "an answer, not a reply");

    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 17).unwrap();
    let report =
        custops_cli::commands::report(&h.target, "northside-chevy", day, at("2026-11-18T12:00:00Z")).await.unwrap().0;
    let l = &report.lifecycle;
    assert_eq!((l.delivery_checks_asked, l.delivery_checks_answered), (1, 1), "{l:?}");
    assert_eq!(report.post_visit.answered, 0, "a delivery is not a service visit");
}

#[tokio::test]
async fn a_five_is_thanked_and_an_unwound_deal_is_never_asked() {
    let h = Harness::start("2026-10-06T20:00:05Z").await;
    h.put_store(checking()).await;
    h.publish(&delivered("dms-d1", "D-9001", "2026-10-06T20:00:00Z")).await;
    h.settle().await;
    // A second deal the next day, unwound a week later.
    h.clock.set(at("2026-10-07T20:00:05Z"));
    h.publish(&delivered("dms-d2", "D-9002", "2026-10-07T20:00:00Z")).await;
    h.settle().await;
    h.clock.set(at("2026-10-14T20:00:00Z"));
    let mut unwound = delivered("dms-u2", "D-9002", "2026-10-14T20:00:00Z");
    unwound["event_type"] = json!("deal.unwound");
    h.publish(&unwound).await;
    h.settle().await;

    tick_at(&h, "2026-11-17T14:05:00Z").await;
    h.clock.set(at("2026-11-17T16:00:00Z"));
    h.publish(&reply("m-1", "5")).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(sms[1].message.contains("enjoying your 2025 Chevrolet Tahoe"), "{}", sms[1].message);
    assert!(sms[1].message.contains("https://g.page/r/northside/review"), "{}", sms[1].message);

    // The unwound deal's day: nothing.
    tick_at(&h, "2026-11-18T14:05:00Z").await;
    assert_eq!(h.sms().await.len(), 2, "nothing about an unwound deal");
    let history = h.table().timeline(&maria()).await.unwrap();
    assert!(history.state.checks.iter().all(|c| c.about != CheckAbout::Delivery || c.status == CheckStatus::Ended));
    assert!(
        history.touchpoints.iter().any(|p| p.kind == "delivery_check.cancelled" && p.summary.contains("unwound")),
        "{:#?}",
        history.touchpoints
    );
}
