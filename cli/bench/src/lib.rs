//! `custops-bench` (`cargo perf`): numbers anyone can reproduce. Today: AWS API calls per
//! event, counted at the emulator (moto's request recorder) while the real
//! function code handles one event, in the steady state (warm store cache,
//! existing customer) unless the scenario says otherwise.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use custops::PinnedClock;
use serde::Serialize;
use serde_json::{json, Value};

use custops_cli::emulator::{AwsCall, CallRecorder, Emulator};
use custops_cli::local::{LocalOptions, LocalStack};
use custops_cli::BoxError;

pub mod latency_proxy;
pub mod stand_in;

#[derive(Debug, Clone, Serialize)]
pub struct CallsRow {
    pub function: String,
    pub scenario: String,
    pub calls: usize,
    pub target: Option<usize>,
    pub operations: Vec<String>,
}

const STORE: &str = r#"{"store_id":"northside-chevy","name":"Northside Chevrolet","timezone":"America/Chicago",
  "sms_number":"+15125550100","booking_url":"https://northside.example/service",
  "hours":{"mon":["07:00","19:00"],"tue":["07:00","19:00"],"wed":["07:00","19:00"],"thu":["07:00","19:00"],
           "fri":["07:00","19:00"],"sat":["08:00","17:00"],"sun":null}}"#;

fn call(event_id: &str, call_id: &str, from: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "call.missed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"call_id": call_id, "from": from, "to": "+15125550100", "department": "service"}})
    .to_string()
}

fn ro(event_id: &str, status: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "ro.status_changed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"ro_number": "RO-48213", "status": status,
                    "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": "+15125550142"},
                    "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
                    "advisor": {"id": "adv-7", "name": "Dana Whitfield"}, "amount_due_cents": 48735}})
    .to_string()
}

fn ro_closed(event_id: &str, ro: &str, at: DateTime<Utc>, declined: Value) -> String {
    json!({"event_id": event_id, "event_type": "ro.closed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"ro_number": ro, "closed_at": at, "performed": ["LOF-SYN", "MPI"], "declined": declined,
                    "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": "+15125550142",
                                 "marketing_consent": true},
                    "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
                    "advisor": {"id": "adv-7", "name": "Dana Whitfield"}, "mileage": 38412}})
    .to_string()
}

fn delivered(event_id: &str, deal: &str, phone: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "deal.delivered", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"deal_id": deal, "delivered_at": at,
                    "customer": {"dms_id": format!("C-{deal}"), "first_name": "James", "last_name": "Okafor", "phone": phone,
                                 "marketing_consent": true},
                    "vehicle": {"vin": "1GCUDDED2TZ158204", "year": 2026, "make": "Chevrolet", "model": "Silverado 1500"},
                    "salesperson": {"id": "sp-3", "name": "Rico Alvarez"}}})
    .to_string()
}

fn no_show(event_id: &str, appointment: &str, phone: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "appointment.missed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"appointment_id": appointment, "at": at,
                    "customer": {"dms_id": format!("C-{appointment}"), "first_name": "Ana", "last_name": "Ruiz", "phone": phone}}})
    .to_string()
}

fn lapsed(phone: &str, last_visit_at: DateTime<Utc>) -> String {
    json!({"store_id": "northside-chevy", "phone": phone, "last_visit_at": last_visit_at, "lapse_months": 13})
        .to_string()
}

fn declined_lines() -> Value {
    json!([{"line_id": "L4", "op_code": "BRK-FRT-PR", "description": "Front brake pads & rotors", "estimate_cents": 62000},
           {"line_id": "L5", "op_code": "CAF-REPL", "description": "Cabin air filter", "estimate_cents": 8900}])
}

/// Runs every scenario on a private emulator and returns one row each.
pub async fn aws_calls() -> Result<Vec<CallsRow>, BoxError> {
    let emulator = Emulator::start(0).await?;
    let monday: DateTime<Utc> = "2026-11-23T16:00:00Z".parse()?;
    let clock = PinnedClock::at(monday);
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default()).await?;
    stack.table().put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    let mut rows = Vec::new();
    let t = |minutes: i64| monday + Duration::minutes(minutes);

    // Warm-up: each function's cold start loads the store once; Maria is a DMS customer.
    stack.invoke("vehicle-ready", &[ro("warm-ro", "checked_in", t(0))]).await?;
    stack.invoke("missed-call", &[call("warm-call", "warm", "+15125550170", t(0))]).await?;
    stack.invoke("declined-service", &[ro_closed("warm-close", "RO-40000", t(0), json!([]))]).await?;
    stack.invoke("appointments", &[no_show("warm-ns", "A-0", "+15125550171", t(0))]).await?;
    stack.invoke("deal-delivered", &[delivered("warm-deal", "D-0", "+15125550172", t(0))]).await?;
    stack.invoke("win-back", &[lapsed("+15125550173", t(0))]).await?;
    // James took delivery 14 months ago and has not been back.
    let long_ago = monday - Duration::days(430);

    let scenarios: Vec<(&str, &str, String, Option<usize>, i64)> = vec![
        (
            "missed-call",
            "known customer with an open RO (text-back; +1: the new task's alert)",
            call("c-1", "k-1", "+15125550142", t(1)),
            Some(5),
            1,
        ),
        (
            "missed-call",
            "unknown caller (new lead, text-back; +1: the new task's alert)",
            call("c-2", "k-2", "+15125550177", t(2)),
            Some(5),
            2,
        ),
        ("missed-call", "the same event delivered again", call("c-1", "k-1", "+15125550142", t(1)), None, 3),
        ("missed-call", "repeat call within 24 h (no text)", call("c-3", "k-3", "+15125550142", t(4)), None, 4),
        ("vehicle-ready", "parts_arrived (text + task, its alert)", ro("d-1", "parts_arrived", t(5)), Some(5), 5),
        ("vehicle-ready", "ready_for_pickup (text, task closed)", ro("d-2", "ready_for_pickup", t(6)), Some(4), 6),
        ("vehicle-ready", "DMS resend under a new event id", ro("d-2b", "ready_for_pickup", t(6)), None, 7),
        ("vehicle-ready", "other status (recorded, no text)", ro("d-3", "in_progress", t(8)), None, 8),
        (
            "declined-service",
            "ro.closed, 2 declined lines, 3 steps scheduled (no text)",
            ro_closed("d-5", "RO-48213", t(9), declined_lines()),
            Some(3),
            9,
        ),
        (
            "declined-service",
            "DMS resend of the close under a new event id",
            ro_closed("d-5b", "RO-48213", t(9), declined_lines()),
            None,
            10,
        ),
        (
            "appointments",
            "appointment.missed (rebook text + task, its alert)",
            no_show("a-1", "A-1", "+15125550174", t(11)),
            Some(5),
            11,
        ),
        (
            "deal-delivered",
            "deal.delivered, a new customer (record + first-service task and its alert, no text)",
            delivered("s-1", "D-1", "+15125550163", long_ago),
            Some(4),
            12,
        ),
        (
            "win-back",
            "a lapsed customer with consent (win-back text + task, its alert)",
            lapsed("+15125550163", long_ago),
            Some(5),
            13,
        ),
        ("win-back", "the same lapse handed over again", lapsed("+15125550163", long_ago), None, 14),
    ];
    for (function, scenario, body, target, minute) in scenarios {
        clock.set(t(minute) + Duration::seconds(2));
        let recorder = CallRecorder::start(&emulator.endpoint).await?;
        let response = stack.invoke(function, &[body]).await?;
        let calls = recorder.calls().await?;
        if !response.batch_item_failures.is_empty() {
            return Err(format!("{function}: {scenario}: the event failed").into());
        }
        rows.push(row(function, scenario, target, calls));
    }

    // A transactional text at 22:00 is deferred; the scheduler's 08:00 run releases it.
    clock.set("2026-11-24T04:00:02Z".parse()?);
    let late = ro("d-4", "parts_arrived", "2026-11-24T04:00:00Z".parse()?).replace("RO-48213", "RO-50000");
    stack.invoke("vehicle-ready", &[late]).await?;
    clock.set("2026-11-24T14:00:00Z".parse()?);
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    let released = stack.fire("scheduler").await?.map(|r| r["sent"].clone()).unwrap_or(Value::Null);
    let calls = recorder.calls().await?;
    rows.push(row("scheduler", &format!("one run, {} due text(s) released, cold store cache", released), None, calls));

    // The status text the caps held (three texts in 24 h) goes out once the window frees.
    clock.set("2026-11-24T17:00:00Z".parse()?);
    stack.fire("scheduler").await?;
    // Day 3 of the cadence, 10:00 in Chicago: the scheduler hands the first
    // follow-up step to declined-service, which decides it (a marketing text
    // naming the open work, and the advisor's task). Each function's calls,
    // told apart by who signed them.
    clock.set("2026-11-26T16:00:00Z".parse()?);
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    let handed = stack.fire("scheduler").await?.map(|r| r["follow_ups"].clone()).unwrap_or(Value::Null);
    stack.run_until_idle(std::time::Duration::from_secs(30)).await?;
    let requests = recorder.signed_requests().await?;
    let of = |principal: &str| -> Vec<AwsCall> {
        requests.iter().filter(|r| r.principal.as_deref() == Some(principal)).map(|r| r.call.clone()).collect()
    };
    let scenario = format!(
        "one run, {handed} follow-up step handed on: a Query of each of the {} due-index partitions, SendMessageBatch, UpdateItem (off the index)",
        custops::keys::DUE_SHARDS
    );
    rows.push(row("scheduler", &scenario, Some(custops::keys::DUE_SHARDS as usize + 2), of("scheduler")));
    rows.push(row(
        "declined-service",
        "a due follow-up step (text + task, its alert), handed on by the scheduler",
        Some(5),
        of("declined-service"),
    ));

    // The daily sweep, one store, a customer who lapsed overnight (Ana took
    // delivery 14 months ago; the scenarios above contacted James already).
    clock.set(long_ago + Duration::minutes(1));
    stack.invoke("deal-delivered", &[delivered("s-2", "D-2", "+15125550175", long_ago)]).await?;
    clock.set("2026-11-27T15:00:00Z".parse()?);
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    let sweep = stack.fire("lapse-sweep").await?.unwrap_or(Value::Null);
    let calls = recorder.calls().await?;
    rows.push(row(
        "lapse-sweep",
        &format!(
            "one run, one store, {} lapsed customer(s) handed to win-back: Query (stores), Query (lapse index), SendMessageBatch",
            sweep["handed_off"]
        ),
        Some(3),
        calls,
    ));

    // The front door: a store's secret, then a signed envelope and Twilio's
    // callback through the local HTTP API, each counted.
    rows.extend(front_door_calls(&emulator, &stack, &clock).await?);
    // The store's other promises, at a store that keeps them.
    rows.extend(promise_calls(&emulator, &stack, &clock).await?);
    emulator.stop().await;
    Ok(rows)
}

