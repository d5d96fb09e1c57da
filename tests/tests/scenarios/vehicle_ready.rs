//! Trigger 2, repair-order status texts, against the emulator.

use custops::model::{Origin, TaskKind, TaskStatus};
use custops::text::TextState;
use custops::Phone;
use custops_tests::{at, call_missed, ro_status, Harness};

fn maria() -> Phone {
    Phone::parse("+15125550142").unwrap()
}

#[tokio::test]
async fn parts_arrived_texts_the_customer_and_gives_the_advisor_a_call_due_by_the_next_business_days_close() {
    // Friday 10:00 CST.
    let h = Harness::start("2026-11-27T16:00:05Z").await;
    h.publish(&ro_status("d-1", "parts_arrived", "2026-11-27T16:00:00Z")).await;
    h.settle().await;

    let sms = h.sms().await;
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].phone_number, "+15125550142");
    assert_eq!(
        sms[0].message,
        "Hi Maria, good news from Northside Chevrolet: the part for your 2021 Chevrolet Tahoe is in. \
         Dana Whitfield will call you to schedule the install."
    );
    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", maria())).await.unwrap();
    let task = t.state.open_task(TaskKind::BookInstall).expect("a book-install task");
    assert_eq!(task.owner, "adv-7");
    assert_eq!(task.due_at, at("2026-11-28T23:00:00Z"), "Saturday's close, 17:00 CST");
    assert_eq!(t.state.repair_orders[0].status, "parts_arrived");
    assert!(t.state.consent.marketing_granted(), "the DMS's marketing consent is on the ledger");
}

#[tokio::test]
async fn ready_for_pickup_names_vehicle_amount_hours_and_advisor_and_closes_the_waiting_task() {
    let h = Harness::start("2026-11-23T16:00:05Z").await;
    h.publish(&ro_status("d-1", "parts_arrived", "2026-11-23T16:00:00Z")).await;
    h.settle().await;
    h.clock.set(at("2026-11-23T22:15:05Z"));
    h.publish(&ro_status("d-2", "ready_for_pickup", "2026-11-23T22:15:00Z")).await;
    h.settle().await;

    let sms = h.sms().await;
    assert_eq!(sms.len(), 2);
    assert_eq!(
        sms[1].message,
        "Hi Maria, your 2021 Chevrolet Tahoe is ready for pickup at Northside Chevrolet. Amount due: $487.35. \
         Today's hours: 7:00 AM-7:00 PM. Questions? Ask for Dana Whitfield."
    );
    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", maria())).await.unwrap();
    assert!(t.state.tasks.iter().all(|t| t.status == TaskStatus::Done), "{:?}", t.state.tasks);
    assert_eq!(t.state.repair_orders[0].status, "ready_for_pickup");
}

#[tokio::test]
async fn other_statuses_are_recorded_and_never_texted() {
    let h = Harness::start("2026-11-23T16:00:05Z").await;
    for (i, status) in ["checked_in", "in_progress", "waiting_parts"].iter().enumerate() {
        h.publish(&ro_status(&format!("d-{i}"), status, &format!("2026-11-23T16:0{i}:00Z"))).await;
        h.settle().await;
    }
    assert!(h.sms().await.is_empty());
    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", maria())).await.unwrap();
    assert_eq!(t.state.repair_orders[0].status, "waiting_parts");
    assert_eq!(t.touchpoints.iter().filter(|p| p.kind == "ro.status_changed").count(), 3);
}

#[tokio::test]
async fn a_dms_resend_under_a_new_event_id_sends_one_text() {
    let h = Harness::start("2026-11-23T22:15:05Z").await;
    h.publish(&ro_status("d-1", "ready_for_pickup", "2026-11-23T22:15:00Z")).await;
    h.settle().await;
    // The same change again under a new id; then the same status re-sent later.
    h.publish(&ro_status("d-1-resend", "ready_for_pickup", "2026-11-23T22:15:00Z")).await;
    h.publish(&ro_status("d-1-later", "ready_for_pickup", "2026-11-23T22:15:06Z")).await;
    h.settle().await;

    assert_eq!(h.sms().await.len(), 1);
    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", maria())).await.unwrap();
    assert_eq!(t.texts.len(), 1);
}

