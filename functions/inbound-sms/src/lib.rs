//! `inbound-sms`: what customers text the store.
//!
//! Trigger: AWS End User Messaging two-way SMS payloads on the `inbound-sms`
//! topic, through the function's SQS queue.
//! Reads: the store by its texting number (`destinationNumber`, cached), the
//! customer's current state (one Query).
//! Writes (one transaction): the claim on `inboundMessageId`; for an opt-out
//! keyword (STOP, UNSUBSCRIBE, ...) the consent ledger (opted out, when, how),
//! for an opt-in keyword (START, UNSTOP) the opt-out cleared; any other message
//! goes on the timeline with a reply task for the store's main owner (a lead
//! record for an unknown number). Sends nothing: End User Messaging answers
//! the keywords itself.

use chrono::Duration;
use tracing::info;

use custops::batch::Message;
use custops::event::InboundSms;
use custops::function::SqsFunction;
use custops::model::{Customer, Task, TaskKind, TaskStatus, Touchpoint};
use custops::store::Department;
use custops::table::{Tx, TxError, TxRejected};
use custops::{Deps, Phone, ProcessError};

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

/// The intent of a text: its keyword (as End User Messaging reports it, else
/// the whole body) matched without regard to case or surrounding space.
pub fn intent(sms: &InboundSms) -> Intent {
    let word = sms
        .message_keyword
        .as_deref()
        .filter(|k| !k.trim().is_empty())
        .unwrap_or(&sms.message_body)
        .trim()
        .trim_end_matches(['.', '!'])
        .to_uppercase();
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

#[derive(Debug, Clone)]
pub struct InboundSmsHandler {
    deps: Deps,
}

impl SqsFunction for InboundSmsHandler {
    const NAME: &'static str = "inbound-sms";

    fn new(deps: Deps) -> Self {
        Self { deps }
    }

    fn deps(&self) -> &Deps {
        &self.deps
    }

    async fn process(&self, message: Message) -> Result<(), ProcessError> {
        let sms: InboundSms = serde_json::from_str(&message.body).map_err(|e| ProcessError::Invalid {
            event_id: message.message_id.clone(),
            reason: format!("not an inbound SMS payload: {}", custops::phone::redact_digits(&e.to_string())),
        })?;
        let event_id = format!("sms#{}", sms.inbound_message_id);
        tracing::Span::current().record("event_id", event_id.as_str());
        let invalid = |what: &str, e: custops::phone::PhoneError| ProcessError::Invalid {
            event_id: event_id.clone(),
            reason: format!("{what}: {e}"),
        };
        let from = Phone::parse(&sms.origination_number).map_err(|e| invalid("originationNumber", e))?;
        let to = Phone::parse(&sms.destination_number).map_err(|e| invalid("destinationNumber", e))?;
        let store = self.deps.stores.by_number(&to, &event_id).await?;
        let now = self.deps.clock.now();
        let state = self.deps.table.customer_state(&store.store_id, &from).await?;
        let table = &self.deps.table;
        let intent = intent(&sms);

        let mut tx = Tx::new();
        tx.claim_event(table, &event_id, now);
        let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
        let keyword = sms.message_keyword.clone().unwrap_or_else(|| sms.message_body.trim().to_uppercase());
        match intent {
            Intent::OptOut => {
                let mut consent = state.consent.clone();
                if !consent.opted_out() {
                    consent.opted_out_at = Some(now);
                    consent.opt_out_source = Some(format!("sms:{keyword}"));
                }
                tx.put_consent(table, &store.store_id, &from, &consent, &state.consent);
                tx.touch(
                    table,
                    &store.store_id,
                    &from,
                    &touch("consent.opted_out", format!("opted out by texting {keyword}")),
                );
                tx.count(table, &store.store_id, store.local(now).date_naive(), "sms_opt_outs");
            }
            Intent::OptIn => {
                let mut consent = state.consent.clone();
                consent.opted_out_at = None;
                consent.opt_out_source = None;
                tx.put_consent(table, &store.store_id, &from, &consent, &state.consent);
                tx.touch(
                    table,
                    &store.store_id,
                    &from,
                    &touch("consent.opted_in", format!("opted back in by texting {keyword}")),
                );
            }
            Intent::Help => {
                tx.touch(table, &store.store_id, &from, &touch("sms.help", "asked for help".into()));
            }
            Intent::Message => {
                let mut customer =
                    state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, from.clone(), now));
                customer.updated_at = now;
                tx.put_profile(table, &customer, state.version);
                let task = match state.open_task(TaskKind::ReplySms) {
                    Some(open) => open.clone(),
                    None => Task {
                        task_id: format!("reply-{}", sms.inbound_message_id),
                        store_id: store.store_id.clone(),
                        phone: from.clone(),
                        kind: TaskKind::ReplySms,
                        status: TaskStatus::Open,
                        owner: store.owners.main.clone(),
                        department: Department::Main,
                        due_at: now + Duration::minutes(REPLY_DUE_MINUTES),
                        created_at: now,
                        calls: 0,
                        last_call_at: None,
                        last_text_at: None,
                        ro_number: None,
                        note: "answer the customer's text".into(),
                    },
                };
                tx.put_task(table, &task);
                tx.touch(table, &store.store_id, &from, &touch("sms.received", sms.message_body.clone()));
                tx.count(table, &store.store_id, store.local(now).date_naive(), "sms_received");
            }
        }
        match table.commit(tx).await {
            Ok(()) => info!(?intent, "inbound text recorded"),
            Err(TxError::Rejected(TxRejected::Duplicate { .. })) => info!("duplicate inbound text"),
            Err(TxError::Rejected(_)) => return Err(ProcessError::Conflict { event_id }),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(keyword: Option<&str>, body: &str) -> InboundSms {
        serde_json::from_value(serde_json::json!({
            "originationNumber": "+15125550188", "destinationNumber": "+15125550100",
            "messageKeyword": keyword, "messageBody": body, "inboundMessageId": "m-1"
        }))
        .unwrap()
    }

    #[test]
    fn keywords_are_matched_without_case_or_punctuation() {
        assert_eq!(intent(&sms(Some("STOP"), "STOP")), Intent::OptOut);
        assert_eq!(intent(&sms(None, " stop. ")), Intent::OptOut);
        assert_eq!(intent(&sms(None, "Unsubscribe")), Intent::OptOut);
        assert_eq!(intent(&sms(None, "start")), Intent::OptIn);
        assert_eq!(intent(&sms(None, "HELP")), Intent::Help);
        assert_eq!(intent(&sms(None, "Can you stop by at 3?")), Intent::Message);
    }
}
