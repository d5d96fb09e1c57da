//! The outbox's lease machine: a text is written `sending` (its writer holds
//! the lease) or `deferred`; whoever publishes it holds a lease; finishing
//! takes it off the due index.
//!
//! ```text
//! sending --publish ok--> sent | shadow
//!    |  \--publish failed--> pending --lease--> sending
//!    \--lease ran out--> (taken over) sending
//! deferred --due, lease--> sending
//! any unfinished --opted out--> suppressed
//! ```

use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};
use tracing::instrument;

use super::item::{key_of, mapping, n, s};
use super::tx::{TxError, TxRejected};
use super::{Table, TableError};
use crate::entity::Entity;
use crate::keys::GSI3;
use crate::model::Consent;
use crate::text::{OutboundText, TextState};

/// The attribute holding a text's state.
const STATE: &str = "state";

/// The result of trying to take over a text for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// This caller holds the text now and must publish it.
    Acquired,
    /// Another sender holds it and its lease has not run out: it is in flight.
    Held,
    /// Deferred, and not due yet.
    NotDue,
    /// Finished: sent, shadowed or suppressed (or gone).
    Done,
    /// The number opted out after the text was written: it must never go.
    OptedOut,
}

/// `SET` clause that finishes a text: off the due index, lease dropped.
fn finishing(set: &str) -> String {
    format!("SET {set} REMOVE lease_until, {}, {}", GSI3.pk, GSI3.sk)
}

impl Table {
    /// Takes over a text that is pending, due, or abandoned by a crashed sender,
    /// and leases it to this caller, in one transaction that also checks the
    /// number has not opted out since the text was written.
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn lease_text(
        &self,
        text: &OutboundText,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Lease, TableError> {
        let keys = text.keys(&());
        let update = Update::builder()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            // The due index stays until the text is finished, so a sender that
            // crashes mid-way is found (and taken over) by the scheduler.
            .update_expression("SET #st = :sending, lease_until = :lease ADD attempts :one")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .condition_expression(
                "attribute_exists(pk) AND (#st = :pending OR (#st = :deferred AND due_at <= :now) OR (#st = :sending AND lease_until < :now))",
            )
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":sending", s(TextState::Sending.as_str()))
            .expression_attribute_values(":pending", s(TextState::Pending.as_str()))
            .expression_attribute_values(":deferred", s(TextState::Deferred.as_str()))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":lease", n((now + lease).timestamp_millis()))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| mapping(&keys, OutboundText::KIND, e))?;
        let mut tx = self.tx();
        tx.push(OutboundText::KIND, Ok(TransactWriteItem::builder().update(update).build()));
        tx.require_not_opted_out(&crate::entity::CustomerId::new(&text.store_id, text.phone.clone()));
        match self.commit(tx).await {
            Ok(()) => Ok(Lease::Acquired),
            Err(TxError::Rejected(TxRejected::Conflict(kinds))) if kinds.contains(&Consent::KIND) => {
                Ok(Lease::OptedOut)
            }
            Err(TxError::Rejected(TxRejected::TextExists { text: Some(now_is) })) => Ok(match now_is.state {
                TextState::Sending | TextState::Pending => Lease::Held,
                TextState::Deferred => Lease::NotDue,
                TextState::Sent | TextState::Shadow | TextState::Suppressed => Lease::Done,
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
            .condition_expression("#st <> :sent")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":suppressed", s(TextState::Suppressed.as_str()))
            .expression_attribute_values(":sent", s(TextState::Sent.as_str()))
            .expression_attribute_values(":why", s(reason))
            .expression_attribute_values(":at", s(serde_time(at)))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e));
        match result {
            Err(e) if !e.is_conditional_failure() => Err(e),
            // Already sent: nothing to suppress.
            _ => Ok(()),
        }
    }

    /// Records a published (or shadowed) text; only its lease holder may.
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn finish_text(
        &self,
        text: &OutboundText,
        state: TextState,
        sns_message_id: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), TableError> {
        let mut u = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&text.keys(&()))))
            .condition_expression("#st = :sending")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":sending", s(TextState::Sending.as_str()))
            .expression_attribute_values(":state", s(state.as_str()))
            .expression_attribute_values(":at", s(serde_time(at)));
        u = match sns_message_id {
            Some(id) => u
                .update_expression(finishing("#st = :state, sent_at = :at, sns_message_id = :mid"))
                .expression_attribute_values(":mid", s(id)),
            None => u.update_expression(finishing("#st = :state, sent_at = :at")),
        };
        u.send().await.map_err(|e| TableError::aws("UpdateItem", e))?;
        Ok(())
    }

    /// Gives a leased text back after a failed publish, so the retry sends it.
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn release_text(&self, text: &OutboundText) -> Result<(), TableError> {
        self.client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&text.keys(&()))))
            .update_expression("SET #st = :pending REMOVE lease_until")
            .condition_expression("#st = :sending")
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(":sending", s(TextState::Sending.as_str()))
            .expression_attribute_values(":pending", s(TextState::Pending.as_str()))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e))?;
        Ok(())
    }
}

/// The form serde (chrono) writes a timestamp in, so conditions compare like with like.
fn serde_time(t: DateTime<Utc>) -> String {
    serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