#[tokio::test]
async fn a_status_older_than_the_current_one_is_history_and_is_not_texted() {
    let h = Harness::start("2026-11-23T22:15:05Z").await;
    h.publish(&ro_status("d-ready", "ready_for_pickup", "2026-11-23T22:15:00Z")).await;
    h.settle().await;
    // parts_arrived happened earlier but arrives late.
    h.publish(&ro_status("d-parts", "parts_arrived", "2026-11-23T20:00:00Z")).await;
    h.settle().await;

    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "no stale parts text");
    assert!(sms[0].message.contains("ready for pickup"));
    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", maria())).await.unwrap();
    assert_eq!(t.state.repair_orders[0].status, "ready_for_pickup");
    assert!(t.state.tasks.is_empty(), "no install task for a part the car already has");
    assert!(t.touchpoints.iter().any(|p| p.summary.contains("parts_arrived (arrived late")));
}

#[tokio::test]
async fn ready_for_pickup_at_2200_store_time_is_deferred_and_sent_after_the_next_window_opens() {
    // Monday 22:00 CST.
    let h = Harness::start("2026-11-24T04:00:05Z").await;
    h.publish(&ro_status("d-1", "ready_for_pickup", "2026-11-24T04:00:00Z")).await;
    h.settle().await;
    assert!(h.sms().await.is_empty());
    let texts = h.table().store_texts("northside-chevy").await.unwrap();
    assert_eq!(texts[0].state, TextState::Deferred);
    assert!(texts[0].body.contains("Today's hours: 7:00 AM-7:00 PM"), "Tuesday's hours: {}", texts[0].body);

    h.clock.set(at("2026-11-24T14:00:00Z")); // Tuesday 08:00 CST
    h.stack.tick().await.unwrap();
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1);
    assert!(sms[0].message.contains("ready for pickup"));
}

#[tokio::test]
async fn a_dms_customer_whose_phone_called_earlier_merges_into_the_lead() {
    let h = Harness::start("2026-11-23T16:00:05Z").await;
    h.publish(&call_missed("c-1", "call-1", "+15125550142", "2026-11-23T16:00:00Z")).await;
    h.settle().await;
    h.clock.set(at("2026-11-23T16:30:05Z"));
    h.publish(&ro_status("d-1", "checked_in", "2026-11-23T16:30:00Z")).await;
    h.settle().await;

    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", maria())).await.unwrap();
    let profile = t.state.profile.expect("one record");
    assert_eq!(profile.origin, Origin::Dms);
    assert_eq!(profile.dms_id.as_deref(), Some("C1001"));
    assert_eq!(profile.first_name.as_deref(), Some("Maria"));
    assert_eq!(t.state.tasks.len(), 1, "the callback task from the call is on the same record");
    assert!(t.touchpoints.iter().any(|p| p.kind == "call.missed"));
    assert!(t.touchpoints.iter().any(|p| p.kind == "customer.merged"));
}

#[tokio::test]
async fn a_dms_customer_with_a_new_phone_number_continues_their_record_and_the_old_one_points_to_it() {
    let h = Harness::start("2026-11-23T16:00:05Z").await;
    h.publish(&ro_status("d-1", "checked_in", "2026-11-23T16:00:00Z")).await;
    h.settle().await;
    let mut moved = ro_status("d-2", "ready_for_pickup", "2026-11-23T17:00:00Z");
    moved["data"]["customer"]["phone"] = "+15125550155".into();
    h.clock.set(at("2026-11-23T17:00:05Z"));
    h.publish(&moved).await;
    h.settle().await;

    let new_phone = Phone::parse("+15125550155").unwrap();
    let new = h.table().timeline(&custops::CustomerId::new("northside-chevy", new_phone.clone())).await.unwrap();
    let profile = new.state.profile.expect("a record at the new number");
    assert_eq!(profile.dms_id.as_deref(), Some("C1001"));
    assert_eq!(profile.vehicles.len(), 1, "the vehicle carried over");
    assert!(new.touchpoints.iter().any(|p| p.kind == "customer.moved"));
    let old =
        h.table().timeline(&custops::CustomerId::new("northside-chevy", maria())).await.unwrap().state.profile.unwrap();
    assert_eq!(old.moved_to, Some(new_phone.clone()));
    let (found, _) = h.table().customer_by_dms_id("northside-chevy", "C1001").await.unwrap().unwrap();
    assert_eq!(found.phone, new_phone, "the DMS id finds one record: the new one");
    let sms = h.sms().await;
    assert_eq!(sms.last().unwrap().phone_number, "+15125550155");
}
