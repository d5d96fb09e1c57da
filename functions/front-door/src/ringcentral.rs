//! `POST /hooks/{store_id}/ringcentral`: RingCentral's telephony-session
//! webhook, as RingCentral documents it
//! (<https://developers.ringcentral.com/guide/notifications/webhooks/creating-webhooks>,
//! <https://developers.ringcentral.com/guide/notifications/event-filters/account-telephony-sessions>).
//!
//! - The subscription handshake: a request with a `Validation-Token` header
//!   and an empty body is answered 200 with the same header, nothing else.
//! - Every event carries the store's token: in `Verification-Token` (the
//!   subscription's `verificationToken`), or, for a subscription created with
//!   a `validationToken`, in `Validation-Token`, which the answer echoes. It
//!   must equal the store's `ringcentral_verification_token`.
//! - A party with `direction` `Inbound` and `missedCall` true is a missed
//!   call: `call.missed` with event id `ringcentral-{telephonySessionId}` (a
//!   second event for the same session is the same event).
//! - A party with `direction` `Inbound`, `missedCall` false and status
//!   `Disconnected` is a call the store answered and that has ended
//!   (section 14): `call.answered`, event id
//!   `ringcentral-{telephonySessionId}-answered` (the event carries no
//!   duration).

use chrono::{DateTime, Utc};
use custops::event::Envelope;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::{call_event, Call, CallOutcome, Departments, HookRequest, Refusal, WebhookSecrets};

pub const VALIDATION_TOKEN: &str = "validation-token";
pub const VERIFICATION_TOKEN: &str = "verification-token";

/// What the token check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The subscription handshake: answer with this `Validation-Token`.
    Handshake(String),
    /// An event from the store's subscription; the `Validation-Token` to echo, if any.
    Event(Option<String>),
}

/// Checks who sent the request.
pub fn check(req: &HookRequest, secrets: &WebhookSecrets) -> Result<Checked, Refusal> {
    let expected =
        secrets.ringcentral_verification_token.as_deref().filter(|t| !t.is_empty()).ok_or(Refusal::Forbidden)?;
    let validation = req.header(VALIDATION_TOKEN).map(str::to_owned);
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return validation.map(Checked::Handshake).ok_or(Refusal::Forbidden);
    }
    let presented = req.header(VERIFICATION_TOKEN).or(validation.as_deref()).ok_or(Refusal::Forbidden)?;
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(Checked::Event(validation))
    } else {
        Err(Refusal::Forbidden)
    }
}

#[derive(Debug, Deserialize)]
struct Notification {
    #[serde(default)]
    timestamp: Option<DateTime<Utc>>,
    body: SessionBody,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionBody {
    telephony_session_id: String,
    #[serde(default)]
    event_time: Option<DateTime<Utc>>,
    #[serde(default)]
    parties: Vec<Party>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Party {
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    missed_call: bool,
    #[serde(default)]
    from: Option<PartyNumber>,
    #[serde(default)]
    to: Option<PartyNumber>,
    #[serde(default)]
    status: Option<PartyStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartyNumber {
    #[serde(default)]
    phone_number: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PartyStatus {
    #[serde(default)]
    code: Option<String>,
}

/// The missed or answered call a checked event reports, if any.
pub fn call(
    store_id: &str,
    req: &HookRequest,
    now: DateTime<Utc>,
    departments: &Departments,
) -> Result<Option<Envelope>, Refusal> {
    let event: Notification = serde_json::from_slice(&req.body).map_err(|e| {
        Refusal::invalid(format!("not a telephony-session event: {}", custops::phone::redact_digits(&e.to_string())))
    })?;
    let code = |p: &Party| p.status.as_ref().and_then(|s| s.code.clone()).unwrap_or_default();
    let inbound = |p: &&Party| p.direction.as_deref() == Some("Inbound");
    let found = event.body.parties.iter().filter(inbound).find_map(|p| {
        if p.missed_call {
            // Left for voicemail: the party's status says so.
            Some((p, CallOutcome::Missed { voicemail: code(p).eq_ignore_ascii_case("VoiceMail") }))
        } else if code(p).eq_ignore_ascii_case("Disconnected") {
            Some((p, CallOutcome::Answered { duration_seconds: None }))
        } else {
            None
        }
    });
    let Some((party, outcome)) = found else { return Ok(None) };
    let number = |n: &Option<PartyNumber>| n.as_ref().and_then(|n| n.phone_number.clone()).filter(|n| !n.is_empty());
    let from = number(&party.from).ok_or_else(|| Refusal::invalid("the call's party has no from.phoneNumber"))?;
    let to = number(&party.to).ok_or_else(|| Refusal::invalid("the call's party has no to.phoneNumber"))?;
    if !departments.owns(&to) {
        // One RingCentral account serving a group sends every store's route
        // every call of the account: a call to another store's number is
        // that store's, not this one's (section 9).
        tracing::info!(store_id, "a call to a number that is not this store's: not published here");
        return Ok(None);
    }
    let session = &event.body.telephony_session_id;
    let call = Call {
        event_id: format!("ringcentral-{session}"),
        occurred_at: event.body.event_time.or(event.timestamp).unwrap_or(now),
        call_id: session,
        from: &from,
        to: &to,
        outcome,
    };
    call_event(store_id, call, departments).map(Some)
}
