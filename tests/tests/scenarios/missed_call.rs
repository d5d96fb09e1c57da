//! Trigger 1, the missed-call text-back, against the emulator: the exact text,
//! the callback task's owner and due time, and the timeline.

use custops::event::{Person, Vehicle};
use custops::model::{Customer, FactKind, Origin, RepairOrder, TaskKind};
use custops::table::Guard;
use custops::{Clock, Phone};
use custops_tests::{at, call_missed, Harness};

const MONDAY_1005_CST: &str = "2026-11-23T16:05:00Z";

/// Seeds a DMS customer with an open repair order, as the DMS trigger records them.
async fn seed_known_customer(h: &Harness, phone: &str) {
    let phone = Phone::parse(phone).unwrap();
    let now = h.clock.now();
    let mut customer = Customer::lead("northside-chevy", phone.clone(), now);
    customer.origin = Origin::Dms;
    customer.dms_id = Some("C1001".into());
    customer.first_name = Some("Maria".into());
    customer.last_name = Some("Gonzalez".into());
    let ro = RepairOrder {
        ro_number: "RO-48213".into(),
        status: "in_progress".into(),
        status_at: now,
        vehicle: Vehicle {
            vin: "1GNSKNKDXMR214387".into(),
            year: 2021,
            make: "Chevrolet".into(),
            model: "Tahoe".into(),
        },
        advisor: Person { id: "adv-7".into(), name: "Dana Whitfield".into() },
        amount_due_cents: None,
        closed_at: None,
        texted: vec![],
        performed: vec![],
        mileage: None,
    };
    let mut tx = h.table().tx();
    tx.put(&customer, Guard::Version(None)).put_on(&customer.id(), &ro, Guard::Always);
    h.table().commit(tx).await.unwrap();
}

#[tokio::test]
async fn a_known_customer_with_an_open_ro_gets_a_named_text_and_the_advisor_owns_the_callback() {
    let h = Harness::start(MONDAY_1005_CST).await;
    seed_known_customer(&h, "+15125550142").await;

    h.publish(&call_missed("c-1", "call-1", "(512) 555-0142", MONDAY_1005_CST)).await;
    h.settle().await;

    let sms = h.sms().await;
    assert_eq!(sms.len(), 1);
    assert_eq!(
        sms[0].message,
        "Hi Maria, this is Northside Chevrolet. Your 2021 Chevrolet Tahoe (RO-48213) is in progress. \
         Sorry we missed your call; we'll call you back shortly."
    );
    let phone = Phone::parse("+15125550142").unwrap();
    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", phone.clone())).await.unwrap();
    let task = t.state.open_task(TaskKind::Callback).expect("a callback task");
    assert_eq!(task.owner, "adv-7");
    assert_eq!(task.due_at, at("2026-11-23T16:20:00Z"), "15 minutes after the call");
    assert_eq!(task.ro_number.as_deref(), Some("RO-48213"));
    let kinds: Vec<&str> = t.touchpoints.iter().map(|p| p.kind.as_str()).collect();
    assert!(
        kinds.contains(&"call.missed") && kinds.contains(&"task.created") && kinds.contains(&"text.queued"),
        "{kinds:?}"
    );
    assert_eq!(t.state.profile.unwrap().origin, Origin::Dms, "the DMS record was used, not a new lead");
}

#[tokio::test]
async fn an_unknown_caller_gets_a_generic_text_and_becomes_a_lead_owned_by_the_department() {
    let h = Harness::start(MONDAY_1005_CST).await;
    let mut event = call_missed("c-1", "call-1", "512-555-0177", MONDAY_1005_CST);
    event["data"]["department"] = "sales".into();
    h.publish(&event).await;
    h.settle().await;

    let sms = h.sms().await;
    assert_eq!(
        sms[0].message,
        "Hi, this is Northside Chevrolet. Sorry we missed your call; we'll call you back shortly. Reply STOP to opt out."
    );
    let t = h
        .table()
        .timeline(&custops::CustomerId::new("northside-chevy", Phone::parse("+15125550177").unwrap()))
        .await
        .unwrap();
    assert_eq!(t.state.profile.as_ref().unwrap().origin, Origin::Lead);
    assert_eq!(t.state.open_task(TaskKind::Callback).unwrap().owner, "bdc-sales");
}

