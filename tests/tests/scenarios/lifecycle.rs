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

#[tokio::test]
async fn the_delivery_check_goes_six_weeks_after_the_delivery_and_a_one_is_a_heat_case_for_sales() {
    // Tuesday 6 October, 15:00 Chicago (the dates are in the past: the
    // emulator's SQS stamps a reply with the real time).
    let h = Harness::start("2026-10-06T20:00:05Z").await;
    h.put_store(checking()).await;
    h.publish(&delivered("dms-d1", "D-9001", "2026-10-06T20:00:00Z")).await;
    h.publish(&delivered("dms-d1-resend", "D-9001", "2026-10-06T20:00:00Z")).await;
    h.settle().await;
    h.tick_at("2026-11-10T15:00:00Z").await;
    assert!(h.sms().await.is_empty(), "not before its day");
    // Tuesday 17 November, 08:05 Chicago: asked, once, whatever the ticks.
    h.tick_at("2026-11-17T14:05:00Z").await;
    h.tick_at("2026-11-17T14:10:00Z").await;
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

    h.tick_at("2026-11-17T14:05:00Z").await;
    h.clock.set(at("2026-11-17T16:00:00Z"));
    h.publish(&reply("m-1", "5")).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(sms[1].message.contains("enjoying your 2025 Chevrolet Tahoe"), "{}", sms[1].message);
    assert!(sms[1].message.contains("https://g.page/r/northside/review"), "{}", sms[1].message);

    // The unwound deal's day: nothing.
    h.tick_at("2026-11-18T14:05:00Z").await;
    assert_eq!(h.sms().await.len(), 2, "nothing about an unwound deal");
    let history = h.table().timeline(&maria()).await.unwrap();
    assert!(history.state.checks.iter().all(|c| c.about != CheckAbout::Delivery || c.status == CheckStatus::Ended));
    assert!(
        history.touchpoints.iter().any(|p| p.kind == "delivery_check.cancelled" && p.summary.contains("unwound")),
        "{:#?}",
        history.touchpoints
    );
}

/// A repair order closed on 25 May 2026 for `phone`'s own vehicle, with no
/// odometer reading: due by time alone on 25 November.
fn serviced_in_may(phone: &str, vin: &str) -> Value {
    json!({
        "event_id": format!("dms-may-{vin}"), "event_type": "ro.closed", "occurred_at": "2026-05-25T16:00:00Z",
        "store_id": "northside-chevy",
        "data": {"ro_number": format!("RO-{vin}"), "closed_at": "2026-05-25T16:00:00Z",
                 "customer": {"dms_id": format!("C-{vin}"), "first_name": "Pat", "last_name": vin, "phone": phone,
                              "marketing_consent": true},
                 "vehicle": {"vin": vin, "year": 2022, "make": "Chevrolet", "model": "Malibu"},
                 "advisor": {"id": "adv-4", "name": "Sam Ortiz"}, "performed": ["LOF-SYN"], "declined": []}
    })
}

fn timeline_of(phone: &str) -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse(phone).unwrap())
}

