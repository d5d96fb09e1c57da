//! The one outbound path against the emulator: quiet hours and the scheduler,
//! opt-outs re-checked at release, dedupe under concurrency, and a failed
//! publish retried exactly once.

use std::sync::Arc;

use custops::outbound::{Delivery, Outbound, Plan, Resumed};
use custops::table::{Guard, TxError, TxRejected};
use custops::text::{MessageClass, TextState};
use custops::{Phone, StoreConfig};
use custops_tests::{at, northside, Harness};

fn store() -> StoreConfig {
    StoreConfig::from_json(&northside().to_string()).unwrap()
}

/// Plans a text to Maria as a trigger would and commits it with the trigger's claim.
async fn stage(h: &Harness, event_id: &str, class: MessageClass, dedupe: &str) -> Result<Plan, TxError> {
    custops_tests::commit_text(h, &h.table(), event_id, class, dedupe).await
}

fn outbound(h: &Harness) -> Outbound {
    Outbound::new(h.table(), h.stack.clients.sns.clone(), Arc::new(h.clock.clone()))
}

#[tokio::test]
async fn transactional_at_2130_store_time_is_deferred_and_sent_by_the_first_scheduler_run_after_0800() {
    // Monday 21:30 in Chicago.
    let h = Harness::start("2026-11-24T03:30:00Z").await;
    let plan = stage(&h, "e-1", MessageClass::Transactional, "ro#1#ready").await.unwrap();
    let Plan::Defer(text) = plan else { panic!("expected a deferred text, got {plan:?}") };
    assert_eq!(text.due_at, Some(at("2026-11-24T14:00:00Z")), "08:00 CST on Tuesday");

    h.stack.tick().await.unwrap();
    assert!(h.sms().await.is_empty(), "nothing at 21:30");
    h.clock.set(at("2026-11-24T13:55:00Z")); // 07:55
    let fired = h.stack.fire("scheduler").await.unwrap().expect("the scheduler reports");
    assert_eq!(fired["due"], 0);
    assert!(h.sms().await.is_empty(), "nothing before 08:00");

    h.clock.set(at("2026-11-24T14:00:00Z")); // 08:00, the first run in the window
    let fired = h.stack.fire("scheduler").await.unwrap().expect("the scheduler reports");
    assert_eq!(fired["sent"], 1);
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].phone_number, "+15125550142");

    h.clock.set(at("2026-11-24T14:05:00Z"));
    h.stack.tick().await.unwrap();
    assert_eq!(h.sms().await.len(), 1, "released once");
    let texts = h.table().store_texts("northside-chevy").await.unwrap();
    assert_eq!(texts[0].state, TextState::Sent);
    assert_eq!(texts[0].consent_basis, "transactional_relationship");
    assert_eq!(texts[0].segments, 1);
    assert!(texts[0].est_price_micro_usd > 0);
}

#[tokio::test]
async fn a_number_that_opts_out_before_its_deferred_text_is_due_is_never_published_to() {
    let h = Harness::start("2026-11-24T03:30:00Z").await;
    stage(&h, "e-1", MessageClass::Transactional, "ro#1#ready").await.unwrap();

    let phone = Phone::parse("+15125550142").unwrap();
    h.opt_out(&phone, "2026-11-24T04:00:00Z").await;

    h.clock.set(at("2026-11-24T14:00:00Z"));
    h.stack.tick().await.unwrap();
    assert!(h.sms().await.is_empty());
    let texts = h.table().store_texts("northside-chevy").await.unwrap();
    assert_eq!(texts[0].state, TextState::Suppressed);

    // And nothing new may be planned for the number, in any class.
    for class in [MessageClass::Reply, MessageClass::Transactional, MessageClass::Marketing] {
        let plan = stage(&h, &format!("e-{class:?}"), class, &format!("k-{class:?}")).await.unwrap();
        assert!(matches!(plan, Plan::Suppress(_)), "{class:?}: {plan:?}");
    }
    assert!(h.sms().await.is_empty());
}

