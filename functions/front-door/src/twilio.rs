//! `POST /hooks/{store_id}/twilio/voice`: Twilio Programmable Voice's status
//! callback (or a `<Dial action>`), form-encoded, as Twilio documents it
//! (<https://www.twilio.com/docs/voice/twiml#request-parameters>,
//! <https://www.twilio.com/docs/usage/webhooks/webhooks-security>).
//!
//! `X-Twilio-Signature` is the base64 HMAC-SHA1, keyed with the account's
//! auth token, of the URL Twilio called followed by every POST parameter
//! sorted by name, each name then its value. The URL is the deploy's public
//! base URL (`PUBLIC_BASE_URL`) plus the path and query when it is set,
//! whatever the request's headers say; else it is rebuilt from the request
//! (scheme from `X-Forwarded-Proto` when present, host, path, query). Either
//! is accepted with and without an explicit port, as Twilio's own
//! validators do (Twilio may sign either form).
//!
//! A missed call: `Direction` `inbound` and `DialCallStatus` (else
//! `CallStatus`) `no-answer`, `busy`, `failed` or `canceled`, or a voicemail
//! left (`RecordingUrl` present). It becomes `call.missed` with event id
//! `twilio-{CallSid}`: a retry, or a second callback for the same call, is
//! the same event.
//!
//! An answered call (section 14): `Direction` `inbound` and `DialCallStatus`
//! (else `CallStatus`) `completed` with its duration (`DialCallDuration`,
//! else `CallDuration`), no voicemail left. It becomes `call.answered` with
//! event id `twilio-{CallSid}-answered`.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use custops::event::Envelope;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::{call_event, Call, CallOutcome, Departments, HookRequest, Refusal, WebhookSecrets};

pub const SIGNATURE: &str = "x-twilio-signature";

/// The answer Twilio gets: an empty TwiML document (to a `<Dial action>` it
/// ends the call).
pub const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;

/// The call statuses that mean nobody answered.
pub const MISSED: &[&str] = &["no-answer", "busy", "failed", "canceled"];

/// Twilio's signature of `url` and `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// What Twilio sends for `params` to `url`: its `X-Twilio-Signature` and the
/// form-encoded body (a test, a sample, the bench send it as Twilio would).
pub fn signed_form(auth_token: &str, url: &str, params: &[(String, String)]) -> (String, String) {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
    (signature(auth_token, url, params), body)
}

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes()).expect("any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The URLs Twilio may have signed for this request: `public_base` (the
/// deploy's public base URL, without a trailing `/`) plus the path and query
/// when given, else as called; each also with the port the other way (added
/// when absent, removed when present).
pub fn candidate_urls(req: &HookRequest, public_base: Option<&str>) -> Vec<String> {
    let path = req.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if let Some(base) = public_base {
        let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
        let (host, base_path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        return with_and_without_port(scheme, host)
            .into_iter()
            .map(|host| format!("{scheme}://{host}{base_path}{path}"))
            .collect();
    }
    let scheme = req
        .header("x-forwarded-proto")
        .and_then(|p| p.split(',').next())
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .or(req.uri.scheme_str())
        .unwrap_or("https");
    let host = req.header("host").or_else(|| req.uri.authority().map(|a| a.as_str())).unwrap_or_default();
    with_and_without_port(scheme, host).into_iter().map(|host| format!("{scheme}://{host}{path}")).collect()
}

/// `host` as given, and with its port the other way.
fn with_and_without_port(scheme: &str, host: &str) -> [String; 2] {
    let default_port = if scheme == "http" { "80" } else { "443" };
    let other_host = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name.to_owned(),
        _ => format!("{host}:{default_port}"),
    };
    [host.to_owned(), other_host]
}

/// Checks the request; the missed or answered call it reports, if any.
pub fn call(
    store_id: &str,
    req: &HookRequest,
    secrets: &WebhookSecrets,
    now: DateTime<Utc>,
    departments: &Departments,
    public_base: Option<&str>,
) -> Result<Option<Envelope>, Refusal> {
    let token = secrets.twilio_auth_token.as_deref().filter(|t| !t.is_empty()).ok_or(Refusal::Forbidden)?;
    let given = req
        .header(SIGNATURE)
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s.trim()).ok())
        .ok_or(Refusal::Forbidden)?;
    let params: Vec<(String, String)> =
        form_urlencoded::parse(&req.body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    // Constant time, for each URL form Twilio may have signed.
    let signed =
        candidate_urls(req, public_base).iter().any(|url| mac(token, url, &params).verify_slice(&given).is_ok());
    if !signed {
        return Err(Refusal::Forbidden);
    }
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let call_sid = param("CallSid").ok_or_else(|| Refusal::invalid("CallSid is missing"))?;
    let voicemail = param("RecordingUrl").is_some();
    let status = param("DialCallStatus").or_else(|| param("CallStatus")).unwrap_or_default();
    let inbound = param("Direction") == Some("inbound");
    let duration = |name: &str| param(name).and_then(|d| d.parse::<u32>().ok());
    let outcome = if voicemail || MISSED.contains(&status) {
        CallOutcome::Missed { voicemail }
    } else if status == "completed" {
        let seconds =
            if param("DialCallStatus").is_some() { duration("DialCallDuration") } else { duration("CallDuration") };
        match seconds {
            Some(d) => CallOutcome::Answered { duration_seconds: Some(d) },
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    if !inbound {
        return Ok(None);
    }
    let from = param("From").ok_or_else(|| Refusal::invalid("From is missing"))?;
    let to = param("To").ok_or_else(|| Refusal::invalid("To is missing"))?;
    let occurred_at = param("Timestamp")
        .and_then(|t| DateTime::parse_from_rfc2822(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let call = Call { event_id: format!("twilio-{call_sid}"), occurred_at, call_id: call_sid, from, to, outcome };
    call_event(store_id, call, departments).map(Some)
}
