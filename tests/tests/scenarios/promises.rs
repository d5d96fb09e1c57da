//! The store's other promises against the emulator (section 7): an
//! appointment confirmed at once and reminded the day before by the
//! scheduler's hand-over (a reschedule moves it, a cancellation withdraws
//! it), a part's ETA texted once per ETA, and the post-visit check asked the
//! next day and answered 2 (a heat case, alerted) or 5 (thanked); the report
//! counts them.

use custops::model::{BookingStatus, CheckStatus, TaskKind};
use custops::{CustomerId, Phone};
use custops_tests::{at, northside, ro_status, Harness};
use serde_json::{json, Value};

const MARIA: &str = "+15125550142";

fn maria() -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap())
}

/// Northside with appointment texts and the post-visit check on.
fn promising() -> Value {
    let mut store = northside();
    store["appointment_texts"] = json!(true);
    store["post_visit_check"] = json!(true);
    store["review_url"] = json!("https://g.page/r/northside/review");
    store
}

fn booked(event_id: &str, when: &str, occurred_at: &str) -> Value {
    json!({
        "event_id": event_id, "event_type": "appointment.booked", "occurred_at": occurred_at,
        "store_id": "northside-chevy",
        "data": {"appointment_id": "A-77", "at": when,
                 "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA},
                 "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"}}
    })
}

fn reply(id: &str, body: &str) -> Value {
    json!({"originationNumber": MARIA, "destinationNumber": "+15125550100", "messageKeyword": "",
           "messageBody": body, "inboundMessageId": id})
}

#[tokio::test]
async fn a_booking_is_confirmed_at_once_reminded_the_day_before_once_and_a_reschedule_moves_it() {
    // Friday 09:00 Chicago, for Monday 09:00.
    let h = Harness::start("2026-11-27T15:00:05Z").await;
    h.put_store(promising()).await;
    let booking = booked("b-1", "2026-11-30T15:00:00Z", "2026-11-27T15:00:00Z");
    h.publish(&booking).await;
    h.publish(&booking).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "one confirmation however often delivered: {sms:?}");
    assert!(sms[0].message.contains("Monday, November 30 at 9:00 AM"), "{}", sms[0].message);
    let texts = h.table().store_texts("northside-chevy").await.unwrap();
    assert_eq!(texts[0].class, custops::text::MessageClass::Transactional);

    // Saturday: nothing due yet. Sunday 08:05: the reminder, once.
    h.tick_at("2026-11-28T16:00:00Z").await;
    assert_eq!(h.sms().await.len(), 1);
    h.tick_at("2026-11-29T14:05:00Z").await;
    h.tick_at("2026-11-29T14:10:00Z").await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(sms[1].message.contains("tomorrow"), "{}", sms[1].message);

    // Rescheduled to Thursday: a new confirmation; the reminder moves to Wednesday.
    h.clock.set(at("2026-11-29T16:00:05Z"));
    h.publish(&booked("b-2", "2026-12-03T21:00:00Z", "2026-11-29T16:00:00Z")).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 3);
    assert!(sms[2].message.contains("Thursday, December 3 at 3:00 PM"), "{}", sms[2].message);
    h.tick_at("2026-12-02T14:05:00Z").await;
    assert_eq!(h.sms().await.len(), 4, "the moved reminder");

    let day = at("2026-11-29T14:05:00Z").with_timezone(&chrono_tz::America::Chicago).date_naive();
    let report =
        custops_cli::commands::report(&h.target, "northside-chevy", day, at("2026-12-03T12:00:00Z")).await.unwrap().0;
    assert_eq!((report.appointments.confirmed, report.appointments.reminded), (1, 1), "{:?}", report.appointments);
}

