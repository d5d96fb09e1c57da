//! The outbox's lease machine. A text is published only by the holder of its
//! lease (a token), and only from a state in which it certainly was not
//! published before:
//!
//! ```text
//! trigger commit --(may go now)--> sending(token) --published--> sent | shadow
//!       |                            |   \--certainly not published--> pending --lease--> sending
//!       |                            |   \--window closed meanwhile--> deferred
//!       |                            |   \--answer lost--> unknown
//!       |                            \--lease ran out (holder died mid-send)--> unknown
//!       \--(not yet)--> deferred --due, lease--> sending
//! pending | deferred --opted out, or withdrawn (`withdrawn_if`)--> suppressed
//! ```
//!
//! `unknown` is never published again: SNS has no idempotency key, so a text
//! whose publish may have happened is left to a person. Every finishing,
//! releasing or deferring write is conditional on the holder's token, so a
//! stale holder never changes what another holds or has closed.

use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};
use tracing::instrument;

use super::item::{key_of, mapping, n, s, Item};
use super::tx::{Guard, TxError, TxRejected};
use super::{Table, TableError};
use crate::entity::{CustomerId, Entity};
use crate::keys::{self, Keys, GSI3};
use crate::model::{Consent, Customer, Fact, FactKind};
use crate::store::StoreConfig;
use crate::text::{MessageClass, OutboundText, TextState};

/// The attribute holding a text's state.
const STATE: &str = "state";

/// The result of trying to take over a text for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// This caller holds the text now, with this token, and must publish it.
    Acquired(String),
    /// Another sender holds it and its lease has not run out: it is in flight.
    Held,
    /// Its sender's lease ran out while it was sending: it may have been
    /// published, so it is not taken over.
    Abandoned,
    /// Deferred, and not due yet.
    NotDue,
    /// Finished: sent, shadowed, suppressed, unknown (or gone).
    Done,
    /// The number opted out after the text was written: it must never go.
    OptedOut,
    /// What withdraws the text happened after it was written (the reason):
    /// it must never go.
    Withdrawn(String),
}

/// `SET` clause that finishes a text: off the due index, lease dropped.
fn finishing(set: &str) -> String {
    format!("SET {set} REMOVE lease_until, lease_token, {}, {}", GSI3.pk, GSI3.sk)
}

