//! The transaction builder and what a cancelled transaction means. A trigger's
//! whole state change is one `TransactWriteItems`: every entity goes in through
//! [`Tx::put`] / [`Tx::put_on`] with a [`Guard`], and a cancellation is decoded
//! by the entity kind of the item whose condition failed.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::item::{from_item, key_of, mapping, n, to_item, Item};
use super::{Table, TableError};
use crate::entity::{CustomerId, Entity};
use crate::keys::{Keys, VERSION};
use crate::model::{Consent, Customer};
use crate::text::{OutboundText, TextRef, WithdrawnIf};

/// How a write is guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Written as it is (the event's claim already serialises its writers).
    Always,
    /// As [`Guard::Always`], and when it moves to the history, over what an
    /// earlier move of the same thing left there (a vehicle sold, serviced
    /// here again, then sold again): its history is its latest end.
    Latest,
    /// Only if the item does not exist yet.
    New,
    /// Optimistic concurrency: expects the `version` that was read (`None`:
    /// the item does not exist) and writes the next one.
    Version(Option<u64>),
    /// The consent ledger as it was read, by its version (`None`: a ledger
    /// never versioned, or none): any change of it meanwhile (a STOP, a
    /// START, the DMS) cancels the transaction, and the change is decided
    /// again on the new ledger, never written over it.
    LedgerAsRead(Option<u64>),
    /// Only over nothing, or over an item whose `status` is one of these: an
    /// ended line, step or task is never written back (see `replaces`).
    Replacing(&'static [&'static str]),
}

/// An idempotency claim: the first transaction that writes it wins; a
/// duplicate is cancelled by it and changes nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventClaim {
    /// Event ids are unique within one store, not across stores (two DMSes
    /// may both number an event `dms-000123`): a claim is the store's.
    pub store_id: String,
    pub event_id: String,
    pub claimed_at: DateTime<Utc>,
    /// The texts the event wrote: a retry finds them here, even when its own
    /// decision plans none (the record says it was texted already).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub texts: Vec<TextRef>,
    /// When DynamoDB TTL may forget it: longer than any source's resend window.
    #[serde(skip)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl EventClaim {
    /// Where `store_id`'s claim on `key` is.
    pub fn keys_of(store_id: &str, key: &str) -> Keys {
        Keys::new(crate::keys::event_claim(store_id, key), "EVENT")
    }
}

