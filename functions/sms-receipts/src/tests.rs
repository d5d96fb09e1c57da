//! The rules, on the record shapes AWS documents (the SNS SMS delivery-status
//! log examples: a success with `phoneCarrier`, `mcc`, `mnc` and
//! `dwellTimeMsUntilDeviceAck`; a failure without `phoneCarrier`).

use super::*;
use custops::fixtures::{at, customer, northside};
use custops::model::{Calls, Customer, TaskStatus};
use custops::text::{Encoding, TextState};

/// AWS's documented success record (the number and id made ours).
const SUCCESS: &str = r#"{"notification":{"messageId":"34d9b400-c6dd-5444-820d-fbeb0f1f54cf","timestamp":"2026-11-24 16:40:34.558"},
 "delivery":{"phoneCarrier":"My Phone Carrier","mnc":270,"destination":"+15125550142","priceInUSD":0.00645,
 "smsType":"Transactional","mcc":310,"providerResponse":"Message has been accepted by phone carrier",
 "dwellTimeMs":599,"dwellTimeMsUntilDeviceAck":1344},"status":"SUCCESS"}"#;

/// AWS's documented failure record: no carrier.
fn failure(response: &str) -> String {
    format!(
        r#"{{"notification":{{"messageId":"34d9b400-c6dd-5444-820d-fbeb0f1f54cf","timestamp":"2026-11-24 16:40:34.559"}},
 "delivery":{{"mnc":0,"destination":"+15125550142","priceInUSD":0.00645,"smsType":"Transactional","mcc":0,
 "providerResponse":"{response}","dwellTimeMs":1420,"dwellTimeMsUntilDeviceAck":1692}},"status":"FAILURE"}}"#
    )
}

fn text(trigger: &str, class: MessageClass) -> OutboundText {
    OutboundText {
        store_id: "northside-chevy".into(),
        phone: customer("+15125550142").phone,
        origination: northside().sms_number,
        dedupe_key: "missed-call#call-1".into(),
        class,
        body: "Hi, this is Northside Chevrolet. Sorry we missed your call.".into(),
        trigger: trigger.into(),
        event_id: "carrier-1".into(),
        state: TextState::Sent,
        consent_basis: "reply_to_inbound_call".into(),
        encoding: Encoding::Gsm7,
        segments: 1,
        est_price_micro_usd: 5_810,
        created_at: at("2026-11-24T16:40:00Z"),
        due_at: None,
        lease_until: None,
        lease_token: None,
        sent_at: Some(at("2026-11-24T16:40:01Z")),
        sns_message_id: Some("34d9b400-c6dd-5444-820d-fbeb0f1f54cf".into()),
        attempts: 1,
        suppressed_reason: None,
        cadence: None,
        shadow: false,
        defer_reason: None,
        confirms_opt_out: false,
        withdrawn_if: None,
        while_open: Vec::new(),
        sent_by: None,
        receipt: None,
    }
}

/// Maria, with the callback her missed call made (owned by service's BDC).
fn with_callback() -> CustomerState {
    let c = customer("+15125550142");
    let now = at("2026-11-24T16:40:00Z");
    let mut task =
        Task::open(&c, TaskKind::Callback, "callback-call-1", ("bdc-service".into(), Department::Service), now, now);
    task.calls = Some(Calls { count: 1, last_call_at: now, last_text_at: Some(now) });
    CustomerState {
        profile: Some(Customer::lead("northside-chevy", c.phone, now)),
        tasks: vec![task],
        version: Some(2),
        ..Default::default()
    }
}

#[test]
fn a_delivered_text_keeps_the_carriers_answer_and_price_and_makes_no_task() {
    let record = SmsRecord::parse(SUCCESS).unwrap();
    let change = decide(
        &northside(),
        &text("missed-call", MessageClass::Reply),
        &with_callback(),
        &record,
        at("2026-11-24T16:41:00Z"),
    )
    .unwrap()
    .unwrap();
    assert_eq!(change.event_id, "receipt#34d9b400-c6dd-5444-820d-fbeb0f1f54cf");
    let r = &change.records[0];
    let receipt = r.finished_texts[0].receipt.clone().unwrap();
    assert_eq!(receipt.status, DeliveryStatus::Delivered);
    assert_eq!(receipt.provider_response, "Message has been accepted by phone carrier");
    assert_eq!((receipt.price_micro_usd, receipt.carrier.as_deref()), (Some(6_450), Some("My Phone Carrier")));
    assert_eq!(receipt.at, at("2026-11-24T16:40:34.558Z"));
    assert!(r.tasks.is_empty() && r.consent.is_none());
}

