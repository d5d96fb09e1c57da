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
    Departments([(Phone::parse("+15125550101").unwrap(), Department::Service)].into_iter().collect(), None)
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
        assert_eq!(id(twilio::call("northside-chevy", &req, &secrets(), now, &lines(), None)), Ok(None), "{host}");
    }
    // One byte changed, or another token: refused.
    let (_, mut tampered) = form(TWILIO_PARAMS);
    tampered.push(b'0');
    let req = request(
        "/myapp.php?foo=1&bar=2",
        &[("host", "mycompany.com"), ("x-twilio-signature", TWILIO_SIGNATURE)],
        &tampered,
    );
    assert_eq!(id(twilio::call("northside-chevy", &req, &secrets(), now, &lines(), None)), Err(Refusal::Forbidden));
    let other = WebhookSecrets { twilio_auth_token: Some("54321".into()), ..secrets() };
    let req = request(
        "/myapp.php?foo=1&bar=2",
        &[("host", "mycompany.com"), ("x-twilio-signature", TWILIO_SIGNATURE)],
        &form(TWILIO_PARAMS).1,
    );
    assert_eq!(id(twilio::call("northside-chevy", &req, &other, now, &lines(), None)), Err(Refusal::Forbidden));
    let none = WebhookSecrets { twilio_auth_token: None, ..secrets() };
    assert_eq!(id(twilio::call("northside-chevy", &req, &none, now, &lines(), None)), Err(Refusal::Forbidden));
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
    for &(name, value) in extra {
        match params.iter_mut().find(|(k, _)| *k == name) {
            Some(p) => p.1 = value,
            None => params.push((name, value)),
        }
    }
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
    let event = twilio::call("northside-chevy", &req, &secrets(), now, &lines(), None).unwrap().expect("a missed call");
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
    let event = twilio::call("northside-chevy", &voicemail, &secrets(), now, &lines(), None).unwrap().unwrap();
    assert_eq!(event.data["voicemail"], true);
    let no_duration = twilio_callback(&[("DialCallStatus", "completed")]);
    assert_eq!(id(twilio::call("northside-chevy", &no_duration, &secrets(), now, &lines(), None)), Ok(None));
    for status in twilio::MISSED {
        let req = twilio_callback(&[("DialCallStatus", status)]);
        assert!(twilio::call("northside-chevy", &req, &secrets(), now, &lines(), None).unwrap().is_some(), "{status}");
    }
}