/// The AWS calls of the front door per request: the first request of a
/// container reads the store's secret, later ones find it cached; a Twilio
/// missed call and a signed envelope are one Publish each.
async fn front_door_calls(
    emulator: &Emulator,
    stack: &LocalStack,
    clock: &PinnedClock,
) -> Result<Vec<CallsRow>, BoxError> {
    use custops::Clock as _;
    let target = custops_cli::commands::Target::new(Some(&emulator.endpoint), "custops").await?;
    let file = std::env::temp_dir().join(format!("custops-bench-secrets-{}.json", std::process::id()));
    std::fs::write(&file, json!({"signing_secret": "bench-secret", "twilio_auth_token": "bench-token"}).to_string())?;
    custops_cli::commands::secrets_put(&target, "northside-chevy", &file).await?;
    std::fs::remove_file(&file).ok();
    let http = stack.serve_http(0).await?;
    let client = reqwest::Client::new();
    let envelope = |id: &str| {
        json!({"event_id": id, "event_type": "call.missed", "occurred_at": clock.now(), "store_id": "northside-chevy",
               "data": {"call_id": id, "from": "+15125550178", "to": "+15125550100", "department": "main"}})
        .to_string()
    };
    let signed = |body: String| {
        let mut request = client.post(format!("{}/hooks/northside-chevy/events", http.url));
        for (name, value) in front_door::signed::headers("bench-secret", clock.now().timestamp(), body.as_bytes()) {
            request = request.header(name, value);
        }
        request.body(body)
    };
    let twilio = |sid: &str| {
        let url = format!("{}/hooks/northside-chevy/twilio/voice", http.url);
        let params: Vec<(String, String)> = [
            ("CallSid", sid),
            ("Direction", "inbound"),
            ("CallStatus", "no-answer"),
            ("From", "+15125550179"),
            ("To", "+15125550100"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let (signature, body) = front_door::twilio::signed_form("bench-token", &url, &params);
        client.post(url).header(front_door::twilio::SIGNATURE, signature).body(body)
    };
    let mut rows = Vec::new();
    let measure = |request: reqwest::RequestBuilder| async move {
        let recorder = CallRecorder::start(&emulator.endpoint).await?;
        let status = request.send().await?.status();
        if !status.is_success() {
            return Err::<Vec<AwsCall>, BoxError>(format!("the front door answered {status}").into());
        }
        Ok(recorder.calls().await?)
    };
    let calls = measure(signed(envelope("fd-1"))).await?;
    rows.push(row(
        "front-door",
        "a signed envelope, the container's first request (the store's secret read)",
        None,
        calls,
    ));
    let calls = measure(signed(envelope("fd-2"))).await?;
    rows.push(row("front-door", "a signed envelope, the secret cached", Some(1), calls));
    // The first call of a container also reads the store's lines (cached after).
    measure(twilio("CA-bench-warm")).await?;
    let calls = measure(twilio("CA-bench-1")).await?;
    rows.push(row("front-door", "a Twilio missed call, the secret and the store's lines cached", Some(1), calls));
    Ok(rows)
}

/// A store with appointment texts, the post-visit check and a lead address on.
const PROMISING: &str = r#"{"store_id":"lakeside-chevy","name":"Lakeside Chevrolet","timezone":"America/Chicago",
  "sms_number":"+15125550300","appointment_texts":true,"post_visit_check":true,
  "lead_addresses":["leads@lakeside.example"],"lead_senders":["provider.example"],"review_url":"https://g.page/r/lakeside/review",
  "hours":{"mon":["07:00","19:00"],"tue":["07:00","19:00"],"wed":["07:00","19:00"],"thu":["07:00","19:00"],
           "fri":["07:00","19:00"],"sat":["08:00","17:00"],"sun":null}}"#;

/// A DMS envelope at the promising store for `phone`.
fn at_lakeside(event_id: &str, event_type: &str, at: DateTime<Utc>, phone: &str, mut data: Value) -> String {
    data["customer"] =
        json!({"dms_id": format!("C-{phone}"), "first_name": "Ana", "last_name": "Ruiz", "phone": phone});
    data["vehicle"] = json!({"vin": "3GNAXUEV1NL203398", "year": 2022, "make": "Chevrolet", "model": "Equinox"});
    data["advisor"] = json!({"id": "adv-4", "name": "Sam Ortiz"});
    json!({"event_id": event_id, "event_type": event_type, "occurred_at": at, "store_id": "lakeside-chevy", "data": data})
        .to_string()
}

fn closed_at_lakeside(event_id: &str, ro: &str, at: DateTime<Utc>, phone: &str) -> String {
    at_lakeside(
        event_id,
        "ro.closed",
        at,
        phone,
        json!({"ro_number": ro, "closed_at": at, "performed": ["LOF-SYN"], "declined": []}),
    )
}

fn text_to_lakeside(id: &str, from: &str, body: &str) -> String {
    json!({"originationNumber": from, "destinationNumber": "+15125550300", "messageKeyword": "", "messageBody": body,
           "inboundMessageId": id})
    .to_string()
}

/// An SES receipt notification of an ADF lead from `phone` to Lakeside's
/// lead address, sent by a listed provider (clean, SPF and DMARC pass).
fn lead_mail(message_id: &str, phone: &str) -> String {
    let adf = format!(
        "<?adf version=\"1.0\"?><adf><prospect><id source=\"bench\">{message_id}</id><vehicle interest=\"buy\" status=\"new\"><year>2026</year><make>Chevrolet</make><model>Equinox</model></vehicle><customer><contact><name part=\"first\">Priya</name><name part=\"last\">Raman</name><phone type=\"cellphone\">{phone}</phone></contact></customer><provider><name>Chevrolet.com</name></provider></prospect></adf>"
    );
    let content = format!("From: leads@provider.example\r\nTo: leads@lakeside.example\r\nSubject: Lead\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{adf}\r\n");
    let pass = json!({"status": "PASS"});
    json!({"notificationType": "Received",
           "receipt": {"recipients": ["leads@lakeside.example"], "spamVerdict": pass, "virusVerdict": pass,
                       "spfVerdict": pass, "dkimVerdict": pass, "dmarcVerdict": pass},
           "mail": {"messageId": message_id, "timestamp": "2026-12-02T15:10:00Z", "destination": ["leads@lakeside.example"],
                    "source": "leads@provider.example", "commonHeaders": {"from": ["leads@provider.example"]}},
           "content": content})
    .to_string()
}

/// The AWS calls of the store's other promises (section 7): a booking's
/// confirmation and its reminder (handed on by the scheduler), a
/// cancellation, a part's ETA, the post-visit check asked and answered 2
/// (a heat case) or 5 (thanked), and a lead by mail. Each timed one is
/// counted by the calls its owner signed.
async fn promise_calls(
    emulator: &Emulator,
    stack: &LocalStack,
    clock: &PinnedClock,
) -> Result<Vec<CallsRow>, BoxError> {
    stack.table().put_store(&custops::StoreConfig::from_json(PROMISING)?).await?;
    // Monday 30 November, 09:00 in Chicago.
    let monday: DateTime<Utc> = "2026-11-30T15:00:00Z".parse()?;
    let t = |minutes: i64| monday + Duration::minutes(minutes);
    clock.set(t(0));
    // Warm-up: each function's container loads the store once.
    stack
        .invoke(
            "appointments",
            &[at_lakeside(
                "w-1",
                "appointment.missed",
                t(0),
                "+15125550390",
                json!({"appointment_id": "W-1", "at": t(0)}),
            )],
        )
        .await?;
    stack
        .invoke(
            "vehicle-ready",
            &[at_lakeside(
                "w-2",
                "ro.status_changed",
                t(0),
                "+15125550391",
                json!({"ro_number": "RO-W2", "status": "checked_in"}),
            )],
        )
        .await?;
    stack
        .invoke("declined-service", &[closed_at_lakeside("w-3", "RO-W3", t(0) - Duration::days(5), "+15125550392")])
        .await?;
    stack.invoke("inbound-sms", &[text_to_lakeside("w-4", "+15125550393", "hello")]).await?;
    stack.invoke("lead-email", &[lead_mail("w-5", "+15125550394")]).await?;

    let mut rows = Vec::new();
    let measure =
        |function: &'static str, scenario: &'static str, target: Option<usize>, body: String, at: DateTime<Utc>| {
            clock.set(at);
            async move {
                let recorder = CallRecorder::start(&emulator.endpoint).await?;
                let response = stack.invoke(function, &[body]).await?;
                if !response.batch_item_failures.is_empty() {
                    return Err::<CallsRow, BoxError>(format!("{function}: {scenario}: the event failed").into());
                }
                Ok(row(function, scenario, target, recorder.calls().await?))
            }
        };
    let (ana, ben, cleo, dev) = ("+15125550301", "+15125550302", "+15125550303", "+15125550304");
    rows.push(
        measure(
            "declined-service",
            "ro.closed, the post-visit check scheduled (no text)",
            Some(3),
            closed_at_lakeside("p-1", "RO-P1", t(1), ana),
            t(1) + Duration::seconds(2),
        )
        .await?,
    );
    let booking = |id: &str, phone: &str| {
        at_lakeside(
            id,
            "appointment.booked",
            t(2),
            phone,
            json!({"appointment_id": format!("A-{id}"), "at": "2026-12-03T15:00:00Z"}),
        )
    };
    rows.push(
        measure(
            "appointments",
            "appointment.booked 3 days ahead (confirmation text, reminder scheduled)",
            Some(4),
            booking("p-2", cleo),
            t(2) + Duration::seconds(2),
        )
        .await?,
    );
    stack.invoke("appointments", &[booking("p-3", dev)]).await?;
    let cancel = at_lakeside("p-4", "appointment.cancelled", t(3), dev, json!({"appointment_id": "A-p-3"}));
    rows.push(
        measure(
            "appointments",
            "appointment.cancelled (the booking and its reminder ended, no text)",
            Some(2),
            cancel,
            t(3) + Duration::seconds(2),
        )
        .await?,
    );

    // Tuesday 08:05: the scheduler hands Ana's check to declined-service.
    let by = |requests: &[custops_cli::emulator::SignedRequest], principal: &str| -> Vec<AwsCall> {
        requests.iter().filter(|r| r.principal.as_deref() == Some(principal)).map(|r| r.call.clone()).collect()
    };
    clock.set("2026-12-01T14:05:00Z".parse()?);
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    stack.fire("scheduler").await?;
    stack.run_until_idle(std::time::Duration::from_secs(30)).await?;
    let requests = recorder.signed_requests().await?;
    rows.push(row(
        "declined-service",
        "a due post-visit check (the question), handed on by the scheduler",
        Some(4),
        by(&requests, "declined-service"),
    ));
    rows.push(
        measure(
            "inbound-sms",
            "an answer of 2 to the post-visit check (a heat_case task and its alert, no text)",
            Some(3),
            text_to_lakeside("p-5", ana, "2"),
            "2026-12-01T15:00:00Z".parse()?,
        )
        .await?,
    );
    stack
        .invoke("declined-service", &[closed_at_lakeside("p-6", "RO-P6", "2026-12-01T15:05:00Z".parse()?, ben)])
        .await?;

    // Wednesday 08:05: Cleo's reminder to appointments, Ben's check to declined-service.
    clock.set("2026-12-02T14:05:00Z".parse()?);
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    stack.fire("scheduler").await?;
    stack.run_until_idle(std::time::Duration::from_secs(30)).await?;
    let requests = recorder.signed_requests().await?;
    rows.push(row(
        "appointments",
        "a due reminder (text), handed on by the scheduler",
        Some(4),
        by(&requests, "appointments"),
    ));
    rows.push(
        measure(
            "inbound-sms",
            "an answer of 5 to the post-visit check (the thank-you text)",
            Some(4),
            text_to_lakeside("p-7", ben, "5"),
            "2026-12-02T15:00:00Z".parse()?,
        )
        .await?,
    );
    rows.push(
        measure(
            "lead-email",
            "an ADF lead by mail, a new number (record, the hour's lead texts, text, lead task and its alert)",
            Some(6),
            lead_mail("p-8", "+15125550305"),
            "2026-12-02T15:10:02Z".parse()?,
        )
        .await?,
    );
    // A stranger's mail to the public lead address costs no lead text count.
    let mut stranger: Value = serde_json::from_str(&lead_mail("p-8b", "+15125550306"))?;
    stranger["receipt"]["spfVerdict"] = json!({"status": "FAIL"});
    stranger["receipt"]["dmarcVerdict"] = json!({"status": "FAIL"});
    rows.push(
        measure(
            "lead-email",
            "an unauthenticated ADF lead, a new number (record, lead task and its alert; no text)",
            Some(3),
            stranger.to_string(),
            "2026-12-02T15:10:03Z".parse()?,
        )
        .await?,
    );
    let eta = at_lakeside(
        "p-9",
        "ro.status_changed",
        "2026-12-02T15:20:00Z".parse()?,
        "+15125550391",
        json!({"ro_number": "RO-W2", "status": "waiting_parts", "eta": "2026-12-04"}),
    );
    rows.push(
        measure(
            "vehicle-ready",
            "waiting_parts with an eta, a known customer (text)",
            Some(4),
            eta,
            "2026-12-02T15:20:02Z".parse()?,
        )
        .await?,
    );
    Ok(rows)
}

fn row(function: &str, scenario: &str, target: Option<usize>, calls: Vec<AwsCall>) -> CallsRow {
    CallsRow {
        function: function.into(),
        scenario: scenario.into(),
        calls: calls.len(),
        target,
        operations: calls.iter().map(ToString::to_string).collect(),
    }
}

/// A Markdown table: `columns` are (heading, numeric: right-aligned).
fn table(columns: &[(&str, bool)], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let line = |cells: &mut dyn Iterator<Item = String>| format!("| {} |\n", cells.collect::<Vec<_>>().join(" | "));
    let mut out = line(&mut columns.iter().map(|(h, _)| (*h).to_owned()));
    out.push_str(&line(&mut columns.iter().map(|(_, numeric)| if *numeric { "---:" } else { "---" }.to_owned())));
    for row in rows {
        out.push_str(&line(&mut row.into_iter()));
    }
    out
}

/// The rows as a Markdown table.
pub fn calls_table(rows: &[CallsRow]) -> String {
    table(
        &[("function", false), ("scenario", false), ("AWS calls", true), ("target", true), ("calls, in order", false)],
        rows.iter().map(|r| {
            vec![
                r.function.clone(),
                r.scenario.clone(),
                r.calls.to_string(),
                r.target.map(|t| format!("<= {t}")).unwrap_or_default(),
                r.operations.join(", "),
            ]
        }),
    )
}

/// Cold start of one program: exec to its first Runtime API `next`, over `runs`.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    pub program: String,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub runs: usize,
}

