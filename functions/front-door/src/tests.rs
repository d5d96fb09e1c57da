//! The front door's checks and translations, on the providers' own documented
//! examples (no AWS).

use chrono::{DateTime, Utc};
use custops::store::Department;
use custops::Phone;

use super::*;

/// What a check decided, comparable: the event id it made, if any.
fn id(r: Result<Option<custops::event::Envelope>, Refusal>) -> Result<Option<String>, Refusal> {
    r.map(|e| e.map(|e| e.event_id))
}

/// How many envelopes a signed request carried, or why it was refused.
fn count(r: Result<Vec<custops::event::Envelope>, Refusal>) -> Result<usize, Refusal> {
    r.map(|e| e.len())
}

fn at(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

fn request(uri: &str, headers: &[(&str, &str)], body: &[u8]) -> HookRequest {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        map.append(
            http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    HookRequest { method: http::Method::POST, uri: uri.parse().unwrap(), headers: map, body: body.to_vec() }
}

fn form(params: &[(&str, &str)]) -> (Vec<(String, String)>, Vec<u8>) {
    let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
    (owned, body.into_bytes())
}

fn secrets() -> WebhookSecrets {
    WebhookSecrets {
        signing_secret: Some("connector-secret".into()),
        twilio_auth_token: Some("12345".into()),
        ringcentral_verification_token: Some("rc-token".into()),
    }
}

fn lines() -> Departments {
    Departments([(Phone::parse("+15125550101").unwrap(), Department::Service)].into_iter().collect())
}

/// Twilio's webhook-security page: auth token `12345`, this URL and these
/// parameters sign to `0/KCTR6DLpKmkAf8muzZqo1nDgQ=`.
const TWILIO_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const TWILIO_PARAMS: &[(&str, &str)] = &[
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
];
const TWILIO_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

#[test]
fn twilios_documented_example_signs_as_twilio_says() {
    let (params, _) = form(TWILIO_PARAMS);
    assert_eq!(twilio::signature("12345", TWILIO_URL, &params), TWILIO_SIGNATURE);
}

#[test]
fn twilios_example_request_is_accepted_as_called_and_with_an_explicit_port_and_reports_no_missed_call() {
    let (_, body) = form(TWILIO_PARAMS);
    let now = at("2026-11-23T16:05:00Z");
    for host in ["mycompany.com", "mycompany.com:443"] {
        let req = request(
            "/myapp.php?foo=1&bar=2",
            &[("host", host), ("x-forwarded-proto", "https"), ("x-twilio-signature", TWILIO_SIGNATURE)],
            &body,
        );
        // Signed: accepted. Not a call that went unanswered (no Direction): nothing to publish.
        assert_eq!(id(twilio::call("northside-chevy", &req, &secrets(), now, &lines())), Ok(None), "{host}");
    }
    // One byte changed, or another token: refused.
    let (_, mut tampered) = form(TWILIO_PARAMS);
    tampered.push(b'0');
    let req = request(
        "/myapp.php?foo=1&bar=2",
        &[("host", "mycompany.com"), ("x-twilio-signature", TWILIO_SIGNATURE)],
        &tampered,
    );
    assert_eq!(id(twilio::call("northside-chevy", &req, &secrets(), now, &lines())), Err(Refusal::Forbidden));
    let other = WebhookSecrets { twilio_auth_token: Some("54321".into()), ..secrets() };
    let req = request(
        "/myapp.php?foo=1&bar=2",
        &[("host", "mycompany.com"), ("x-twilio-signature", TWILIO_SIGNATURE)],
        &form(TWILIO_PARAMS).1,
    );
    assert_eq!(id(twilio::call("northside-chevy", &req, &other, now, &lines())), Err(Refusal::Forbidden));
    let none = WebhookSecrets { twilio_auth_token: None, ..secrets() };
    assert_eq!(id(twilio::call("northside-chevy", &req, &none, now, &lines())), Err(Refusal::Forbidden));
}

/// A status callback as Twilio sends it when the dialled line rang out.
fn twilio_callback(extra: &[(&str, &str)]) -> HookRequest {
    let mut params = vec![
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", "CA5f2b1c0e9d8a7b6c5d4e3f2a1b0c9d8e"),
        ("CallStatus", "completed"),
        ("Direction", "inbound"),
        ("From", "+15125550177"),
        ("To", "+15125550101"),
        ("Timestamp", "Mon, 23 Nov 2026 16:05:00 +0000"),
        ("ApiVersion", "2010-04-01"),
    ];
    params.extend_from_slice(extra);
    let (owned, body) = form(&params);
    let url = "https://hooks.example.com/hooks/northside-chevy/twilio/voice";
    let signature = twilio::signature("12345", url, &owned);
    request(
        "/hooks/northside-chevy/twilio/voice",
        &[("host", "hooks.example.com"), ("x-twilio-signature", &signature)],
        &body,
    )
}

#[test]
fn an_unanswered_inbound_call_becomes_call_missed_with_the_lines_department() {
    let now = at("2026-11-23T16:06:00Z");
    let req = twilio_callback(&[("DialCallStatus", "no-answer")]);
    let event = twilio::call("northside-chevy", &req, &secrets(), now, &lines()).unwrap().expect("a missed call");
    assert_eq!(event.event_id, "twilio-CA5f2b1c0e9d8a7b6c5d4e3f2a1b0c9d8e");
    assert_eq!(event.event_type, "call.missed");
    assert_eq!(event.occurred_at, at("2026-11-23T16:05:00Z"), "Twilio's Timestamp");
    assert_eq!(event.data["from"], "+15125550177");
    assert_eq!(event.data["to"], "+15125550101");
    assert_eq!(event.data["department"], "service", "the store's line");
    assert_eq!(event.data["voicemail"], false);

    // A voicemail left on a completed call is a missed call too; a call
    // somebody answered is not.
    let voicemail =
        twilio_callback(&[("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1")]);
    let event = twilio::call("northside-chevy", &voicemail, &secrets(), now, &lines()).unwrap().unwrap();
    assert_eq!(event.data["voicemail"], true);
    let answered = twilio_callback(&[("DialCallStatus", "completed")]);
    assert_eq!(id(twilio::call("northside-chevy", &answered, &secrets(), now, &lines())), Ok(None));
    for status in twilio::MISSED {
        let req = twilio_callback(&[("DialCallStatus", status)]);
        assert!(twilio::call("northside-chevy", &req, &secrets(), now, &lines()).unwrap().is_some(), "{status}");
    }
}

#[test]
fn a_signed_connector_batch_is_all_or_nothing() {
    let now = at("2026-11-23T16:05:00Z");
    let envelope = |id: &str, store: &str| {
        serde_json::json!({"event_id": id, "event_type": "call.missed", "occurred_at": "2026-11-23T16:05:00Z",
            "store_id": store, "data": {"call_id": id, "from": "+15125550177", "to": "+15125550100", "department": "main"}})
    };
    let send = |body: &serde_json::Value, ts: i64, secret: &str| {
        let bytes = body.to_string().into_bytes();
        let signature = signed::sign(secret, ts, &bytes);
        request(
            "/hooks/northside-chevy/events",
            &[(signed::TIMESTAMP, &ts.to_string()), (signed::SIGNATURE, &signature)],
            &bytes,
        )
    };
    let ts = now.timestamp();
    let one = envelope("e-1", "northside-chevy");
    assert_eq!(
        signed::events("northside-chevy", &send(&one, ts, "connector-secret"), &secrets(), now).unwrap().len(),
        1
    );
    let batch = serde_json::json!([envelope("e-1", "northside-chevy"), envelope("e-2", "northside-chevy")]);
    assert_eq!(
        signed::events("northside-chevy", &send(&batch, ts, "connector-secret"), &secrets(), now).unwrap().len(),
        2
    );

    // Another store's envelope in the batch: nothing of it.
    let mixed = serde_json::json!([envelope("e-1", "northside-chevy"), envelope("e-2", "lakeside-ford")]);
    let Err(Refusal::Invalid(reasons)) =
        signed::events("northside-chevy", &send(&mixed, ts, "connector-secret"), &secrets(), now)
    else {
        panic!("refused")
    };
    assert!(reasons[0].contains("envelope 1") && reasons[0].contains("store_id"), "{reasons:?}");
    // Not section 3 input.
    let mut bad = envelope("e-3", "northside-chevy");
    bad["data"]["department"] = "bodyshop".into();
    assert!(matches!(
        signed::events("northside-chevy", &send(&bad, ts, "connector-secret"), &secrets(), now),
        Err(Refusal::Invalid(_))
    ));
    let too_many = serde_json::Value::Array((0..101).map(|i| envelope(&format!("e-{i}"), "northside-chevy")).collect());
    assert!(matches!(
        signed::events("northside-chevy", &send(&too_many, ts, "connector-secret"), &secrets(), now),
        Err(Refusal::Invalid(_))
    ));
    // Signed with another secret, or five minutes and a second off: forbidden.
    assert_eq!(
        count(signed::events("northside-chevy", &send(&one, ts, "guess"), &secrets(), now)),
        Err(Refusal::Forbidden)
    );
    assert_eq!(
        count(signed::events("northside-chevy", &send(&one, ts - 301, "connector-secret"), &secrets(), now)),
        Err(Refusal::Forbidden)
    );
    assert!(signed::events("northside-chevy", &send(&one, ts - 300, "connector-secret"), &secrets(), now).is_ok());
    let unsigned = request("/hooks/northside-chevy/events", &[], one.to_string().as_bytes());
    assert_eq!(count(signed::events("northside-chevy", &unsigned, &secrets(), now)), Err(Refusal::Forbidden));
}

/// RingCentral's telephony-session event, as its event-filter page documents
/// it: an inbound call that rang out.
fn ringcentral_event(missed: bool) -> Vec<u8> {
    serde_json::json!({
        "uuid": "3311270474693523001",
        "event": "/restapi/v1.0/account/~/telephony/sessions",
        "timestamp": "2026-11-23T16:05:02.010Z",
        "subscriptionId": "a5a8e4b8-6f1a-4d5e-9b0c-3e2f1d0c9b8a",
        "ownerId": "400131123008",
        "body": {
            "sequence": 7,
            "sessionId": "4503991004",
            "telephonySessionId": "s-a0d7c8a3c2b5e4f6a1b2c3d4e5f6a7b8",
            "serverId": "10.13.22.241.TAM",
            "eventTime": "2026-11-23T16:05:00.000Z",
            "parties": [{
                "accountId": "400131123008",
                "extensionId": "400131123009",
                "id": "p-a0d7c8a3c2b5e4f6a1b2c3d4e5f6a7b8-1",
                "direction": "Inbound",
                "to": {"phoneNumber": "+15125550101", "name": "Service", "extensionId": "400131123009"},
                "from": {"phoneNumber": "+15125550177", "name": "WIRELESS CALLER"},
                "status": {"code": "Disconnected", "rcc": false},
                "missedCall": missed,
                "standAlone": false,
                "muted": false
            }],
            "origin": {"type": "Call"}
        }
    })
    .to_string()
    .into_bytes()
}

#[test]
fn ringcentral_handshake_token_and_missed_call() {
    let now = at("2026-11-23T16:06:00Z");
    let path = "/hooks/northside-chevy/ringcentral";
    let handshake = request(path, &[("validation-token", "abc-123")], b"");
    assert_eq!(ringcentral::check(&handshake, &secrets()), Ok(ringcentral::Checked::Handshake("abc-123".into())));

    let event = request(path, &[("verification-token", "rc-token")], &ringcentral_event(true));
    assert_eq!(ringcentral::check(&event, &secrets()), Ok(ringcentral::Checked::Event(None)));
    let missed = ringcentral::call("northside-chevy", &event, now, &lines()).unwrap().expect("a missed call");
    assert_eq!(missed.event_id, "ringcentral-s-a0d7c8a3c2b5e4f6a1b2c3d4e5f6a7b8");
    assert_eq!(missed.occurred_at, at("2026-11-23T16:05:00Z"), "the session's eventTime");
    assert_eq!(
        (missed.data["from"].as_str(), missed.data["department"].as_str()),
        (Some("+15125550177"), Some("service"))
    );
    let answered = request(path, &[("verification-token", "rc-token")], &ringcentral_event(false));
    assert_eq!(id(ringcentral::call("northside-chevy", &answered, now, &lines())), Ok(None));

    // A subscription made with a validationToken: the token in Validation-Token, echoed.
    let validated = request(path, &[("validation-token", "rc-token")], &ringcentral_event(true));
    assert_eq!(ringcentral::check(&validated, &secrets()), Ok(ringcentral::Checked::Event(Some("rc-token".into()))));
    let wrong = request(path, &[("verification-token", "rc-tokem")], &ringcentral_event(true));
    assert_eq!(ringcentral::check(&wrong, &secrets()), Err(Refusal::Forbidden));
    let none = WebhookSecrets { ringcentral_verification_token: None, ..secrets() };
    assert_eq!(ringcentral::check(&event, &none), Err(Refusal::Forbidden));
    let garbage = request(path, &[("verification-token", "rc-token")], b"{not json");
    assert!(matches!(ringcentral::call("northside-chevy", &garbage, now, &lines()), Err(Refusal::Invalid(_))));
}

#[test]
fn secrets_never_print() {
    let shown = format!("{:?}", secrets());
    assert!(!shown.contains("12345") && !shown.contains("rc-token") && !shown.contains("connector-secret"), "{shown}");
}