/// The status callback of a call the dialled line answered (Twilio's
/// `<Dial action>` parameters: `DialCallStatus` `completed`,
/// `DialCallDuration`), and a direct call's (`CallStatus`, `CallDuration`).
#[test]
fn an_answered_inbound_call_becomes_call_answered_with_its_duration() {
    let now = at("2026-11-23T16:06:00Z");
    let req = twilio_callback(&[("DialCallStatus", "completed"), ("DialCallDuration", "184")]);
    let event = twilio::call("northside-chevy", &req, &secrets(), now, &lines(), None).unwrap().expect("answered");
    assert_eq!(event.event_type, "call.answered");
    assert_eq!(event.event_id, "twilio-CA5f2b1c0e9d8a7b6c5d4e3f2a1b0c9d8e-answered", "not the missed call's id");
    assert_eq!(
        (&event.data["duration_seconds"], &event.data["department"]),
        (&serde_json::json!(184), &serde_json::json!("service"))
    );
    let direct = twilio_callback(&[("CallDuration", "62")]);
    let event = twilio::call("northside-chevy", &direct, &secrets(), now, &lines(), None).unwrap().unwrap();
    assert_eq!(event.data["duration_seconds"], 62);
    // An outbound call the store made is not a caller's.
    let outbound = twilio_callback(&[("Direction", "outbound-api"), ("CallDuration", "62")]);
    assert_eq!(id(twilio::call("northside-chevy", &outbound, &secrets(), now, &lines(), None)), Ok(None));
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
    // The same party answered and now ended: the call the store answered.
    let answered = request(path, &[("verification-token", "rc-token")], &ringcentral_event(false));
    let ended = ringcentral::call("northside-chevy", &answered, now, &lines()).unwrap().expect("an answered call");
    assert_eq!(
        (ended.event_type.as_str(), ended.event_id.as_str()),
        ("call.answered", "ringcentral-s-a0d7c8a3c2b5e4f6a1b2c3d4e5f6a7b8-answered")
    );
    assert_eq!(ended.data["from"], "+15125550177");
    // Still ringing, or talking: nothing yet.
    let ringing = String::from_utf8(ringcentral_event(false)).unwrap().replace("Disconnected", "Answered");
    let ringing = request(path, &[("verification-token", "rc-token")], ringing.as_bytes());
    assert_eq!(id(ringcentral::call("northside-chevy", &ringing, now, &lines())), Ok(None));

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

/// One RingCentral account for a group: every store's route gets every call
/// of the account. A store's route takes only calls to its own numbers
/// (`sms_number`, `lines`); a call to a sister store's line is hers.
#[test]
fn a_group_accounts_call_to_another_stores_number_is_not_this_stores() {
    let now = at("2026-11-23T16:06:00Z");
    let path = "/hooks/northside-chevy/ringcentral";
    let store = custops::fixtures::northside();
    let mut with_line = store.clone();
    with_line.lines.insert(Phone::parse("+15125550101").unwrap(), Department::Service);
    let own = Departments::of_store(&with_line);
    let to_line = request(path, &[("verification-token", "rc-token")], &ringcentral_event(true));
    assert!(ringcentral::call("northside-chevy", &to_line, now, &own).unwrap().is_some(), "its own line");
    let sister = Departments::of_store(&store); // the line is not Northside's here
    assert_eq!(id(ringcentral::call("northside-chevy", &to_line, now, &sister)), Ok(None), "another store's number");
    let main = String::from_utf8(ringcentral_event(true)).unwrap().replace("+15125550101", store.sms_number.e164());
    let to_main = request(path, &[("verification-token", "rc-token")], main.as_bytes());
    assert!(ringcentral::call("northside-chevy", &to_main, now, &sister).unwrap().is_some(), "its sms_number");
}

#[test]
fn secrets_never_print() {
    let shown = format!("{:?}", secrets());
    assert!(!shown.contains("12345") && !shown.contains("rc-token") && !shown.contains("connector-secret"), "{shown}");
}

#[test]
fn a_timestamp_at_the_ends_of_the_integers_is_refused_not_an_overflow() {
    let now = at("2026-11-23T16:05:00Z");
    let body = b"{}";
    for ts in ["-9223372036854775808", "9223372036854775807", "18446744073709551615", "-1", "0"] {
        let req = request(
            "/hooks/northside-chevy/events",
            &[(signed::TIMESTAMP, ts), (signed::SIGNATURE, "sha256=00")],
            body,
        );
        assert_eq!(count(signed::events("northside-chevy", &req, &secrets(), now)), Err(Refusal::Forbidden), "{ts}");
    }
    // Correctly signed, but at i64::MIN / i64::MAX: out of range, not a panic.
    for ts in [i64::MIN, i64::MAX] {
        let signature = signed::sign("connector-secret", ts, body);
        let req = request(
            "/hooks/northside-chevy/events",
            &[(signed::TIMESTAMP, &ts.to_string()), (signed::SIGNATURE, &signature)],
            body,
        );
        assert_eq!(count(signed::events("northside-chevy", &req, &secrets(), now)), Err(Refusal::Forbidden), "{ts}");
    }
    assert!(!signed::within_tolerance(i64::MAX, i64::MIN));
    assert!(!signed::within_tolerance(i64::MIN, i64::MAX));
    assert!(signed::within_tolerance(i64::MAX, i64::MAX - 300));
    assert!(signed::within_tolerance(i64::MIN, i64::MIN + 300));
    assert!(!signed::within_tolerance(i64::MIN, i64::MIN + 301));
}

#[test]
fn with_a_public_base_url_twilio_is_checked_against_it_whatever_the_host_header_says() {
    let now = at("2026-11-23T16:06:00Z");
    let params = [
        ("CallSid", "CA5f2b1c0e9d8a7b6c5d4e3f2a1b0c9d8e"),
        ("CallStatus", "completed"),
        ("DialCallStatus", "no-answer"),
        ("Direction", "inbound"),
        ("From", "+15125550177"),
        ("To", "+15125550101"),
    ];
    let (owned, body) = form(&params);
    let base = "https://hooks.dealer.example";
    let path = "/hooks/northside-chevy/twilio/voice";
    let signed_for = |url: &str| twilio::signature("12345", url, &owned);
    let with = |host: &str, proto: &str, signature: &str| {
        request(path, &[("host", host), ("x-forwarded-proto", proto), ("x-twilio-signature", signature)], &body)
    };
    // Signed for the public URL; the request reached the function under
    // another host (the API's own domain): accepted with the base, as it is.
    let public = signed_for(&format!("{base}{path}"));
    let req = with("abc123.execute-api.us-east-1.amazonaws.com", "https", &public);
    assert!(twilio::call("northside-chevy", &req, &secrets(), now, &lines(), Some(base)).unwrap().is_some());
    assert_eq!(id(twilio::call("northside-chevy", &req, &secrets(), now, &lines(), None)), Err(Refusal::Forbidden));
    // A signature for whatever host the caller claims is refused once the base is set.
    let claimed = signed_for(&format!("http://attacker.example{path}"));
    let forged = with("attacker.example", "http", &claimed);
    assert_eq!(
        id(twilio::call("northside-chevy", &forged, &secrets(), now, &lines(), Some(base))),
        Err(Refusal::Forbidden)
    );
    assert!(twilio::call("northside-chevy", &forged, &secrets(), now, &lines(), None).unwrap().is_some());
    // A base with a path of its own (an API mapping), and the explicit port.
    let mapped = "https://api.dealer.example/custops";
    let req = with("x", "http", &signed_for(&format!("{mapped}{path}")));
    assert!(twilio::call("northside-chevy", &req, &secrets(), now, &lines(), Some(mapped)).unwrap().is_some());
    let req = with("x", "http", &signed_for(&format!("https://hooks.dealer.example:443{path}")));
    assert!(twilio::call("northside-chevy", &req, &secrets(), now, &lines(), Some(base)).unwrap().is_some());
}

#[test]
fn the_public_base_url_is_read_from_the_environment_and_checked() {
    let env = |v: &str| HashMap::from([(PUBLIC_BASE_URL.to_owned(), v.to_owned())]);
    assert_eq!(public_base_url(&HashMap::<String, String>::new()).unwrap(), None);
    assert_eq!(public_base_url(&env("")).unwrap(), None);
    assert_eq!(
        public_base_url(&env("https://hooks.dealer.example/")).unwrap().as_deref(),
        Some("https://hooks.dealer.example")
    );
    for bad in ["hooks.dealer.example", "ftp://x", "https://x/?a=1", "not a url"] {
        assert!(public_base_url(&env(bad)).is_err(), "{bad}");
    }
}

#[test]
fn a_missing_or_unreadable_secret_is_no_secret_and_only_an_unanswered_call_is_a_retry() {
    use aws_sdk_secretsmanager::error::ErrorMetadata;
    use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
    use aws_sdk_secretsmanager::types::error::{InternalServiceError, ResourceNotFoundException};
    let coded = |code: &str| GetSecretValueError::generic(ErrorMetadata::builder().code(code).message("m").build());
    // On AWS, a secret that does not exist, under a policy scoped to the
    // stores' secrets, answers AccessDeniedException (not modelled by the SDK).
    assert!(is_no_secret(&coded("AccessDeniedException")));
    assert!(is_no_secret(&coded("ResourceNotFoundException")));
    assert!(is_no_secret(&GetSecretValueError::ResourceNotFoundException(
        ResourceNotFoundException::builder().build()
    )));
    assert!(is_no_secret(&coded("InvalidRequestException")), "marked for deletion");
    assert!(is_no_secret(&coded("DecryptionFailure")), "the key may not be used");
    // Secrets Manager not answering: 503, the caller retries.
    assert!(!is_no_secret(&coded("ThrottlingException")));
    assert!(!is_no_secret(&GetSecretValueError::InternalServiceError(InternalServiceError::builder().build())));
}

#[test]
fn the_secret_cache_keeps_at_most_its_bound_evicting_the_oldest() {
    let start = Instant::now();
    let mut cache: Bounded<u32> = Bounded::new(3);
    let forever = |_: &u32| Duration::from_secs(3600);
    for i in 0..10u32 {
        cache.insert(format!("store-{i}"), i, start + Duration::from_secs(u64::from(i)));
        assert!(cache.len() <= 3);
    }
    let later = start + Duration::from_secs(20);
    assert_eq!(cache.get("store-0", later, forever), None, "evicted");
    assert_eq!(cache.get("store-9", later, forever), Some(9));
    assert_eq!(cache.get("store-7", later, forever), Some(7));
    // A key stored again takes no one's place.
    cache.insert("store-9".into(), 90, later);
    assert_eq!((cache.len(), cache.get("store-8", later, forever)), (3, Some(8)));
    // Past its time to live: not served.
    assert_eq!(cache.get("store-9", later + Duration::from_secs(5), |_| Duration::from_secs(1)), None);
}

#[test]
fn a_flood_of_unknown_store_ids_reads_the_list_of_stores_at_most_once_per_interval() {
    let start = Instant::now();
    let mut known = KnownStores::default();
    assert_eq!(known.lookup("northside-chevy", start), Known::ReadAgain, "never read");
    known.read(Some(HashSet::from(["northside-chevy".to_owned()])), start);
    assert_eq!(known.lookup("northside-chevy", start), Known::Store);

    // 100,000 junk ids within the interval: no read, each refused.
    let mut reads = 0;
    for i in 0..100_000u64 {
        let now = start + Duration::from_micros(i * 50);
        match known.lookup(&format!("junk-{i}"), now) {
            Known::NotAStore => {}
            Known::ReadAgain => {
                reads += 1;
                known.read(Some(HashSet::from(["northside-chevy".to_owned()])), now);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reads, 0, "5 s of junk, under the interval");
    // Past the interval, an unknown id reads the list once (a store added is found), then waits again.
    let t = start + STORE_LIST_MIN_AGE;
    assert_eq!(known.lookup("lakeside-ford", t), Known::ReadAgain);
    known.read(Some(HashSet::from(["northside-chevy".to_owned(), "lakeside-ford".to_owned()])), t);
    assert_eq!(known.lookup("lakeside-ford", t), Known::Store);
    assert_eq!(known.lookup("junk", t + Duration::from_secs(1)), Known::NotAStore);
    // A stale list is read again even for a known store; a read that fails
    // keeps what was known, and an unknown id is then "try again".
    let stale = t + STORE_LIST_TTL;
    assert_eq!(known.lookup("northside-chevy", stale), Known::ReadAgain);
    known.read(None, stale);
    assert_eq!(known.lookup("northside-chevy", stale), Known::Store);
    assert_eq!(known.lookup("junk", stale), Known::Unavailable);
}