/// Everything `cargo perf` measures about the deployable binaries.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeReport {
    pub cold_starts: Vec<ColdStart>,
    /// Where the missed-call cold start goes, and what the warm-up does.
    pub init: Vec<InitRow>,
    /// Per function: (bootstrap bytes, zip bytes).
    pub sizes: Vec<(String, u64, u64)>,
    /// Per function: peak RSS after a batch of 10 of its own events (a
    /// scheduled function: after one run).
    pub peak_rss: Vec<(String, u64)>,
    /// Batch wall times with latency on every AWS call, against the stand-in
    /// (the emulator's answers, replayed) and against the emulator itself.
    pub concurrency: Vec<Concurrency>,
    /// How the stand-in answered the replayed requests.
    pub stand_in_answered: Vec<crate::stand_in::Answered>,
}

/// One way of starting missed-call, medians over `runs` cold starts.
#[derive(Debug, Clone, Serialize)]
pub struct InitRow {
    /// `WARM_UP` ("none": no warm-up).
    pub warm_up: String,
    /// Latency on every AWS call; a new connection's first call waits twice as long more.
    pub latency_ms: u64,
    pub runs: usize,
    /// Exec to the first Runtime API `next`.
    pub exec_to_next_ms: f64,
    /// From the function's `init` log line.
    pub config_ms: f64,
    pub build_ms: f64,
    pub warm_ms: f64,
    pub init_total_ms: f64,
    /// Wall time of the first event (a new caller) and of the second.
    pub first_event_ms: f64,
    pub second_event_ms: f64,
}

