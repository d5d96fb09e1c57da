//! `POST /hooks/{store_id}/events`: any DMS connector or phone system that can
//! sign. `X-Custops-Timestamp` is unix seconds, within [`TOLERANCE`] of now;
//! `X-Custops-Signature` is `sha256=` and the hex HMAC-SHA256 of
//! `{timestamp}.{raw body}`, keyed with the store's `signing_secret`. The
//! body is one section 3 envelope or a JSON array of up to [`MAX_BATCH`],
//! every one the path's store's; a batch is all or nothing.

use chrono::{DateTime, Utc};
use custops::event::Envelope;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::{HookRequest, Refusal, WebhookSecrets};

pub const TIMESTAMP: &str = "x-custops-timestamp";
pub const SIGNATURE: &str = "x-custops-signature";
/// How far a timestamp may be from now, either way.
pub const TOLERANCE: i64 = 300;
/// The most envelopes one request may carry.
pub const MAX_BATCH: usize = 100;

/// The signature header's value for `body` sent at `timestamp` (what a
/// connector computes; `custops` tests and samples sign with it).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = mac(secret, timestamp, body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The two headers a connector sends with `body` at `timestamp`.
pub fn headers(secret: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 2] {
    [(TIMESTAMP, timestamp.to_string()), (SIGNATURE, sign(secret, timestamp, body))]
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Whether `timestamp` is within [`TOLERANCE`] seconds of `now`, either way.
/// Any two `i64`s: the distance is taken without overflowing (a caller's
/// `i64::MIN` is far out of range, not a panic or a wrapped-around match).
pub fn within_tolerance(now: i64, timestamp: i64) -> bool {
    now.abs_diff(timestamp) <= TOLERANCE.unsigned_abs()
}

/// Checks the request's signature (the store's signing secret, the
/// timestamp within [`TOLERANCE`] of `now`): `POST /hooks/{store}/events`
/// and `/dms` are signed alike.
pub fn verify(req: &HookRequest, secrets: &WebhookSecrets, now: DateTime<Utc>) -> Result<(), Refusal> {
    let secret = secrets.signing_secret.as_deref().filter(|s| !s.is_empty()).ok_or(Refusal::Forbidden)?;
    let timestamp: i64 = req.header(TIMESTAMP).and_then(|t| t.trim().parse().ok()).ok_or(Refusal::Forbidden)?;
    if !within_tolerance(now.timestamp(), timestamp) {
        return Err(Refusal::Forbidden);
    }
    let given = req
        .header(SIGNATURE)
        .and_then(|s| s.trim().strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Refusal::Forbidden)?;
    // Constant time.
    mac(secret, timestamp, &req.body).verify_slice(&given).map_err(|_| Refusal::Forbidden)
}

/// Checks the request and reads its envelopes.
pub fn events(
    store_id: &str,
    req: &HookRequest,
    secrets: &WebhookSecrets,
    now: DateTime<Utc>,
) -> Result<Vec<Envelope>, Refusal> {
    verify(req, secrets, now)?;
    let value: serde_json::Value = serde_json::from_slice(&req.body).map_err(|e| {
        Refusal::Invalid(vec![format!("the body is not JSON: {}", custops::phone::redact_digits(&e.to_string()))])
    })?;
    let items = match value {
        serde_json::Value::Array(items) if items.is_empty() => {
            return Err(Refusal::Invalid(vec!["the batch is empty".into()]))
        }
        serde_json::Value::Array(items) if items.len() > MAX_BATCH => {
            return Err(Refusal::Invalid(vec![format!(
                "a batch holds at most {MAX_BATCH} envelopes, not {}",
                items.len()
            )]))
        }
        serde_json::Value::Array(items) => items,
        one @ serde_json::Value::Object(_) => vec![one],
        _ => return Err(Refusal::Invalid(vec!["the body is neither an envelope nor an array of them".into()])),
    };
    let mut envelopes = Vec::with_capacity(items.len());
    let mut reasons = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let checked = Envelope::parse(&item.to_string()).and_then(|e| e.check().map(|_| e));
        match checked {
            Ok(e) if e.store_id != store_id => {
                reasons.push(format!("envelope {i} (event {}): store_id is not this path's store", e.event_id))
            }
            Ok(e) => envelopes.push(e),
            Err(e) => reasons.push(format!("envelope {i}: {e}")),
        }
    }
    if reasons.is_empty() {
        Ok(envelopes)
    } else {
        Err(Refusal::Invalid(reasons))
    }
}
