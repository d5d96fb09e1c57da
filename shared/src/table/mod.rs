//! The one customer table: the only module that knows `AttributeValue`.
//!
//! - [`item`]: entities to items and back (serde_dynamo), keys from [`crate::entity::Entity`].
//! - [`tx`]: the transaction builder every trigger commits its change with,
//!   and what a cancellation means.
//! - [`outbox`]: the lease machine of outbound texts.
//! - `staff`: the staff's memberships, sessions and sign-in failures.
//! - `feed`: what the DMS feed remembers of each thing it has seen.
//! - `batch`: bulk imports and bulk reads, asked again for what is left.
//! - here: the client, and the reads (every one a Query or a GetItem).
//!
//! **The table room.** May use: the domain (its entities and keys) and the
//! outbound path's text records (the outbox holds them). Never the commit
//! path or the runtime's serving: the rest of custops reaches DynamoDB only
//! through here.

mod batch;
mod feed;
mod item;
pub mod outbox;
mod staff;
pub mod tx;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use tracing::instrument;

use crate::entity::{CustomerId, Entity};
use crate::keys::{self, Index, Keys, PK, SK, VERSION};
use crate::model::{
    Booking, Consent, Customer, CustomerState, DeclinedLine, Fact, FollowUp, HouseholdMember, RepairOrder, SendLedger,
    Task, Touchpoint, VehicleLife, VisitCheck,
};
use crate::phone::Phone;
use crate::store::StoreConfig;
use crate::text::{OutboundText, TextRef};
use item::{from_item, key_of, kind_of, number, s, to_item, Item};

pub use outbox::Lease;
pub use tx::{EventClaim, Guard, Tx, TxError, TxRejected};

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("dynamodb {operation}: {message}")]
    Aws { operation: &'static str, code: Option<String>, message: String },
    #[error("item {pk}/{sk} does not map to {entity}: {reason}")]
    Mapping { pk: String, sk: String, entity: &'static str, reason: String },
    /// Over one of DynamoDB's hard limits (an item's 400 KB; a transaction's
    /// 100 actions or 4 MB): no retry can ever succeed.
    #[error("{what} does not fit DynamoDB: {reason}")]
    TooLarge { what: String, reason: String },
    /// A name that is another's (a lead address another store takes leads at).
    #[error("{what}")]
    Taken { what: String },
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

    /// A request DynamoDB refuses as invalid (`ValidationException`: a limit
    /// crossed, an item written twice in one transaction): the same request
    /// fails the same way every time.
    pub fn is_invalid_request(&self) -> bool {
        matches!(self, TableError::Mapping { .. } | TableError::TooLarge { .. } | TableError::Taken { .. })
            || matches!(self, TableError::Aws { code: Some(c), .. } if c == "ValidationException")
    }

    pub fn is_conditional_failure(&self) -> bool {
        matches!(self, TableError::Aws { code: Some(c), .. } if c == "ConditionalCheckFailedException")
    }
}

/// A customer's whole record: current state plus history, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub state: CustomerState,
    pub touchpoints: Vec<Touchpoint>,
    pub texts: Vec<OutboundText>,
}

/// What one read of a customer's state returns and costs ([`Table::state_read_cost`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReadCost {
    pub items: usize,
    pub bytes: usize,
    pub read_units: usize,
    pub pages: usize,
}

/// How many items a paged read takes at once.
pub const PAGE: i32 = 500;

/// Where the next page of a paged read starts (opaque).
#[derive(Debug, Clone)]
pub struct PageStart(Item);

/// Work on the due index.
#[derive(Debug, Clone)]
pub enum Due {
    Text(Box<OutboundText>),
    /// Anything else that falls due (a declined-work follow-up step, ...):
    /// handed to the function that owns its kind, as it is stored.
    Timer(Box<Timer>),
}

/// A due item that is not a text: its entity kind, where it is, and the item
/// as JSON (its owner reads it as its own type).
#[derive(Debug, Clone)]
pub struct Timer {
    pub kind: String,
    pub keys: Keys,
    pub item: serde_json::Value,
}

/// The table and its client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
    /// How long an event claim is kept (TTL): longer than any source's resend window.
    pub claim_ttl: Duration,
}

