//! `inbound-sms`: what customers text the store.
//!
//! Trigger: AWS End User Messaging two-way SMS payloads on the `inbound-sms`
//! topic, through the function's SQS queue.
//! Reads: the store by its texting number (`destinationNumber`, cached), the
//! customer's current state (one Query).
//! Decides ([`decide`], pure): for an opt-out keyword (STOP, UNSUBSCRIBE, ...)
//! the consent ledger (opted out, when, how); for an opt-in keyword (START,
//! UNSTOP) the opt-out cleared; any other message goes on the timeline with a
//! reply task for the store's main owner (a lead record for an unknown number).
//! Applies it in one transaction, claimed on `inboundMessageId`. Sends nothing:
//! End User Messaging answers the keywords itself.

use chrono::{DateTime, Duration, Utc};
use tracing::info;

use custops::batch::Message;
use custops::event::InboundSms;
use custops::function::SqsFunction;
use custops::model::{Customer, CustomerState, Fact, FactKind, Task, TaskKind, Touchpoint};
use custops::store::{Department, StoreConfig};
use custops::{Applied, Change, CustomerId, Deps, Phone, ProcessError, RecordChange};

/// Keywords that opt a number out (the End User Messaging defaults).
pub const OPT_OUT: &[&str] =
    &["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT-OUT", "REVOKE", "ARRET"];
/// Keywords that opt a number back in.
pub const OPT_IN: &[&str] = &["START", "UNSTOP", "SUBSCRIBE"];
pub const HELP: &[&str] = &["HELP", "INFO"];
/// How soon a reply to a customer's text is due.
pub const REPLY_DUE_MINUTES: i64 = 15;

/// What a message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    OptOut,
    OptIn,
    Help,
    Message,
}

/// What the customer typed, as a keyword: the body, without case or
/// surrounding space and punctuation. Never `messageKeyword`: AWS documents it
/// as the keyword registered for the receiving number (their example is
/// `"JOIN"` for a body of `"EXAMPLE"`), not what the customer sent.
pub fn keyword(sms: &InboundSms) -> String {
    sms.message_body.trim().trim_end_matches(['.', '!']).to_uppercase()
}

/// The intent of a text, from its body.
pub fn intent(sms: &InboundSms) -> Intent {
    let word = keyword(sms);
    if OPT_OUT.contains(&word.as_str()) {
        Intent::OptOut
    } else if OPT_IN.contains(&word.as_str()) {
        Intent::OptIn
    } else if HELP.contains(&word.as_str()) {
        Intent::Help
    } else {
        Intent::Message
    }
}

/// The function (its code is [`decide`]; see [`SqsFunction`]).
pub struct InboundSmsHandler;

impl SqsFunction for InboundSmsHandler {
    const NAME: &'static str = "inbound-sms";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        let sms: InboundSms = serde_json::from_str(&message.body).map_err(|e| ProcessError::Invalid {
            event_id: message.message_id.clone(),
            reason: format!("not an inbound SMS payload: {}", custops::phone::redact_digits(&e.to_string())),
        })?;
        let event_id = event_id(&sms);
        tracing::Span::current().record("event_id", event_id.as_str());
        let number = |what: &str, raw: &str| {
            Phone::parse(raw)
                .map_err(|e| ProcessError::Invalid { event_id: event_id.clone(), reason: format!("{what}: {e}") })
        };
        let from = number("originationNumber", &sms.origination_number)?;
        let store = deps.store_by_number(&number("destinationNumber", &sms.destination_number)?, &event_id).await?;
        let customer = CustomerId::new(&store.store_id, from);
        let state = deps.table.customer_state(&customer).await?;
        let now = deps.clock.now();
        let change = decide(&store, &sms, &customer, &state, message.sent_at.unwrap_or(now), now);
        if deps.apply(&store, change).await? != Applied::Duplicate {
            info!(intent = ?intent(&sms), "inbound text recorded");
        }
        Ok(())
    }
}

/// The idempotency key of an inbound text: its message id.
pub fn event_id(sms: &InboundSms) -> String {
    format!("sms#{}", sms.inbound_message_id)
}

/// What one inbound text changes, decided from the sender's record. Pure.
/// `sent_at`: when the text entered custops (its SQS `SentTimestamp`, the
/// same on every retry); STOP and START take effect in that order.
pub fn decide(
    store: &StoreConfig,
    sms: &InboundSms,
    sender: &CustomerId,
    state: &CustomerState,
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Change {
    let event_id = event_id(sms);
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let word = keyword(sms);
    let mut record = RecordChange::new(sender.clone());
    let mut change = Change::new(&event_id);
    let intent = intent(sms);
    let superseded = state.consent.keyword_at.is_some_and(|last| sent_at < last);
    match intent {
        Intent::OptOut | Intent::OptIn if superseded => {
            // Processed late (a retry): the customer's later keyword stands.
            let summary =
                format!("texted {word} at {}, before the keyword the ledger follows: no change", sent_at.to_rfc3339());
            record.touch(touch("consent.late", summary));
        }
        Intent::OptOut => {
            let mut consent = state.consent.clone();
            if !consent.opted_out() {
                consent.opted_out_at = Some(sent_at);
                consent.opt_out_source = Some(format!("sms:{word}"));
            }
            consent.keyword_at = Some(sent_at);
            record.consent = Some((consent, state.consent.clone()));
            record.touch(touch("consent.opted_out", format!("opted out by texting {word}")));
            change = change.fact(Fact::new(store, FactKind::SmsOptOut, &event_id, now));
        }
        Intent::OptIn => {
            let mut consent = state.consent.clone();
            consent.opted_out_at = None;
            consent.opt_out_source = None;
            consent.keyword_at = Some(sent_at);
            record.consent = Some((consent, state.consent.clone()));
            record.touch(touch("consent.opted_in", format!("opted back in by texting {word}")));
        }
        Intent::Help => record.touch(touch("sms.help", "asked for help".into())),
        Intent::Message => {
            let mut customer =
                state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, sender.phone.clone(), now));
            customer.updated_at = now;
            record.profile = Some((customer, state.version));
            let task = state.open_task(TaskKind::ReplySms).cloned().unwrap_or_else(|| {
                Task::open(
                    sender,
                    TaskKind::ReplySms,
                    format!("reply-{}", sms.inbound_message_id),
                    (store.owners.main.clone(), Department::Main),
                    now + Duration::minutes(REPLY_DUE_MINUTES),
                    now,
                )
                .note("answer the customer's text")
            });
            record.tasks.push(task);
            record.touch(touch("sms.received", sms.message_body.clone()));
            change = change.fact(Fact::new(store, FactKind::SmsReceived, &event_id, now));
        }
    }
    change.record(record)
}

#[cfg(test)]
mod tests;
