//! AWS API calls per event: each function handles one event of its kind
//! (and the promises: a lead, a reply, a receipt...) while the emulator
//! records every call it is asked.

use super::*;

#[derive(Debug, Clone, Serialize)]
pub struct CallsRow {
    pub function: String,
    pub scenario: String,
    pub calls: usize,
    pub target: Option<usize>,
    pub operations: Vec<String>,
}

pub(crate) const STORE: &str = r#"{"store_id":"northside-chevy","name":"Northside Chevrolet","timezone":"America/Chicago",
  "sms_number":"+15125550100","booking_url":"https://northside.example/service",
  "hours":{"mon":["07:00","19:00"],"tue":["07:00","19:00"],"wed":["07:00","19:00"],"thu":["07:00","19:00"],
           "fri":["07:00","19:00"],"sat":["08:00","17:00"],"sun":null}}"#;

pub(crate) fn call(event_id: &str, call_id: &str, from: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "call.missed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"call_id": call_id, "from": from, "to": "+15125550100", "department": "service"}})
    .to_string()
}

pub(crate) fn ro(event_id: &str, status: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "ro.status_changed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"ro_number": "RO-48213", "status": status,
                    "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": "+15125550142"},
                    "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
                    "advisor": {"id": "adv-7", "name": "Dana Whitfield"}, "amount_due_cents": 48735}})
    .to_string()
}

pub(crate) fn ro_closed(event_id: &str, ro: &str, at: DateTime<Utc>, declined: Value) -> String {
    json!({"event_id": event_id, "event_type": "ro.closed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"ro_number": ro, "closed_at": at, "performed": ["LOF-SYN", "MPI"], "declined": declined,
                    "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": "+15125550142",
                                 "marketing_consent": true},
                    "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
                    "advisor": {"id": "adv-7", "name": "Dana Whitfield"}, "mileage": 38412}})
    .to_string()
}

pub(crate) fn delivered(event_id: &str, deal: &str, phone: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "deal.delivered", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"deal_id": deal, "delivered_at": at,
                    "customer": {"dms_id": format!("C-{deal}"), "first_name": "James", "last_name": "Okafor", "phone": phone,
                                 "marketing_consent": true},
                    "vehicle": {"vin": "1GCUDDED2TZ158204", "year": 2026, "make": "Chevrolet", "model": "Silverado 1500"},
                    "salesperson": {"id": "sp-3", "name": "Rico Alvarez"}}})
    .to_string()
}

pub(crate) fn no_show(event_id: &str, appointment: &str, phone: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "appointment.missed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"appointment_id": appointment, "at": at,
                    "customer": {"dms_id": format!("C-{appointment}"), "first_name": "Ana", "last_name": "Ruiz", "phone": phone}}})
    .to_string()
}

pub(crate) fn lapsed(phone: &str, last_visit_at: DateTime<Utc>) -> String {
    json!({"store_id": "northside-chevy", "phone": phone, "last_visit_at": last_visit_at, "lapse_months": 13})
        .to_string()
}

pub(crate) fn declined_lines() -> Value {
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

    // Section 14: Lee's Equinox was serviced six months ago with no odometer
    // reading, so it falls due today by time; the daily sweep hands Lee over
    // and win-back takes it up (a service_due task, its alert, one text).
    let served = monday - chrono::Months::new(6);
    clock.set(served + Duration::seconds(2));
    let lee = json!({"event_id": "lee-ro", "event_type": "ro.closed", "occurred_at": served,
        "store_id": "northside-chevy",
        "data": {"ro_number": "RO-39001", "closed_at": served,
                 "customer": {"dms_id": "C-LEE", "first_name": "Lee", "last_name": "Park", "phone": "+15125550178",
                              "marketing_consent": true},
                 "vehicle": {"vin": "3GNAXUEV1NL200178", "year": 2022, "make": "Chevrolet", "model": "Equinox"},
                 "advisor": {"id": "adv-4", "name": "Sam Ortiz"}, "performed": ["LOF-SYN"], "declined": []}});
    stack.invoke("declined-service", &[lee.to_string()]).await?;
    clock.set(monday + Duration::hours(2));
    let due = json!({"event_type": "vehicle.due", "at": monday + Duration::hours(2),
                     "work": {"store_id": "northside-chevy", "phone": "+15125550178", "day": monday.date_naive()}});
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    let response = stack.invoke("win-back", &[due.to_string()]).await?;
    let calls = recorder.calls().await?;
    if !response.batch_item_failures.is_empty() {
        return Err("win-back: the due vehicle failed".into());
    }
    rows.push(row(
        "win-back",
        "a customer with a vehicle falling due (service_due task and its alert, one text), handed over by the daily sweep",
        Some(5),
        calls,
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
            "one run, one store, {} lapsed customer(s) and {} with a vehicle due handed to win-back: Query (stores), Query (lapse index), SendMessageBatch, Query (due-day feed), SendMessageBatch",
            sweep["handed_off"], sweep["due_handed_off"]
        ),
        Some(5),
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
pub(crate) async fn front_door_calls(
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
pub(crate) const PROMISING: &str = r#"{"store_id":"lakeside-chevy","name":"Lakeside Chevrolet","timezone":"America/Chicago",
  "sms_number":"+15125550300","appointment_texts":true,"post_visit_check":true,
  "lead_addresses":["leads@lakeside.example"],"lead_senders":["provider.example"],"review_url":"https://g.page/r/lakeside/review",
  "hours":{"mon":["07:00","19:00"],"tue":["07:00","19:00"],"wed":["07:00","19:00"],"thu":["07:00","19:00"],
           "fri":["07:00","19:00"],"sat":["08:00","17:00"],"sun":null}}"#;

/// A DMS envelope at the promising store for `phone`.
pub(crate) fn at_lakeside(event_id: &str, event_type: &str, at: DateTime<Utc>, phone: &str, mut data: Value) -> String {
    data["customer"] =
        json!({"dms_id": format!("C-{phone}"), "first_name": "Ana", "last_name": "Ruiz", "phone": phone});
    data["vehicle"] = json!({"vin": "3GNAXUEV1NL203398", "year": 2022, "make": "Chevrolet", "model": "Equinox"});
    data["advisor"] = json!({"id": "adv-4", "name": "Sam Ortiz"});
    json!({"event_id": event_id, "event_type": event_type, "occurred_at": at, "store_id": "lakeside-chevy", "data": data})
        .to_string()
}

pub(crate) fn closed_at_lakeside(event_id: &str, ro: &str, at: DateTime<Utc>, phone: &str) -> String {
    at_lakeside(
        event_id,
        "ro.closed",
        at,
        phone,
        json!({"ro_number": ro, "closed_at": at, "performed": ["LOF-SYN"], "declined": []}),
    )
}

pub(crate) fn text_to_lakeside(id: &str, from: &str, body: &str) -> String {
    json!({"originationNumber": from, "destinationNumber": "+15125550300", "messageKeyword": "", "messageBody": body,
           "inboundMessageId": id})
    .to_string()
}

/// An SES receipt notification of an ADF lead from `phone` to Lakeside's
/// lead address, sent by a listed provider (clean, SPF and DMARC pass).
pub(crate) fn lead_mail(message_id: &str, phone: &str) -> String {
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
pub(crate) async fn promise_calls(
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

pub(crate) fn row(function: &str, scenario: &str, target: Option<usize>, calls: Vec<AwsCall>) -> CallsRow {
    CallsRow {
        function: function.into(),
        scenario: scenario.into(),
        calls: calls.len(),
        target,
        operations: calls.iter().map(ToString::to_string).collect(),
    }
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