#[test]
fn a_failed_text_back_is_a_text_failed_task_for_whoever_has_the_callback_due_now() {
    let now = at("2026-11-24T16:41:00Z");
    let record = SmsRecord::parse(&failure("Unknown error attempting to reach phone")).unwrap();
    let change = decide(&northside(), &text("missed-call", MessageClass::Reply), &with_callback(), &record, now)
        .unwrap()
        .unwrap();
    let r = &change.records[0];
    assert_eq!(r.finished_texts[0].receipt.as_ref().unwrap().status, DeliveryStatus::Failed);
    assert_eq!(r.finished_texts[0].receipt.as_ref().unwrap().carrier, None, "a failure may have no carrier");
    let task = &r.tasks[0];
    assert_eq!((task.kind, task.status, task.due_at), (TaskKind::TextFailed, TaskStatus::Open, now));
    assert_eq!(task.owner, "bdc-service");
    assert_eq!(task.task_id, "text-failed-34d9b400-c6dd-5444-820d-fbeb0f1f54cf", "once per text");
    assert!(task.note.contains("Unknown error attempting to reach phone"));
    assert!(r.consent.is_none(), "an unreachable phone is not an opt-out");
}

#[test]
fn a_failed_status_text_goes_to_service_and_a_failed_marketing_text_to_nobody() {
    let now = at("2026-11-24T16:41:00Z");
    let record = SmsRecord::parse(&failure("Phone is currently unreachable/unavailable")).unwrap();
    let status = decide(
        &northside(),
        &text("vehicle-ready", MessageClass::Transactional),
        &CustomerState::default(),
        &record,
        now,
    )
    .unwrap()
    .unwrap();
    assert_eq!(status.records[0].tasks[0].owner, "bdc-service");
    let marketing =
        decide(&northside(), &text("win-back", MessageClass::Marketing), &CustomerState::default(), &record, now)
            .unwrap()
            .unwrap();
    assert!(marketing.records[0].tasks.is_empty(), "nothing the store owes rests on a marketing text");
    let confirmation = OutboundText { confirms_opt_out: true, ..text("inbound-sms", MessageClass::Reply) };
    let confirmed = decide(&northside(), &confirmation, &CustomerState::default(), &record, now).unwrap().unwrap();
    assert!(confirmed.records[0].tasks.is_empty(), "nobody calls a customer about the confirmation of their opt-out");
    assert_eq!(marketing.records[0].finished_texts[0].receipt.as_ref().unwrap().status, DeliveryStatus::Failed);
}

#[test]
fn a_carrier_opt_out_goes_on_the_consent_ledger_once_and_the_customer_is_still_reached_by_a_person() {
    let now = at("2026-11-24T16:41:00Z");
    let record = SmsRecord::parse(&failure(CARRIER_OPT_OUT)).unwrap();
    let change = decide(&northside(), &text("missed-call", MessageClass::Reply), &with_callback(), &record, now)
        .unwrap()
        .unwrap();
    let r = &change.records[0];
    let (consent, _) = r.consent.clone().expect("the ledger changes");
    assert!(consent.opted_out());
    assert!(consent.history.last().unwrap().source.starts_with("carrier opt-out"));
    assert!(change.facts.iter().any(|f| f.kind == FactKind::CarrierOptOut));
    assert_eq!(r.tasks.len(), 1, "a person calls instead");
    // Already opted out: the ledger is left as it is.
    let mut out = with_callback();
    out.consent = consent;
    let again = decide(&northside(), &text("missed-call", MessageClass::Reply), &out, &record, now).unwrap().unwrap();
    assert!(again.records[0].consent.is_none());
}