#[tokio::test]
async fn the_same_dedupe_key_from_two_concurrent_invocations_is_published_once() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let out = outbound(&h);
    let store = store();
    let (a, b) = tokio::join!(
        stage(&h, "e-a", MessageClass::Transactional, "ro#7#ready"),
        stage(&h, "e-b", MessageClass::Transactional, "ro#7#ready"),
    );
    let mut sent = 0;
    for (event_id, result) in [("e-a", a), ("e-b", b)] {
        let result = match result {
            // The loser of the race on the customer's records retries, as SQS would.
            Err(TxError::Rejected(TxRejected::Conflict(_))) => {
                stage(&h, event_id, MessageClass::Transactional, "ro#7#ready").await
            }
            other => other,
        };
        match result {
            Ok(Plan::Send(text)) => {
                out.deliver(&text, &store).await.unwrap();
                sent += 1;
            }
            Err(TxError::Rejected(TxRejected::TextExists { text: Some(existing) })) => {
                // The loser resumes: the winner holds the lease or has sent it, so nothing goes out.
                let resumed = out.resume(&store, &existing).await.unwrap();
                assert!(matches!(resumed, Resumed::InFlight | Resumed::Done), "{resumed:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(sent, 1);
    assert_eq!(h.sms().await.len(), 1);
}

#[tokio::test]
async fn an_sns_failure_followed_by_a_retry_publishes_exactly_once() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let store = store();
    // An outbound path whose SNS endpoint is down.
    let down = aws_sdk_sns::Client::new(&custops::aws::local("http://127.0.0.1:9").await);
    let broken = Outbound::new(h.table(), down, Arc::new(h.clock.clone()));
    let Plan::Send(text) = stage(&h, "e-1", MessageClass::Reply, "call#1").await.unwrap() else { panic!() };
    assert!(broken.deliver(&text, &store).await.is_err());
    let stored = h.table().store_texts("northside-chevy").await.unwrap();
    assert_eq!(stored[0].state, TextState::Pending, "released for the retry");

    // The retry (the same event again) finds its text and sends it once.
    let out = outbound(&h);
    let Err(TxError::Rejected(TxRejected::Duplicate { text: Some(pending), .. })) =
        stage(&h, "e-1", MessageClass::Reply, "call#1").await
    else {
        panic!("the retry is a duplicate")
    };
    assert!(matches!(out.resume(&store, &pending).await.unwrap(), Resumed::Delivered(Delivery::Sent { .. })));
    assert_eq!(out.resume(&store, &pending).await.unwrap(), Resumed::Done, "a second retry sends nothing");
    assert_eq!(h.sms().await.len(), 1);
    assert_eq!(h.table().store_texts("northside-chevy").await.unwrap()[0].state, TextState::Sent);
}

#[tokio::test]
async fn a_shadow_store_runs_everything_but_the_publish() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let mut shadow = northside();
    shadow["mode"] = "shadow".into();
    h.put_store(shadow).await;

    h.publish(&custops_tests::call_missed("c-s", "call-s", "+15125550177", "2026-11-23T16:05:00Z")).await;
    h.settle().await;

    assert!(h.sms().await.is_empty(), "nothing published");
    let texts = custops_cli::commands::texts(&h.target, Some("northside-chevy")).await.unwrap();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].state, TextState::Shadow);
    assert!(texts[0].body.contains("Northside Chevrolet"));
    let phone = Phone::parse("+15125550177").unwrap();
    assert_eq!(
        h.table()
            .customer_state(&custops::CustomerId::new("northside-chevy", phone.clone()))
            .await
            .unwrap()
            .tasks
            .len(),
        1,
        "the callback task exists"
    );
}

/// A sender that died after committing its text may have published it (SNS
/// has no idempotency key): once its lease runs out the scheduler marks the
/// text `unknown` and counts it, and nobody ever publishes it again.
#[tokio::test]
async fn a_text_whose_sender_died_mid_send_is_marked_unknown_after_its_lease_and_never_sent_twice() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    // The trigger committed its text and died before recording its publish.
    let Plan::Send(_) = stage(&h, "e-1", MessageClass::Reply, "call#9").await.unwrap() else { panic!() };

    let fired = h.stack.fire("scheduler").await.unwrap().expect("the scheduler reports");
    assert_eq!(fired["skipped"], 1, "its lease still runs: it may be in flight");
    h.clock.set(at("2026-11-23T16:05:31Z"));
    let fired = h.stack.fire("scheduler").await.unwrap().expect("the scheduler reports");
    assert_eq!(fired["unknown"], 1, "{fired:?}");
    h.stack.tick().await.unwrap();
    assert!(h.sms().await.is_empty(), "never published by anyone but its sender");
    let texts = h.table().store_texts("northside-chevy").await.unwrap();
    assert_eq!(texts[0].state, TextState::Unknown);
    let facts = h.table().day_facts("northside-chevy", at("2026-11-23T16:05:00Z").date_naive()).await.unwrap();
    assert!(facts.iter().any(|f| f.kind == custops::model::FactKind::TextAmbiguous), "counted for the operator");
}

