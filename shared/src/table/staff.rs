//! The staff's items ([`crate::staff`]): memberships, sessions and the
//! sign-in failure counter. Every read a request's decision rests on is
//! consistent; the failure counter is one item updated atomically (`ADD`,
//! conditions), so concurrent failures are all counted on real DynamoDB.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::item::{from_item, key_of, n, number, s, to_item};
use super::{Range, Table, TableError};
use crate::entity::Entity;
use crate::keys::{self, KIND, TTL_ATTRIBUTE};
use crate::staff::{self, StaffMember, StaffSession};

impl Table {
    /// Saves one person's membership of one store.
    #[instrument(skip(self, member), fields(store_id = %member.store_id))]
    pub async fn put_staff_member(&self, member: &StaffMember) -> Result<(), TableError> {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(to_item(member, &member.keys(&()))?))
            .send()
            .await
            .map_err(|e| TableError::aws("PutItem", e))?;
        Ok(())
    }

    /// Every store a person works at, as it is now (consistent).
    #[instrument(skip(self))]
    pub async fn staff_of(&self, sub: &str) -> Result<Vec<StaffMember>, TableError> {
        self.query_all(None, &staff::staff_pk(sub), Range::Prefix("STORE#")).await
    }

    /// Everyone who works at a store (gsi2), by email.
    #[instrument(skip(self))]
    pub async fn staff_at(&self, store_id: &str) -> Result<Vec<StaffMember>, TableError> {
        self.query_all(Some(keys::GSI2), &staff::staff_at(store_id), Range::All).await
    }

    /// Takes a store from a person; whether they had it.
    #[instrument(skip(self))]
    pub async fn remove_staff_member(&self, sub: &str, store_id: &str) -> Result<bool, TableError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&staff::staff_member(sub, store_id))))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| TableError::aws("DeleteItem", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    /// Saves a new session.
    #[instrument(skip_all)]
    pub async fn put_session(&self, session: &StaffSession) -> Result<(), TableError> {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(to_item(session, &session.keys(&()))?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| TableError::aws("PutItem", e))?;
        Ok(())
    }

    /// The session whose id hashes to `id_hash` (consistent: a session
    /// ended a moment ago is not found).
    #[instrument(skip_all)]
    pub async fn get_session(&self, id_hash: &str) -> Result<Option<StaffSession>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&staff::session(id_hash))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        out.item.map(from_item).transpose()
    }

    /// Records that the session was used at `now` (never brings an ended one back).
    #[instrument(skip_all)]
    pub async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<(), TableError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&staff::session(id_hash))))
            .update_expression("SET last_seen = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", s(keys::ts(now)))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e));
        match update {
            Err(e) if e.is_conditional_failure() => Ok(()),
            other => other.map(drop),
        }
    }

    /// Ends one session.
    #[instrument(skip_all)]
    pub async fn end_session(&self, id_hash: &str) -> Result<(), TableError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&staff::session(id_hash))))
            .send()
            .await
            .map_err(|e| TableError::aws("DeleteItem", e))?;
        Ok(())
    }

    /// Ends every session of a person (gsi1); how many there were.
    #[instrument(skip(self))]
    pub async fn end_sessions_of(&self, sub: &str) -> Result<usize, TableError> {
        let sessions: Vec<StaffSession> =
            self.query_all(Some(keys::GSI1), &staff::sessions_of(sub), Range::All).await?;
        for session in &sessions {
            self.end_session(&session.id_hash).await?;
        }
        Ok(sessions.len())
    }

    /// Whether the email that hashes to `email_hash` is locked at `now`.
    #[instrument(skip_all)]
    pub async fn sign_in_locked(&self, email_hash: &str, now: DateTime<Utc>) -> Result<bool, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&staff::sign_in_failures(email_hash))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        let locked_until = out.item.as_ref().and_then(|i| number(i, "locked_until"));
        Ok(locked_until.is_some_and(|until| until > now.timestamp().max(0) as u64))
    }

    /// Counts one failed sign-in at `now`: the count within the window, the
    /// email locked from the [`staff::MAX_FAILURES`]th. Atomic under
    /// concurrent failures: `ADD` within a window, a conditional reset
    /// starting a new one.
    #[instrument(skip_all)]
    pub async fn sign_in_failed(&self, email_hash: &str, now: DateTime<Utc>) -> Result<u64, TableError> {
        let key = key_of(&staff::sign_in_failures(email_hash));
        let cutoff = (now - staff::fail_window()).timestamp();
        let until = (now + staff::lock_for()).timestamp();
        let ttl = (now + staff::fail_window() + staff::lock_for()).timestamp();
        for _ in 0..3 {
            // Within the window: one more.
            let counted = self
                .client
                .update_item()
                .table_name(&self.name)
                .set_key(Some(key.clone()))
                .update_expression("ADD fails :one SET #ttl = :ttl")
                .condition_expression("window_start > :cutoff")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":cutoff", n(cutoff))
                .expression_attribute_values(":ttl", n(ttl))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
                .send()
                .await
                .map_err(|e| TableError::aws("UpdateItem", e));
            let fails = match counted {
                Ok(out) => out.attributes.as_ref().and_then(|a| number(a, "fails")).unwrap_or(1),
                Err(e) if e.is_conditional_failure() => {
                    // No window, or an old one: this failure starts a new one
                    // (unless another request just did; then count again).
                    let started = self
                        .client
                        .update_item()
                        .table_name(&self.name)
                        .set_key(Some(key.clone()))
                        .update_expression(
                            "SET fails = :one, window_start = :now, #ttl = :ttl, #kind = :kind REMOVE locked_until",
                        )
                        .condition_expression("attribute_not_exists(window_start) OR window_start <= :cutoff")
                        .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                        .expression_attribute_names("#kind", KIND)
                        .expression_attribute_values(":one", n(1))
                        .expression_attribute_values(":now", n(now.timestamp()))
                        .expression_attribute_values(":cutoff", n(cutoff))
                        .expression_attribute_values(":ttl", n(ttl))
                        .expression_attribute_values(":kind", s("sign_in_failures"))
                        .send()
                        .await
                        .map_err(|e| TableError::aws("UpdateItem", e));
                    match started {
                        Ok(_) => 1,
                        Err(e) if e.is_conditional_failure() => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            if fails >= staff::MAX_FAILURES {
                // The failure that reached the limit locks; later ones keep its time.
                self.client
                    .update_item()
                    .table_name(&self.name)
                    .set_key(Some(key.clone()))
                    .update_expression("SET locked_until = if_not_exists(locked_until, :until)")
                    .expression_attribute_values(":until", n(until))
                    .send()
                    .await
                    .map_err(|e| TableError::aws("UpdateItem", e))?;
            }
            return Ok(fails);
        }
        Ok(staff::MAX_FAILURES)
    }

    /// A sign-in succeeded: its email's failures are forgotten.
    #[instrument(skip_all)]
    pub async fn sign_in_cleared(&self, email_hash: &str) -> Result<(), TableError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&staff::sign_in_failures(email_hash))))
            .send()
            .await
            .map_err(|e| TableError::aws("DeleteItem", e))?;
        Ok(())
    }
}
