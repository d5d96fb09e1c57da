//! Exactly once and inside the window, when AWS misbehaves: what an audit of
//! the outbound path found (issue "Exactly-once and quiet hours, for real").
//! Each test fails on the code before its fix. AWS's misbehaviour comes from a
//! fault proxy in front of the emulator (`custops_tests::faults`).

use custops::function::SqsFunction;
use custops::outbound::Plan;
use custops::text::{MessageClass, TextState};
use custops::{Clock, CustomerId, Phone, StoreConfig};
use custops_tests::faults::{Fault, FaultProxy, THROTTLED};
use custops_tests::{at, call_missed, message, northside, ro_status, Harness};

const MARIA: &str = "+15125550142";

fn store() -> StoreConfig {
    StoreConfig::from_json(&northside().to_string()).unwrap()
}

/// Plans a text for Maria and commits it with its claim, as a trigger does,
/// through `deps`' table; returns the plan (not yet published).
async fn committed(h: &Harness, deps: &custops::Deps, event_id: &str, class: MessageClass, dedupe: &str) -> Plan {
    custops_tests::commit_text(h, &deps.table, event_id, class, dedupe).await.expect("committed")
}

async fn texts(h: &Harness) -> Vec<custops::text::OutboundText> {
    h.table().store_texts("northside-chevy").await.unwrap()
}

/// 1. A transactional text committed at 20:59:55 whose publish fails is
/// released; the scheduler run at 21:03 must not send it: it waits for 08:00.
#[tokio::test]
async fn a_text_released_just_before_21_00_is_not_sent_after_21_00_but_at_08_00() {
    // Monday 20:59:55 in Chicago.
    let h = Harness::start("2026-11-24T02:59:55Z").await;
    let live = h.deps("vehicle-ready", &h.emulator.endpoint).await;
    let Plan::Send(text) = committed(&h, &live, "e-1", MessageClass::Transactional, "ro#1#ready").await else {
        panic!("inside the window: sent at once")
    };
    // SNS refuses the connection: certainly not published.
    let down = custops::aws::Clients::new(&custops::aws::local("http://127.0.0.1:9").await).sns;
    let outbound = custops::outbound::Outbound::new(live.table.clone(), down, live.clock.clone());
    assert!(outbound.deliver(&text, &store()).await.is_err(), "the publish failed");
    assert_eq!(texts(&h).await[0].state, TextState::Pending, "released: it certainly did not go");

    h.clock.set(at("2026-11-24T03:03:00Z")); // 21:03
    let fired = h.stack.fire("scheduler").await.unwrap().expect("the scheduler reports");
    assert_eq!(fired["deferred"], 1, "{fired:?}");
    assert!(h.sms().await.is_empty(), "nothing after 21:00");
    let waiting = &texts(&h).await[0];
    assert_eq!((waiting.state, waiting.due_at), (TextState::Deferred, Some(at("2026-11-24T14:00:00Z"))));

    h.clock.set(at("2026-11-24T14:00:00Z")); // Tuesday 08:00
    h.stack.tick().await.unwrap();
    assert_eq!(h.sms().await.len(), 1);
    assert_eq!(texts(&h).await[0].state, TextState::Sent);
}

/// 2. SNS accepted the Publish but the answer was lost: the text is marked
/// `unknown`, counted, and never published again, by anyone.
#[tokio::test]
async fn a_publish_whose_answer_is_lost_is_never_published_again() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let proxy = FaultProxy::start(&h.emulator.endpoint).await.expect("the proxy starts");
    proxy.inject("Publish", Fault::DropAnswer, 1);
    let deps = h.deps("missed-call", &proxy.endpoint).await;

    let event = call_missed("c-1", "call-1", MARIA, "2026-11-23T16:05:00Z");
    missed_call::MissedCall::process(&deps, message(&event)).await.expect("handled: the outcome is recorded");
    assert_eq!(h.sms().await.len(), 1, "SNS did publish it");
    assert_eq!(texts(&h).await[0].state, TextState::Unknown);

    // The event again (SQS), and the scheduler: nothing more goes out.
    missed_call::MissedCall::process(&deps, message(&event)).await.unwrap();
    h.clock.set(at("2026-11-23T16:10:00Z"));
    h.stack.tick().await.unwrap();
    assert_eq!(h.sms().await.len(), 1, "published once");
    let day = at("2026-11-23T16:05:00Z").date_naive();
    let facts = h.table().day_facts("northside-chevy", day).await.unwrap();
    assert!(facts.iter().any(|f| f.kind == custops::model::FactKind::TextAmbiguous), "counted for the operator");
}