/// Median wall time of a batch of 1 and of 10 with `latency_ms` on every AWS call.
#[derive(Debug, Clone, Serialize)]
pub struct Concurrency {
    /// "stand-in" (fixed latency, the emulator's answers) or "emulator".
    pub against: String,
    pub latency_ms: u64,
    pub one_message_ms: f64,
    pub ten_messages_ms: f64,
}

fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    let mid = xs.len() / 2;
    let median = if xs.len().is_multiple_of(2) { (xs[mid - 1] + xs[mid]) / 2.0 } else { xs[mid] };
    (median, xs[0], xs[xs.len() - 1])
}

async fn cold_start(
    program: &str,
    argv: &[std::path::PathBuf],
    env: &std::collections::HashMap<String, String>,
    endpoint: &str,
    runs: usize,
) -> Result<ColdStart, BoxError> {
    use custops_cli::runtime_api::BootstrapProcess;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let process = BootstrapProcess::spawn_argv(argv, program, env, Some(endpoint)).await?;
        times.push(millis(process.ready(std::time::Duration::from_secs(30)).await?));
    }
    let (median_ms, min_ms, max_ms) = median(times);
    Ok(ColdStart { program: program.into(), median_ms, min_ms, max_ms, runs })
}

fn sqs_event(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            json!({"messageId": format!("bench-{i}"), "receiptHandle": "r", "body": b,
                   "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                   "eventSource": "aws:sqs", "awsRegion": "us-east-1"})
        })
        .collect();
    json!({ "Records": records })
}

/// Missed calls from callers never seen before in this run (each one is texted:
/// 4 AWS calls), tagged `prefix`.
struct NewCallers(std::sync::atomic::AtomicUsize);

impl NewCallers {
    fn calls(&self, prefix: &str, n: usize) -> Vec<String> {
        let at: DateTime<Utc> = "2026-11-23T16:00:00Z".parse().unwrap_or_default();
        (0..n)
            .map(|i| {
                let k = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                call(&format!("{prefix}-{i}"), &format!("{prefix}-{i}"), &format!("+1512555{:04}", 1000 + k % 9000), at)
            })
            .collect()
    }
}

/// Cold starts (vs a minimal `lambda_runtime` binary and a boto3 handler),
/// init broken down with and without the warm-up, sizes, peak memory and
/// batch concurrency under injected latency, for the binaries `cargo
/// artifacts` built.
pub async fn runtime(runs: usize, latency: std::time::Duration) -> Result<RuntimeReport, BoxError> {
    use custops_cli::runtime_api::BootstrapProcess;
    use custops_dev::artifacts::{target_dir, workspace};
    use std::time::Duration as Span;

    // Every function the registry knows (the template deploys exactly these: a test holds them to it).
    let functions: Vec<String> = custops_cli::registry::FUNCTIONS.iter().map(|r| r.name.to_owned()).collect();
    let lambda_dir = target_dir().join("lambda");
    // Always from the current code (cargo rebuilds only what changed).
    eprintln!("custops-bench: building the deploy binaries (cargo artifacts)");
    let artifacts =
        tokio::task::spawn_blocking(|| custops_dev::artifacts::build(None)).await.map_err(|e| e.to_string())??;
    custops_dev::artifacts::check_glibc(&artifacts)?;
    // The baseline binary, with the same profile.
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace())
        .args([
            "build",
            "--quiet",
            "--locked",
            "--profile",
            "deploy",
            "--package",
            "custops-bench",
            "--example",
            "hello_lambda",
        ])
        .status()?;
    if !status.success() {
        return Err("building the hello-world baseline failed".into());
    }
    let hello = target_dir().join("deploy").join("examples").join("hello_lambda");
    let python = custops_cli::emulator::ensure_installed()?;
    let boto3 = workspace().join("cli").join("bench").join("boto3_handler.py");

    let emulator = Emulator::start(0).await?;
    let clock = PinnedClock::at("2026-11-23T16:00:00Z".parse()?);
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock), LocalOptions::default()).await?;
    stack.table().put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    let env_of = |binary: &str| {
        stack.functions.iter().find(|f| f.def.binary == binary).map(|f| f.def.env.clone()).unwrap_or_default()
    };

    let mut cold_starts = vec![
        cold_start("hello-world (lambda_runtime)", &[hello], &Default::default(), &emulator.endpoint, runs).await?,
    ];
    // Like for like with the hello-world: no AWS call during init (the init
    // table below shows what the warm-up adds, and saves the first event).
    let no_warm_up = |f: &str| {
        let mut env = env_of(f);
        env.insert(custops::env::WARM_UP.into(), String::new());
        env
    };
    for f in &functions {
        cold_starts.push(
            cold_start(f, &[lambda_dir.join(f).join("bootstrap")], &no_warm_up(f), &emulator.endpoint, runs).await?,
        );
    }
    cold_starts.push(
        cold_start("python boto3 handler", &[python, boto3], &Default::default(), &emulator.endpoint, runs.min(5))
            .await?,
    );

    let mut sizes = Vec::new();
    for f in &functions {
        let dir = lambda_dir.join(f);
        sizes.push((
            f.clone(),
            std::fs::metadata(dir.join("bootstrap"))?.len(),
            std::fs::metadata(dir.join("bootstrap.zip"))?.len(),
        ));
    }

    let callers = NewCallers(Default::default());
    let binary = lambda_dir.join("missed-call").join("bootstrap");
    let upstream = emulator.endpoint.trim_start_matches("http://").to_owned();

    // Init, with and without the warm-up: directly against the emulator, and
    // with latency on every call (a new connection's first call pays a
    // TCP + TLS 1.3 handshake more: two round trips).
    let mut init = Vec::new();
    for delay in [Span::ZERO, latency] {
        let proxy = crate::latency_proxy::LatencyProxy::with_handshake(&upstream, delay, delay * 2).await?;
        for warm_up in ["", "dynamodb,sns"] {
            let mut env = env_of("missed-call");
            env.insert(custops::env::WARM_UP.into(), warm_up.into());
            let mut samples: Vec<[f64; 7]> = Vec::new();
            for run in 0..runs {
                let p = BootstrapProcess::spawn(&binary, "missed-call", &env, Some(&proxy.endpoint)).await?;
                let exec_to_next = millis(p.ready(Span::from_secs(30)).await?);
                let first = millis(invoke_batch(&p, callers.calls(&format!("i{run}a"), 1)).await?);
                let second = millis(invoke_batch(&p, callers.calls(&format!("i{run}b"), 1)).await?);
                let logged = init_line(&p.logs()).ok_or("missed-call logged no init line")?;
                let f = |k: &str| logged["fields"][k].as_f64().unwrap_or(f64::NAN);
                samples.push([exec_to_next, f("config_ms"), f("build_ms"), f("warm_ms"), f("total_ms"), first, second]);
            }
            let med = |i: usize| median(samples.iter().map(|s| s[i]).collect()).0;
            init.push(InitRow {
                warm_up: if warm_up.is_empty() { "none".into() } else { warm_up.into() },
                latency_ms: delay.as_millis() as u64,
                runs,
                exec_to_next_ms: med(0),
                config_ms: med(1),
                build_ms: med(2),
                warm_ms: med(3),
                init_total_ms: med(4),
                first_event_ms: med(5),
                second_event_ms: med(6),
            });
        }
    }

    // Peak memory of each function after a batch of 10 of its own events
    // (in registry order: deal-delivered's buyers are win-back's lapsed).
    let mut peak_rss = Vec::new();
    for f in &functions {
        let p = BootstrapProcess::spawn(&lambda_dir.join(f).join("bootstrap"), f, &env_of(f), Some(&emulator.endpoint))
            .await?;
        p.ready(Span::from_secs(10)).await?;
        invoke(&p, sample_payload(f, &callers)?).await.map_err(|e| format!("{f}: {e}"))?;
        peak_rss.push((f.clone(), p.peak_rss().unwrap_or_default()));
    }

    // Concurrency: every AWS call delayed; ten messages should cost about one.
    // First against the stand-in, which answers as the emulator did, each call
    // after exactly the latency; then against the emulator, whose own work is serial.
    let mut concurrency = Vec::new();
    let mut stand_in_answered = Vec::new();
    let missed_call_env = env_of("missed-call");
    let run = |endpoint: String, warm: Vec<String>, batches: Vec<(Vec<String>, Vec<String>)>| {
        let (binary, env) = (&binary, &missed_call_env);
        async move { batch_medians(binary, env, &endpoint, &warm, &batches).await }
    };
    let batches: Vec<(Vec<String>, Vec<String>)> =
        (0..3).map(|rep| (callers.calls(&format!("s{rep}o"), 1), callers.calls(&format!("s{rep}t"), 10))).collect();
    let warm = callers.calls("s-warm", 1);
    let stand_in = crate::stand_in::StandIn::start(&emulator.endpoint).await?;
    // The recording run (through to the emulator), then the same run replayed.
    run(stand_in.endpoint.clone(), warm.clone(), batches.clone()).await?;
    for delay in [Span::ZERO, latency, Span::from_millis(100)] {
        stand_in.replay(delay);
        let (one, ten) = run(stand_in.endpoint.clone(), warm.clone(), batches.clone()).await?;
        stand_in_answered.push(stand_in.answered());
        concurrency.push(Concurrency {
            against: "stand-in".into(),
            latency_ms: delay.as_millis() as u64,
            one_message_ms: one,
            ten_messages_ms: ten,
        });
    }
    for delay in [Span::ZERO, latency, Span::from_millis(100)] {
        let proxy = crate::latency_proxy::LatencyProxy::start(&upstream, delay).await?;
        // New callers each time: the emulator keeps what earlier runs wrote.
        let tag = delay.as_millis();
        let batches = (0..3)
            .map(|rep| (callers.calls(&format!("o{tag}r{rep}"), 1), callers.calls(&format!("t{tag}r{rep}"), 10)))
            .collect();
        let (one, ten) = run(proxy.endpoint.clone(), callers.calls(&format!("w{tag}"), 1), batches).await?;
        concurrency.push(Concurrency {
            against: "emulator".into(),
            latency_ms: tag as u64,
            one_message_ms: one,
            ten_messages_ms: ten,
        });
    }
    emulator.stop().await;
    Ok(RuntimeReport { cold_starts, init, sizes, peak_rss, concurrency, stand_in_answered })
}