impl Table {
    /// Takes over a text that is pending (certainly not published) or
    /// deferred and due, and leases it to this caller under a new token, in
    /// one transaction that also checks the number has not opted out since the
    /// text was written. A text another sender is sending is never taken over.
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn lease_text(
        &self,
        text: &OutboundText,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Lease, TableError> {
        let keys = text.keys(&());
        let token = ulid::Ulid::new().to_string();
        let update = Update::builder()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            .update_expression("SET #st = :sending, lease_until = :lease, lease_token = :token ADD attempts :one")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .condition_expression("attribute_exists(pk) AND (#st = :pending OR (#st = :deferred AND due_at <= :now))")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":sending", s(TextState::Sending.as_str()))
            .expression_attribute_values(":pending", s(TextState::Pending.as_str()))
            .expression_attribute_values(":deferred", s(TextState::Deferred.as_str()))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":lease", n((now + lease).timestamp_millis()))
            .expression_attribute_values(":token", s(&token))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| mapping(&keys, OutboundText::KIND, e))?;
        let mut tx = self.tx();
        tx.push(OutboundText::KIND, Ok(TransactWriteItem::builder().update(update).build()));
        let customer = CustomerId::new(&text.store_id, text.phone.clone());
        // A marketing text waiting for the window is withdrawn by whatever
        // would have stopped it (CONTRACT section 7): each is checked here,
        // in the transaction that releases it.
        let marketing = text.class == MessageClass::Marketing;
        if !text.confirms_opt_out {
            tx.require_consent(&customer, marketing);
        }
        if marketing || text.withdrawn_if.is_some() {
            tx.require_not_withdrawn(&customer, text.withdrawn_if, marketing, text.created_at);
        }
        for sk in &text.while_open {
            tx.require_open(&Keys::new(customer.pk(), sk.clone()));
        }
        match self.commit(tx).await {
            Ok(()) => Ok(Lease::Acquired(token)),
            Err(TxError::Rejected(TxRejected::Conflict(kinds))) if kinds.contains(&Consent::KIND) => {
                let consent = self.consent_of(&customer).await?;
                Ok(if consent.opted_out() {
                    Lease::OptedOut
                } else if consent.marketing_paused() {
                    Lease::Withdrawn("withdrawn: the customer's reply may mean stop; a person decides".into())
                } else {
                    Lease::Withdrawn("withdrawn: the DMS withdrew marketing consent".into())
                })
            }
            Err(TxError::Rejected(TxRejected::Conflict(kinds))) if kinds.contains(&Customer::KIND) => {
                let replied = self.get_profile(&customer).await?.and_then(|p| p.replied_at);
                Ok(Lease::Withdrawn(match (replied, text.withdrawn_if) {
                    (Some(r), _) if r >= text.created_at => {
                        "withdrawn: the customer replied; a person has the conversation".into()
                    }
                    (_, Some(why)) => why.reason().into(),
                    (_, None) => "withdrawn: the customer replied; a person has the conversation".into(),
                }))
            }
            Err(TxError::Rejected(TxRejected::Conflict(kinds))) if kinds.contains(&super::tx::STILL_OPEN) => {
                Ok(Lease::Withdrawn("withdrawn: the work it is about was booked, done or closed by a person".into()))
            }
            Err(TxError::Rejected(TxRejected::TextExists { text: Some(now_is) })) => Ok(match now_is.state {
                TextState::Sending if now_is.lease_until.is_some_and(|l| l < now) => Lease::Abandoned,
                TextState::Sending => Lease::Held,
                TextState::Deferred => Lease::NotDue,
                // Pending but its consent check failed is OptedOut, above.
                TextState::Pending => Lease::Held,
                TextState::Sent
                | TextState::Shadow
                | TextState::Suppressed
                | TextState::Unknown
                | TextState::Failed => Lease::Done,
            }),
            Err(TxError::Rejected(_)) => Ok(Lease::Done),
            Err(TxError::Table(e)) => Err(e),
        }
    }

    /// Closes a text that must never go out (the number opted out before it was sent).
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn suppress_text(&self, text: &OutboundText, reason: &str, at: DateTime<Utc>) -> Result<(), TableError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&text.keys(&()))))
            .update_expression(finishing("#st = :suppressed, suppressed_reason = :why, sent_at = :at"))
            // Only a text nobody holds: one being sent is its holder's.
            .condition_expression("#st IN (:pending, :deferred)")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":suppressed", s(TextState::Suppressed.as_str()))
            .expression_attribute_values(":pending", s(TextState::Pending.as_str()))
            .expression_attribute_values(":deferred", s(TextState::Deferred.as_str()))
            .expression_attribute_values(":why", s(reason))
            .expression_attribute_values(":at", s(serde_time(at)))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e));
        match result {
            Err(e) if !e.is_conditional_failure() => Err(e),
            _ => Ok(()),
        }
    }

    /// Records a published (or shadowed) text. Only its holder may, and it
    /// may even after the text was marked `unknown` (its lease ran out while
    /// it was publishing): what happened beats what was feared.
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn finish_text(
        &self,
        text: &OutboundText,
        token: &str,
        state: TextState,
        sns_message_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), TableError> {
        let mut u = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&text.keys(&()))))
            .condition_expression("(lease_token = :token OR held_by = :token) AND #st IN (:sending, :unknown)")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":token", s(token))
            .expression_attribute_values(":sending", s(TextState::Sending.as_str()))
            .expression_attribute_values(":unknown", s(TextState::Unknown.as_str()))
            .expression_attribute_values(":state", s(state.as_str()))
            .expression_attribute_values(":at", s(serde_time(at)));
        u = match sns_message_id {
            // On the message-id index too: the text's delivery receipt finds it with one read.
            Some(id) => u
                .update_expression(finishing(
                    "#st = :state, sent_at = :at, sns_message_id = :mid, #mpk = :mpk, #msk = :msk",
                ))
                .expression_attribute_names("#mpk", keys::GSI1.pk)
                .expression_attribute_names("#msk", keys::GSI1.sk)
                .expression_attribute_values(":mid", s(id))
                .expression_attribute_values(":mpk", s(keys::sns_message(id)))
                .expression_attribute_values(":msk", s("TEXT")),
            None => u.update_expression(finishing("#st = :state, sent_at = :at")),
        };
        u.send().await.map_err(|e| TableError::aws("UpdateItem", e))?;
        Ok(())
    }

    /// Gives a leased text back after a publish that certainly did not
    /// happen, so the retry sends it.
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn release_text(&self, text: &OutboundText, token: &str) -> Result<(), TableError> {
        self.held(text, token)
            .update_expression("SET #st = :pending REMOVE lease_until, lease_token")
            .expression_attribute_values(":pending", s(TextState::Pending.as_str()))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e))?;
        Ok(())
    }

    /// Puts a leased text back to wait until `due`: the texting window closed
    /// between its plan (or its release) and its publish.
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn defer_text(&self, text: &OutboundText, token: &str, due: DateTime<Utc>) -> Result<(), TableError> {
        let waiting = OutboundText { state: TextState::Deferred, due_at: Some(due), ..text.clone() };
        let (gsi3pk, gsi3sk) = waiting.keys(&()).gsi3.unwrap_or_default();
        self.held(text, token)
            .update_expression(
                "SET #st = :deferred, due_at = :due, defer_reason = :why, #ipk = :ipk, #isk = :isk REMOVE lease_until, lease_token",
            )
            .expression_attribute_names("#ipk", GSI3.pk)
            .expression_attribute_names("#isk", GSI3.sk)
            .expression_attribute_values(":deferred", s(TextState::Deferred.as_str()))
            .expression_attribute_values(":due", n(due.timestamp_millis()))
            .expression_attribute_values(":why", s("quiet hours"))
            .expression_attribute_values(":ipk", s(gsi3pk))
            .expression_attribute_values(":isk", s(gsi3sk))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e))?;
        Ok(())
    }

    /// Marks a text whose publish may or may not have happened `unknown`
    /// (never published again) and counts it on the store's day. `token`:
    /// its holder, whose publish answer was lost; `None`: anyone, once its
    /// holder's lease ran out mid-send. Returns false if it changed meanwhile.
    #[instrument(skip(self, text, store), fields(dedupe_key = %text.dedupe_key))]
    pub async fn mark_unknown(
        &self,
        text: &OutboundText,
        store: &StoreConfig,
        token: Option<&str>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, TableError> {
        let keys = text.keys(&());
        let mut values: Item = [
            (":sending", s(TextState::Sending.as_str())),
            (":unknown", s(TextState::Unknown.as_str())),
            (":why", s(reason)),
            (":at", s(serde_time(now))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let condition = match token {
            Some(t) => {
                values.insert(":token".into(), s(t));
                "#st = :sending AND lease_token = :token"
            }
            None => {
                values.insert(":now".into(), n(now.timestamp_millis()));
                "#st = :sending AND lease_until < :now"
            }
        };
        let update = Update::builder()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            // The token stays as `held_by`: its holder may still record the truth.
            .update_expression(format!(
                "SET #st = :unknown, suppressed_reason = :why, sent_at = :at, held_by = lease_token REMOVE lease_until, lease_token, {}, {}",
                GSI3.pk, GSI3.sk
            ))
            .condition_expression(condition)
            .expression_attribute_names("#st", STATE)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| mapping(&keys, OutboundText::KIND, e))?;
        let mut tx = self.tx();
        tx.push(OutboundText::KIND, Ok(TransactWriteItem::builder().update(update).build()));
        let fact = Fact::new(store, FactKind::TextAmbiguous, &format!("text:{}", text.dedupe_key), now);
        tx.put(&fact, Guard::Always);
        match self.commit(tx).await {
            Ok(()) => Ok(true),
            Err(TxError::Rejected(_)) => Ok(false),
            Err(TxError::Table(e)) => Err(e),
        }
    }

    /// Closes a text nobody holds whose release attempts ran out as
    /// `failed`, with the reason, and counts it on the store's day. False if
    /// it changed meanwhile.
    #[instrument(skip(self, text, store), fields(dedupe_key = %text.dedupe_key))]
    pub async fn fail_text(
        &self,
        text: &OutboundText,
        store: &StoreConfig,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, TableError> {
        let keys = text.keys(&());
        let update = Update::builder()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            .update_expression(finishing("#st = :failed, suppressed_reason = :why, sent_at = :at"))
            .condition_expression("#st IN (:pending, :deferred)")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":failed", s(TextState::Failed.as_str()))
            .expression_attribute_values(":pending", s(TextState::Pending.as_str()))
            .expression_attribute_values(":deferred", s(TextState::Deferred.as_str()))
            .expression_attribute_values(":why", s(reason))
            .expression_attribute_values(":at", s(serde_time(now)))
            .build()
            .map_err(|e| mapping(&keys, OutboundText::KIND, e))?;
        let mut tx = self.tx();
        tx.push(OutboundText::KIND, Ok(TransactWriteItem::builder().update(update).build()));
        let fact = Fact::new(store, FactKind::TextFailed, &format!("text:{}", text.dedupe_key), now);
        tx.put(&fact, Guard::Always);
        match self.commit(tx).await {
            Ok(()) => Ok(true),
            Err(TxError::Rejected(_)) => Ok(false),
            Err(TxError::Table(e)) => Err(e),
        }
    }

    /// An update of a text conditional on `token` holding its lease.
    fn held(
        &self,
        text: &OutboundText,
        token: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&text.keys(&()))))
            .condition_expression("#st = :sending AND lease_token = :token")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":sending", s(TextState::Sending.as_str()))
            .expression_attribute_values(":token", s(token))
    }
}

/// The form serde (chrono) writes a timestamp in, so conditions compare like with like.
fn serde_time(t: DateTime<Utc>) -> String {
    serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