#[test]
fn a_receipt_for_a_text_with_one_already_changes_nothing_and_bad_records_are_errors() {
    let record = SmsRecord::parse(SUCCESS).unwrap();
    let mut done = text("missed-call", MessageClass::Reply);
    done.receipt = Some(record.receipt().unwrap());
    assert!(decide(&northside(), &done, &with_callback(), &record, at("2026-11-24T16:41:00Z")).unwrap().is_none());
    for bad in [
        "not json",
        "{}",
        r#"{"notification":{"messageId":"","timestamp":"2026-11-24 16:40:34.558"},"delivery":{},"status":"SUCCESS"}"#,
        r#"{"notification":{"messageId":"m","timestamp":"yesterday"},"delivery":{},"status":"SUCCESS"}"#,
        r#"{"notification":{"messageId":"m","timestamp":"2026-11-24 16:40:34.558"},"delivery":{},"status":"MAYBE"}"#,
    ] {
        assert!(SmsRecord::parse(bad).is_err(), "{bad}");
    }
    let odd = SmsRecord::parse(&SUCCESS.replace("+15125550142", "+1512555014x")).unwrap();
    assert!(odd.delivery.destination.is_some(), "more or odd fields are read, not refused");
}

#[test]
fn only_the_two_log_groups_of_the_stacks_own_account_and_region_are_read() {
    let env = |v: &str| std::collections::HashMap::from([(SMS_LOG_GROUP.to_owned(), v.to_owned())]);
    let groups = LogGroups::from_env(&env("sns/us-east-1/123456789012/DirectPublishToPhoneNumber")).unwrap();
    assert_eq!(groups, LogGroups::new("us-east-1", "123456789012"));
    let ours = "123456789012";
    assert_eq!(groups.of(ours, "sns/us-east-1/123456789012/DirectPublishToPhoneNumber"), Some(Group::Delivered));
    assert_eq!(groups.of(ours, "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure"), Some(Group::Failed));
    for (owner, group) in [
        // Another account: its own groups, or ours by name.
        ("999999999999", "sns/us-east-1/999999999999/DirectPublishToPhoneNumber"),
        ("999999999999", "sns/us-east-1/123456789012/DirectPublishToPhoneNumber"),
        // Another region, another group of ours, near misses.
        (ours, "sns/eu-west-1/123456789012/DirectPublishToPhoneNumber"),
        (ours, "/aws/lambda/custops-missed-call"),
        (ours, "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/FailureX"),
        (ours, "sns/us-east-1/123456789012/DirectPublishToPhoneNumberX"),
        (ours, "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure/x"),
        (ours, ""),
    ] {
        assert_eq!(groups.of(owner, group), None, "{owner} {group}");
    }
    for bad in ["", "sns/us-east-1/123456789012", "sns/us-east-1/acct/DirectPublishToPhoneNumber", "x/y/z/w"] {
        assert!(LogGroups::from_env(&env(bad)).is_err(), "{bad}");
    }
}

#[test]
fn a_status_counts_only_from_its_own_group_and_only_for_the_number_the_text_went_to() {
    let t = text("missed-call", MessageClass::Reply);
    let success = SmsRecord::parse(SUCCESS).unwrap();
    let failed = SmsRecord::parse(&failure("Unknown error attempting to reach phone")).unwrap();
    assert_eq!(believe(&success, Group::Delivered, &t), Ok(()));
    assert_eq!(believe(&failed, Group::Failed, &t), Ok(()));
    // A FAILURE written to the delivery group, a SUCCESS to /Failure.
    assert!(matches!(believe(&failed, Group::Delivered, &t), Err(Distrust::WrongGroup { .. })));
    assert!(matches!(believe(&success, Group::Failed, &t), Err(Distrust::WrongGroup { .. })));
    // Another number, no number, a number that is not one.
    for destination in [Some("+15125550199"), None, Some("not a number")] {
        let mut forged = failed.clone();
        forged.delivery.destination = destination.map(str::to_owned);
        assert_eq!(believe(&forged, Group::Failed, &t), Err(Distrust::OtherDestination), "{destination:?}");
    }
    // The same number written another way is the number.
    let mut spaced = success.clone();
    spaced.delivery.destination = Some("+1 512 555 0142".into());
    assert_eq!(believe(&spaced, Group::Delivered, &t), Ok(()));
    // The reason names no number.
    assert!(!Distrust::OtherDestination.to_string().chars().any(|c| c.is_ascii_digit()));
}