#[tokio::test]
async fn after_hours_the_text_says_when_the_store_opens_and_the_callback_is_due_after_opening() {
    // Monday 21:30 CST; the store opens Tuesday 07:00 CST.
    let h = Harness::start("2026-11-24T03:30:05Z").await;
    h.publish(&call_missed("c-1", "call-1", "+15125550188", "2026-11-24T03:30:00Z")).await;
    h.settle().await;

    assert_eq!(
        h.sms().await[0].message,
        "Hi, this is Northside Chevrolet. Sorry we missed your call; we're closed now. We open Tuesday at 7:00 AM; \
         we'll call you then. Book service anytime: https://northside.example/service Reply STOP to opt out."
    );
    let t = h
        .table()
        .timeline(&custops::CustomerId::new("northside-chevy", Phone::parse("+15125550188").unwrap()))
        .await
        .unwrap();
    assert_eq!(t.state.open_task(TaskKind::Callback).unwrap().due_at, at("2026-11-24T13:15:00Z"), "07:15 CST");
}

#[tokio::test]
async fn a_repeat_call_within_24_hours_adds_to_the_open_task_and_sends_no_second_text() {
    let h = Harness::start(MONDAY_1005_CST).await;
    h.publish(&call_missed("c-1", "call-1", "+15125550177", MONDAY_1005_CST)).await;
    h.settle().await;
    h.clock.set(at("2026-11-23T16:25:05Z"));
    h.publish(&call_missed("c-2", "call-2", "(512) 555-0177", "2026-11-23T16:25:00Z")).await;
    h.settle().await;

    assert_eq!(h.sms().await.len(), 1);
    let t = h
        .table()
        .timeline(&custops::CustomerId::new("northside-chevy", Phone::parse("+15125550177").unwrap()))
        .await
        .unwrap();
    assert_eq!(t.state.tasks.len(), 1);
    let calls = t.state.tasks[0].calls.clone().expect("a callback counts its calls");
    assert_eq!((calls.count, calls.last_call_at), (2, at("2026-11-23T16:25:00Z")));
    assert_eq!(t.touchpoints.iter().filter(|p| p.kind == "call.missed").count(), 2);
    assert_eq!(t.touchpoints.iter().filter(|p| p.kind == "text.suppressed").count(), 1);
}

#[tokio::test]
async fn no_text_to_an_opted_out_caller_or_the_stores_own_line_or_an_invalid_number() {
    let h = Harness::start(MONDAY_1005_CST).await;
    let opted_out = Phone::parse("+15125550166").unwrap();
    h.opt_out(&opted_out, "2026-11-01T00:00:00Z").await;

    h.publish(&call_missed("c-1", "call-1", "+15125550166", MONDAY_1005_CST)).await;
    h.publish(&call_missed("c-2", "call-2", "+15125550100", MONDAY_1005_CST)).await;
    h.publish(&call_missed("c-3", "call-3", "anonymous", MONDAY_1005_CST)).await;
    h.settle().await;

    assert!(h.sms().await.is_empty());
    assert!(h.dlq().await.is_empty(), "these are not bad input");
    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", opted_out.clone())).await.unwrap();
    assert_eq!(t.state.tasks.len(), 1, "the opted-out caller still gets a callback");
    assert!(t.touchpoints.iter().any(|p| p.kind == "text.suppressed" && p.summary.contains("opted out")));
    let day = at(MONDAY_1005_CST).date_naive();
    let mut facts: Vec<FactKind> =
        h.table().day_facts("northside-chevy", day).await.unwrap().iter().map(|f| f.kind).collect();
    facts.sort();
    assert_eq!(
        facts,
        [
            FactKind::MissedCall,
            FactKind::MissedCallOwnLine,
            FactKind::MissedCallInvalidNumber,
            FactKind::CallbackCreated
        ]
    );
}