#[tokio::test]
async fn on_its_day_a_vehicle_due_is_a_task_and_a_text_unless_the_customer_opted_out_is_in_the_shop_or_just_visited() {
    let h = Harness::start("2026-05-25T16:00:05Z").await;
    h.put_store(northside()).await;
    for (phone, vin) in [
        ("+15125550181", "DUE000000000000A1"),
        ("+15125550182", "DUE000000000000B2"),
        ("+15125550183", "DUE000000000000C3"),
        ("+15125550184", "DUE000000000000D4"),
    ] {
        h.publish(&serviced_in_may(phone, vin)).await;
    }
    h.settle().await;
    // .182 opts out; .183's other car is in the shop; .184 bought a car last week.
    h.clock.set(at("2026-11-20T16:00:00Z"));
    h.publish(
        &json!({"originationNumber": "+15125550182", "destinationNumber": "+15125550100", "messageKeyword": "STOP",
                      "messageBody": "STOP", "inboundMessageId": "stop-182"}),
    )
    .await;
    let mut in_shop = custops_tests::ro_status("d-183", "in_progress", "2026-11-24T15:00:00Z");
    in_shop["data"]["ro_number"] = json!("RO-50183");
    in_shop["data"]["customer"]["phone"] = json!("+15125550183");
    in_shop["data"]["customer"]["dms_id"] = json!("C-DUE000000000000C3");
    in_shop["data"]["vehicle"]["vin"] = json!("OTHER00000000000C");
    h.publish(&in_shop).await;
    let mut bought = delivered("dms-d-184", "D-184", "2026-11-18T20:00:00Z");
    bought["data"]["customer"]["phone"] = json!("+15125550184");
    bought["data"]["customer"]["dms_id"] = json!("C-DUE000000000000D4");
    h.publish(&bought).await;
    h.settle().await;

    h.tick_at("2026-11-25T16:00:00Z").await;
    h.tick_at("2026-11-25T17:00:00Z").await;
    let sms = h.sms().await;
    let due_texts: Vec<_> = sms.iter().filter(|m| m.message.contains("due for service")).collect();
    assert_eq!(due_texts.len(), 1, "{sms:?}");
    assert_eq!(due_texts[0].phone_number, "+15125550181");
    let t = h.table().timeline(&timeline_of("+15125550181")).await.unwrap();
    let task = t.state.open_task(TaskKind::ServiceDue).expect("a service_due task");
    assert!(task.note.contains("no odometer reading: by time alone"), "{}", task.note);
    for (phone, why) in [
        ("+15125550182", "the customer opted out"),
        ("+15125550183", "a repair order is open"),
        ("+15125550184", "a visit in the last 30 days"),
    ] {
        let t = h.table().timeline(&timeline_of(phone)).await.unwrap();
        assert!(t.state.open_task(TaskKind::ServiceDue).is_none(), "{why}");
        assert!(
            t.touchpoints.iter().any(|p| p.kind == "service_due.held" && p.summary.contains(why)),
            "{why}: {:#?}",
            t.touchpoints
        );
    }
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let report =
        custops_cli::commands::report(&h.target, "northside-chevy", day, at("2026-11-26T12:00:00Z")).await.unwrap().0;
    assert_eq!((report.lifecycle.service_due_tasks, report.lifecycle.service_due_texts), (1, 1));
}

fn leased(event_id: &str, deal_id: &str, phone: &str, vin: &str) -> Value {
    let mut deal = delivered(event_id, deal_id, "2024-06-05T20:00:00Z");
    deal["data"]["customer"]["phone"] = json!(phone);
    deal["data"]["customer"]["dms_id"] = json!(format!("C-{deal_id}"));
    deal["data"]["customer"]["marketing_consent"] = json!(true);
    deal["data"]["vehicle"]["vin"] = json!(vin);
    deal["data"]["purchase_type"] = json!("lease");
    deal["data"]["term_months"] = json!(36);
    deal["data"]["first_payment_on"] = json!("2024-07-05");
    deal
}

#[tokio::test]
async fn a_lease_is_on_the_sales_list_at_180_and_90_days_texted_only_at_the_last_and_declined_ends_it() {
    let h = Harness::start("2024-06-05T20:00:05Z").await;
    let mut store = northside();
    store["maturity_texts"] = json!(true);
    h.put_store(store).await;
    h.publish(&leased("dms-l1", "D-L1", "+15125550191", "LEASE0000000000A1")).await;
    h.publish(&leased("dms-l2", "D-L2", "+15125550192", "LEASE0000000000B2")).await;
    h.settle().await;

    // 180 days before 5 June 2027: Monday 7 December 2026.
    h.tick_at("2026-12-07T16:00:00Z").await;
    for phone in ["+15125550191", "+15125550192"] {
        let t = h.table().timeline(&timeline_of(phone)).await.unwrap();
        let task = t.state.open_task(TaskKind::Maturity).expect("a maturity task at 180 days");
        assert_eq!(task.owner, "bdc-sales");
    }
    let maturity_texts = |sms: Vec<custops_cli::emulator::SentSms>| -> Vec<custops_cli::emulator::SentSms> {
        sms.into_iter().filter(|m| m.message.contains("what's next")).collect()
    };
    assert!(maturity_texts(h.sms().await).is_empty(), "no text at the first step");
    // .192 says no: the deal's maturity work ends.
    let l2 = timeline_of("+15125550192");
    h.clock.set(at("2026-12-08T16:00:00Z"));
    let outcome = custops::model::TaskOutcome::Declined;
    let clock: custops::SharedClock = std::sync::Arc::new(h.clock.clone());
    custops_cli::commands::task_done(&h.target, "northside-chevy", "+15125550192", "maturity-D-L2-180", outcome, clock)
        .await
        .unwrap();

    // 90 days before: Sunday 7 March 2027, 13:00 (Texas lets marketing go from noon on Sundays).
    h.tick_at("2027-03-07T19:00:00Z").await;
    let sms = maturity_texts(h.sms().await);
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0].phone_number, "+15125550191");
    for word in ["payment", "rate", "balance", "term", "$", "%"] {
        assert!(!sms[0].message.to_lowercase().contains(word), "{word}: {}", sms[0].message);
    }
    let t = h.table().timeline(&l2).await.unwrap();
    assert!(!t.state.tasks.iter().any(|t| t.task_id == "maturity-D-L2-90"), "declined: no more maturity work");
}