/// Starts missed-call against `endpoint`, sends `warm`, then each (batch of
/// 1, batch of 10) in turn; the median wall times of the ones and of the tens.
async fn batch_medians(
    binary: &std::path::Path,
    env: &std::collections::HashMap<String, String>,
    endpoint: &str,
    warm: &[String],
    batches: &[(Vec<String>, Vec<String>)],
) -> Result<(f64, f64), BoxError> {
    let p = custops_cli::runtime_api::BootstrapProcess::spawn(binary, "missed-call", env, Some(endpoint)).await?;
    p.ready(std::time::Duration::from_secs(10)).await?;
    invoke_batch(&p, warm.to_vec()).await?;
    let (mut ones, mut tens) = (Vec::new(), Vec::new());
    for (one, ten) in batches {
        ones.push(millis(invoke_batch(&p, one.clone()).await?));
        tens.push(millis(invoke_batch(&p, ten.clone()).await?));
    }
    Ok((median(ones).0, median(tens).0))
}

/// The function's `init` log line (see `custops::function::cold_start`),
/// written before its first `next`.
fn init_line(logs: &[String]) -> Option<Value> {
    logs.iter().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| v["fields"]["message"] == "init")
}

/// What a function is given to measure its memory: a batch of 10 of its own
/// events, each for a different customer (a scheduled function: its tick).
fn sample_payload(function: &str, callers: &NewCallers) -> Result<Value, BoxError> {
    let at: DateTime<Utc> = "2026-11-23T16:00:00Z".parse()?;
    let long_ago = Utc::now() - Duration::days(430);
    let phone = |i: usize| format!("+1512555{:04}", 2000 + i);
    let bodies: Vec<String> = match function {
        "missed-call" => callers.calls("rss", 10),
        "vehicle-ready" => (0..10)
            .map(|i| ro(&format!("rss-ro-{i}"), "parts_arrived", at).replace("+15125550142", &phone(i)))
            .map(|b| b.replace("RO-48213", "RO-RSS"))
            .collect(),
        "inbound-sms" => (0..10)
            .map(|i| {
                json!({"originationNumber": phone(10 + i), "destinationNumber": "+15125550100",
                       "messageKeyword": "KEYWORD", "messageBody": "Is my car ready yet?",
                       "inboundMessageId": format!("rss-in-{i}"), "previousPublishedMessageId": "p"})
                .to_string()
            })
            .collect(),
        "declined-service" => (0..10)
            .map(|i| {
                ro_closed(&format!("rss-close-{i}"), "RO-RSS2", at, declined_lines())
                    .replace("+15125550142", &phone(20 + i))
            })
            .collect(),
        "appointments" => {
            (0..10).map(|i| no_show(&format!("rss-ns-{i}"), &format!("A-R{i}"), &phone(30 + i), at)).collect()
        }
        "deal-delivered" => {
            (0..10).map(|i| delivered(&format!("rss-deal-{i}"), &format!("D-R{i}"), &phone(40 + i), long_ago)).collect()
        }
        "win-back" => (0..10).map(|i| lapsed(&phone(40 + i), long_ago)).collect(),
        "scheduler" | "lapse-sweep" | "daily-report" => return Ok(scheduled_tick()),
        "front-door" => return Ok(http_api_request()),
        other => return Err(format!("no sample events for {other}").into()),
    };
    Ok(sqs_event(&bodies))
}

/// One request through API Gateway's HTTP API (payload 2.0), as Lambda
/// passes it: a connector's POST without a signature (answered 403 after the
/// store's secret is looked up: the cold start and one Secrets Manager call).
fn http_api_request() -> Value {
    json!({
        "version": "2.0", "routeKey": "POST /hooks/{store_id}/events",
        "rawPath": "/hooks/northside-chevy/events", "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com",
                    "x-forwarded-proto": "https"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123", "requestId": "bench-1", "routeKey": "POST /hooks/{store_id}/events",
            "stage": "$default", "time": "23/Nov/2026:16:05:00 +0000", "timeEpoch": 1795449900000u64,
            "http": {"method": "POST", "path": "/hooks/northside-chevy/events", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "custops-bench"}
        },
        "pathParameters": {"store_id": "northside-chevy"},
        "body": "{}", "isBase64Encoded": false
    })
}

/// EventBridge's scheduled event, as Lambda passes it.
fn scheduled_tick() -> Value {
    json!({"version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
           "account": "123456789012", "time": Utc::now(), "region": "us-east-1", "resources": [], "detail": {}})
}

/// Sends one payload to a running function; its wall time if nothing in it failed.
async fn invoke(
    p: &custops_cli::runtime_api::BootstrapProcess,
    payload: Value,
) -> Result<std::time::Duration, BoxError> {
    let payload = serde_json::to_vec(&payload)?;
    let started = std::time::Instant::now();
    match p.api.invoke(payload, std::time::Duration::from_secs(60)).await? {
        custops_cli::runtime_api::Outcome::Response(body)
            if !String::from_utf8_lossy(&body).contains("itemIdentifier") =>
        {
            Ok(started.elapsed())
        }
        other => Err(format!("the invocation failed: {other:?}").into()),
    }
}

/// Sends one SQS batch to a running function; its wall time if no message failed.
async fn invoke_batch(
    p: &custops_cli::runtime_api::BootstrapProcess,
    bodies: Vec<String>,
) -> Result<std::time::Duration, BoxError> {
    invoke(p, sqs_event(&bodies)).await
}

