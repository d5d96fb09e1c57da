//! The HTTP front door through the local stack's `http` URL, as Twilio,
//! RingCentral and a connector call it: each caller checked its provider's
//! way, each missed call texted back once, every refusal publishing nothing.

use custops::Clock;
use custops_tests::Harness;
use serde_json::json;

const NOW: &str = "2026-11-23T16:05:00Z";

async fn with_secrets(h: &Harness) {
    let file = std::env::temp_dir().join(format!("custops-secrets-{}.json", std::process::id()));
    std::fs::write(
        &file,
        json!({"signing_secret": "connector-secret", "twilio_auth_token": "12345",
               "ringcentral_verification_token": "rc-token"})
        .to_string(),
    )
    .unwrap();
    let keys = custops_cli::commands::secrets_put(&h.target, "northside-chevy", &file).await.unwrap();
    assert_eq!(keys.len(), 3);
    std::fs::remove_file(&file).ok();
}

fn twilio_form(sid: &str, status: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", sid),
        ("CallStatus", "completed"),
        ("DialCallStatus", status),
        ("Direction", "inbound"),
        ("From", "+15125550177"),
        ("To", "+15125550100"),
        ("Timestamp", "Mon, 23 Nov 2026 16:05:00 +0000"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

async fn post_twilio(
    client: &reqwest::Client,
    url: &str,
    params: &[(String, String)],
    token: &str,
) -> reqwest::Response {
    let (signature, body) = front_door::twilio::signed_form(token, url, params);
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_twilio_missed_call_is_texted_back_once_and_bad_callers_are_refused() {
    let h = Harness::start(NOW).await;
    with_secrets(&h).await;
    let http = h.stack.serve_http(0).await.unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/hooks/northside-chevy/twilio/voice", http.url);

    // Twilio calls back twice for the same call (a retry): one event, one text.
    let params = twilio_form("CA5f2b1c0e9d8a7b6c5d4e3f2a1b0c9d8e", "no-answer");
    for _ in 0..2 {
        let answer = post_twilio(&client, &url, &params, "12345").await;
        assert_eq!(answer.status(), 200);
        assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
        assert_eq!(answer.text().await.unwrap(), front_door::twilio::EMPTY_TWIML);
    }
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0].phone_number, "+15125550177");

    // A completed call Twilio gives no duration publishes nothing; a wrong signature, another store's
    // path, and a store without a secret are refused alike.
    let answered = post_twilio(&client, &url, &twilio_form("CA-answered", "completed"), "12345").await;
    assert_eq!(answered.status(), 200);
    let forged = post_twilio(&client, &url, &twilio_form("CA-forged", "no-answer"), "guess").await;
    assert_eq!(forged.status(), 403);
    let elsewhere = format!("{}/hooks/lakeside-ford/twilio/voice", http.url);
    let other = post_twilio(&client, &elsewhere, &twilio_form("CA-other", "no-answer"), "12345").await;
    assert_eq!(other.status(), 403);
    let big = client.post(&url).body(vec![b'a'; front_door::MAX_BODY + 1]).send().await.unwrap();
    assert_eq!(big.status(), 413);
    h.settle().await;
    assert_eq!(h.sms().await.len(), 1, "nothing more");
}

#[tokio::test]
async fn a_signed_batch_is_published_whole_or_not_at_all_and_ringcentral_is_answered_its_way() {
    let h = Harness::start(NOW).await;
    with_secrets(&h).await;
    let http = h.stack.serve_http(0).await.unwrap();
    let client = reqwest::Client::new();
    let events = format!("{}/hooks/northside-chevy/events", http.url);
    let missed = |id: &str, store: &str, from: &str| {
        json!({"event_id": id, "event_type": "call.missed", "occurred_at": NOW, "store_id": store,
               "data": {"call_id": id, "from": from, "to": "+15125550100", "department": "service"}})
    };
    let send = |body: serde_json::Value, ts: i64| {
        let bytes = body.to_string().into_bytes();
        let mut request = client.post(&events);
        for (name, value) in front_door::signed::headers("connector-secret", ts, &bytes) {
            request = request.header(name, value);
        }
        request.body(bytes).send()
    };
    let now = h.clock.now().timestamp();
    // One envelope of another store: the batch is refused whole.
    let mixed =
        json!([missed("c-1", "northside-chevy", "+15125550177"), missed("c-2", "lakeside-ford", "+15125550188")]);
    let refused = send(mixed, now).await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("store_id"));
    let stale = send(missed("c-3", "northside-chevy", "+15125550177"), now - 301).await.unwrap();
    assert_eq!(stale.status(), 403);
    h.settle().await;
    assert!(h.sms().await.is_empty(), "nothing published");

    let batch =
        json!([missed("c-1", "northside-chevy", "+15125550177"), missed("c-2", "northside-chevy", "+15125550188")]);
    let accepted = send(batch, now).await.unwrap();
    assert_eq!(accepted.status(), 202);
    assert_eq!(accepted.json::<serde_json::Value>().await.unwrap(), json!({"accepted": 2}));
    h.settle().await;
    assert_eq!(h.sms().await.len(), 2);

    // RingCentral: the handshake echoes its token; an event without the
    // store's token is refused; a missed call is texted back.
    let rc = format!("{}/hooks/northside-chevy/ringcentral", http.url);
    let handshake = client.post(&rc).header("validation-token", "hs-1").send().await.unwrap();
    assert_eq!(handshake.status(), 200);
    assert_eq!(handshake.headers()["validation-token"], "hs-1");
    let event = json!({
        "uuid": "1", "event": "/restapi/v1.0/account/~/telephony/sessions", "timestamp": "2026-11-23T16:05:01.000Z",
        "subscriptionId": "sub-1", "ownerId": "400131123008",
        "body": {"sequence": 3, "sessionId": "4503991004", "telephonySessionId": "s-rc-1", "eventTime": NOW,
                 "parties": [{"id": "p-1", "direction": "Inbound", "missedCall": true,
                              "from": {"phoneNumber": "+15125550199"}, "to": {"phoneNumber": "+15125550100"},
                              "status": {"code": "Disconnected"}}]}
    });
    let unsigned = client.post(&rc).header("verification-token", "nope").body(event.to_string()).send().await.unwrap();
    assert_eq!(unsigned.status(), 403);
    let ok = client.post(&rc).header("verification-token", "rc-token").body(event.to_string()).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 3);
    assert_eq!(sms[2].phone_number, "+15125550199");
}

