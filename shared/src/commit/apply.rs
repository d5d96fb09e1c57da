//! The one shape of every trigger: parse the input, load the customer's state
//! (one Query), a pure `decide` that returns the whole [`Change`], then
//! [`Core::apply`], which commits it in one transaction and sends what is due
//! through the outbound path. Rules are unit-tested on `decide`; `apply` is the
//! only commit path, so conflicts, duplicates and texts in flight are handled
//! the same way everywhere.

use std::sync::Arc;

use tracing::{info, warn};

use crate::batch::Message;
use crate::context::Core;
use crate::entity::CustomerId;
use crate::error::ProcessError;
use crate::event::{CustomerEvent, Envelope, EventData};
use crate::model::{
    Booking, Consent, Customer, CustomerState, DeclinedLine, Fact, FollowUp, HouseholdMember, RepairOrder, SendLedger,
    Task, Touchpoint, VehicleLife, VisitCheck,
};
use crate::outbound::{Delivery, Plan, Resumed};
use crate::phone::Phone;
use crate::store::StoreConfig;
use crate::table::{Guard, Tx, TxError, TxRejected};
use crate::text::{OutboundText, TextRef};

/// A carrier or DMS event as a trigger receives it: parsed, typed, with its store.
#[derive(Debug, Clone)]
pub struct Event<T> {
    pub envelope: Envelope,
    pub data: T,
    pub store: Arc<StoreConfig>,
}

impl Core {
    /// Parses a carrier or DMS event from `message` (its id on the message's
    /// span) and loads its store. Bad input and unknown stores are permanent errors.
    pub async fn event<T: EventData>(&self, message: &Message) -> Result<Event<T>, ProcessError> {
        let envelope = Envelope::parse(&message.body)?;
        tracing::Span::current().record("event_id", envelope.event_id.as_str());
        let data = envelope.data()?;
        let store = self.store(&envelope.store_id, &envelope.event_id).await?;
        Ok(Event { envelope, data, store })
    }
}

/// What the scheduler handed on, loaded as a trigger loads its event
/// ([`Core::load_due`]): the item, when it was handed on (the owner decides
/// as of then), its idempotency key, its store and its customer's state.
pub struct Due<T> {
    pub work: T,
    pub at: chrono::DateTime<chrono::Utc>,
    pub key: String,
    pub store: Arc<StoreConfig>,
    pub customer: CustomerId,
    pub state: crate::model::CustomerState,
}

impl Core {
    /// Steps 1 and 2 for a timer the scheduler handed on (a
    /// [`crate::handoff::HandedOn`] body): the item (`what` names it when
    /// the body is not one: bad input), its key on the message's span, its
    /// store, and its customer's current state (one Query).
    pub async fn load_due<T: serde::de::DeserializeOwned>(
        &self,
        message: &Message,
        what: &str,
        key: impl Fn(&T) -> String,
        customer: impl Fn(&T) -> CustomerId,
    ) -> Result<Due<T>, ProcessError> {
        let due: crate::handoff::HandedOn<T> =
            serde_json::from_str(&message.body).map_err(|e| ProcessError::Invalid {
                event_id: message.message_id.clone(),
                reason: format!("not a due {what}: {}", crate::phone::redact_digits(&e.to_string())),
            })?;
        let key = key(&due.work);
        tracing::Span::current().record("event_id", key.as_str());
        let customer = customer(&due.work);
        let store = self.store(&customer.store_id, &key).await?;
        let state = self.table.customer_state(&customer).await?;
        Ok(Due { work: due.work, at: due.at, key, store, customer, state })
    }