/// The runtime report as Markdown.
pub fn runtime_tables(r: &RuntimeReport) -> String {
    let hello = r.cold_starts.first().map(|c| c.median_ms).unwrap_or(f64::NAN);
    let python = r.cold_starts.last().map(|c| c.median_ms).unwrap_or(f64::NAN);
    let mut out = String::from("### Cold start: exec to the first Runtime API `next` (no warm-up)\n\n");
    out.push_str(&table(
        &[
            ("program", false),
            ("median ms", true),
            ("min", true),
            ("max", true),
            ("runs", true),
            ("vs hello-world", true),
            ("faster than Python", true),
        ],
        r.cold_starts.iter().map(|c| {
            vec![
                c.program.clone(),
                format!("{:.2}", c.median_ms),
                format!("{:.2}", c.min_ms),
                format!("{:.2}", c.max_ms),
                c.runs.to_string(),
                format!("{:.1}x", c.median_ms / hello),
                format!("{:.0}x", python / c.median_ms),
            ]
        }),
    ));
    out.push_str("\n### Init (missed-call): where the cold start goes, with and without the warm-up, medians\n\n");
    let ms = |v: f64| format!("{v:.2} ms");
    out.push_str(&table(
        &[
            ("latency per AWS call", true),
            ("WARM_UP", false),
            ("exec to `next`", true),
            ("aws-config", true),
            ("clients etc.", true),
            ("warm-up", true),
            ("init total", true),
            ("first event", true),
            ("second event", true),
        ],
        r.init.iter().map(|i| {
            vec![
                format!("{} ms", i.latency_ms),
                i.warm_up.clone(),
                ms(i.exec_to_next_ms),
                ms(i.config_ms),
                ms(i.build_ms),
                ms(i.warm_ms),
                ms(i.init_total_ms),
                format!("{:.1} ms", i.first_event_ms),
                format!("{:.1} ms", i.second_event_ms),
            ]
        }),
    ));
    out.push_str("\n### Size\n\n");
    let mb = |bytes: u64| format!("{:.2} MB", bytes as f64 / 1e6);
    out.push_str(&table(
        &[("function", false), ("bootstrap", true), ("bootstrap.zip", true)],
        r.sizes.iter().map(|(f, b, z)| vec![f.clone(), mb(*b), mb(*z)]),
    ));
    out.push_str("\n### Memory: peak RSS after a batch of 10 of the function's own events (scheduled: one run)\n\n");
    out.push_str(&table(
        &[("function", false), ("peak RSS", true)],
        r.peak_rss.iter().map(|(f, bytes)| vec![f.clone(), format!("{:.1} MB", *bytes as f64 / 1e6)]),
    ));
    out.push_str("\n### Concurrency (missed-call): a batch of 10 beside a batch of 1, median of 3\n\n");
    out.push_str(&table(
        &[
            ("AWS answered by", false),
            ("latency per AWS call", true),
            ("batch of 1", true),
            ("batch of 10", true),
            ("wall-time ratio", true),
        ],
        r.concurrency.iter().map(|c| {
            vec![
                c.against.clone(),
                format!("{} ms", c.latency_ms),
                format!("{:.0} ms", c.one_message_ms),
                format!("{:.0} ms", c.ten_messages_ms),
                format!("{:.2}x", c.ten_messages_ms / c.one_message_ms),
            ]
        }),
    ));
    let answered = r
        .stand_in_answered
        .iter()
        .fold([0, 0, 0], |[a, b, c], x| [a + x.same_request, b + x.same_operation, c + x.passed_through]);
    out.push_str(&format!(
        "\nThe stand-in answered {} requests with the emulator's answer to the same request, {} with its answer to the same operation, and passed {} through.\n",
        answered[0], answered[1], answered[2]
    ));
    out
}

/// Events per second through the whole local pipeline: published to the SNS
/// topics, fanned out to the queues, handled by the function code with
/// Lambda's SQS semantics, until every queue is empty.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub events: usize,
    pub seconds: f64,
    pub events_per_second: f64,
    pub texts_sent: usize,
}

/// The pipeline figure as Markdown.
pub fn pipeline_table(p: &Pipeline) -> String {
    let mut out = String::from("### Whole local pipeline\n\n");
    out.push_str(&table(
        &[("events", true), ("seconds", true), ("events/s", true), ("texts sent", true)],
        [vec![
            p.events.to_string(),
            format!("{:.1}", p.seconds),
            format!("{:.1}", p.events_per_second),
            p.texts_sent.to_string(),
        ]],
    ));
    out
}

pub async fn pipeline(events: usize) -> Result<Pipeline, BoxError> {
    use futures::stream::{self, TryStreamExt};
    let emulator = Emulator::start(0).await?;
    let t0: DateTime<Utc> = "2026-11-23T16:00:00Z".parse()?;
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(t0)), LocalOptions::default()).await?;
    stack.table().put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    // Mixed: 60% missed calls from 500 callers, 40% status changes on 300 repair orders.
    let bodies: Vec<String> = (0..events)
        .map(|i| {
            let at = t0 + Duration::seconds(i as i64);
            if i % 5 < 3 {
                call(&format!("p-c{i}"), &format!("k{i}"), &format!("+1512555{:04}", 2000 + i % 500), at)
            } else {
                let status = ["checked_in", "in_progress", "parts_arrived", "ready_for_pickup"][i % 4];
                ro(&format!("p-d{i}"), status, at)
                    .replace("RO-48213", &format!("RO-{}", 60000 + i % 300))
                    .replace("+15125550142", &format!("+1512556{:04}", 3000 + i % 300))
            }
        })
        .collect();
    let before = custops_cli::emulator::sent_sms(&emulator.endpoint).await?.len();
    let started = std::time::Instant::now();
    // Publish from a task while the pollers run, as carriers and Lambda's event
    // sources would, at most WINDOW events ahead of the functions: the queues
    // stay short, as Lambda's pollers keep them, instead of the whole run
    // waiting in them (moto's ReceiveMessage looks at every message queued).
    const WINDOW: usize = 400;
    let handled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sns = stack.clients.sns.clone();
    let arns: Vec<String> = ["carrier-events", "dms-events"].iter().map(|t| stack.topic_arn(t)).collect();
    let publisher = {
        let handled = handled.clone();
        tokio::spawn(async move {
            let mut published = 0usize;
            for chunk in bodies.chunks(WINDOW / 4) {
                while published.saturating_sub(handled.load(std::sync::atomic::Ordering::SeqCst)) >= WINDOW {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                stream::iter(chunk.iter().map(Ok::<_, BoxError>))
                    .try_for_each_concurrent(16, |b| {
                        let (sns, arns) = (&sns, &arns);
                        async move {
                            let topic = if b.contains("\"call.missed\"") { &arns[0] } else { &arns[1] };
                            custops_cli::commands::publish_to(
                                sns,
                                topic,
                                b,
                                serde_json::from_str::<Value>(b)?["event_type"].as_str(),
                            )
                            .await
                        }
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                published += chunk.len();
            }
            Ok::<_, String>(())
        })
    };
    while !publisher.is_finished() {
        let n = stack.pump(0).await?;
        handled.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        if n == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    publisher.await??;
    stack.run_until_idle(std::time::Duration::from_secs(3600)).await?;
    let seconds = started.elapsed().as_secs_f64();
    let texts_sent = custops_cli::emulator::sent_sms(&emulator.endpoint).await?.len() - before;
    emulator.stop().await;
    Ok(Pipeline { events, seconds, events_per_second: events as f64 / seconds, texts_sent })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_markdown_with_numbers_right_aligned() {
        let t = table(&[("name", false), ("n", true)], [vec!["a".into(), "1".into()], vec!["b".into(), "22".into()]]);
        assert_eq!(t, "| name | n |\n| --- | ---: |\n| a | 1 |\n| b | 22 |\n");
    }
}

/// The lapse sweep at one table size.
#[derive(Debug, Clone, Serialize)]
pub struct SweepScale {
    pub customers: usize,
    /// Lapsed since the last sweep: what it must find.
    pub newly_lapsed: usize,
    /// Lapsed and contacted already: what it must not read.
    pub contacted: usize,
    /// Items the sweep's Queries returned (DynamoDB bills these).
    pub read: usize,
    pub handed_off: usize,
    /// AWS calls of the run.
    pub calls: usize,
    /// The run's wall time against the emulator.
    pub sweep_ms: f64,
    pub seed_seconds: f64,
    /// How much this process's peak memory grew during the sweep (it holds
    /// one page of the lapse index at a time).
    pub peak_rss_growth: u64,
}

/// Seeds `customers` profiles at one store (`lapsed_percent`% lapsed since
/// the last sweep, 5% lapsed and contacted already, the rest seen within the
/// year; at 100%, every one lapsed: the first sweep after a bulk load) and
/// runs the sweep once.
pub async fn sweep_scale(customers: usize, lapsed_percent: usize) -> Result<SweepScale, BoxError> {
    use futures::stream::{self, TryStreamExt};
    let emulator = Emulator::start(0).await?;
    let now: DateTime<Utc> = "2026-11-25T15:00:00Z".parse()?;
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(now)), LocalOptions::default()).await?;
    let table = stack.table();
    table.put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    let (mut newly_lapsed, mut contacted) = (0, 0);
    let mut profiles = Vec::with_capacity(customers);
    for i in 0..customers {
        let phone = custops::Phone::parse(&format!("+1512{}", 2_000_000 + i))?;
        let mut c = custops::model::Customer::lead("northside-chevy", phone, now - Duration::days(800));
        c.first_name = Some("Pat".into());
        let (visit, was_contacted) = match i % 100 {
            n if n < lapsed_percent => (now - Duration::days(400 + (i % 20) as i64), false),
            n if n < lapsed_percent + 5 => (now - Duration::days(420 + (i % 90) as i64), true),
            _ => (now - Duration::days((i % 360) as i64), false),
        };
        c.last_visit_at = Some(visit);
        if was_contacted {
            c.lapse_contacted = Some(custops::model::LapseContact { visit_at: visit, at: visit + Duration::days(400) });
            contacted += 1;
        } else if visit < now - Duration::days(396) {
            newly_lapsed += 1;
        }
        profiles.push(c);
    }
    let started = std::time::Instant::now();
    stream::iter(profiles.chunks(500).map(Ok::<_, BoxError>))
        .try_for_each_concurrent(4, |chunk| {
            let table = table.clone();
            async move { Ok(table.import_customers(chunk).await?) }
        })
        .await?;
    let seed_seconds = started.elapsed().as_secs_f64();

    // The sweep's own code, as the template configures it, but with patient
    // clients: moto answers a GSI Query by walking every item of the table
    // in Python (seconds at 100,000), where DynamoDB reads only the part of
    // the index asked for; the function's 2 s attempt timeout is for DynamoDB.
    let env = stack.functions.iter().find(|f| f.def.binary == "lapse-sweep").ok_or("no lapse-sweep")?.def.env.clone();
    let config = custops::aws::local(&emulator.endpoint).await;
    let patient = std::time::Duration::from_secs(120);
    let clients = custops::aws::Clients::with_timeouts(&config, patient, patient);
    let core = custops::Core::with_clients(&env, &clients, Arc::new(PinnedClock::at(now)))?;
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    drop(profiles);
    reset_peak_rss();
    let before = peak_rss().unwrap_or_default();
    let started = std::time::Instant::now();
    let report =
        serde_json::to_value(<lapse_sweep::LapseSweep as custops::function::ScheduledFunction>::run(&core).await?)?;
    let sweep_ms = millis(started.elapsed());
    let peak_rss_growth = peak_rss().unwrap_or_default().saturating_sub(before);
    let calls = recorder.calls().await?.len();
    emulator.stop().await;
    let count = |k: &str| report[k].as_u64().unwrap_or_default() as usize;
    Ok(SweepScale {
        customers,
        newly_lapsed,
        contacted,
        read: count("read"),
        handed_off: count("handed_off"),
        calls,
        sweep_ms,
        seed_seconds,
        peak_rss_growth,
    })
}

/// The sweep's scaling as Markdown.
pub fn sweep_table(rows: &[SweepScale]) -> String {
    let mut out = String::from("### Lapse sweep: items read grow with the newly lapsed, not with the customers\n\n");
    out.push_str(&table(
        &[
            ("customers", true),
            ("newly lapsed", true),
            ("lapsed, contacted", true),
            ("items read", true),
            ("read / newly lapsed", true),
            ("handed off", true),
            ("AWS calls", true),
            ("peak memory growth", true),
            ("sweep (emulator)", true),
        ],
        rows.iter().map(|r| {
            vec![
                r.customers.to_string(),
                r.newly_lapsed.to_string(),
                r.contacted.to_string(),
                r.read.to_string(),
                format!("{:.2}", r.read as f64 / r.newly_lapsed.max(1) as f64),
                r.handed_off.to_string(),
                r.calls.to_string(),
                format!("{:.2} MB", r.peak_rss_growth as f64 / 1e6),
                format!("{:.0} ms", r.sweep_ms),
            ]
        }),
    ));
    out
}

/// This process's peak resident memory since [`reset_peak_rss`] (Linux's
/// `VmHWM`), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Starts a new peak-memory measure: the peak is set back to what is resident now.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// One event for a customer with a long history, at one history size.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryScale {
    /// Closed repair orders on the record (history, not state).
    pub closed_ros: usize,
    /// What the trigger's state Query returned and what DynamoDB bills for it.
    pub state: custops::table::ReadCost,
    /// AWS calls of the event.
    pub calls: usize,
    /// The event's handling, in-process against the emulator.
    pub event_ms: f64,
    /// How much this process's peak memory grew while it handled the event.
    pub peak_rss_growth: u64,
}