/// Hostile callers at every route: broken JSON, malformed forms, wrong and
/// missing signatures, stale timestamps, oversize bodies, other stores' ids,
/// odd methods and paths. Each gets the answer section 9 names (never a 5xx,
/// never a panic), and nothing is published.
#[tokio::test]
async fn hostile_requests_at_every_route_get_their_refusal_and_publish_nothing() {
    let h = Harness::start(NOW).await;
    with_secrets(&h).await;
    let http = h.stack.serve_http(0).await.unwrap();
    let client = reqwest::Client::new();
    let base = &http.url;
    let now = h.clock.now().timestamp();
    let sign = |body: &str, ts: i64| front_door::signed::sign("connector-secret", ts, body.as_bytes());
    let envelope = json!({"event_id": "h-1", "event_type": "call.missed", "occurred_at": NOW,
        "store_id": "northside-chevy", "data": {"call_id": "h-1", "from": "+15125550177", "to": "+15125550100",
        "department": "main"}})
    .to_string();
    let events = format!("{base}/hooks/northside-chevy/events");
    let twilio = format!("{base}/hooks/northside-chevy/twilio/voice");
    let rc = format!("{base}/hooks/northside-chevy/ringcentral");
    let twilio_signed = |body: &str| {
        let params: Vec<(String, String)> =
            form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        front_door::twilio::signature("12345", &twilio, &params)
    };
    let huge = "x".repeat(front_door::MAX_BODY + 10);
    let mut cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        ("unsigned envelope", client.post(&events).body(envelope.clone()), 403),
        (
            "signature of another body",
            client
                .post(&events)
                .header("x-custops-timestamp", now.to_string())
                .header("x-custops-signature", sign("{}", now))
                .body(envelope.clone()),
            403,
        ),
        (
            "signature not hex",
            client
                .post(&events)
                .header("x-custops-timestamp", now.to_string())
                .header("x-custops-signature", "sha256=zz")
                .body(envelope.clone()),
            403,
        ),
        (
            "a timestamp from the future",
            client
                .post(&events)
                .header("x-custops-timestamp", (now + 600).to_string())
                .header("x-custops-signature", sign(&envelope, now + 600))
                .body(envelope.clone()),
            403,
        ),
        (
            "a timestamp that is not a number",
            client
                .post(&events)
                .header("x-custops-timestamp", "yesterday")
                .header("x-custops-signature", "sha256=00")
                .body(envelope.clone()),
            403,
        ),
        ("oversize", client.post(&events).body(huge.clone()), 413),
        ("oversize to Twilio", client.post(&twilio).body(huge.clone()), 413),
        ("GET", client.get(&events), 405),
        ("unknown route", client.post(format!("{base}/hooks/northside-chevy/zoom")), 404),
        ("an empty store id", client.post(format!("{base}/hooks//events")), 403),
        (
            "a store with no secret",
            client.post(format!("{base}/hooks/lakeside-ford/events")).body(envelope.clone()),
            403,
        ),
        ("Twilio unsigned", client.post(&twilio).body("CallSid=CA1&Direction=inbound&CallStatus=busy"), 403),
        (
            "Twilio signature not base64",
            client.post(&twilio).header("x-twilio-signature", "%%%").body("CallSid=CA1"),
            403,
        ),
        ("RingCentral without a token", client.post(&rc).body("{}"), 403),
        (
            "RingCentral handshake with a body and no token",
            client.post(&rc).header("validation-token", "x").body("{\"a\":1}"),
            403,
        ),
    ];
    // Signed, but not valid input: 400 with reasons.
    for body in [
        "{",
        "[]",
        "42",
        "\"text\"",
        "[{}]",
        "{\"event_id\": \"\u{0}\"}",
        &format!("[{}]", vec![envelope.as_str(); 101].join(",")),
    ] {
        let request = client
            .post(&events)
            .header("x-custops-timestamp", now.to_string())
            .header("x-custops-signature", sign(body, now))
            .body(body.to_owned());
        cases.push(("signed, not section 3 input", request, 400));
    }
    // Signed by Twilio, but malformed: a missed call without its numbers, a
    // form that is not a form.
    for body in [
        "CallSid=CA2&Direction=inbound&CallStatus=busy",
        "Direction=inbound&CallStatus=busy&From=%2B15125550177&To=%2B15125550100",
        "%zz=%zz&&&=",
    ] {
        cases.push((
            "Twilio, signed, malformed",
            client.post(&twilio).header("x-twilio-signature", twilio_signed(body)).body(body.to_owned()),
            400,
        ));
    }
    for body in ["{", "{\"body\": {}}", "[1,2]", "{\"body\": {\"telephonySessionId\": \"s-1\", \"parties\": [{\"direction\": \"Inbound\", \"missedCall\": true}]}}"] {
        cases.push(("RingCentral, token, malformed", client.post(&rc).header("verification-token", "rc-token").body(body.to_owned()), 400));
    }
    for (what, request, expected) in cases {
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status().as_u16(), expected, "{what}: {}", answer.text().await.unwrap_or_default());
    }
    h.settle().await;
    assert!(h.sms().await.is_empty(), "nothing published, nothing texted");
    let queued = h
        .stack
        .clients
        .sqs
        .get_queue_attributes()
        .queue_url(h.stack.queue_url("MissedCallQueue").unwrap())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    assert_eq!(
        queued
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
            .map(String::as_str),
        Some("0")
    );
}