#[tokio::test]
async fn frequency_caps_defer_the_fourth_status_text_and_drop_the_second_marketing_text_with_a_reason() {
    let h = Harness::start("2026-11-23T16:00:00Z").await;
    let phone = Phone::parse("+15125550142").unwrap();
    // Marketing consent from the DMS.
    let consent = custops::model::Consent {
        marketing: Some(custops::model::MarketingConsent {
            granted: true,
            source: "dms".into(),
            at: at("2026-01-01T00:00:00Z"),
        }),
        ..Default::default()
    };
    let mut tx = h.table().tx();
    tx.put_on(&custops::CustomerId::new("northside-chevy", phone.clone()), &consent, Guard::LedgerAsRead(None));
    h.table().commit(tx).await.unwrap();

    let first = stage(&h, "m-1", MessageClass::Marketing, "offer#1").await.unwrap();
    assert!(matches!(first, Plan::Send(_)));
    h.clock.set(at("2026-11-25T16:00:00Z"));
    let second = stage(&h, "m-2", MessageClass::Marketing, "offer#2").await.unwrap();
    let Plan::Suppress(reason) = second else { panic!("{second:?}") };
    assert_eq!(reason.reason(), "frequency cap: 1 marketing text(s) per 7 days");

    // Three texts in 24 hours go; the fourth status text waits until the window frees.
    for (i, minute) in [0, 10, 20].iter().enumerate() {
        h.clock.set(at("2026-11-25T16:00:00Z") + chrono::Duration::minutes(*minute));
        let plan = stage(&h, &format!("t-{i}"), MessageClass::Transactional, &format!("ro#{i}")).await.unwrap();
        assert!(matches!(plan, Plan::Send(_)), "{i}: {plan:?}");
    }
    h.clock.set(at("2026-11-25T16:30:00Z"));
    let Plan::Defer(fourth) = stage(&h, "t-3", MessageClass::Transactional, "ro#3").await.unwrap() else {
        panic!("the fourth is deferred")
    };
    assert_eq!(fourth.defer_reason.as_deref(), Some("frequency cap"));
    assert!(fourth.due_at.unwrap() >= at("2026-11-26T16:20:00Z"), "{:?}", fourth.due_at);
}

#[tokio::test]
async fn marketing_without_consent_is_never_published_and_the_reason_is_kept() {
    let h = Harness::start("2026-11-23T16:00:00Z").await;
    let plan = stage(&h, "m-1", MessageClass::Marketing, "offer#1").await.unwrap();
    let Plan::Suppress(reason) = plan else { panic!("{plan:?}") };
    assert_eq!(reason.reason(), "marketing text without marketing consent");
    h.stack.tick().await.unwrap();
    assert!(h.sms().await.is_empty());
    assert!(h.table().store_texts("northside-chevy").await.unwrap().is_empty(), "no outbox row to send later");
}

/// A text SNS refuses every time is tried `MAX_ATTEMPTS` times, then closed
/// as `failed` with its reason, never tried again, and counted in the day's
/// report.
#[tokio::test]
async fn a_text_refused_on_every_attempt_is_closed_as_failed_and_counted_in_the_report() {
    let h = Harness::start("2026-11-23T16:05:00Z").await;
    let store = store();
    let down = aws_sdk_sns::Client::new(&custops::aws::local("http://127.0.0.1:9").await);
    let broken = Outbound::new(h.table(), down, Arc::new(h.clock.clone()));
    let Plan::Send(text) = stage(&h, "e-1", MessageClass::Reply, "call#1").await.unwrap() else { panic!() };
    assert!(broken.deliver(&text, &store).await.is_err(), "attempt 1");
    for attempt in 2..=custops::outbound::MAX_ATTEMPTS {
        let pending = h.table().store_texts("northside-chevy").await.unwrap().remove(0);
        assert_eq!(pending.state, TextState::Pending, "attempt {attempt}");
        assert!(broken.resume(&store, &pending).await.is_err(), "attempt {attempt}");
    }
    let pending = h.table().store_texts("northside-chevy").await.unwrap().remove(0);
    assert_eq!(pending.attempts, custops::outbound::MAX_ATTEMPTS);
    assert_eq!(outbound(&h).resume(&store, &pending).await.unwrap(), Resumed::Failed);

    let closed = h.table().store_texts("northside-chevy").await.unwrap().remove(0);
    assert_eq!(closed.state, TextState::Failed);
    assert_eq!(closed.suppressed_reason.as_deref(), Some("5 publish attempts refused: closed as failed"));
    assert_eq!(outbound(&h).resume(&store, &closed).await.unwrap(), Resumed::Done, "never tried again");
    assert!(h.sms().await.is_empty());
    let day = at("2026-11-23T16:05:00Z").date_naive();
    let (report, _) =
        custops_cli::commands::report(&h.target, "northside-chevy", day, at("2026-11-24T12:00:00Z")).await.unwrap();
    assert_eq!((report.texts.sent, report.texts.failed), (0, 1));
}