#[tokio::test]
async fn a_cancellation_withdraws_the_reminder_and_nothing_is_confirmed_when_the_store_has_it_off() {
    let h = Harness::start("2026-11-27T15:00:05Z").await;
    h.put_store(promising()).await;
    h.publish(&booked("b-1", "2026-11-30T15:00:00Z", "2026-11-27T15:00:00Z")).await;
    h.settle().await;
    h.clock.set(at("2026-11-28T15:00:05Z"));
    h.publish(&json!({
        "event_id": "x-1", "event_type": "appointment.cancelled", "occurred_at": "2026-11-28T15:00:00Z",
        "store_id": "northside-chevy",
        "data": {"appointment_id": "A-77",
                 "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA}}
    }))
    .await;
    h.settle().await;
    h.tick_at("2026-11-29T14:05:00Z").await;
    assert_eq!(h.sms().await.len(), 1, "the confirmation only: the reminder was withdrawn");
    let t = h.table().timeline(&maria()).await.unwrap();
    assert!(t.state.bookings.iter().all(|b| b.status != BookingStatus::Open), "{:?}", t.state.bookings);
    assert!(t.touchpoints.iter().any(|p| p.kind == "appointment.cancelled"));

    // The default store confirms nothing.
    let h = Harness::start("2026-11-27T15:00:05Z").await;
    h.publish(&booked("b-1", "2026-11-30T15:00:00Z", "2026-11-27T15:00:00Z")).await;
    h.settle().await;
    h.tick_at("2026-11-29T14:05:00Z").await;
    assert!(h.sms().await.is_empty());
    assert!(h.dlq().await.is_empty());
}

#[tokio::test]
async fn a_parts_eta_is_texted_once_per_eta_and_a_later_eta_once_more() {
    let h = Harness::start("2026-11-23T16:05:05Z").await;
    let mut waiting = ro_status("d-1", "waiting_parts", "2026-11-23T16:05:00Z");
    waiting["data"]["eta"] = json!("2026-11-27");
    h.publish(&waiting).await;
    let mut again = waiting.clone();
    again["event_id"] = json!("d-1b");
    again["occurred_at"] = json!("2026-11-23T17:00:00Z");
    h.publish(&again).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].message.contains("Friday, November 27"), "{}", sms[0].message);

    let mut later = waiting.clone();
    later["event_id"] = json!("d-2");
    later["occurred_at"] = json!("2026-11-24T16:00:00Z");
    later["data"]["eta"] = json!("2026-12-02");
    h.clock.set(at("2026-11-24T16:00:05Z"));
    h.publish(&later).await;
    // No ETA: recorded, not texted.
    let mut bare = ro_status("d-3", "waiting_parts", "2026-11-24T17:00:00Z");
    bare["data"]["ro_number"] = json!("RO-50000");
    h.publish(&bare).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 2, "{sms:?}");
    assert!(sms[1].message.contains("Wednesday, December 2"), "{}", sms[1].message);
}

fn ro_closed(event_id: &str, ro: &str, closed_at: &str) -> Value {
    json!({
        "event_id": event_id, "event_type": "ro.closed", "occurred_at": closed_at, "store_id": "northside-chevy",
        "data": {
            "ro_number": ro, "closed_at": closed_at,
            "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA},
            "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
            "advisor": {"id": "adv-7", "name": "Dana Whitfield"},
            "performed": ["LOF-SYN"], "declined": []
        }
    })
}

#[tokio::test]
async fn the_post_visit_check_goes_the_next_day_and_a_two_is_a_heat_case_for_service() {
    // Monday 17:20 Chicago.
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    h.put_store(promising()).await;
    h.publish(&ro_closed("d-1", "RO-48213", "2026-11-23T23:20:00Z")).await;
    h.settle().await;
    assert!(h.sms().await.is_empty(), "not the same day");
    h.tick_at("2026-11-24T14:05:00Z").await;
    h.tick_at("2026-11-24T14:10:00Z").await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].message.contains("1 (poor) to 5 (great)"), "{}", sms[0].message);

    h.clock.set(at("2026-11-24T15:00:00Z"));
    h.publish(&reply("m-1", "2")).await;
    h.publish(&reply("m-1", "2")).await;
    h.settle().await;
    assert_eq!(h.sms().await.len(), 1, "a 2 gets no automatic text");
    let t = h.table().timeline(&maria()).await.unwrap();
    let heat = t.state.open_task(TaskKind::HeatCase).expect("a heat case");
    assert_eq!(heat.owner, "bdc-service");
    assert_eq!(heat.due_at, at("2026-11-24T15:00:00Z"));
    assert!(t.state.open_task(TaskKind::ReplySms).is_none(), "an answer, not a reply");
    assert!(t.state.checks.iter().all(|c| c.status == CheckStatus::Ended));

    let day = at("2026-11-24T15:00:00Z").with_timezone(&chrono_tz::America::Chicago).date_naive();
    let report =
        custops_cli::commands::report(&h.target, "northside-chevy", day, at("2026-12-03T12:00:00Z")).await.unwrap().0;
    let p = &report.post_visit;
    assert_eq!((p.asked, p.answered, p.average, p.heat_cases), (1, 1, Some(2.0), 1), "{p:?}");
}

