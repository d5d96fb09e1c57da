//! The one customer table. The only module that knows `AttributeValue`; items
//! map to domain types through serde_dynamo, and keys come from [`crate::keys`].

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{de::DeserializeOwned, Serialize};
use tracing::instrument;

use crate::keys::{self, Keys, KIND, PK, SK, TTL_ATTRIBUTE};
use crate::model::{Consent, Customer, CustomerState, RepairOrder, SendLedger, Task, Touchpoint};
use crate::phone::Phone;
use crate::store::StoreConfig;
use crate::text::{OutboundText, TextState};

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("dynamodb {operation}: {message}")]
    Aws { operation: &'static str, code: Option<String>, message: String },
    #[error("item {pk}/{sk} does not map to {entity}: {reason}")]
    Mapping { pk: String, sk: String, entity: &'static str, reason: String },
}

impl TableError {
    fn aws<E: ProvideErrorMetadata + std::error::Error + 'static, R>(operation: &'static str, e: SdkError<E, R>) -> Self
    where
        R: std::fmt::Debug,
    {
        let code = e.code().map(str::to_owned);
        let message = match e.as_service_error() {
            Some(service) => service.message().unwrap_or("service error").to_owned(),
            None => aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
        };
        TableError::Aws { operation, code, message: crate::phone::redact_digits(&message) }
    }

    pub fn is_conditional_failure(&self) -> bool {
        matches!(self, TableError::Aws { code: Some(c), .. } if c == "ConditionalCheckFailedException")
    }
}

/// The entity kinds, stored in the `kind` attribute of every item.
pub mod kind {
    pub const STORE: &str = "store";
    pub const PROFILE: &str = "customer";
    pub const CONSENT: &str = "consent";
    pub const SEND_LEDGER: &str = "send_ledger";
    pub const REPAIR_ORDER: &str = "repair_order";
    pub const TASK: &str = "task";
    pub const TEXT: &str = "text";
    pub const TOUCHPOINT: &str = "touchpoint";
    pub const EVENT_CLAIM: &str = "event_claim";
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Serialises `body` and adds its keys and kind.
fn to_item<T: Serialize>(keys: &Keys, entity: &'static str, body: &T) -> Result<Item, TableError> {
    let mut item: Item = serde_dynamo::to_item(body).map_err(|e| TableError::Mapping {
        pk: keys.pk.clone(),
        sk: keys.sk.clone(),
        entity,
        reason: e.to_string(),
    })?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(_)));
    item.insert(PK.into(), s(&keys.pk));
    item.insert(SK.into(), s(&keys.sk));
    item.insert(KIND.into(), s(entity));
    for (index, key) in [(keys::GSI1, &keys.gsi1), (keys::GSI2, &keys.gsi2), (keys::GSI3, &keys.gsi3)] {
        if let Some((ipk, isk)) = key {
            item.insert(index.pk.into(), s(ipk));
            item.insert(index.sk.into(), s(isk));
        }
    }
    if let Some(exp) = keys.expires_at {
        item.insert(TTL_ATTRIBUTE.into(), AttributeValue::N(exp.to_string()));
    }
    Ok(item)
}

fn from_item<T: DeserializeOwned>(item: Item, entity: &'static str) -> Result<T, TableError> {
    let key = |a: &str| item.get(a).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let (pk, sk) = (key(PK), key(SK));
    serde_dynamo::from_item(item).map_err(|e| TableError::Mapping { pk, sk, entity, reason: e.to_string() })
}

fn key_of(keys: &Keys) -> Item {
    HashMap::from([(PK.to_owned(), s(&keys.pk)), (SK.to_owned(), s(&keys.sk))])
}

fn kind_of(item: &Item) -> &str {
    item.get(KIND).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("")
}

/// A customer's whole record: current state plus history, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub state: CustomerState,
    pub touchpoints: Vec<Touchpoint>,
    pub texts: Vec<OutboundText>,
}