    /// Steps 1 and 2 for a DMS event about a customer: the event parsed with
    /// its store, the customer's record address (a phone number that cannot
    /// be parsed is bad input) and their current state (one Query).
    pub async fn load<T: CustomerEvent>(
        &self,
        message: &Message,
    ) -> Result<(Event<T>, CustomerId, CustomerState), ProcessError> {
        let event = self.event::<T>(message).await?;
        let dms = event.data.customer();
        let phone = Phone::parse(&dms.phone).map_err(|e| ProcessError::Invalid {
            event_id: event.envelope.event_id.clone(),
            reason: format!("customer {}: {e}", dms.dms_id),
        })?;
        if event.store.owns_number(&phone) {
            return Err(ProcessError::Ignored {
                event_id: event.envelope.event_id.clone(),
                reason: format!(
                    "customer {}'s number is one of the store's own numbers (an internal repair order or a walk-in): not a customer, no record",
                    dms.dms_id
                ),
            });
        }
        let customer = CustomerId::new(&event.store.store_id, phone);
        let state = self.table.customer_state(&customer).await?;
        Ok((event, customer, state))
    }
}

/// Why a person's change (a task closed, an answer) did not happen: the
/// decision refused it, or applying it failed.
#[derive(Debug, thiserror::Error)]
pub enum Refused<E: std::error::Error + 'static> {
    #[error(transparent)]
    Decided(E),
    #[error(transparent)]
    Process(#[from] ProcessError),
}

impl Core {
    /// Decides `decide` on the customer's record as read and commits it
    /// only if the record is still so: a change that lands in between (a
    /// recovery, a booking, another person) is read and decided again. The
    /// one way a person's change is applied (`custops task done`, the staff
    /// inbox); returns what the commit sent.
    pub async fn decide_and_apply<E: std::error::Error + 'static>(
        &self,
        store: &StoreConfig,
        customer: &CustomerId,
        decide: impl Fn(&CustomerState, chrono::DateTime<chrono::Utc>) -> Result<Change, E>,
    ) -> Result<Applied, Refused<E>> {
        let outcome = std::sync::Mutex::new(None);
        crate::batch::retry_conflicts(|| async {
            let state = self.table.customer_state(customer).await?;
            let result = match decide(&state, self.clock.now()) {
                Ok(change) => Ok(self.apply(store, change).await?),
                Err(e) => Err(e),
            };
            *outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
            Ok(())
        })
        .await?;
        match outcome.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(Ok(applied)) => Ok(applied),
            Some(Err(e)) => Err(Refused::Decided(e)),
            None => Ok(Applied::Duplicate),
        }
    }
}

/// Everything one event changes, decided from what was read. Committed all or
/// nothing by [`Core::apply`].
#[derive(Debug, Clone)]
pub struct Change {
    /// The event's id: its idempotency key (claimed first).
    pub event_id: String,
    /// More idempotency keys: natural keys for sources that resend under new ids.
    pub natural_keys: Vec<String>,
    /// Natural keys of what happens once in a record's life (a repair
    /// order's close): claimed for good, never expiring.
    pub lasting_keys: Vec<String>,
    /// What the day counts (see [`Fact`]).
    pub facts: Vec<Fact>,
    /// The customer records it changes (usually one).
    pub records: Vec<RecordChange>,
    /// Alerts besides the `task.created` of every new task (which the
    /// commit path finds itself): an escalation.
    pub alerts: Vec<crate::alerts::Alert>,
    /// The store's lead text slot this change takes (a new item: see
    /// [`crate::model::LeadSlot`]).
    pub lead_slot: Option<crate::model::LeadSlot>,
}