impl Entity for EventClaim {
    const KIND: &'static str = "event_claim";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let mut k = Self::keys_of(&self.store_id, &self.event_id);
        k.expires_at = self.expires_at.map(|t| t.timestamp());
        k
    }
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxRejected {
    /// The event was processed before (its claim exists): nothing was written.
    /// `text` is the text this attempt staged, as it is now, if it exists;
    /// `texts` are the texts the claims say the event wrote.
    Duplicate { text: Option<Box<OutboundText>>, texts: Vec<TextRef> },
    /// A text with the same dedupe key exists; nothing was written.
    TextExists { text: Option<Box<OutboundText>> },
    /// The record changed since it was read (a concurrent writer) or the number
    /// opted out meanwhile: read again and retry. Names the entities whose
    /// conditions failed.
    Conflict(Vec<&'static str>),
}

#[derive(Debug, thiserror::Error)]
pub enum TxError {
    #[error("transaction rejected: {0:?}")]
    Rejected(TxRejected),
    #[error(transparent)]
    Table(#[from] TableError),
}

/// A conditional, all-or-nothing write of a trigger's state change.
#[derive(Debug)]
pub struct Tx {
    table: String,
    /// Each item with the kind of entity it writes.
    parts: Vec<(&'static str, TransactWriteItem)>,
    /// What moves from the state to the history (an entity that ended): its
    /// history Put and the Delete of its state item, which go together. They
    /// stand on their own (each guarded by what was read), so a change with
    /// more than fit one transaction commits them first, in transactions of
    /// their own, and its claims last.
    moves: Vec<[(&'static str, TransactWriteItem); 2]>,
    error: Option<TableError>,
    /// Consent items guarded by a put (a transaction may touch an item once).
    consent_guarded: Vec<String>,
    /// The items put so far: DynamoDB refuses a transaction that writes one
    /// twice, so a change that would is refused here, as bad input, with the item named.
    written: std::collections::HashSet<(String, String)>,
    claim_ttl: Duration,
}

impl Table {
    /// A new, empty transaction on this table.
    pub fn tx(&self) -> Tx {
        Tx {
            table: self.name.clone(),
            parts: Vec::new(),
            moves: Vec::new(),
            error: None,
            consent_guarded: Vec::new(),
            written: Default::default(),
            claim_ttl: self.claim_ttl,
        }
    }
}

impl Tx {
    pub(crate) fn push(&mut self, kind: &'static str, item: Result<TransactWriteItem, TableError>) -> &mut Self {
        match item {
            Ok(i) => self.parts.push((kind, i)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Writes `entity`, which knows its own keys.
    pub fn put<E: Entity<Scope = ()>>(&mut self, entity: &E, guard: Guard) -> &mut Self {
        self.put_keyed(entity, &entity.keys(&()), guard)
    }

    /// Writes `entity` on `customer`'s record.
    pub fn put_on<E: Entity<Scope = CustomerId>>(
        &mut self,
        customer: &CustomerId,
        entity: &E,
        guard: Guard,
    ) -> &mut Self {
        let keys = entity.keys(customer);
        if matches!(guard, Guard::LedgerAsRead(_)) {
            self.consent_guarded.push(keys.pk.clone());
        }
        self.put_keyed(entity, &keys, guard)
    }

    fn put_keyed<E: Entity>(&mut self, entity: &E, keys: &Keys, guard: Guard) -> &mut Self {
        if !self.written.insert((keys.pk.clone(), keys.sk.clone())) {
            return self.push(E::KIND, Err(mapping(keys, E::KIND, "written twice in one transaction")));
        }
        if let Some(state_sk) = crate::keys::state_of(&keys.sk) {
            // It ended: written once to the history, and gone from the state
            // (only if the state item is as the guard expects).
            let state = Keys::new(keys.pk.clone(), state_sk);
            self.written.insert((state.pk.clone(), state.sk.clone()));
            let ended_before = if guard == Guard::Latest { Guard::Always } else { Guard::New };
            let history = self.put_item(entity, keys, ended_before);
            let delete = self.delete_item::<E>(&state, guard);
            match (history, delete) {
                (Ok(h), Ok(d)) => self.moves.push([(E::KIND, h), (E::KIND, d)]),
                (Err(e), _) | (_, Err(e)) => {
                    self.error.get_or_insert(e);
                }
            }
            return self;
        }
        let built = self.put_item(entity, keys, guard);
        self.push(E::KIND, built)
    }

    fn put_item<E: Entity>(&self, entity: &E, keys: &Keys, guard: Guard) -> Result<TransactWriteItem, TableError> {
        to_item(entity, keys).and_then(|mut item| {
            let (condition, values) = condition(guard, &mut item);
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition)
                .set_expression_attribute_names(status_name(guard))
                .set_expression_attribute_values(values)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build()
                .map_err(|e| mapping(keys, E::KIND, e))?;
            Ok(TransactWriteItem::builder().put(put).build())
        })
    }

    fn delete_item<E: Entity>(&self, keys: &Keys, guard: Guard) -> Result<TransactWriteItem, TableError> {
        let (condition, values) = condition(guard, &mut Item::new());
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(keys)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(status_name(guard))
            .set_expression_attribute_values(values)
            .build()
            .map_err(|e| mapping(keys, E::KIND, e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Fails the transaction (naming [`ARCHIVED`]) if `keys`, the history
    /// item of something the change writes to the state, exists: what ended
    /// never comes back (a status arriving for a repair order closed before).
    pub fn require_absent(&mut self, keys: &Keys) -> &mut Self {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(keys)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map(|c| TransactWriteItem::builder().condition_check(c).build())
            .map_err(|e| mapping(keys, ARCHIVED, e));
        self.push(ARCHIVED, check)
    }

    /// Holds `customer`'s record at the profile `version` a decision was made
    /// on, for a change that writes no profile (a follow-up step's release,
    /// a task closed by a person): the transaction fails (naming
    /// [`Customer::KIND`]) if anything changed the record since, and moves
    /// the version on, so another decision made on the same read is refused
    /// too. `None`: the record must still have no profile.
    pub fn hold_version(&mut self, customer: &CustomerId, version: Option<u64>) -> &mut Self {
        let keys = Keys::new(customer.pk(), Customer::PROFILE_SK);
        if !self.written.insert((keys.pk.clone(), keys.sk.clone())) {
            return self.push(Customer::KIND, Err(mapping(&keys, Customer::KIND, "written twice in one transaction")));
        }
        let built = match version {
            Some(v) => aws_sdk_dynamodb::types::Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_of(&keys)))
                .update_expression("SET #version = :next")
                .condition_expression("#version = :v")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":v", n(v))
                .expression_attribute_values(":next", n(v + 1))
                .build()
                .map(|u| TransactWriteItem::builder().update(u).build()),
            None => ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key_of(&keys)))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|c| TransactWriteItem::builder().condition_check(c).build()),
        };
        self.push(Customer::KIND, built.map_err(|e| mapping(&keys, Customer::KIND, e)))
    }

    /// Claims an idempotency key (an event id, or a natural key where a source
    /// resends under new ids): the transaction fails as
    /// [`TxRejected::Duplicate`] if it was claimed before.
    pub fn claim(&mut self, store_id: &str, key: &str, now: DateTime<Utc>) -> &mut Self {
        self.claim_with_texts(store_id, key, now, Vec::new())
    }

    /// [`Tx::claim`], remembering the texts the event writes.
    pub fn claim_with_texts(
        &mut self,
        store_id: &str,
        key: &str,
        now: DateTime<Utc>,
        texts: Vec<TextRef>,
    ) -> &mut Self {
        let expires = Some(now + self.claim_ttl);
        self.claim_until(store_id, key, now, texts, expires)
    }

    /// A claim that never expires: what happens once in a record's life (a
    /// repair order's close, a deal's delivery), however late a source resends it.
    pub fn claim_lasting(&mut self, store_id: &str, key: &str, now: DateTime<Utc>, texts: Vec<TextRef>) -> &mut Self {
        self.claim_until(store_id, key, now, texts, None)
    }

    fn claim_until(
        &mut self,
        store_id: &str,
        key: &str,
        now: DateTime<Utc>,
        texts: Vec<TextRef>,
        expires_at: Option<DateTime<Utc>>,
    ) -> &mut Self {
        let claim =
            EventClaim { store_id: store_id.to_owned(), event_id: key.to_owned(), claimed_at: now, texts, expires_at };
        let keys = claim.keys(&());
        let built = to_item(&claim, &keys).and_then(|item| {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                // An expired claim (TTL not yet applied) counts as gone; a
                // lasting one has no expiry.
                .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
                .expression_attribute_values(":now", n(now.timestamp()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build()
                .map_err(|e| mapping(&keys, EventClaim::KIND, e))?;
            Ok(TransactWriteItem::builder().put(put).build())
        });
        self.push(EventClaim::KIND, built)
    }

    /// Fails the transaction if `customer` opted out after the state was read.
    pub fn require_not_opted_out(&mut self, customer: &CustomerId) -> &mut Self {
        self.require_consent(customer, false)
    }

    /// Fails the transaction (naming [`Consent::KIND`]) if `customer` opted
    /// out since the state was read, and, for `marketing`, if the DMS
    /// withdrew marketing consent or marketing is paused for a person.
    pub fn require_consent(&mut self, customer: &CustomerId, marketing: bool) -> &mut Self {
        let keys = Consent::default().keys(customer);
        if self.consent_guarded.contains(&keys.pk) {
            // A consent write in this transaction guards the item already.
            return self;
        }
        let mut check = ConditionCheck::builder().table_name(&self.table).set_key(Some(key_of(&keys)));
        check = if marketing {
            // What `outbound::plan` asked of the ledger, still true.
            check
                .condition_expression(
                    "attribute_not_exists(opted_out_at) AND attribute_not_exists(marketing_paused) \
                     AND marketing.granted = :granted",
                )
                .expression_attribute_values(":granted", AttributeValue::Bool(true))
        } else {
            check.condition_expression("attribute_not_exists(opted_out_at)")
        };
        let check = check
            .build()
            .map(|c| TransactWriteItem::builder().condition_check(c).build())
            .map_err(|e| mapping(&keys, Consent::KIND, e));
        self.push(Consent::KIND, check)
    }

    /// Fails the transaction (naming [`Customer::KIND`]) if what withdraws a
    /// text written at `written` has happened to `customer` since: `why`
    /// (win-back: a visit), and for a marketing text a reply.
    pub fn require_not_withdrawn(
        &mut self,
        customer: &CustomerId,
        why: Option<WithdrawnIf>,
        marketing: bool,
        written: DateTime<Utc>,
    ) -> &mut Self {
        let keys = Keys::new(customer.pk(), Customer::PROFILE_SK);
        let mut parts = Vec::new();
        if let Some(WithdrawnIf::Visited) = why {
            // The visit the store reached out about is still the last one,
            // and no repair order has moved since the text was written.
            parts.push(
                "lapse_contacted.visit_at = last_visit_at \
                 AND (attribute_not_exists(ro_activity_at) OR ro_activity_at < :written)",
            );
        }
        if marketing {
            // The customer has not replied since: a person has the conversation.
            parts.push("(attribute_not_exists(replied_at) OR replied_at < :written)");
        }
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(&keys)))
            .condition_expression(parts.join(" AND "))
            .expression_attribute_values(":written", n(written.timestamp_millis()))
            .build()
            .map(|c| TransactWriteItem::builder().condition_check(c).build())
            .map_err(|e| mapping(&keys, Customer::KIND, e));
        self.push(Customer::KIND, check)
    }

    /// Fails the transaction (naming [`STILL_OPEN`]) unless the state item at
    /// `keys` is still open (a declined line neither booked, recovered nor
    /// closed by a person: one that ended has left the state).
    pub fn require_open(&mut self, keys: &Keys) -> &mut Self {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_of(keys)))
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", super::item::s("open"))
            .build()
            .map(|c| TransactWriteItem::builder().condition_check(c).build())
            .map_err(|e| mapping(keys, STILL_OPEN, e));
        self.push(STILL_OPEN, check)
    }

    /// Its actions (a move is two).
    pub fn len(&self) -> usize {
        self.parts.len() + 2 * self.moves.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The kind named by a failed [`Tx::require_absent`].
pub const ARCHIVED: &str = "archived";
/// The kind named by a failed [`Tx::require_open`].
pub const STILL_OPEN: &str = "still_open";

/// `#status` for the guards that read it.
fn status_name(guard: Guard) -> Option<HashMap<String, String>> {
    matches!(guard, Guard::Replacing(_)).then(|| HashMap::from([("#status".to_owned(), "status".to_owned())]))
}

/// The condition of a guarded put (and the version it writes).
fn condition(guard: Guard, item: &mut Item) -> (Option<String>, Option<Item>) {
    let fixed = |c: &str| (Some(c.to_owned()), None);
    match guard {
        Guard::Always | Guard::Latest => (None, None),
        Guard::New | Guard::Version(None) => {
            if guard == Guard::Version(None) {
                item.insert(VERSION.into(), n(1));
            }
            fixed("attribute_not_exists(pk)")
        }
        Guard::Version(Some(v)) | Guard::LedgerAsRead(Some(v)) => {
            item.insert(VERSION.into(), n(v + 1));
            (Some("version = :v".to_owned()), Some(HashMap::from([(":v".to_owned(), n(v))])))
        }
        Guard::LedgerAsRead(None) => {
            item.insert(VERSION.into(), n(1));
            fixed("attribute_not_exists(version)")
        }
        Guard::Replacing(statuses) => {
            let names: Vec<String> = (0..statuses.len()).map(|i| format!(":st{i}")).collect();
            let values = statuses.iter().zip(&names).map(|(s, name)| (name.clone(), super::item::s(*s))).collect();
            (Some(format!("attribute_not_exists(pk) OR #status IN ({})", names.join(", "))), Some(values))
        }
    }
}

/// DynamoDB's limits on one TransactWriteItems.
pub const MAX_TX_ITEMS: usize = 100;
pub const MAX_TX_BYTES: usize = 4 * 1024 * 1024;

/// One `TransactWriteItems`: its items and the kind of entity each writes.
type Batch = Vec<(&'static str, TransactWriteItem)>;

impl Tx {
    /// The transactions this one is sent as: the moves that do not fit with
    /// the rest first, each batch within DynamoDB's limits, and last the rest
    /// (claims, profile, texts) with as many moves as fit. A change whose
    /// rest alone does not fit is refused before any call, as DynamoDB would
    /// refuse it with a ValidationException that looks like any other error:
    /// a permanent error naming the limit, never retried.
    fn batches(self) -> Result<Vec<Batch>, TableError> {
        let size = |batch: &Batch| batch.iter().map(|(_, part)| action_size(part)).sum::<usize>();
        let mut last: Batch = self.parts;
        let limit = |batch: &Batch, what: &str| -> Result<(), TableError> {
            let (n, bytes) = (batch.len(), size(batch));
            if n > MAX_TX_ITEMS || bytes > MAX_TX_BYTES {
                return Err(TableError::TooLarge {
                    what: what.into(),
                    reason: format!(
                        "{n} actions and {bytes} bytes, over DynamoDB's {MAX_TX_ITEMS} actions or {MAX_TX_BYTES} bytes"
                    ),
                });
            }
            Ok(())
        };
        limit(&last, "a transaction")?;
        let mut first: Vec<Batch> = Vec::new();
        let mut moves = self.moves.into_iter();
        let (mut bytes, mut n) = (size(&last), last.len());
        for pair in moves.by_ref() {
            let add: usize = pair.iter().map(|(_, p)| action_size(p)).sum();
            if n + 2 > MAX_TX_ITEMS || bytes + add > MAX_TX_BYTES {
                first.push(pair.into_iter().collect());
                break;
            }
            (n, bytes) = (n + 2, bytes + add);
            last.extend(pair);
        }
        for pair in moves {
            let add: usize = pair.iter().map(|(_, p)| action_size(p)).sum();
            match first.last_mut() {
                Some(b) if b.len() + 2 <= MAX_TX_ITEMS && size(b) + add <= MAX_TX_BYTES => b.extend(pair),
                _ => first.push(pair.into_iter().collect()),
            }
        }
        for b in &first {
            limit(b, "an ended entity's move")?;
        }
        first.push(last);
        Ok(first)
    }
}

/// What one action of a transaction counts toward its 4 MB.
fn action_size(part: &TransactWriteItem) -> usize {
    part.put().map_or(0, |p| super::item::item_size(p.item()))
        + part.update().map_or(0, |u| super::item::item_size(u.key()))
        + part.condition_check().map_or(0, |c| super::item::item_size(c.key()))
        + part.delete().map_or(0, |d| super::item::item_size(d.key()))
}

impl Table {
    /// Commits a transaction; a cancellation is mapped to what it means. A
    /// change too large for one `TransactWriteItems` commits its moves first
    /// (see [`Tx::batches`]): each is guarded by what was read, so a retry
    /// decides again on what they left.
    #[instrument(skip(self, tx), fields(items = tx.len()))]
    pub async fn commit(&self, tx: Tx) -> Result<(), TxError> {
        if let Some(e) = tx.error {
            return Err(e.into());
        }
        for batch in tx.batches()? {
            self.send(batch).await?;
        }
        Ok(())
    }

    async fn send(&self, batch: Batch) -> Result<(), TxError> {
        let (kinds, items): (Vec<&'static str>, Vec<TransactWriteItem>) = batch.into_iter().unzip();
        let result = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        let err = match result {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let reasons = match err.as_service_error() {
            Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                c.cancellation_reasons().to_vec()
            }
            _ => return Err(TableError::aws("TransactWriteItems", err).into()),
        };
        let mut failed = Vec::new();
        let mut text: Option<Box<OutboundText>> = None;
        let mut texts = Vec::new();
        let mut other_code = None;
        for (kind, reason) in kinds.iter().zip(reasons) {
            match reason.code() {
                Some("ConditionalCheckFailed") => {
                    failed.push(*kind);
                    if *kind == OutboundText::KIND {
                        text = reason.item.clone().map(from_item::<OutboundText>).transpose()?.map(Box::new);
                    }
                    if *kind == EventClaim::KIND {
                        let claim = reason.item.clone().map(from_item::<EventClaim>).transpose()?;
                        texts.extend(claim.into_iter().flat_map(|c| c.texts));
                    }
                }
                Some("None") | None => {}
                Some(code) => other_code = Some(code.to_owned()),
            }
        }
        if failed.contains(&EventClaim::KIND) {
            return Err(TxError::Rejected(TxRejected::Duplicate { text, texts }));
        }
        if let Some(code) = other_code.filter(|_| failed.is_empty()) {
            // TransactionConflict, ThrottlingError, ...: transient.
            return Err(
                TableError::Aws { operation: "TransactWriteItems", code: Some(code.clone()), message: code }.into()
            );
        }
        if failed == [OutboundText::KIND] {
            return Err(TxError::Rejected(TxRejected::TextExists { text }));
        }
        Err(TxError::Rejected(TxRejected::Conflict(failed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Touchpoint;

    /// DynamoDB answers a transaction that writes one item twice with a
    /// validation error, which would look retryable; it is refused before
    /// any call, as a mapping error (bad input: dead-lettered at once).
    #[tokio::test]
    async fn a_transaction_that_writes_an_item_twice_is_refused_before_it_is_sent() {
        let table = Table::new(aws_sdk_dynamodb::Client::new(&crate::aws::local("http://127.0.0.1:9").await), "t");
        let customer = crate::fixtures::customer("+15125550142");
        let now = crate::fixtures::at("2026-11-23T16:05:00Z");
        let touch = Touchpoint::of_event(now, "e-1", "declined.recovered", "one".into());
        let mut tx = table.tx();
        tx.put_on(&customer, &touch, Guard::Always).put_on(&customer, &touch, Guard::Always);
        let err = table.commit(tx).await.unwrap_err();
        assert!(
            matches!(&err, TxError::Table(TableError::Mapping { reason, .. }) if reason.contains("twice")),
            "{err:?}"
        );
    }

    fn line(i: usize, status: crate::model::LineStatus) -> crate::model::DeclinedLine {
        let mut l = crate::fixtures::declined_work().declined[0].clone();
        l.line_id = format!("L{i}");
        l.status = status;
        l
    }

    /// Ended entities move (a history Put and the state item's Delete,
    /// together); a change with more actions than one transaction holds sends
    /// the moves that do not fit first, each batch within the limit, and the
    /// rest (claims first among them) last. What cannot fit at all is refused.
    #[tokio::test]
    async fn a_change_too_large_for_one_transaction_sends_its_moves_first() {
        use crate::model::LineStatus;
        let table = Table::new(aws_sdk_dynamodb::Client::new(&crate::aws::local("http://127.0.0.1:9").await), "t");
        let customer = crate::fixtures::customer("+15125550142");
        let now = crate::fixtures::at("2026-11-23T16:05:00Z");
        let mut tx = table.tx();
        tx.claim("s", "e-1", now);
        for i in 0..120 {
            tx.put_on(&customer, &line(i, LineStatus::Recovered), Guard::Replacing(LineStatus::Recovered.replaces()));
        }
        assert_eq!(tx.len(), 1 + 240);
        let batches = tx.batches().unwrap();
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [100, 42, 99], "moves first, claims last");
        let last = batches.last().unwrap();
        assert_eq!(last[0].0, EventClaim::KIND);
        for b in &batches {
            let moves: Vec<_> = b.iter().filter(|(kind, _)| *kind != EventClaim::KIND).cloned().collect();
            for pair in moves.chunks(2) {
                assert!(pair[0].1.put().is_some() && pair[1].1.delete().is_some(), "a move stays whole");
            }
        }

        let mut tx = table.tx();
        for i in 0..101 {
            tx.put_on(&customer, &line(i, LineStatus::Open), Guard::Replacing(LineStatus::Open.replaces()));
        }
        let err = tx.batches().unwrap_err();
        assert!(matches!(&err, TableError::TooLarge { reason, .. } if reason.contains("101 actions")), "{err}");
        assert!(err.is_invalid_request(), "permanent: never retried");
    }
}