/// A flood of paths naming no store (section 9, amended): each refused as a
/// bad signature is, without a single Secrets Manager call and with one
/// read of the list of stores for the whole flood; a store with no secret
/// (moto: ResourceNotFoundException) is a 403 at every route, never a 5xx;
/// nothing is published.
#[tokio::test]
async fn a_flood_of_unknown_store_ids_reads_no_secret_and_is_refused_like_a_bad_signature() {
    let h = Harness::start(NOW).await;
    with_secrets(&h).await;
    let http = h.stack.serve_http(0).await.unwrap();
    let client = reqwest::Client::new();
    let now = h.clock.now().timestamp();
    // Lakeside is a store with no secret yet.
    h.put_store(
        serde_json::from_str(&std::fs::read_to_string("../events/stores/lakeside-ford.json").unwrap()).unwrap(),
    )
    .await;
    // The store's list is read once, before the flood (as a first webhook would).
    let body = b"{}".to_vec();
    let warm = client.post(format!("{}/hooks/northside-chevy/events", http.url)).body(body.clone()).send();
    assert_eq!(warm.await.unwrap().status(), 403, "unsigned");

    let recorder = custops_cli::emulator::CallRecorder::start(&h.emulator.endpoint).await.unwrap();
    let flood = (0..150).map(|i| {
        let path = match i % 3 {
            0 => format!("/hooks/junk-{i}/events"),
            1 => format!("/hooks/+1512555{i:04}/twilio/voice"),
            _ => format!("/hooks/{i:x}{i:x}/ringcentral"),
        };
        // Signed with a real store's secret, as a stranger who has one would.
        let mut request = client.post(format!("{}{path}", http.url)).header("verification-token", "rc-token");
        for (name, value) in front_door::signed::headers("connector-secret", now, &body) {
            request = request.header(name, value);
        }
        request.body(body.clone()).send()
    });
    for answer in futures::future::join_all(flood).await {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), 403);
        assert_eq!(answer.text().await.unwrap(), front_door::HookResponse::refused(403, vec!["forbidden".into()]).body);
    }
    // A store that exists but has no secret: 403 at every route.
    for route in ["events", "twilio/voice", "ringcentral"] {
        let url = format!("{}/hooks/lakeside-ford/{route}", http.url);
        let answer = client.post(&url).header("verification-token", "x").body("{}").send().await.unwrap();
        assert_eq!(answer.status(), 403, "{route}");
    }
    let calls = recorder.signed_requests().await.unwrap();
    let by_door: Vec<_> =
        calls.iter().filter(|r| r.principal.as_deref() == Some(front_door::NAME)).map(|r| &r.call).collect();
    let secret_reads = by_door.iter().filter(|c| c.service == "secretsmanager").count();
    assert_eq!(secret_reads, 1, "only lakeside-ford's secret was looked up: {by_door:?}");
    let queries = by_door.iter().filter(|c| c.operation == "Query").count();
    assert!(queries <= 2, "the list of stores read at most once for the flood: {by_door:?}");
    assert!(by_door.iter().all(|c| c.operation != "Publish"), "nothing published: {by_door:?}");
    h.settle().await;
    assert!(h.sms().await.is_empty());
}