/// What changes on one customer's record.
#[derive(Debug, Clone)]
pub struct RecordChange {
    pub customer: CustomerId,
    /// The profile, and the version it was read at (`None`: it is new).
    pub profile: Option<(Customer, Option<u64>)>,
    /// For a change that writes no profile but rests on the record as read
    /// (a step's release, a task closed by a person): the profile version it
    /// was decided on. It commits only if the record is still at it; a
    /// conflict is decided again (see [`Tx::hold_version`]).
    pub rests_on: Option<Option<u64>>,
    /// The consent ledger, and the version it was read at.
    pub consent: Option<(Consent, Option<u64>)>,
    pub repair_orders: Vec<RepairOrder>,
    pub declined: Vec<DeclinedLine>,
    pub follow_ups: Vec<FollowUp>,
    pub bookings: Vec<Booking>,
    pub checks: Vec<VisitCheck>,
    pub tasks: Vec<Task>,
    pub touchpoints: Vec<Touchpoint>,
    /// Household links on this record (section 14): each an idempotent put.
    pub household: Vec<HouseholdMember>,
    /// Vehicles followed (section 14), each refreshed by its writer.
    pub vehicles: Vec<VehicleLife>,
    /// History items that must not exist for the change to hold (a repair
    /// order closed before, when a status for it arrives): see [`Tx::require_absent`].
    pub absent: Vec<crate::keys::Keys>,
    /// The text, planned by [`crate::outbound::plan`], and the send ledger it
    /// was planned against (the caps).
    pub text: Option<(Plan, SendLedger)>,
    /// Finished texts written back with what became of them (a delivery receipt).
    pub finished_texts: Vec<OutboundText>,
}

impl Change {
    pub fn new(event_id: &str) -> Self {
        Self {
            event_id: event_id.to_owned(),
            natural_keys: Vec::new(),
            lasting_keys: Vec::new(),
            facts: Vec::new(),
            records: Vec::new(),
            alerts: Vec::new(),
            lead_slot: None,
        }
    }

    /// The change as history (`custops import`): what a trigger decided,
    /// but nothing it would do now. No text, no new task, no scheduled
    /// follow-up (declined work stays open, without a cadence), no day fact,
    /// no alert; the record, the visit, the vehicles, the declined lines and
    /// the consent stay, with their touchpoints.
    pub fn into_history(mut self) -> Self {
        self.facts.clear();
        self.alerts.clear();
        self.lead_slot = None;
        for r in &mut self.records {
            r.text = None;
            r.tasks.retain(|t| !t.fresh.0);
            r.follow_ups.retain(|s| s.status != crate::model::StepStatus::Scheduled);
            // History owes no reminder and asks nothing.
            for b in &mut r.bookings {
                b.remind_at = None;
            }
            r.checks.clear();
            r.touchpoints.retain(|t| {
                !t.kind.starts_with("text.")
                    && !t.kind.ends_with("_check.scheduled")
                    && !matches!(t.kind.as_str(), "task.created" | "follow_up.scheduled")
            });
        }
        self
    }

    /// Adds alerts sent once the change commits.
    pub fn alerts(mut self, alerts: impl IntoIterator<Item = crate::alerts::Alert>) -> Self {
        self.alerts.extend(alerts);
        self
    }

    /// Adds a natural key, claimed with the event id.
    pub fn natural_key(mut self, key: String) -> Self {
        self.natural_keys.push(key);
        self
    }

    /// Adds a natural key claimed for good (see [`Change::lasting_keys`]).
    pub fn lasting_key(mut self, key: String) -> Self {
        self.lasting_keys.push(key);
        self
    }

    pub fn fact(mut self, fact: Fact) -> Self {
        self.facts.push(fact);
        self
    }

    pub fn record(mut self, record: RecordChange) -> Self {
        self.records.push(record);
        self
    }

    pub fn facts(mut self, facts: impl IntoIterator<Item = Fact>) -> Self {
        self.facts.extend(facts);
        self
    }

    /// The text this change plans, if any.
    pub fn plan(&self) -> Option<&Plan> {
        self.records.iter().find_map(|r| r.text.as_ref().map(|(p, _)| p))
    }
}

impl RecordChange {
    pub fn new(customer: CustomerId) -> Self {
        Self {
            customer,
            profile: None,
            rests_on: None,
            consent: None,
            repair_orders: Vec::new(),
            declined: Vec::new(),
            follow_ups: Vec::new(),
            bookings: Vec::new(),
            checks: Vec::new(),
            tasks: Vec::new(),
            touchpoints: Vec::new(),
            household: Vec::new(),
            vehicles: Vec::new(),
            absent: Vec::new(),
            text: None,
            finished_texts: Vec::new(),
        }
    }