#[tokio::test]
async fn a_sales_call_from_a_customer_without_an_open_ro_goes_to_their_salesperson() {
    let h = Harness::start(MONDAY_1005_CST).await;
    let phone = Phone::parse("+15125550163").unwrap();
    let mut customer = Customer::lead("northside-chevy", phone.clone(), h.clock.now());
    customer.origin = Origin::Dms;
    customer.first_name = Some("James".into());
    customer.salesperson = Some(Person { id: "sp-3".into(), name: "Rico Alvarez".into() });
    let mut tx = h.table().tx();
    tx.put(&customer, Guard::Version(None));
    h.table().commit(tx).await.unwrap();

    let mut event = call_missed("c-1", "call-1", "512-555-0163", MONDAY_1005_CST);
    event["data"]["department"] = "sales".into();
    h.publish(&event).await;
    h.settle().await;

    let t = h.table().timeline(&custops::CustomerId::new("northside-chevy", phone.clone())).await.unwrap();
    assert_eq!(t.state.open_task(TaskKind::Callback).unwrap().owner, "sp-3");
    assert_eq!(
        h.sms().await[0].message,
        "Hi James, this is Northside Chevrolet. Sorry we missed your call; we'll call you back shortly."
    );
}

/// Section 14: the store answers the caller's next call (Twilio's status
/// callback through the front door, signed with the store's auth token): the
/// call goes on the record and the callback from the missed call is closed
/// as `reached`, with nothing texted.
#[tokio::test]
async fn an_answered_call_through_twilio_closes_the_callers_callback_as_reached() {
    let h = Harness::start(MONDAY_1005_CST).await;
    let secret = std::env::temp_dir().join(format!("custops-answered-secret-{}.json", std::process::id()));
    std::fs::write(&secret, serde_json::json!({"twilio_auth_token": "twilio-token"}).to_string()).unwrap();
    custops_cli::commands::secrets_put(&h.target, "northside-chevy", &secret).await.unwrap();
    std::fs::remove_file(&secret).ok();
    h.publish(&call_missed("c-1", "call-1", "(512) 555-0142", MONDAY_1005_CST)).await;
    h.settle().await;
    let phone = Phone::parse("+15125550142").unwrap();
    let caller = custops::CustomerId::new("northside-chevy", phone);
    let callback = h.table().customer_state(&caller).await.unwrap().open_task(TaskKind::Callback).unwrap().clone();
    let texts = h.sms().await.len();

    let http = h.stack.serve_http(0).await.unwrap();
    let url = format!("{}/hooks/northside-chevy/twilio/voice", http.url);
    let params: Vec<(String, String)> = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", "CA11111111111111111111111111111111"),
        ("CallStatus", "completed"),
        ("CallDuration", "184"),
        ("Direction", "inbound"),
        ("From", "+15125550142"),
        ("To", "+15125550100"),
        ("Timestamp", "Mon, 23 Nov 2026 17:30:00 +0000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
    let signature = front_door::twilio::signature("twilio-token", &url, &params);
    let answer = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    h.settle().await;

    let t = h.table().timeline(&caller).await.unwrap();
    assert!(t.state.open_task(TaskKind::Callback).is_none(), "the callback is answered");
    let closed = t.state.tasks.iter().find(|x| x.task_id == callback.task_id).expect("the callback, closed");
    assert_eq!(closed.outcome, Some(custops::model::TaskOutcome::Reached));
    assert!(t.touchpoints.iter().any(|p| p.kind == "call.answered" && p.summary.contains("3:04")));
    assert_eq!(h.sms().await.len(), texts, "an answered call texts nobody");
    assert!(h.dlq().await.is_empty());
}
