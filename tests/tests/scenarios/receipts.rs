//! Delivery receipts end to end: texts go out through the stack, SNS's
//! delivery-status records for them (the shapes AWS documents) come back
//! through the log groups' subscription as CloudWatch Logs delivers them
//! (base64 gzip of `logEvents`), and what did not arrive becomes work for a
//! person.

use custops::text::DeliveryStatus;
use custops::Phone;
use custops_cli::commands;
use custops_tests::{at, call_missed, ro_status, Harness};

const NOW: &str = "2026-11-24T16:00:00Z";

/// The text sent to `phone`'s message id.
async fn message_id(h: &Harness, phone: &str) -> String {
    let texts = commands::texts(&h.target, Some("northside-chevy")).await.unwrap();
    texts.iter().rev().find(|t| t.phone.e164() == phone).and_then(|t| t.sns_message_id.clone()).expect("a sent text")
}

/// The record SNS would log for `id`, delivered through its log group.
async fn receipt(h: &Harness, id: &str, failed: bool, response: Option<&str>) -> serde_json::Value {
    let (record, _) =
        commands::receipt_record(&h.target, &h.emulator.endpoint, id, failed, response, None, None).await.unwrap();
    let group = sms_receipts::log_group("us-east-1", "123456789012", failed);
    h.stack.deliver_logs(&group, &[record]).await.unwrap().remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_mark_texts_and_a_text_back_that_did_not_arrive_is_a_callers_task_once() {
    let h = Harness::start(NOW).await;
    let recorder = custops_cli::emulator::CallRecorder::start(&h.emulator.endpoint).await.unwrap();
    h.publish(&call_missed("c-1", "call-1", "+15125550142", NOW)).await;
    h.publish(&call_missed("c-2", "call-2", "+15125550177", NOW)).await;
    h.settle().await;
    let (maria, caller) = (message_id(&h, "+15125550142").await, message_id(&h, "+15125550177").await);
    let sent_ids: Vec<String> = h.sms().await.into_iter().map(|s| s.message_id).collect();
    assert!(sent_ids.contains(&maria), "the text keeps the MessageId the emulator gave its Publish");

    // Delivered: marked, with the carrier's words and the price.
    let report = receipt(&h, &maria, false, None).await;
    assert_eq!(report["recorded"], 1, "{report}");
    let texts = commands::texts(&h.target, Some("northside-chevy")).await.unwrap();
    let t = texts.iter().find(|t| t.sns_message_id.as_deref() == Some(maria.as_str())).unwrap();
    let r = t.receipt.as_ref().unwrap();
    assert_eq!(
        (r.status, r.provider_response.as_str()),
        (DeliveryStatus::Delivered, "Message has been accepted by phone carrier")
    );
    assert_eq!(r.price_micro_usd, Some(6_450));

    // Failed: a text_failed task for whoever has the callback, due now; once.
    let before = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap().len();
    for _ in 0..2 {
        receipt(&h, &caller, true, Some("Phone is currently unreachable/unavailable")).await;
    }
    let tasks = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap();
    let failed: Vec<_> = tasks.iter().filter(|t| t.kind == custops::model::TaskKind::TextFailed).collect();
    assert_eq!(tasks.len(), before + 1, "{tasks:?}");
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].phone.e164(), failed[0].owner.as_str()), ("+15125550177", "bdc-service"));
    assert_eq!(failed[0].task_id, format!("text-failed-{caller}"));
    let timeline = h
        .table()
        .timeline(&custops::CustomerId::new("northside-chevy", Phone::parse("+15125550177").unwrap()))
        .await
        .unwrap();
    assert!(timeline.touchpoints.iter().any(|t| t.kind == "text.failed" && t.summary.contains("unreachable")));

    // The report: one delivered, one failed, the cost from the receipts' prices.
    let (day, _) =
        commands::report(&h.target, "northside-chevy", "2026-11-24".parse().unwrap(), at("2026-11-24T23:00:00Z"))
            .await
            .unwrap();
    assert_eq!((day.texts.sent, day.texts.delivered, day.texts.failed), (2, 1, 1));
    assert_eq!(day.texts.est_cost_cents, 1, "2 x $0.00645");

    // A receipt for a text custops did not send, and a record that is not one: dropped, nothing changed.
    let stranger = receipt(&h, "00000000-0000-0000-0000-000000000000", false, None).await;
    assert_eq!((stranger["recorded"].as_u64(), stranger["dropped"].as_u64()), (Some(0), Some(1)));
    let group = sms_receipts::log_group("us-east-1", "123456789012", true);
    let junk =
        h.stack.deliver_logs(&group, &["not a record".into(), "{\"status\": \"FAILURE\"}".into()]).await.unwrap();
    assert_eq!(junk[0]["dropped"], 2);
    assert_eq!(commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap().len(), before + 1);

    // Least privilege: sms-receipts is granted exactly what its requests needed.
    let template = custops_cli::template::Template::parse(
        custops_cli::template::TEMPLATE,
        &custops_cli::template::Placement::local("http://127.0.0.1:1"),
    )
    .unwrap();
    let granted = custops_dev::iam::granted(&template.resources["SmsReceiptsFunction"].properties);
    let mut used = std::collections::BTreeSet::new();
    for r in recorder.signed_requests().await.unwrap() {
        if r.principal.as_deref() == Some(sms_receipts::NAME) {
            used.extend(custops_dev::iam::actions_of(&r.call, &r.body));
        }
    }
    let missing: Vec<_> = used.iter().filter(|n| !granted.contains(n)).collect();
    assert!(missing.is_empty(), "SmsReceiptsFunction lacks {missing:?}");
    for needed in ["dynamodb:Query", "dynamodb:PutItem", "sns:Publish"] {
        assert!(used.iter().any(|n| n.action == needed), "the flow exercised {needed}: {used:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carrier_opt_out_stops_every_text_to_the_number_and_a_person_calls_instead() {
    let h = Harness::start(NOW).await;
    h.publish(&ro_status("dms-1", "parts_arrived", NOW)).await;
    h.settle().await;
    let id = message_id(&h, "+15125550142").await;
    receipt(&h, &id, true, Some(sms_receipts::CARRIER_OPT_OUT)).await;
    let maria = custops::CustomerId::new("northside-chevy", Phone::parse("+15125550142").unwrap());
    let state = h.table().customer_state(&maria).await.unwrap();
    assert!(state.consent.opted_out(), "the carrier's opt-out is on the ledger");
    assert!(state.consent.history.iter().any(|c| c.source.starts_with("carrier opt-out")));
    assert!(state.tasks.iter().any(|t| t.kind == custops::model::TaskKind::TextFailed && t.owner == "bdc-service"));

    // The next status text is not sent: the number opted out.
    let sent = h.sms().await.len();
    h.clock.set(at("2026-11-24T18:00:00Z"));
    h.publish(&ro_status("dms-2", "ready_for_pickup", "2026-11-24T18:00:00Z")).await;
    h.settle().await;
    assert_eq!(h.sms().await.len(), sent, "nothing more to an opted-out number");
}

/// Records that are not what they seem (section 11, amended), each through
/// the stack as a subscription delivers it: a FAILURE written to the
/// delivery group, a SUCCESS to /Failure, a carrier opt-out for another
/// number, the right group of another account, another region's group.
/// Each is dropped and changes nothing (no receipt, no task, no opt-out, no
/// claim on the message id); the real record afterwards is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_receipts_change_nothing_and_the_real_one_still_counts() {
    let h = Harness::start(NOW).await;
    h.publish(&call_missed("c-1", "call-1", "+15125550177", NOW)).await;
    h.settle().await;
    let id = message_id(&h, "+15125550177").await;
    let caller = custops::CustomerId::new("northside-chevy", Phone::parse("+15125550177").unwrap());
    let before = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap().len();
    let (delivered, failed) = (
        sms_receipts::log_group("us-east-1", "123456789012", false),
        sms_receipts::log_group("us-east-1", "123456789012", true),
    );
    let record = |failed: bool, destination: Option<&'static str>, response: Option<&'static str>| {
        let (h, id) = (&h, id.clone());
        async move {
            commands::receipt_record(&h.target, &h.emulator.endpoint, &id, failed, response, None, destination)
                .await
                .unwrap()
                .0
        }
    };
    let opt_out = Some(sms_receipts::CARRIER_OPT_OUT);
    let cases: Vec<(&str, &str, String, String)> = vec![
        ("a FAILURE in the delivery group", "123456789012", delivered.clone(), record(true, None, opt_out).await),
        ("a SUCCESS in the failure group", "123456789012", failed.clone(), record(false, None, None).await),
        (
            "a carrier opt-out for another number",
            "123456789012",
            failed.clone(),
            record(true, Some("+15125550199"), opt_out).await,
        ),
        ("a record without a number", "123456789012", failed.clone(), {
            let mut r: serde_json::Value = serde_json::from_str(&record(true, None, opt_out).await).unwrap();
            r["delivery"].as_object_mut().unwrap().remove("destination");
            r.to_string()
        }),
        ("our group's name, from another account", "999999999999", failed.clone(), record(true, None, opt_out).await),
        (
            "another account's own group",
            "999999999999",
            sms_receipts::log_group("us-east-1", "999999999999", true),
            record(true, None, opt_out).await,
        ),
        (
            "another region's group",
            "123456789012",
            sms_receipts::log_group("eu-west-1", "123456789012", true),
            record(true, None, opt_out).await,
        ),
        (
            "a group of another service",
            "123456789012",
            "/aws/lambda/custops-missed-call".into(),
            record(true, None, opt_out).await,
        ),
    ];
    for (what, owner, group, line) in cases {
        let report = h.stack.deliver_logs_of(owner, &group, &[line]).await.unwrap().remove(0);
        assert_eq!((report["recorded"].as_u64(), report["dropped"].as_u64()), (Some(0), Some(1)), "{what}: {report}");
        let texts = commands::texts(&h.target, Some("northside-chevy")).await.unwrap();
        let text = texts.iter().find(|t| t.sns_message_id.as_deref() == Some(id.as_str())).unwrap();
        assert!(text.receipt.is_none(), "{what}: the text has no receipt");
        let state = h.table().customer_state(&caller).await.unwrap();
        assert!(!state.consent.opted_out(), "{what}: no opt-out");
        assert_eq!(commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap().len(), before, "{what}");
    }
    let timeline = h.table().timeline(&caller).await.unwrap();
    let from_receipts = ["text.delivered", "text.failed", "consent.opted_out"];
    assert!(
        !timeline.touchpoints.iter().any(|t| from_receipts.contains(&t.kind.as_str())),
        "no receipt reached the timeline: {:?}",
        timeline.touchpoints.iter().map(|t| &t.kind).collect::<Vec<_>>()
    );

    // The record SNS writes: recorded (no forged one claimed its message id).
    let real = h.stack.deliver_logs(&failed, &[record(true, None, Some("Phone has no service")).await]).await.unwrap();
    assert_eq!(real[0]["recorded"], 1, "{real:?}");
    let tasks = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap();
    assert_eq!(tasks.len(), before + 1);
}