    /// Adds a touchpoint. A touchpoint's key is its time, event and kind,
    /// and a transaction writes an item once: a second one of the same kind
    /// in one change (two vehicles due, two tasks made) joins the first as
    /// one line of the timeline.
    pub fn touch(&mut self, touchpoint: Touchpoint) {
        let same = |t: &&mut Touchpoint| {
            t.at == touchpoint.at && t.event_id == touchpoint.event_id && t.kind == touchpoint.kind
        };
        match self.touchpoints.iter_mut().find(same) {
            Some(first) => {
                first.summary.push_str("; ");
                first.summary.push_str(&touchpoint.summary);
            }
            None => self.touchpoints.push(touchpoint),
        }
    }
}

/// What [`Core::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The change is recorded; `sent` are the texts that went out now.
    Applied { sent: Vec<Delivery> },
    /// The event was processed before: nothing changed.
    Duplicate,
}

impl Core {
    /// Tells `staff-alerts` about the tasks `change` made and the alerts it
    /// carries, once it is committed.
    async fn alert(&self, store: &StoreConfig, change: &Change) {
        let Some(alerts) = &self.alerts else { return };
        let mut out: Vec<crate::alerts::Alert> = change
            .records
            .iter()
            .flat_map(|r| {
                let name = r.profile.as_ref().and_then(|(c, _)| c.first_name.as_deref());
                r.tasks
                    .iter()
                    .filter(|t| t.fresh.0 && t.is_open())
                    .map(move |t| crate::alerts::Alert::created(t, store, name))
            })
            .collect();
        out.extend(change.alerts.iter().cloned());
        if !out.is_empty() {
            alerts.publish(&out).await;
        }
    }

    /// The one transaction that records `change`: the claims (which remember
    /// the texts the event writes), the day's facts, every record's profile,
    /// consent, repair orders, tasks, touchpoints and outbox rows.
    pub fn transaction(&self, store_id: &str, change: &Change) -> Tx {
        let now = self.clock.now();
        let mut tx = self.table.tx();
        let texts: Vec<TextRef> =
            change.records.iter().filter_map(|r| r.text.as_ref()?.0.text()).map(TextRef::of).collect();
        tx.claim_with_texts(store_id, &change.event_id, now, texts.clone());
        for key in &change.natural_keys {
            tx.claim_with_texts(store_id, key, now, texts.clone());
        }
        for key in &change.lasting_keys {
            tx.claim_lasting(store_id, key, now, texts.clone());
        }
        for fact in &change.facts {
            tx.put(fact, Guard::Always);
        }
        if let Some(slot) = &change.lead_slot {
            tx.put(slot, Guard::New);
        }
        for r in &change.records {
            let id = &r.customer;
            match (&r.profile, r.rests_on) {
                (Some((customer, version)), _) => {
                    tx.put(customer, Guard::Version(*version));
                }
                (None, Some(version)) => {
                    tx.hold_version(id, version);
                }
                (None, None) => {}
            }
            if let Some((consent, version)) = &r.consent {
                tx.put_on(id, consent, Guard::LedgerAsRead(*version));
            }
            for ro in &r.repair_orders {
                tx.put_on(id, ro, Guard::Always);
            }
            // What has ended is never written back (a late resend, a race).
            for line in &r.declined {
                tx.put_on(id, line, Guard::Replacing(line.status.replaces()));
            }
            for step in &r.follow_ups {
                tx.put(step, Guard::Replacing(step.status.replaces()));
            }
            for booking in &r.bookings {
                tx.put(booking, Guard::Replacing(booking.status.replaces()));
            }
            for check in &r.checks {
                tx.put(check, Guard::Replacing(check.status.replaces()));
            }
            for task in &r.tasks {
                tx.put(task, Guard::Replacing(task.status.replaces()));
            }
            for touch in &r.touchpoints {
                tx.put_on(id, touch, Guard::Always);
            }
            for member in &r.household {
                tx.put(member, Guard::Always);
            }
            for vehicle in &r.vehicles {
                tx.put(vehicle, Guard::Latest);
            }
            for keys in &r.absent {
                tx.require_absent(keys);
            }
            if let Some((plan, sends)) = &r.text {
                crate::outbound::stage(&mut tx, id, plan, sends);
            }
            // A text that has gone (its receipt names its message id):
            // nothing else writes it again.
            for text in &r.finished_texts {
                tx.put(text, Guard::Always);
            }
        }
        tx
    }