/// What one item of a transaction is, to read its cancellation reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxPart {
    EventClaim,
    Profile,
    ConsentCheck,
    SendLedger,
    RepairOrder,
    Task,
    Touchpoint,
    Text,
    Stats,
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxRejected {
    /// The event was processed before (its claim exists): nothing was written.
    Duplicate { text: Option<Box<OutboundText>> },
    /// A text with the same dedupe key exists; nothing was written.
    TextExists { text: Option<Box<OutboundText>> },
    /// The record changed since it was read (a concurrent writer) or the number
    /// opted out meanwhile: read again and retry.
    Conflict(Vec<TxPart>),
}

#[derive(Debug, thiserror::Error)]
pub enum TxError {
    #[error("transaction rejected: {0:?}")]
    Rejected(TxRejected),
    #[error(transparent)]
    Table(#[from] TableError),
}

/// A conditional, all-or-nothing write of a trigger's state change.
#[derive(Debug, Default)]
pub struct Tx {
    parts: Vec<(TxPart, TransactWriteItem)>,
    error: Option<TableError>,
    /// Consent items written by this transaction (a transaction may touch an item once).
    consent_written: Vec<String>,
}

impl Tx {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, part: TxPart, item: Result<TransactWriteItem, TableError>) -> &mut Self {
        match item {
            Ok(i) => self.parts.push((part, i)),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    fn put(
        table: &str,
        item: Result<Item, TableError>,
        condition: Option<&str>,
        values: Option<Item>,
    ) -> Result<TransactWriteItem, TableError> {
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item?))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| TableError::Mapping {
                pk: String::new(),
                sk: String::new(),
                entity: "put",
                reason: e.to_string(),
            })?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Claims `event_id` (idempotency): the transaction fails as
    /// [`TxRejected::Duplicate`] if the event was processed before.
    pub fn claim_event(&mut self, table: &Table, event_id: &str, now: DateTime<Utc>) -> &mut Self {
        let keys = keys::event_claim(event_id, now + table.claim_ttl);
        let body = serde_json::json!({ "event_id": event_id, "status": "COMPLETED", "claimed_at": keys::ts(now) });
        let values = HashMap::from([(":now".to_owned(), AttributeValue::N(now.timestamp().to_string()))]);
        let item = Self::put(
            &table.name,
            to_item(&keys, kind::EVENT_CLAIM, &body),
            Some("attribute_not_exists(pk) OR expires_at < :now"),
            Some(values),
        );
        self.push(TxPart::EventClaim, item)
    }

    /// Writes the profile, expecting `expected_version` (None: it must not exist yet).
    /// This serialises concurrent writers of one customer record.
    pub fn put_profile(&mut self, table: &Table, customer: &Customer, expected_version: Option<u64>) -> &mut Self {
        let keys = keys::profile(&customer.store_id, &customer.phone, customer.dms_key());
        let next = expected_version.unwrap_or(0) + 1;
        let item = to_item(&keys, kind::PROFILE, customer).map(|mut i| {
            i.insert("version".into(), AttributeValue::N(next.to_string()));
            i
        });
        let item = match expected_version {
            None => Self::put(&table.name, item, Some("attribute_not_exists(pk)"), None),
            Some(v) => Self::put(
                &table.name,
                item,
                Some("version = :v"),
                Some(HashMap::from([(":v".to_owned(), AttributeValue::N(v.to_string()))])),
            ),
        };
        self.push(TxPart::Profile, item)
    }

    /// Writes the consent ledger entry, expecting the opt-out state that was
    /// `read`: a STOP that arrived meanwhile fails the transaction (retried with
    /// the new state), so it is never overwritten, and texts staged in the same
    /// transaction are guarded by it.
    pub fn put_consent(
        &mut self,
        table: &Table,
        store_id: &str,
        phone: &Phone,
        consent: &Consent,
        read: &Consent,
    ) -> &mut Self {
        let keys = keys::consent(store_id, phone);
        let guard =
            if read.opted_out() { "attribute_exists(opted_out_at)" } else { "attribute_not_exists(opted_out_at)" };
        let item = Self::put(&table.name, to_item(&keys, kind::CONSENT, consent), Some(guard), None);
        self.consent_written.push(keys.pk);
        self.push(TxPart::ConsentCheck, item)
    }