/// 2. The mark-sent write is throttled (more often than the SDK retries):
/// the holder retries until it lands; the text is never left to be resent.
#[tokio::test]
async fn a_throttled_mark_sent_is_retried_until_it_lands() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let proxy = FaultProxy::start(&h.emulator.endpoint).await.expect("the proxy starts");
    proxy.inject("UpdateItem", THROTTLED, custops::aws::ATTEMPTS as usize + 1);
    let deps = h.deps("missed-call", &proxy.endpoint).await;

    let event = call_missed("c-1", "call-1", MARIA, "2026-11-23T16:05:00Z");
    missed_call::MissedCall::process(&deps, message(&event)).await.unwrap();
    assert_eq!(texts(&h).await[0].state, TextState::Sent);
    h.clock.set(at("2026-11-23T16:06:00Z"));
    h.stack.tick().await.unwrap();
    assert_eq!(h.sms().await.len(), 1);
}

/// 3. Shadow mode is decided when the text is planned: a text deferred at
/// 22:00 in a shadow store is not published at 08:00 after the store went live.
#[tokio::test]
async fn a_text_planned_in_shadow_mode_stays_shadow_when_the_store_goes_live() {
    let h = Harness::start("2026-11-24T04:00:00Z").await; // Monday 22:00
    let mut shadow = northside();
    shadow["mode"] = "shadow".into();
    h.put_store(shadow).await;
    h.publish(&ro_status("d-1", "ready_for_pickup", "2026-11-24T04:00:00Z")).await;
    h.settle().await;
    assert_eq!(texts(&h).await[0].state, TextState::Deferred);

    h.put_store(northside()).await; // live overnight
    h.clock.set(at("2026-11-24T14:00:00Z"));
    // A cold container: its store cache says the store is live now.
    let fresh = h.deps("missed-call", &h.emulator.endpoint).await.core;
    let report = <scheduler::Scheduler as custops::function::ScheduledFunction>::run(&fresh).await.unwrap();
    assert_eq!(report.sent, 1);
    assert!(h.sms().await.is_empty(), "recorded, never published");
    assert_eq!(texts(&h).await[0].state, TextState::Shadow);
}

/// 4. A retried event whose text its first attempt committed and did not
/// finish is not acknowledged while that text may still be in flight, even
/// though its own decision plans no text (the record says it was texted).
#[tokio::test]
async fn a_retried_event_is_not_acknowledged_while_its_text_is_in_flight() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let deps = h.deps("missed-call", &h.emulator.endpoint).await;
    let event = call_missed("c-1", "call-1", MARIA, "2026-11-23T16:05:00Z");
    // The first attempt committed its change, then died before publishing.
    let store = store();
    let envelope = custops::event::Envelope::parse(&event.to_string()).unwrap();
    let call = envelope.data().unwrap();
    let customer = CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap());
    let change = missed_call::decide(&store, &envelope, &call, &customer, &Default::default(), h.clock.now());
    h.table().commit(deps.transaction(&store.store_id, &change)).await.unwrap();

    let retry = missed_call::MissedCall::process(&deps, message(&event)).await;
    assert!(matches!(retry, Err(custops::ProcessError::TextInFlight { .. })), "{retry:?}");

    // After the lease: the text may have been published, so it is marked
    // unknown (never sent twice), and the retry is acknowledged.
    h.clock.set(at("2026-11-23T16:05:31Z"));
    missed_call::MissedCall::process(&deps, message(&event)).await.unwrap();
    assert_eq!(texts(&h).await[0].state, TextState::Unknown);
    assert!(h.sms().await.is_empty());
}

/// 5. Finishing writes are conditional on the lease's token: a stale holder
/// cannot reopen a text another has closed, and a holder that did publish
/// still records it, even after the text was marked unknown.
#[tokio::test]
async fn a_stale_holder_cannot_reopen_a_text_and_the_truth_beats_unknown() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let deps = h.deps("missed-call", &h.emulator.endpoint).await;
    let Plan::Send(text) = committed(&h, &deps, "e-1", MessageClass::Reply, "call#1").await else { panic!() };
    let token = text.lease_token.clone().unwrap();
    h.clock.set(at("2026-11-23T16:05:31Z"));
    h.stack.tick().await.unwrap();
    assert_eq!(texts(&h).await[0].state, TextState::Unknown, "its holder's lease ran out mid-send");

    assert!(deps.table.release_text(&text, &token).await.is_err(), "a stale release is refused");
    assert!(deps.table.release_text(&text, "someone-else").await.is_err());
    assert_eq!(texts(&h).await[0].state, TextState::Unknown);
    assert!(deps.table.finish_text(&text, "someone-else", TextState::Sent, Some("x"), h.clock.now()).await.is_err());
    deps.table.finish_text(&text, &token, TextState::Sent, Some("sns-1"), h.clock.now()).await.unwrap();
    assert_eq!(texts(&h).await[0].state, TextState::Sent, "its holder published it after all");
    assert!(matches!(
        deps.outbound.resume(&store(), &texts(&h).await[0]).await.unwrap(),
        custops::outbound::Resumed::Done
    ));
}