    /// Commits `change` in one transaction (claims, facts, every record's
    /// profile, consent, repair orders, tasks, touchpoints, outbox rows), then
    /// sends the texts that may go now.
    ///
    /// - A duplicate event changes nothing, but finishes sending a text an
    ///   earlier attempt left unsent; one still in flight is a retryable
    ///   [`ProcessError::TextInFlight`] (never acknowledged while it may be lost).
    /// - A concurrent change of the record, an opt-out meanwhile, or a dedupe
    ///   key taken meanwhile is a retryable [`ProcessError::Conflict`]: the
    ///   retry reads the new state.
    pub async fn apply(&self, store: &StoreConfig, change: Change) -> Result<Applied, ProcessError> {
        let tx = self.transaction(&store.store_id, &change);
        let event_id = change.event_id.as_str();
        match self.table.commit(tx).await {
            Ok(()) => {
                // The customer's text first; then the people (whatever became of the text).
                let delivered = async {
                    let mut sent = Vec::new();
                    for text in change.records.iter().filter_map(|r| match &r.text {
                        Some((Plan::Send(text), _)) => Some(text),
                        _ => None,
                    }) {
                        sent.push(self.outbound.deliver(text, store).await?);
                    }
                    Ok::<_, ProcessError>(sent)
                }
                .await;
                self.alert(store, &change).await;
                Ok(Applied::Applied { sent: delivered? })
            }
            Err(TxError::Rejected(TxRejected::Duplicate { text, texts })) => {
                info!("duplicate event: nothing new to record");
                // The texts the event wrote, as they are now: this attempt's
                // own (if it staged one), and those its claims remember.
                let mut found: Vec<OutboundText> = text.map(|t| *t).into_iter().collect();
                for r in texts {
                    if !found.iter().any(|t| t.dedupe_key == r.dedupe_key) {
                        found.extend(self.table.get_text(&r).await?);
                    }
                }
                for text in found.iter().filter(|t| !t.state.is_finished()) {
                    match self.outbound.resume(store, text).await? {
                        Resumed::Delivered(d) => info!(?d, "finished the text an earlier attempt left"),
                        // Its sender may still be publishing it: retry the event
                        // after the lease, never ack a text that may be lost.
                        Resumed::InFlight => return Err(ProcessError::TextInFlight { event_id: event_id.to_owned() }),
                        Resumed::Abandoned
                        | Resumed::NotDue
                        | Resumed::Done
                        | Resumed::Suppressed
                        | Resumed::Failed => {}
                    }
                }
                Ok(Applied::Duplicate)
            }
            Err(TxError::Rejected(TxRejected::Conflict(kinds))) if kinds.contains(&crate::table::tx::ARCHIVED) => {
                Err(ProcessError::Ignored {
                    event_id: event_id.to_owned(),
                    reason: "what it changes ended before (a repair order closed): a late event changes nothing".into(),
                })
            }
            Err(TxError::Rejected(rejected)) => {
                warn!(?rejected, "the customer record changed concurrently");
                Err(ProcessError::Conflict { event_id: event_id.to_owned() })
            }
            Err(TxError::Table(e)) => Err(e.into()),
        }
    }
}