/// `PublicBaseUrl` (section 9, amended): with it set, a Twilio callback is
/// checked against the deploy's public URL, so a caller who signs for the
/// Host and X-Forwarded-Proto it sends itself is refused; a callback Twilio
/// signed for the public URL is taken whatever host reached the function.
#[tokio::test]
async fn with_a_public_base_url_a_signature_for_the_callers_own_host_is_refused() {
    let h = Harness::start(NOW).await;
    with_secrets(&h).await;
    let def = h.stack.template.functions().into_iter().find(|f| f.binary == front_door::NAME).unwrap();
    assert_eq!(def.env.get(front_door::PUBLIC_BASE_URL).map(String::as_str), Some(""), "the template's default: none");
    let mut env = def.env.clone();
    env.insert(front_door::PUBLIC_BASE_URL.into(), "https://hooks.dealer.example/".into());
    let config = custops::aws::local(&h.emulator.endpoint).await;
    let door = front_door::FrontDoor::from_env(&env, &config, std::sync::Arc::new(h.clock.clone())).unwrap();

    let path = "/hooks/northside-chevy/twilio/voice";
    let post = |host: &str, proto: &str, signed_url: &str, sid: &str| {
        let params = twilio_form(sid, "no-answer");
        let (signature, body) = front_door::twilio::signed_form("12345", signed_url, &params);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("host", host.parse().unwrap());
        headers.insert("x-forwarded-proto", proto.parse().unwrap());
        headers.insert("x-twilio-signature", signature.parse().unwrap());
        headers.insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
        front_door::HookRequest {
            method: axum::http::Method::POST,
            uri: format!("http://{host}{path}").parse().unwrap(),
            headers,
            body: body.into_bytes(),
        }
    };
    let forged = post("attacker.example", "http", &format!("http://attacker.example{path}"), "CA-forged");
    assert_eq!(door.answer(&forged).await.status, 403);
    let real = post(
        "abc123.execute-api.us-east-1.amazonaws.com",
        "https",
        &format!("https://hooks.dealer.example{path}"),
        "CA-real",
    );
    assert_eq!(door.answer(&real).await.status, 200);
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "only Twilio's callback: {sms:?}");
}

/// The HTTP API throttles each route apart (section 9, amended): every route
/// the template's functions declare has its own `RouteSettings` entry with
/// its own limits, so a flood of `/hooks/` never starves `/app/` (nor one
/// webhook the others).
#[test]
fn every_route_of_the_http_api_is_throttled_on_its_own() {
    let template = custops_cli::template::Template::parse(
        custops_cli::template::TEMPLATE,
        &custops_cli::template::Placement::local("http://127.0.0.1:1"),
    )
    .unwrap();
    let api = &template.resources["FrontDoorApi"].properties;
    let settings = api["RouteSettings"].as_object().expect("RouteSettings on the API's stage");
    let mut routes = Vec::new();
    for f in template.of_type("AWS::Serverless::Function") {
        for event in f.properties["Events"].as_object().into_iter().flat_map(|e| e.values()) {
            if event["Type"] == "HttpApi" {
                routes.push(format!(
                    "{} {}",
                    event["Properties"]["Method"].as_str().unwrap(),
                    event["Properties"]["Path"].as_str().unwrap()
                ));
            }
        }
    }
    assert!(routes.iter().any(|r| r.contains(" /hooks/")) && routes.iter().any(|r| r.contains(" /app")), "{routes:?}");
    for route in &routes {
        let s = settings
            .get(route)
            .unwrap_or_else(|| panic!("{route} has no RouteSettings entry: it would share the default"));
        assert!(s["ThrottlingBurstLimit"].as_u64().is_some_and(|b| b > 0), "{route}");
        assert!(s["ThrottlingRateLimit"].as_f64().is_some_and(|r| r > 0.0), "{route}");
    }
    for key in settings.keys() {
        assert!(routes.contains(key), "RouteSettings names {key}, which no function serves (the deploy would fail)");
    }
}