#[tokio::test]
async fn a_five_is_thanked_with_the_review_link_and_no_check_goes_on_a_day_the_store_already_texted() {
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    h.put_store(promising()).await;
    h.publish(&ro_closed("d-1", "RO-48213", "2026-11-23T23:20:00Z")).await;
    h.settle().await;
    h.tick_at("2026-11-24T14:05:00Z").await;
    h.clock.set(at("2026-11-24T15:00:00Z"));
    h.publish(&reply("m-1", "5!")).await;
    h.settle().await;
    let sms_sent = h.sms().await;
    let t = h.table().timeline(&maria()).await.unwrap();
    assert_eq!(sms_sent.len(), 2, "{sms_sent:?} {:#?} {:?}", t.touchpoints, h.dlq().await);
    assert!(sms_sent[1].message.contains("https://g.page/r/northside/review"), "{}", sms_sent[1].message);

    // Another close; the next morning a status text goes before the check.
    h.clock.set(at("2026-11-25T23:00:05Z"));
    h.publish(&ro_closed("d-2", "RO-48214", "2026-11-25T23:00:00Z")).await;
    h.settle().await;
    h.clock.set(at("2026-11-26T14:01:00Z"));
    let mut ready = ro_status("d-3", "ready_for_pickup", "2026-11-26T14:01:00Z");
    ready["data"]["ro_number"] = json!("RO-48300");
    h.publish(&ready).await;
    h.settle().await;
    h.tick_at("2026-11-26T14:05:00Z").await;
    let texts = h.sms().await;
    assert_eq!(texts.len(), 3, "the status text, no check: {texts:?}");
    let t = h.table().timeline(&maria()).await.unwrap();
    assert!(
        t.touchpoints.iter().any(|p| p.summary.contains("already texted")),
        "the timeline says why: {:#?}",
        t.touchpoints
    );
}

#[tokio::test]
async fn a_confirmation_booked_at_night_goes_in_the_morning_unless_the_booking_ended() {
    // Thursday 22:00 Chicago, for Monday 09:00.
    let h = Harness::start("2026-11-27T04:00:05Z").await;
    h.put_store(promising()).await;
    h.publish(&booked("b-1", "2026-11-30T15:00:00Z", "2026-11-27T04:00:00Z")).await;
    h.settle().await;
    assert!(h.sms().await.is_empty(), "waits for the window");
    h.tick_at("2026-11-27T14:05:00Z").await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "the morning's run sends it: {sms:?}");
    assert!(sms[0].message.contains("Monday, November 30 at 9:00 AM"), "{}", sms[0].message);

    // Cancelled before the morning: the waiting confirmation is withdrawn.
    let h = Harness::start("2026-11-27T04:00:05Z").await;
    h.put_store(promising()).await;
    h.publish(&booked("b-1", "2026-11-30T15:00:00Z", "2026-11-27T04:00:00Z")).await;
    h.settle().await;
    h.clock.set(at("2026-11-27T05:00:05Z"));
    h.publish(&json!({
        "event_id": "x-1", "event_type": "appointment.cancelled", "occurred_at": "2026-11-27T05:00:00Z",
        "store_id": "northside-chevy",
        "data": {"appointment_id": "A-77",
                 "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA}}
    }))
    .await;
    h.settle().await;
    h.tick_at("2026-11-27T14:05:00Z").await;
    assert!(h.sms().await.is_empty(), "withdrawn: the booking ended before it went");
}