    /// Writes the send ledger, expecting the version that was read (`next.version - 1`).
    pub fn put_send_ledger(&mut self, table: &Table, store_id: &str, phone: &Phone, next: &SendLedger) -> &mut Self {
        let keys = keys::send_ledger(store_id, phone);
        let item = to_item(&keys, kind::SEND_LEDGER, next);
        let item = match next.version.saturating_sub(1) {
            0 => Self::put(&table.name, item, Some("attribute_not_exists(pk)"), None),
            v => Self::put(
                &table.name,
                item,
                Some("version = :v"),
                Some(HashMap::from([(":v".to_owned(), AttributeValue::N(v.to_string()))])),
            ),
        };
        self.push(TxPart::SendLedger, item)
    }

    /// Fails the transaction if the number opted out after it was read.
    pub fn require_not_opted_out(&mut self, table: &Table, store_id: &str, phone: &Phone) -> &mut Self {
        if self.consent_written.contains(&keys::customer_pk(store_id, phone)) {
            // put_consent already guards this item.
            return self;
        }
        let check = ConditionCheck::builder()
            .table_name(&table.name)
            .set_key(Some(key_of(&keys::consent(store_id, phone))))
            .condition_expression("attribute_not_exists(opted_out_at)")
            .build()
            .map(|c| TransactWriteItem::builder().condition_check(c).build())
            .map_err(|e| TableError::Mapping {
                pk: String::new(),
                sk: String::new(),
                entity: "check",
                reason: e.to_string(),
            });
        self.push(TxPart::ConsentCheck, check)
    }

    pub fn put_repair_order(&mut self, table: &Table, store_id: &str, phone: &Phone, ro: &RepairOrder) -> &mut Self {
        let keys = keys::repair_order(store_id, phone, &ro.ro_number);
        let item = Self::put(&table.name, to_item(&keys, kind::REPAIR_ORDER, ro), None, None);
        self.push(TxPart::RepairOrder, item)
    }

    pub fn put_task(&mut self, table: &Table, task: &Task) -> &mut Self {
        let open_for = (task.status == crate::model::TaskStatus::Open).then_some((task.owner.as_str(), task.due_at));
        let keys = keys::task(&task.store_id, &task.phone, &task.task_id, open_for);
        let item = Self::put(&table.name, to_item(&keys, kind::TASK, task), None, None);
        self.push(TxPart::Task, item)
    }

    /// Puts a touchpoint on the customer's timeline; its key is unique per
    /// event and kind, so a retried event rewrites, never repeats, it.
    pub fn touch(&mut self, table: &Table, store_id: &str, phone: &Phone, touch: &Touchpoint) -> &mut Self {
        let id = format!("{}#{}", touch.event_id.as_deref().unwrap_or("-"), touch.kind);
        let keys = keys::touchpoint(store_id, phone, touch.at, &id);
        let item = Self::put(&table.name, to_item(&keys, kind::TOUCHPOINT, touch), None, None);
        self.push(TxPart::Touchpoint, item)
    }

    /// Writes a text to the outbox; the transaction fails as
    /// [`TxRejected::TextExists`] if its dedupe key was used before.
    pub fn outbox(&mut self, table: &Table, text: &OutboundText) -> &mut Self {
        // Every unfinished text is on the due index (deferred ones at their due
        // time, the rest now), so the scheduler also finds one whose sender died.
        let due = text.due_at.unwrap_or(text.created_at);
        let keys = keys::text(&text.store_id, &text.phone, &text.dedupe_key, text.created_at, Some(due));
        let item = Self::put(&table.name, to_item(&keys, kind::TEXT, text), Some("attribute_not_exists(pk)"), None);
        self.push(TxPart::Text, item)
    }