/// Seeds a customer with `closed_ros` closed repair orders (ten years of a
/// fleet), then handles one status event for a new RO through
/// `vehicle-ready`, as the local stack runs it: what the state read returns,
/// costs and holds does not grow with the history.
pub async fn history_scale(closed_ros: usize) -> Result<HistoryScale, BoxError> {
    let emulator = Emulator::start(0).await?;
    let now: DateTime<Utc> = "2026-11-25T15:00:00Z".parse()?;
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(now)), LocalOptions::default()).await?;
    let table = stack.table();
    table.put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    let maria = custops::CustomerId::new("northside-chevy", custops::Phone::parse("+15125550142")?);
    let vehicle: custops::event::Vehicle = serde_json::from_value(
        json!({"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"}),
    )?;
    let ros: Vec<custops::model::RepairOrder> = (0..closed_ros)
        .map(|i| {
            let closed = now - Duration::days(1 + (i % 3650) as i64);
            custops::model::RepairOrder {
                ro_number: format!("RO-H{i}"),
                status: "closed".into(),
                status_at: closed,
                vehicle: vehicle.clone(),
                advisor: custops::event::Person { id: "adv-7".into(), name: "Dana Whitfield".into() },
                amount_due_cents: Some(48_735),
                closed_at: Some(closed),
                texted: vec![],
                performed: vec!["LOF-SYN".into(), "TIRE-ROT".into()],
                mileage: Some(38_412),
            }
        })
        .collect();
    table.import_records(&maria, &ros).await?;
    let mut profile =
        custops::model::Customer::lead("northside-chevy", maria.phone.clone(), now - Duration::days(3650));
    profile.dms_id = Some("C1001".into());
    profile.first_name = Some("Maria".into());
    table.import_customers(&[profile]).await?;
    // The steady state: a warm store cache (another customer's event first).
    let mut warm: Value = serde_json::from_str(&ro("h-0", "checked_in", now - Duration::minutes(2)))?;
    warm["data"]["customer"]["phone"] = json!("+15125550177");
    stack.invoke("vehicle-ready", &[warm.to_string()]).await?;
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    reset_peak_rss();
    let before = peak_rss().unwrap_or_default();
    let started = std::time::Instant::now();
    let response = stack.invoke("vehicle-ready", &[ro("h-1", "ready_for_pickup", now - Duration::minutes(1))]).await?;
    let event_ms = millis(started.elapsed());
    let peak_rss_growth = peak_rss().unwrap_or_default().saturating_sub(before);
    let calls = recorder.calls().await?.len();
    if !response.batch_item_failures.is_empty() {
        return Err("the event failed".into());
    }
    let state = table.state_read_cost(&maria).await?;
    emulator.stop().await;
    Ok(HistoryScale { closed_ros, state, calls, event_ms, peak_rss_growth })
}

/// The history scaling as Markdown.
pub fn history_table(rows: &[HistoryScale]) -> String {
    let mut out = String::from(
        "### A customer's history: what one event reads stays flat (closed ROs are history, not state)\n\n",
    );
    out.push_str(&table(
        &[
            ("closed ROs on the record", true),
            ("state items read", true),
            ("state bytes", true),
            ("read units", true),
            ("AWS calls", true),
            ("peak memory growth", true),
            ("event (emulator)", true),
        ],
        rows.iter().map(|r| {
            vec![
                r.closed_ros.to_string(),
                r.state.items.to_string(),
                r.state.bytes.to_string(),
                r.state.read_units.to_string(),
                r.calls.to_string(),
                format!("{:.2} MB", r.peak_rss_growth as f64 / 1e6),
                format!("{:.0} ms", r.event_ms),
            ]
        }),
    ));
    out
}

/// The scheduler working down a backlog.
#[derive(Debug, Clone, Serialize)]
pub struct Backlog {
    pub texts: usize,
    pub stores: usize,
    /// Scheduler runs until nothing was due.
    pub runs: usize,
    pub sent: usize,
    pub unknown: usize,
    pub failed: usize,
    /// The longest run, and whether any stopped at its budget.
    pub longest_run_ms: f64,
    pub any_left_for_next_run: bool,
    /// Texts published more than once (SNS's record of what went out).
    pub published_twice: usize,
}