/// What vendors get wrong: an opt-out kept per vehicle, switched back on by
/// the next purchase. Here it is the person's and the number's: a STOP, then
/// a new car with the DMS's marketing consent ticked, and the store still
/// texts nothing (no delivery check is even scheduled).
#[tokio::test]
async fn a_stop_outlives_the_next_purchase_and_its_consent_box() {
    let h = Harness::start("2026-10-01T15:00:00Z").await;
    h.put_store(checking()).await;
    h.publish(&reply("stop-1", "STOP")).await;
    h.settle().await;
    h.clock.set(at("2026-10-06T20:00:05Z"));
    let mut deal = delivered("dms-d1", "D-9001", "2026-10-06T20:00:00Z");
    deal["data"]["customer"]["marketing_consent"] = json!(true);
    h.publish(&deal).await;
    h.settle().await;
    h.tick_at("2026-11-17T14:05:00Z").await;
    let t = h.table().timeline(&maria()).await.unwrap();
    assert!(t.state.consent.opted_out(), "the purchase did not lift the opt-out");
    assert!(
        h.sms().await.iter().all(|m| m.message.contains("unsubscribed")
            || m.message.contains("opted out")
            || m.message.contains("STOP")),
        "{:?}",
        h.sms().await
    );
    assert!(t.state.checks.is_empty(), "the delivery check is never scheduled for an opted-out number");
}

/// Two vehicles of one customer fall due on the same day: a task each and
/// one text naming both, committed in one transaction (their timeline
/// lines, one per kind, are one item each).
#[tokio::test]
async fn two_vehicles_due_the_same_day_are_two_tasks_and_one_text() {
    let h = Harness::start("2026-05-25T16:00:05Z").await;
    h.put_store(northside()).await;
    h.publish(&serviced_in_may("+15125550185", "TWO0000000000000A")).await;
    h.settle().await;
    let mut second = serviced_in_may("+15125550185", "TWO0000000000000B");
    second["event_id"] = json!("dms-may-second");
    second["data"]["ro_number"] = json!("RO-TWO-B");
    second["data"]["customer"]["dms_id"] = json!("C-TWO0000000000000A");
    second["data"]["vehicle"]["model"] = json!("Equinox");
    h.publish(&second).await;
    h.settle().await;

    h.tick_at("2026-11-25T16:00:00Z").await;
    assert!(h.dlq().await.is_empty(), "{:?}", h.dlq().await);
    let t = h.table().timeline(&timeline_of("+15125550185")).await.unwrap();
    let due: Vec<_> = t.state.tasks.iter().filter(|t| t.kind == TaskKind::ServiceDue).collect();
    assert_eq!(due.len(), 2, "{:#?}", t.touchpoints);
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].message.contains("2022 Chevrolet Malibu and 2022 Chevrolet Equinox"), "{}", sms[0].message);
    let created = t.touchpoints.iter().filter(|p| p.kind == "task.created" && p.summary.contains("due for service"));
    assert_eq!(created.count(), 1, "one timeline line for the day's tasks");
}
