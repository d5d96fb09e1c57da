//! Consent as the law reads it, against the emulator: an opt-out in the
//! customer's own words (FCC 24-24) stops the marketing already scheduled and
//! gets one confirmation; the recipient's state's hours hold marketing texts
//! (Florida closes at 20:00; Texas opens at noon on Sunday).

use custops::model::StepStatus;
use custops::text::TextState;
use custops::{CustomerId, Phone};
use custops_tests::{at, Harness};
use serde_json::{json, Value};

fn ro_closed(store: &str, phone: &str, ro: &str, closed_at: &str) -> Value {
    json!({
        "event_id": format!("close-{ro}"), "event_type": "ro.closed", "occurred_at": closed_at, "store_id": store,
        "data": {
            "ro_number": ro, "closed_at": closed_at,
            "customer": {"dms_id": format!("C-{ro}"), "first_name": "Ana", "last_name": "Ruiz", "phone": phone,
                         "marketing_consent": true},
            "vehicle": {"vin": "1FTEW1EP5MFA00001", "year": 2021, "make": "Ford", "model": "F-150"},
            "advisor": {"id": "adv-2", "name": "Lee Park"},
            "performed": ["LOF-SYN"],
            "declined": [{"line_id": "L1", "op_code": "BRK-FRT-PR", "description": "Front brake pads", "estimate_cents": 42000}]
        }
    })
}

/// AWS's documented two-way SMS shape: `messageKeyword` is the number's
/// registered keyword, not what the customer typed.
fn reply(id: &str, from: &str, to: &str, body: &str) -> Value {
    json!({"originationNumber": from, "destinationNumber": to, "messageKeyword": "JOIN", "messageBody": body,
           "inboundMessageId": id, "previousPublishedMessageId": "prev-1"})
}

#[tokio::test]
async fn an_opt_out_in_words_stops_the_scheduled_follow_up_and_gets_one_confirmation() {
    let maria = "+15125550142";
    let h = Harness::start("2026-11-23T23:20:05Z").await;
    h.publish(&ro_closed("northside-chevy", maria, "RO-1", "2026-11-23T23:20:00Z")).await;
    h.settle().await;

    h.clock.set(at("2026-11-24T15:00:00Z"));
    let stop = reply("m-1", maria, "+15125550100", "Please stop texting me");
    h.publish(&stop).await;
    h.publish(&stop).await; // delivered twice
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "one confirmation: {sms:?}");
    assert_eq!(sms[0].phone_number, maria);
    assert!(sms[0].message.starts_with("Northside Chevrolet:") && sms[0].message.contains("opted out"));

    h.tick_at("2026-11-26T16:00:00Z").await; // day 3 of the cadence
    h.tick_at("2026-12-03T16:00:00Z").await; // day 10
    assert_eq!(h.sms().await.len(), 1, "no follow-up after the opt-out");
    // Ended steps are history: the timeline has them.
    let timeline = h.table().timeline(&CustomerId::new("northside-chevy", Phone::parse(maria).unwrap())).await;
    let state = timeline.unwrap().state;
    assert!(state.consent.opted_out());
    assert_eq!(state.consent.history.last().unwrap().source, "sms free text (message m-1)");
    assert!(
        state.follow_ups.iter().filter(|s| s.step <= 2).all(|s| s.status == StepStatus::Cancelled),
        "{:?}",
        state.follow_ups
    );
}

#[tokio::test]
async fn a_florida_customers_marketing_text_due_at_half_past_eight_waits_for_the_next_morning() {
    let miami = "+13055550123";
    let h = Harness::start("2026-11-23T20:00:05Z").await;
    let lakeside: Value =
        serde_json::from_str(include_str!("../../../events/stores/lakeside-ford.json")).expect("the store");
    h.put_store(lakeside).await;
    h.publish(&ro_closed("lakeside-ford", miami, "RO-7", "2026-11-23T20:00:00Z")).await;
    h.settle().await;
    // Thursday 20:30 in Miami: the scheduler releases day 3 late; the store's
    // window is open until 21:00, Florida's closed at 20:00.
    h.tick_at("2026-11-27T01:30:00Z").await;
    assert!(h.sms().await.is_empty());
    let texts = h.table().store_texts("lakeside-ford").await.unwrap();
    assert_eq!(texts.len(), 1);
    assert_eq!((texts[0].state, texts[0].due_at), (TextState::Deferred, Some(at("2026-11-27T13:00:00Z"))));
    h.tick_at("2026-11-27T12:59:00Z").await;
    assert!(h.sms().await.is_empty(), "07:59 in Miami");
    h.tick_at("2026-11-27T13:00:00Z").await;
    assert_eq!(h.sms().await.len(), 1, "08:00 in Miami");
}

#[tokio::test]
async fn a_texas_number_gets_no_marketing_before_noon_on_sunday() {
    let austin = "+15125550142";
    let h = Harness::start("2026-11-26T20:00:05Z").await;
    // Northside opens on Sundays here, so only Texas holds the text.
    let mut store = custops_tests::northside();
    store["hours"]["sun"] = json!(["10:00", "16:00"]);
    h.put_store(store).await;
    h.publish(&ro_closed("northside-chevy", austin, "RO-9", "2026-11-26T20:00:00Z")).await;
    h.settle().await;
    h.tick_at("2026-11-29T16:00:00Z").await; // Sunday 10:00 in Austin: day 3
    h.tick_at("2026-11-29T17:59:00Z").await;
    assert!(h.sms().await.is_empty(), "before noon on Sunday");
    h.tick_at("2026-11-29T18:00:00Z").await;
    assert_eq!(h.sms().await.len(), 1, "noon");
}