/// Where a Query starts and what part of a partition it reads.
enum Range<'a> {
    All,
    /// The items whose sort key begins with this, read consistently: what a
    /// decision rests on must see the last write (a START seconds ago).
    Prefix(&'a str),
    UpTo(&'a str),
    /// The items whose sort key is between these (both included).
    Between(&'a str, &'a str),
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
            .set_key(Some(key_of(&StoreConfig::key(store_id))))
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        out.item.map(from_item).transpose()
    }

    /// Saves a store's configuration, and the pointer from each of its
    /// `lead_addresses` to it (one store per address: an address another
    /// store takes leads at is refused, before anything is written); the
    /// pointers of addresses it no longer has are removed.
    #[instrument(skip(self, store), fields(store_id = %store.store_id))]
    pub async fn put_store(&self, store: &StoreConfig) -> Result<(), TableError> {
        let old = self.get_store(&store.store_id).await?;
        // What one store alone may hold: its lead addresses and its numbers
        // (`sms_number`, `lines`), each a pointer item claimed conditionally.
        let claims = |s: &StoreConfig| {
            let addresses = s.lead_addresses.iter().map(|a| (keys::lead_address(a), format!("lead address {a}")));
            let numbers = std::iter::once(&s.sms_number)
                .chain(s.lines.keys())
                .map(|n| (keys::store_phone(n), format!("number {}", n.e164())));
            addresses.chain(numbers).collect::<Vec<_>>()
        };
        let wanted = claims(store);
        let had = old.as_ref().map(claims).unwrap_or_default();
        for (i, (keys, what)) in wanted.iter().enumerate() {
            let mut item = key_of(keys);
            item.insert(keys::KIND.into(), item::s("store_claim"));
            item.insert("store_id".into(), item::s(&store.store_id));
            let put = self
                .client
                .put_item()
                .table_name(&self.name)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR store_id = :s")
                .expression_attribute_values(":s", item::s(&store.store_id))
                .send()
                .await
                .map_err(|e| TableError::aws("PutItem", e));
            match put {
                Err(e) if e.is_conditional_failure() => {
                    // What this save claimed that the store did not hold before goes back.
                    for (made, _) in wanted[..i].iter().filter(|(k, _)| !had.iter().any(|(h, _)| h == k)) {
                        self.release_claim(made, &store.store_id).await?;
                    }
                    return Err(TableError::Taken { what: format!("{what} already belongs to another store") });
                }
                other => other?,
            };
        }
        for (keys, _) in had.iter().filter(|(k, _)| !wanted.iter().any(|(w, _)| w == k)) {
            self.release_claim(keys, &store.store_id).await?;
        }
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(to_item(store, &store.keys(&()))?))
            .send()
            .await
            .map_err(|e| TableError::aws("PutItem", e))?;
        Ok(())
    }

    /// Gives up a lead address or number `store_id` held (not one another store holds).
    async fn release_claim(&self, keys: &Keys, store_id: &str) -> Result<(), TableError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_of(keys)))
            .condition_expression("store_id = :s")
            .expression_attribute_values(":s", item::s(store_id))
            .send()
            .await
            .map_err(|e| TableError::aws("DeleteItem", e));
        match deleted {
            Err(e) if e.is_conditional_failure() => Ok(()),
            other => other.map(drop),
        }
    }

    /// The store that texts from `sms_number` (gsi1).
    #[instrument(skip(self), fields(sms_number = %sms_number))]
    pub async fn store_by_number(&self, sms_number: &Phone) -> Result<Option<StoreConfig>, TableError> {
        let items = self.query(Some(keys::GSI1), &keys::store_number(sms_number), Range::All).await?;
        items.into_iter().next().map(from_item).transpose()
    }

    /// The id of the store that takes leads at `address` (any case).
    #[instrument(skip(self))]
    pub async fn store_of_lead_address(&self, address: &str) -> Result<Option<String>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys::lead_address(address))))
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        Ok(out.item.and_then(|i| i.get("store_id").and_then(|v| v.as_s().ok()).cloned()))
    }

    #[instrument(skip(self))]
    pub async fn list_stores(&self) -> Result<Vec<StoreConfig>, TableError> {
        self.query_all(None, keys::STORES_PK, Range::All).await
    }

    /// Pages through a Query on the table (`index` None) or a GSI.
    async fn query(&self, index: Option<Index>, pk: &str, range: Range<'_>) -> Result<Vec<Item>, TableError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let (page, next) = self.query_page(index, pk, &range, None, start.take()).await?;
            items.extend(page);
            match next {
                Some(k) => start = Some(k),
                None => return Ok(items),
            }
        }
    }

    /// One page of a Query (at most `limit` items, from `start`), and where
    /// the next page starts, if there is one.
    async fn query_page(
        &self,
        index: Option<Index>,
        pk: &str,
        range: &Range<'_>,
        limit: Option<i32>,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), TableError> {
        let (pk_attr, sk_attr) = index.map(|i| (i.pk, i.sk)).unwrap_or((PK, SK));
        let (condition, sk) = match range {
            Range::All => ("#pk = :pk", None),
            Range::Prefix(p) => ("#pk = :pk AND begins_with(#sk, :sk)", Some(*p)),
            Range::UpTo(u) => ("#pk = :pk AND #sk <= :sk", Some(*u)),
            Range::Between(from, _) => ("#pk = :pk AND #sk BETWEEN :sk AND :to", Some(*from)),
        };
        let mut q = self
            .client
            .query()
            .table_name(&self.name)
            .set_index_name(index.map(|i| i.name.to_owned()))
            .key_condition_expression(condition)
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(pk))
            // A base-table Query is eventually consistent unless asked; a
            // GSI Query can only be. Decisions read their state consistently.
            .consistent_read(index.is_none() && matches!(range, Range::Prefix(_)))
            .set_limit(limit)
            .set_exclusive_start_key(start);
        if let Some(v) = sk {
            q = q.expression_attribute_names("#sk", sk_attr).expression_attribute_values(":sk", s(v));
        }
        if let Range::Between(_, to) = range {
            q = q.expression_attribute_values(":to", s(*to));
        }
        let out = q.send().await.map_err(|e| TableError::aws("Query", e))?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key.filter(|k| !k.is_empty())))
    }

    /// Reads a Query page by page, handing each page's entities to `each`:
    /// memory holds one page, however many items match.
    async fn for_each_page<E: Entity>(
        &self,
        index: Option<Index>,
        pk: &str,
        range: Range<'_>,
        mut each: impl FnMut(Vec<E>),
    ) -> Result<(), TableError> {
        let mut start = None;
        loop {
            let (page, next) = self.query_page(index, pk, &range, Some(PAGE), start.take()).await?;
            each(page.into_iter().map(from_item).collect::<Result<_, _>>()?);
            match next {
                Some(k) => start = Some(k),
                None => return Ok(()),
            }
        }
    }

    /// A Query whose items are all of one entity.
    async fn query_all<E: Entity>(
        &self,
        index: Option<Index>,
        pk: &str,
        range: Range<'_>,
    ) -> Result<Vec<E>, TableError> {
        self.query(index, pk, range).await?.into_iter().map(from_item).collect()
    }

    /// A customer's current state (profile, consent, caps ledger, repair
    /// orders, tasks): one Query.
    #[instrument(skip(self, customer), fields(phone = %customer.phone))]
    pub async fn customer_state(&self, customer: &CustomerId) -> Result<CustomerState, TableError> {
        let items = self.query(None, &customer.pk(), Range::Prefix(keys::STATE_PREFIX)).await?;
        let mut state = CustomerState::default();
        for item in items {
            Self::fold_state(&mut state, item)?;
        }
        Ok(state)
    }

    /// Adds a state item to `state`; false if the item is not part of the state.
    fn fold_state(state: &mut CustomerState, item: Item) -> Result<bool, TableError> {
        match kind_of(&item) {
            Customer::KIND => {
                state.version = number(&item, VERSION);
                state.profile = Some(from_item(item)?);
            }
            Consent::KIND => {
                state.consent_version = number(&item, VERSION);
                state.consent = from_item(item)?;
            }
            SendLedger::KIND => state.sends = from_item(item)?,
            RepairOrder::KIND => state.repair_orders.push(from_item(item)?),
            Task::KIND => state.tasks.push(from_item(item)?),
            DeclinedLine::KIND => state.declined.push(from_item(item)?),
            FollowUp::KIND => state.follow_ups.push(from_item(item)?),
            Booking::KIND => state.bookings.push(from_item(item)?),
            VisitCheck::KIND => state.checks.push(from_item(item)?),
            HouseholdMember::KIND => state.household.push(from_item(item)?),
            VehicleLife::KIND => state.vehicles.push(from_item(item)?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A customer's profile as it is now (a consistent read).
    #[instrument(skip(self, customer), fields(phone = %customer.phone))]
    pub async fn get_profile(&self, customer: &CustomerId) -> Result<Option<Customer>, TableError> {
        self.get_consistent(&Keys::new(customer.pk(), Customer::PROFILE_SK)).await
    }

    /// A customer's consent ledger as it is now (a consistent read).
    #[instrument(skip(self, customer), fields(phone = %customer.phone))]
    pub async fn consent_of(&self, customer: &CustomerId) -> Result<Consent, TableError> {
        Ok(self.get_consistent(&Consent::default().keys(customer)).await?.unwrap_or_default())
    }

    async fn get_consistent<E: Entity>(&self, keys: &Keys) -> Result<Option<E>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(keys)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        out.item.map(from_item).transpose()
    }

    /// The record the DMS id answers to (gsi1), with its version: used when a
    /// DMS customer arrives with a phone number the store has no record for.
    #[instrument(skip(self))]
    pub async fn customer_by_dms_id(
        &self,
        store_id: &str,
        dms_id: &str,
    ) -> Result<Option<(Customer, Option<u64>)>, TableError> {
        let items = self.query(Some(keys::GSI1), &keys::dms_ref(store_id, dms_id), Range::All).await?;
        let mut state = CustomerState::default();
        for item in items {
            Self::fold_state(&mut state, item)?;
        }
        Ok(state.profile.map(|p| (p, state.version)))
    }

    /// A customer's whole record and every touchpoint, oldest first: one Query.
    #[instrument(skip(self, customer), fields(phone = %customer.phone))]
    pub async fn timeline(&self, customer: &CustomerId) -> Result<Timeline, TableError> {
        let items = self.query(None, &customer.pk(), Range::All).await?;
        let mut timeline = Timeline::default();
        for item in items {
            match kind_of(&item) {
                Touchpoint::KIND => timeline.touchpoints.push(from_item(item)?),
                OutboundText::KIND => timeline.texts.push(from_item(item)?),
                _ => {
                    Self::fold_state(&mut timeline.state, item)?;
                }
            }
        }
        timeline.texts.sort_by_key(|t| t.created_at);
        Ok(timeline)
    }

    /// A store's open tasks, due first (gsi2, sparse: its cost grows with the
    /// open tasks, not the table).
    #[instrument(skip(self))]
    pub async fn open_tasks(&self, store_id: &str) -> Result<Vec<Task>, TableError> {
        self.query_all(Some(keys::GSI2), &keys::open_tasks(store_id), Range::All).await
    }

    /// A store's customers whose last visit is before `cutoff` and whose lapse
    /// the store has not reached out about yet, longest lapsed first (gsi2,
    /// sparse: contacted customers leave it, so its cost grows with the newly
    /// lapsed, not with the customers): one page (at most [`PAGE`]) from
    /// `start`, and where the next starts. The first sweep after a bulk load
    /// finds tens of thousands; a sweep holds one page at a time.
    #[instrument(skip(self, start))]
    pub async fn lapsed_page(
        &self,
        store_id: &str,
        cutoff: DateTime<Utc>,
        start: Option<PageStart>,
    ) -> Result<(Vec<Customer>, Option<PageStart>), TableError> {
        let upto = keys::ts(cutoff);
        let (items, next) = self
            .query_page(
                Some(keys::GSI2),
                &keys::lapse_feed(store_id),
                &Range::UpTo(&upto),
                Some(PAGE),
                start.map(|p| p.0),
            )
            .await?;
        Ok((items.into_iter().map(from_item).collect::<Result<_, _>>()?, next.map(PageStart)))
    }

    /// A page of a store's vehicles with something falling due by `day`
    /// (store-local, included) not yet taken up: the due-day feed (gsi2,
    /// sparse; a vehicle leaves it, or moves to its next day, once the worker
    /// has taken it up), so the sweep reads what falls due, never the
    /// store's vehicles.
    pub async fn falling_due_page(
        &self,
        store_id: &str,
        day: chrono::NaiveDate,
        start: Option<PageStart>,
    ) -> Result<(Vec<VehicleLife>, Option<PageStart>), TableError> {
        let upto = crate::model::feed_upto(day);
        let (items, next) = self
            .query_page(
                Some(keys::GSI2),
                &keys::due_day_feed(store_id),
                &Range::UpTo(&upto),
                Some(PAGE),
                start.map(|p| p.0),
            )
            .await?;
        Ok((items.into_iter().map(from_item).collect::<Result<_, _>>()?, next.map(PageStart)))
    }

    /// What reading a customer's state costs: the items and bytes the
    /// trigger's one Query returns, and the read units DynamoDB bills for it
    /// (a strongly consistent read: one unit per 4 KB, rounded up per page).
    #[instrument(skip(self, customer), fields(phone = %customer.phone))]
    pub async fn state_read_cost(&self, customer: &CustomerId) -> Result<ReadCost, TableError> {
        let mut cost = ReadCost::default();
        let mut start = None;
        loop {
            let (page, next) =
                self.query_page(None, &customer.pk(), &Range::Prefix(keys::STATE_PREFIX), None, start.take()).await?;
            let bytes: usize = page.iter().map(item::item_size).sum();
            cost.items += page.len();
            cost.bytes += bytes;
            cost.read_units += bytes.div_ceil(4096).max(1);
            cost.pages += 1;
            match next {
                Some(k) => start = Some(k),
                None => return Ok(cost),
            }
        }
    }

    /// How many of `store_id`'s lead texts of `hour` are taken (a consistent
    /// count of at most `lead_texts_per_hour` small items; see [`crate::model::LeadSlot`]).
    #[instrument(skip(self))]
    pub async fn lead_slots_taken(&self, store_id: &str, hour: &str) -> Result<u32, TableError> {
        let out = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", item::s(keys::lead_texts(store_id, hour)))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::aws("Query", e))?;
        Ok(u32::try_from(out.count).unwrap_or(0))
    }

    /// Whether `key` has been claimed (an event id or a natural key; a consistent read).
    #[instrument(skip(self))]
    pub async fn is_claimed(&self, store_id: &str, key: &str) -> Result<bool, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&EventClaim::keys_of(store_id, key))))
            .consistent_read(true)
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        Ok(out.item.is_some())
    }

    /// One text as it is now (a consistent read).
    #[instrument(skip(self, text), fields(dedupe_key = %text.dedupe_key))]
    pub async fn get_text(&self, text: &TextRef) -> Result<Option<OutboundText>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&text.keys())))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        out.item.map(from_item).transpose()
    }

    /// Every text of a store, oldest first (gsi2).
    #[instrument(skip(self))]
    pub async fn store_texts(&self, store_id: &str) -> Result<Vec<OutboundText>, TableError> {
        self.query_all(Some(keys::GSI2), &keys::texts_feed(store_id), Range::All).await
    }

    /// A store's texts created in `[from, to)`, oldest first (gsi2): a day's
    /// texts, for the report.
    #[instrument(skip(self))]
    pub async fn texts_between(
        &self,
        store_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<OutboundText>, TableError> {
        // Sort keys are `{created}#{dedupe key}`: `#` sorts before digits.
        let (from, to) = (keys::ts(from), format!("{}#", keys::ts(to - Duration::milliseconds(1))) + "~");
        self.query_all(Some(keys::GSI2), &keys::texts_feed(store_id), Range::Between(&from, &to)).await
    }

    /// The estimates of a store's open declined lines, summed page by page
    /// (the report's open dollars: memory holds one page, however much work
    /// ten years left open).
    #[instrument(skip(self))]
    pub async fn open_declined_cents(&self, store_id: &str) -> Result<i64, TableError> {
        let mut cents = 0;
        self.for_each_page(Some(keys::GSI2), &keys::open_declined(store_id), Range::All, |page: Vec<DeclinedLine>| {
            cents += page.iter().filter(|l| l.is_open()).map(|l| l.estimate_cents).sum::<i64>();
        })
        .await?;
        Ok(cents)
    }

    /// A store's open tasks due before `now`, most overdue first (gsi2,
    /// sparse; its sort key begins with the due time, so only the overdue are read).
    #[instrument(skip(self))]
    pub async fn overdue_tasks(&self, store_id: &str, now: DateTime<Utc>) -> Result<Vec<Task>, TableError> {
        let upto = keys::ts(now);
        self.query_all(Some(keys::GSI2), &keys::open_tasks(store_id), Range::UpTo(&upto)).await
    }

    /// The tasks `refs` point at, at `store_id`, as they are now
    /// (`BatchGetItem`, 100 keys a call: 50 tasks, each at its state and its
    /// history key); a task not found is left out.
    #[instrument(skip(self, refs), fields(tasks = refs.len()))]
    pub async fn tasks(&self, store_id: &str, refs: &[crate::model::TaskRef]) -> Result<Vec<Task>, TableError> {
        let mut found = Vec::new();
        // BatchGetItem refuses a key asked for twice.
        // An open task is in the state, a done one in the history: ask for both.
        let unique: std::collections::BTreeSet<(String, String)> = refs
            .iter()
            .flat_map(|r| {
                let (pk, sk) = (keys::customer_pk(store_id, &r.phone), format!("#TASK#{}", r.task_id));
                [(pk.clone(), keys::history(&sk)), (pk, sk)]
            })
            .collect();
        let keys: Vec<Item> = unique.into_iter().map(|(pk, sk)| key_of(&Keys::new(pk, sk))).collect();
        for item in self.batch_get(keys, false).await? {
            found.push(from_item(item)?);
        }
        Ok(found)
    }

    /// The text SNS published as `message_id` (gsi1: one read), if custops sent it.
    #[instrument(skip(self))]
    pub async fn text_by_message_id(&self, message_id: &str) -> Result<Option<OutboundText>, TableError> {
        let items = self.query(Some(keys::GSI1), &keys::sns_message(message_id), Range::All).await?;
        items.into_iter().find(|i| kind_of(i) == OutboundText::KIND).map(from_item).transpose()
    }

    /// The tasks an alert's link code names (open or done; one, but for a
    /// clash of codes): one Query of gsi1.
    pub async fn tasks_by_link(&self, code: &str) -> Result<Vec<Task>, TableError> {
        let items = self.query(Some(keys::GSI1), &keys::task_link(code), Range::All).await?;
        items.into_iter().filter(|i| kind_of(i) == Task::KIND).map(from_item).collect()
    }

    /// The profiles of `customers` (`BatchGetItem`, 100 keys a call); a
    /// customer without one is left out.
    #[instrument(skip(self, customers), fields(customers = customers.len()))]
    pub async fn profiles(&self, customers: &[CustomerId]) -> Result<Vec<Customer>, TableError> {
        let unique: std::collections::BTreeSet<String> = customers.iter().map(CustomerId::pk).collect();
        let keys = unique.into_iter().map(|pk| key_of(&Keys::new(pk, Customer::PROFILE_SK))).collect();
        self.batch_get(keys, false).await?.into_iter().map(from_item).collect()
    }

    /// What is due at or before `now` on one partition of the due index
    /// (gsi3, sparse: unfinished texts and timers not yet handed on; its cost
    /// grows with the work in flight, not the table): one page of at most
    /// `limit`, from `start`, and where the next starts.
    #[instrument(skip(self, start))]
    pub async fn due_page(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        limit: i32,
        start: Option<PageStart>,
    ) -> Result<(Vec<Due>, Option<PageStart>), TableError> {
        let upto = format!("{}~", keys::ts(now));
        let partition = keys::due_partition(shard);
        let (items, next) =
            self.query_page(Some(keys::GSI3), &partition, &Range::UpTo(&upto), Some(limit), start.map(|p| p.0)).await?;
        let mut due = Vec::new();
        for item in items {
            match kind_of(&item) {
                OutboundText::KIND => due.push(Due::Text(Box::new(from_item(item)?))),
                kind => {
                    let key = |a: &str| item.get(a).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                    let keys = Keys::new(key(PK), key(SK));
                    let kind = kind.to_owned();
                    let json = serde_dynamo::from_item(item).map_err(|e| item::mapping(&keys, "timer", e))?;
                    due.push(Due::Timer(Box::new(Timer { kind, keys, item: json })));
                }
            }
        }
        Ok((due, next.map(PageStart)))
    }

    /// Takes a timer off the due index once it was handed to its owner
    /// (whose queue retries it, and dead-letters it with its reason): the
    /// scheduler never hands the same work on again. False if it was off already.
    #[instrument(skip(self, timer), fields(kind = %timer.kind))]
    pub async fn take_off_due(&self, timer: &Timer, at: DateTime<Utc>) -> Result<bool, TableError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&timer.keys)))
            .update_expression("SET handed_at = :at REMOVE #ipk, #isk")
            .condition_expression("attribute_exists(#ipk)")
            .expression_attribute_names("#ipk", keys::GSI3.pk)
            .expression_attribute_names("#isk", keys::GSI3.sk)
            .expression_attribute_values(":at", s(keys::ts(at)))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e));
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.is_conditional_failure() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// What happened at a store on one store-local day: the day's facts (one
    /// Query of the day's partition).
    #[instrument(skip(self))]
    pub async fn day_facts(&self, store_id: &str, day: NaiveDate) -> Result<Vec<Fact>, TableError> {
        self.query_all(None, &keys::day(store_id, day), Range::All).await
    }
}