    /// Adds 1 to a per-store daily counter.
    pub fn count(&mut self, table: &Table, store_id: &str, day: NaiveDate, counter: &str) -> &mut Self {
        let keys = keys::daily_stats(store_id, day);
        let update = Update::builder()
            .table_name(&table.name)
            .set_key(Some(key_of(&keys)))
            .update_expression("ADD #c :one SET #k = :kind")
            .expression_attribute_names("#c", counter)
            .expression_attribute_names("#k", KIND)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":kind", s("daily_stats"))
            .build()
            .map(|u| TransactWriteItem::builder().update(u).build())
            .map_err(|e| TableError::Mapping {
                pk: keys.pk.clone(),
                sk: keys.sk.clone(),
                entity: "stats",
                reason: e.to_string(),
            });
        self.push(TxPart::Stats, update)
    }

    pub fn len(&self) -> usize {
        self.parts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

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

/// The table and its client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
    /// How long an event claim is kept (TTL): longer than any source's resend window.
    pub claim_ttl: Duration,
}

impl Table {
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Self {
        Self { client, name: name.into(), claim_ttl: Duration::days(30) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    #[instrument(skip(self))]
    pub async fn get_store(&self, store_id: &str) -> Result<Option<StoreConfig>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys::store_config(store_id))))
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        out.item.map(|i| from_item(i, kind::STORE)).transpose()
    }

    #[instrument(skip(self, store), fields(store_id = %store.store_id))]
    pub async fn put_store(&self, store: &StoreConfig) -> Result<(), TableError> {
        let item = to_item(&keys::store_config_item(&store.store_id, &store.sms_number), kind::STORE, store)?;
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| TableError::aws("PutItem", e))?;
        Ok(())
    }

    /// The store that texts from `sms_number` (gsi1).
    #[instrument(skip(self), fields(sms_number = %sms_number))]
    pub async fn store_by_number(&self, sms_number: &Phone) -> Result<Option<StoreConfig>, TableError> {
        let items = self.query(Some(keys::GSI1), &keys::store_number(sms_number), None, None).await?;
        items.into_iter().next().map(|i| from_item(i, kind::STORE)).transpose()
    }

    #[instrument(skip(self))]
    pub async fn list_stores(&self) -> Result<Vec<StoreConfig>, TableError> {
        let items = self.query(None, keys::STORES_PK, None, None).await?;
        items.into_iter().map(|i| from_item(i, kind::STORE)).collect()
    }

    /// Pages through a Query on the table (`index` None) or a GSI.
    async fn query(
        &self,
        index: Option<keys::Index>,
        pk: &str,
        sk_prefix: Option<&str>,
        sk_upto: Option<&str>,
    ) -> Result<Vec<Item>, TableError> {
        let (pk_attr, sk_attr) = index.map(|i| (i.pk, i.sk)).unwrap_or((PK, SK));
        let mut condition = "#pk = :pk".to_owned();
        if sk_prefix.is_some() {
            condition.push_str(" AND begins_with(#sk, :sk)");
        } else if sk_upto.is_some() {
            condition.push_str(" AND #sk <= :sk");
        }
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.name)
                .set_index_name(index.map(|i| i.name.to_owned()))
                .key_condition_expression(&condition)
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start.take());
            if let Some(v) = sk_prefix.or(sk_upto) {
                q = q.expression_attribute_names("#sk", sk_attr).expression_attribute_values(":sk", s(v));
            }
            let out = q.send().await.map_err(|e| TableError::aws("Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(items)
    }

    /// A customer's current state (profile, consent, repair orders, tasks): one Query.
    #[instrument(skip(self), fields(phone = %phone))]
    pub async fn customer_state(&self, store_id: &str, phone: &Phone) -> Result<CustomerState, TableError> {
        let items = self.query(None, &keys::customer_pk(store_id, phone), Some(keys::STATE_PREFIX), None).await?;
        let mut state = CustomerState::default();
        for item in items {
            Self::fold_state(&mut state, item)?;
        }
        Ok(state)
    }

    fn fold_state(state: &mut CustomerState, item: Item) -> Result<bool, TableError> {
        match kind_of(&item) {
            kind::PROFILE => {
                let version = item.get("version").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
                state.profile = Some(from_item(item, kind::PROFILE)?);
                state.version = version;
            }
            kind::CONSENT => state.consent = from_item(item, kind::CONSENT)?,
            kind::SEND_LEDGER => state.sends = from_item(item, kind::SEND_LEDGER)?,
            kind::REPAIR_ORDER => state.repair_orders.push(from_item(item, kind::REPAIR_ORDER)?),
            kind::TASK => state.tasks.push(from_item(item, kind::TASK)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The record the DMS id answers to (gsi1), with its version: used when a
    /// DMS customer arrives with a phone number the store has no record for.
    #[instrument(skip(self))]
    pub async fn customer_by_dms_id(
        &self,
        store_id: &str,
        dms_id: &str,
    ) -> Result<Option<(Customer, Option<u64>)>, TableError> {
        let items = self.query(Some(keys::GSI1), &keys::dms_ref(store_id, dms_id), None, None).await?;
        let mut state = CustomerState::default();
        for item in items {
            Self::fold_state(&mut state, item)?;
        }
        Ok(state.profile.map(|p| (p, state.version)))
    }

    /// A customer's whole record and every touchpoint, oldest first: one Query.
    #[instrument(skip(self), fields(phone = %phone))]
    pub async fn timeline(&self, store_id: &str, phone: &Phone) -> Result<Timeline, TableError> {
        let items = self.query(None, &keys::customer_pk(store_id, phone), None, None).await?;
        let mut timeline = Timeline::default();
        for item in items {
            match kind_of(&item) {
                kind::TOUCHPOINT => timeline.touchpoints.push(from_item(item, kind::TOUCHPOINT)?),
                kind::TEXT => timeline.texts.push(from_item(item, kind::TEXT)?),
                _ => {
                    Self::fold_state(&mut timeline.state, item)?;
                }
            }
        }
        timeline.texts.sort_by_key(|t| t.created_at);
        Ok(timeline)
    }

    /// Every text of a store, oldest first (gsi2).
    #[instrument(skip(self))]
    pub async fn store_texts(&self, store_id: &str) -> Result<Vec<OutboundText>, TableError> {
        let items = self.query(Some(keys::GSI2), &keys::texts_feed(store_id), None, None).await?;
        items.into_iter().map(|i| from_item(i, kind::TEXT)).collect()
    }

    /// Deferred texts due at or before `now` (gsi3, sparse): cost grows with the
    /// number of due texts, not with the table.
    #[instrument(skip(self))]
    pub async fn due_texts(&self, now: DateTime<Utc>) -> Result<Vec<OutboundText>, TableError> {
        let upto = format!("{}~", keys::ts(now));
        let items = self.query(Some(keys::GSI3), keys::DUE_PK, None, Some(&upto)).await?;
        items.into_iter().map(|i| from_item(i, kind::TEXT)).collect()
    }

    /// Commits a transaction; a cancellation is mapped to what it means.
    #[instrument(skip(self, tx), fields(items = tx.parts.len()))]
    pub async fn commit(&self, tx: Tx) -> Result<(), TxError> {
        if let Some(e) = tx.error {
            return Err(e.into());
        }
        let (parts, items): (Vec<TxPart>, Vec<TransactWriteItem>) = tx.parts.into_iter().unzip();
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
        let mut claim_failed = false;
        let mut text: Option<Box<OutboundText>> = None;
        let mut text_failed = false;
        let mut other_code = None;
        for (part, reason) in parts.iter().zip(reasons) {
            match reason.code() {
                Some("ConditionalCheckFailed") => {
                    failed.push(*part);
                    match part {
                        TxPart::EventClaim => claim_failed = true,
                        TxPart::Text => {
                            text_failed = true;
                            text = reason.item.clone().map(|i| from_item(i, kind::TEXT)).transpose()?.map(Box::new);
                        }
                        _ => {}
                    }
                }
                Some("None") | None => {}
                Some(code) => other_code = Some(code.to_owned()),
            }
        }
        if claim_failed {
            return Err(TxError::Rejected(TxRejected::Duplicate { text }));
        }
        if let Some(code) = other_code.filter(|_| failed.is_empty()) {
            // TransactionConflict, ThrottlingError, ...: transient.
            return Err(
                TableError::Aws { operation: "TransactWriteItems", code: Some(code.clone()), message: code }.into()
            );
        }
        if text_failed && failed.len() == 1 {
            return Err(TxError::Rejected(TxRejected::TextExists { text }));
        }
        Err(TxError::Rejected(TxRejected::Conflict(failed)))
    }

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
        let keys = keys::text(&text.store_id, &text.phone, &text.dedupe_key, text.created_at, None);
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
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":deferred", s("deferred"))
            .expression_attribute_values(":now", millis(now))
            .expression_attribute_values(":lease", millis(now + lease))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(|e| TableError::Mapping { pk: keys.pk.clone(), sk: keys.sk.clone(), entity: "text", reason: e.to_string() })?;
        let mut tx = Tx::new();
        tx.push(TxPart::Text, Ok(TransactWriteItem::builder().update(update).build()));
        tx.require_not_opted_out(self, &text.store_id, &text.phone);
        match self.commit(tx).await {
            Ok(()) => Ok(Lease::Acquired),
            Err(TxError::Rejected(TxRejected::Conflict(parts))) if parts.contains(&TxPart::ConsentCheck) => {
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
        let keys = keys::text(&text.store_id, &text.phone, &text.dedupe_key, text.created_at, None);
        let result = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            .update_expression(
                "SET #st = :suppressed, suppressed_reason = :why, sent_at = :at REMOVE lease_until, gsi3pk, gsi3sk",
            )
            .condition_expression("#st <> :sent")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":suppressed", s("suppressed"))
            .expression_attribute_values(":sent", s("sent"))
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
        let keys = keys::text(&text.store_id, &text.phone, &text.dedupe_key, text.created_at, None);
        let mut u = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            .condition_expression("#st = :sending")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":state", s(state_name(state)))
            .expression_attribute_values(":at", s(serde_time(at)));
        u = match sns_message_id {
            Some(id) => u
                .update_expression(
                    "SET #st = :state, sent_at = :at, sns_message_id = :mid REMOVE lease_until, gsi3pk, gsi3sk",
                )
                .expression_attribute_values(":mid", s(id)),
            None => u.update_expression("SET #st = :state, sent_at = :at REMOVE lease_until, gsi3pk, gsi3sk"),
        };
        u.send().await.map_err(|e| TableError::aws("UpdateItem", e))?;
        Ok(())
    }

    /// Gives a leased text back after a failed publish, so the retry sends it.
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn release_text(&self, text: &OutboundText) -> Result<(), TableError> {
        let keys = keys::text(&text.store_id, &text.phone, &text.dedupe_key, text.created_at, None);
        self.client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            .update_expression("SET #st = :pending REMOVE lease_until")
            .condition_expression("#st = :sending")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e))?;
        Ok(())
    }
}

fn millis(t: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(t.timestamp_millis().to_string())
}

/// The form serde (chrono) writes a timestamp in, so conditions compare like with like.
fn serde_time(t: DateTime<Utc>) -> String {
    serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn state_name(state: TextState) -> String {
    serde_json::to_value(state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Table {
    /// A store's counters for one day (`missed_calls`, ...).
    #[instrument(skip(self))]
    pub async fn daily_stats(
        &self,
        store_id: &str,
        day: NaiveDate,
    ) -> Result<std::collections::BTreeMap<String, u64>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys::daily_stats(store_id, day))))
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        Ok(out
            .item
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_n().ok().and_then(|n| n.parse().ok()).map(|n| (k, n)))
            .collect())
    }
}