/// `texts` transactional texts across `stores` stores, all written at 21:30
/// and waiting for 08:00; then the scheduler, run after run as EventBridge
/// would, until nothing is due: every text released once, no run past its
/// deadline, none `unknown`.
pub async fn scheduler_backlog(texts: usize, stores: usize) -> Result<Backlog, BoxError> {
    use custops::outbound::{plan, Plan, TextRequest};
    use custops::text::MessageClass;
    let emulator = Emulator::start(0).await?;
    // Monday 21:30 in Chicago: everything written now waits for 08:00.
    let written: DateTime<Utc> = "2026-11-24T03:30:00Z".parse()?;
    let clock = PinnedClock::at(written);
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default()).await?;
    let table = stack.table();
    let mut configs = Vec::new();
    for i in 0..stores {
        let mut store: Value = serde_json::from_str(STORE)?;
        store["store_id"] = json!(format!("store-{i:03}"));
        store["name"] = json!(format!("Store {i:03}"));
        store["sms_number"] = json!(format!("+1737555{:04}", 1000 + i));
        let store = custops::StoreConfig::from_json(&store.to_string())?;
        table.put_store(&store).await?;
        configs.push(store);
    }
    let mut rows = Vec::with_capacity(texts);
    for i in 0..texts {
        let store = &configs[i % stores];
        let to = custops::Phone::parse(&format!("+1512{}", 3_000_000 + i))?;
        let request = TextRequest::new(
            store,
            &to,
            MessageClass::Transactional,
            format!("{}: your vehicle is ready ({i}).", store.name),
            format!("backlog-{i}"),
            "bench",
            "backlog",
        );
        match plan(request, &Default::default(), &Default::default(), written) {
            Plan::Defer(t) => rows.push(t),
            other => return Err(format!("text {i} was not deferred: {other:?}").into()),
        }
    }
    table.import_entities(&rows).await?;
    drop(rows);
    let before = custops_cli::emulator::sent_sms(&emulator.endpoint).await?.len();

    clock.set("2026-11-24T14:00:00Z".parse()?);
    let mut backlog = Backlog {
        texts,
        stores,
        runs: 0,
        sent: 0,
        unknown: 0,
        failed: 0,
        longest_run_ms: 0.0,
        any_left_for_next_run: false,
        published_twice: 0,
    };
    loop {
        let started = std::time::Instant::now();
        let report = stack.fire("scheduler").await?.unwrap_or(Value::Null);
        backlog.longest_run_ms = backlog.longest_run_ms.max(millis(started.elapsed()));
        backlog.runs += 1;
        let n = |k: &str| report[k].as_u64().unwrap_or_default() as usize;
        backlog.sent += n("sent");
        backlog.unknown += n("unknown");
        backlog.failed += n("failed") + n("failed_texts");
        backlog.any_left_for_next_run |= report["left_for_next_run"].as_bool().unwrap_or(false);
        if n("due") == 0 || backlog.runs >= 50 {
            break;
        }
        // The next run, five minutes later.
        clock.advance(Duration::minutes(5));
    }
    let sms = custops_cli::emulator::sent_sms(&emulator.endpoint).await?;
    let mut bodies: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for m in &sms[before..] {
        *bodies.entry(m.message.as_str()).or_default() += 1;
    }
    backlog.published_twice = bodies.values().filter(|n| **n > 1).count();
    emulator.stop().await;
    Ok(backlog)
}

/// The backlog run as Markdown.
pub fn backlog_table(b: &Backlog) -> String {
    let mut out = String::from("### Scheduler: a backlog of due texts across stores, worked down run by run\n\n");
    out.push_str(&table(
        &[
            ("due texts", true),
            ("stores", true),
            ("runs", true),
            ("sent", true),
            ("unknown", true),
            ("failed", true),
            ("published twice", true),
            ("longest run (emulator)", true),
            ("a run stopped at its 40 s budget", false),
        ],
        [vec![
            b.texts.to_string(),
            b.stores.to_string(),
            b.runs.to_string(),
            b.sent.to_string(),
            b.unknown.to_string(),
            b.failed.to_string(),
            b.published_twice.to_string(),
            format!("{:.1} s", b.longest_run_ms / 1000.0),
            if b.any_left_for_next_run { "yes".into() } else { "no".into() },
        ]],
    ));
    out
}

/// `custops import` at scale: generated rows of the section 12 CSV, and what
/// the store's records say afterwards.
#[derive(Debug, Clone, Serialize)]
pub struct ImportScale {
    pub rows: usize,
    pub imported: usize,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// The bench's peak RSS over the first tenth of the rows and over all of them:
    /// flat when the file is streamed.
    pub peak_rss_first_tenth: u64,
    pub peak_rss_all: u64,
    /// Customers whose last visit is over `lapse_months` ago, as generated, and as the sweep found them.
    pub lapsed_expected: usize,
    pub lapsed_found: usize,
    /// Open declined dollars, as generated, and as the report reads them.
    pub open_declined_expected: i64,
    pub open_declined_found: i64,
}

/// Imports `rows` generated CSV rows (one customer each; a quarter
/// deliveries; a third of the ROs with a declined line) into a fresh stack,
/// then runs the lapse sweep and reads the report's open declined work.
pub async fn import_scale(rows: usize) -> Result<ImportScale, BoxError> {
    use std::io::Write;
    let now: DateTime<Utc> = "2026-11-25T15:00:00Z".parse()?;
    let store = custops::StoreConfig::from_json(STORE)?;
    let cutoff = store.lapse_cutoff(now);
    let file = std::env::temp_dir().join(format!("custops-bench-import-{}.csv", std::process::id()));
    let (mut lapsed_expected, mut open_declined_expected) = (0, 0i64);
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        writeln!(out, "kind,id,at,dms_id,first_name,last_name,phone,email,marketing_consent,vin,year,make,model,advisor_id,advisor_name,performed,declined")?;
        for i in 0..rows {
            // Spread over ten years back from a month ago.
            let at = now - Duration::days(30 + (i as i64 * 7919) % 3650);
            let day = store.local(at).date_naive();
            let noon = custops::report::day_bounds(&store, day).0 + Duration::hours(12);
            if noon < cutoff {
                lapsed_expected += 1;
            }
            let phone = format!("+1512{:07}", 3_000_000 + i);
            if i % 4 == 0 {
                writeln!(out, "deal_delivered,D-{i},{day},C{i},Pat,Buyer{i},{phone},,yes,VIN{i},2020,Chevrolet,Tahoe,sp-1,Sam Seller,,")?;
            } else {
                let declined = if i % 3 == 0 {
                    open_declined_expected += 38_000;
                    "BRK:Front brake pads:38000"
                } else {
                    ""
                };
                writeln!(out, "ro_closed,RO-{i},{day},C{i},Pat,Owner{i},{phone},,yes,VIN{i},2018,Chevrolet,Malibu,adv-1,Dana Whitfield,OIL,{declined}")?;
            }
        }
    }
    let emulator = Emulator::start(0).await?;
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(now)), LocalOptions::default()).await?;
    stack.table().put_store(&store).await?;
    let target =
        custops_cli::commands::Target::patient(Some(&emulator.endpoint), "custops", std::time::Duration::from_secs(60))
            .await?;
    reset_peak_rss();
    let first_tenth = std::sync::atomic::AtomicU64::new(0);
    let started = std::time::Instant::now();
    let (counts, bad) =
        custops_cli::import::import(&target, "northside-chevy", &file, Arc::new(PinnedClock::at(now)), |done| {
            if done == rows / 10 {
                first_tenth.store(peak_rss().unwrap_or_default(), std::sync::atomic::Ordering::Relaxed);
            }
        })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_all = peak_rss().unwrap_or_default();
    std::fs::remove_file(&file).ok();
    if !bad.is_empty() {
        return Err(
            format!("{} generated rows refused, first: line {}: {}", bad.len(), bad[0].line, bad[0].reason).into()
        );
    }
    // The sweep, with patient clients (moto walks the whole index in Python).
    let env = stack.functions.iter().find(|f| f.def.binary == "lapse-sweep").ok_or("no lapse-sweep")?.def.env.clone();
    let config = custops::aws::local(&emulator.endpoint).await;
    let patient = std::time::Duration::from_secs(300);
    let clients = custops::aws::Clients::with_timeouts(&config, patient, patient);
    let core = custops::Core::with_clients(&env, &clients, Arc::new(PinnedClock::at(now)))?;
    let report =
        serde_json::to_value(<lapse_sweep::LapseSweep as custops::function::ScheduledFunction>::run(&core).await?)?;
    let open_declined_found = target.table.open_declined_cents("northside-chevy").await?;
    emulator.stop().await;
    Ok(ImportScale {
        rows,
        imported: counts.imported,
        seconds,
        rows_per_second: rows as f64 / seconds.max(1e-9),
        peak_rss_first_tenth: first_tenth.into_inner(),
        peak_rss_all,
        lapsed_expected,
        lapsed_found: report["handed_off"].as_u64().unwrap_or_default() as usize,
        open_declined_expected,
        open_declined_found,
    })
}

/// The import's scaling as Markdown.
pub fn import_table(rows: &[ImportScale]) -> String {
    let mut out = String::from(
        "### `custops import`: rows per second, flat memory, and what the sweep and the report then read\n\n",
    );
    out.push_str("| rows | imported | time | rows/s | peak RSS after a tenth | peak RSS at the end | lapsed (generated / swept) | open declined (generated / report) |\n");
    out.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} s | {:.0} | {:.1} MB | {:.1} MB | {} / {} | {} / {} |\n",
            r.rows,
            r.imported,
            r.seconds,
            r.rows_per_second,
            r.peak_rss_first_tenth as f64 / 1e6,
            r.peak_rss_all as f64 / 1e6,
            r.lapsed_expected,
            r.lapsed_found,
            custops::text::dollars(r.open_declined_expected),
            custops::text::dollars(r.open_declined_found)
        ));
    }
    out
}
