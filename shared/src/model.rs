//! The customer record and everything on it. Plain domain types: no AWS types.
//! One store, one customer (keyed by phone), one record, every touchpoint on it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{CustomerId, Entity};
use crate::event::{DmsCustomer, Person, Vehicle};
use crate::keys::{self, Keys};
use crate::phone::Phone;
use crate::store::{Department, StoreConfig};

/// Where a customer record came from first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Created by a call from an unknown number; the next DMS event for the phone merges into it.
    Lead,
    /// Known to the DMS.
    Dms,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub store_id: String,
    pub phone: Phone,
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dms_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salesperson: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_visit_at: Option<DateTime<Utc>>,
    /// Every vehicle the DMS has reported for this customer, by VIN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vehicles: Vec<Vehicle>,
    /// Set when the DMS moved this customer to a new phone number: the record
    /// stays for its history, the DMS id now finds the new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<Phone>,
    /// Every vehicle bought here and delivered (`deal.delivered`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purchases: Vec<Purchase>,
    /// The lapse the store last reached out about (win-back): while it is the
    /// lapse of `last_visit_at`, the sweep skips the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapse_contacted: Option<LapseContact>,
    /// When custops last recorded a status change of one of the customer's
    /// repair orders (epoch milliseconds in the table, for conditions): the
    /// customer is in the shop, so a win-back text still waiting for its
    /// window is withdrawn (one voice at a time; see `WithdrawnIf`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub ro_activity_at: Option<DateTime<Utc>>,
    /// When the customer last texted the store something a person answers
    /// (epoch milliseconds in the table, for conditions): a marketing text
    /// still waiting for its window is withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "chrono::serde::ts_milliseconds_option")]
    pub replied_at: Option<DateTime<Utc>>,
    /// The leads that came for this customer (ADF mail), the latest [`PROFILE_LIST`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leads: Vec<LeadInterest>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    /// The profile's sort key in the customer's partition.
    pub const PROFILE_SK: &'static str = "#PROFILE";

    pub fn lead(store_id: &str, phone: Phone, now: DateTime<Utc>) -> Self {
        Self {
            store_id: store_id.to_owned(),
            phone,
            origin: Origin::Lead,
            dms_id: None,
            first_name: None,
            last_name: None,
            email: None,
            salesperson: None,
            last_visit_at: None,
            vehicles: Vec::new(),
            moved_to: None,
            purchases: Vec::new(),
            lapse_contacted: None,
            ro_activity_at: None,
            replied_at: None,
            leads: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Merges what the DMS says into this record (a lead becomes a DMS customer).
    pub fn merge_dms(&mut self, dms: &DmsCustomer, now: DateTime<Utc>) {
        self.origin = Origin::Dms;
        self.dms_id = Some(dms.dms_id.clone());
        self.first_name = Some(dms.first_name.clone());
        self.last_name = Some(dms.last_name.clone());
        if dms.email.is_some() {
            self.email = dms.email.clone();
        }
        self.updated_at = now;
    }

    /// Adds or updates a vehicle (by VIN).
    /// Records `vehicle` as the one last seen (the end of the list), keeping
    /// the latest [`PROFILE_LIST`]: a fleet's profile stays one small item.
    pub fn upsert_vehicle(&mut self, vehicle: &Vehicle) {
        self.vehicles.retain(|v| v.vin != vehicle.vin);
        self.vehicles.push(vehicle.clone());
        let over = self.vehicles.len().saturating_sub(PROFILE_LIST);
        self.vehicles.drain(..over);
    }

    /// Records a purchase (once per deal), keeping the latest [`PROFILE_LIST`] by delivery.
    pub fn purchased(&mut self, purchase: Purchase) {
        if self.purchases.iter().any(|p| p.deal_id == purchase.deal_id) {
            return;
        }
        self.purchases.push(purchase);
        self.purchases.sort_by_key(|p| p.delivered_at);
        let over = self.purchases.len().saturating_sub(PROFILE_LIST);
        self.purchases.drain(..over);
    }

    /// Records a lead (the latest [`PROFILE_LIST`] are kept).
    pub fn asked(&mut self, lead: LeadInterest) {
        self.leads.push(lead);
        let over = self.leads.len().saturating_sub(PROFILE_LIST);
        self.leads.drain(..over);
    }

    /// The DMS id this record answers to (none once the customer moved numbers).
    pub fn dms_key(&self) -> Option<&str> {
        self.moved_to.is_none().then_some(self.dms_id.as_deref()).flatten()
    }

    /// The address of this customer's record.
    pub fn id(&self) -> CustomerId {
        CustomerId::new(&self.store_id, self.phone.clone())
    }

    /// A visit (a repair order closed, a vehicle delivered) at `at`: the
    /// lapse clock restarts from the latest one.
    pub fn visited(&mut self, at: DateTime<Utc>) {
        if self.last_visit_at.is_none_or(|v| v < at) {
            self.last_visit_at = Some(at);
        }
    }

    /// The visit whose lapse the store has not reached out about yet: what
    /// the lapse sweep's index holds.
    pub fn uncontacted_visit(&self) -> Option<DateTime<Utc>> {
        let visit = self.last_visit_at?;
        (self.lapse_contacted.as_ref().map(|c| c.visit_at) != Some(visit)).then_some(visit)
    }

    /// Whether the store reached out about the customer's current lapse (no
    /// visit since): their next visit is a return.
    pub fn contacted_about_lapse(&self) -> bool {
        self.last_visit_at.is_some() && self.uncontacted_visit().is_none()
    }

    /// The vehicle to name to the customer: the last one delivered, else the last serviced.
    pub fn main_vehicle(&self) -> Option<&Vehicle> {
        let bought = self.purchases.iter().max_by_key(|p| p.delivered_at).map(|p| &p.vehicle);
        bought.or(self.vehicles.last())
    }
}

/// A vehicle the customer bought here.
/// A lead on the customer's record: what they asked about, through whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadInterest {
    pub at: DateTime<Utc>,
    /// The vehicle of interest ("2026 Chevrolet Equinox").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vin: Option<String>,
    /// `buy`, `lease`, ... and `new` or `used`, as the lead says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interest: Option<String>,
    /// Who sent the lead (the provider or OEM site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// What the customer wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Whether the lead got its text (one lead text per number per 24 hours).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub texted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purchase {
    pub deal_id: String,
    pub delivered_at: DateTime<Utc>,
    pub vehicle: Vehicle,
    pub salesperson: Person,
}

/// The store reached out about the lapse after the visit at `visit_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LapseContact {
    pub visit_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

/// Versioned (`version`): concurrent writers of one record serialise on it.
/// A customer with a visit the store has not reached out about is on the
/// store's lapse feed (gsi2, sparse), by that visit.
impl Entity for Customer {
    const KIND: &'static str = "customer";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let mut k = Keys::new(keys::customer_pk(&self.store_id, &self.phone), Self::PROFILE_SK);
        k.gsi1 = self.dms_key().map(|id| (keys::dms_ref(&self.store_id, id), "CUST".into()));
        // On the store's lapse feed, by last visit, until the store reaches
        // out about this lapse: the sweep reads the lapsed part of it only.
        k.gsi2 = self
            .uncontacted_visit()
            .filter(|_| self.moved_to.is_none())
            .map(|visit| (keys::lapse_feed(&self.store_id), format!("{}#{}", keys::ts(visit), self.phone.e164())));
        k
    }
}

/// The consent ledger entry for one phone number at one store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opted_out_at: Option<DateTime<Utc>>,
    /// How the opt-out arrived (e.g. `sms keyword STOP (message {id})`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out_source: Option<String>,
    /// The keyword (STOP or START) the ledger follows: the last the customer
    /// sent. An older one, processed late (a retry, a redrive, a race), never
    /// changes the state; the history gets it in its place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<LastKeyword>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<MarketingConsent>,
    /// Marketing held back: the customer's reply may mean "stop" and a
    /// person decides (closing the flagged task lifts it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_paused: Option<MarketingPause>,
    /// Every change of this ledger, oldest first: what, when, on what authority.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ConsentChange>,
}

/// How many vehicles and purchases the profile keeps (the latest): repair
/// orders and the timeline keep the rest.
pub const PROFILE_LIST: usize = 50;

/// How many changes the consent ledger's item keeps.
pub const CONSENT_HISTORY: usize = 200;

/// Marketing held back until a person looks at what the customer wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketingPause {
    pub at: DateTime<Utc>,
    /// The flagged task whose closing lifts it.
    pub task_id: String,
    pub why: String,
}

/// The keyword the consent ledger follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastKeyword {
    /// When the customer sent it (the first receipt, through every resend).
    pub at: DateTime<Utc>,
    /// STOP (or an opt-out in words): true; START: false.
    pub opted_out: bool,
    /// The authority, as the history names it.
    pub source: String,
}

/// The history's name of an opt-out and of an opt-in.
pub const OPTED_OUT: &str = "opted_out";
pub const OPTED_IN: &str = "opted_in";

/// One change of the consent ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentChange {
    pub at: DateTime<Utc>,
    /// `opted_out`, `opted_in`, `marketing_granted`, `marketing_withdrawn`,
    /// `marketing_paused`, `marketing_resumed`.
    pub change: String,
    /// The authority: `dms event {id}`, `sms keyword STOP (message {id})`,
    /// `sms free text (message {id})`, `operator (task {id} closed)`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketingConsent {
    pub granted: bool,
    pub source: String,
    pub at: DateTime<Utc>,
}

/// Guarded by the opt-out state it was read with, so a STOP is never overwritten.
impl Entity for Consent {
    const KIND: &'static str = "consent";
    type Scope = CustomerId;

    fn keys(&self, of: &CustomerId) -> Keys {
        Keys::new(of.pk(), "#CONSENT")
    }
}

impl Consent {
    /// The ledger after the DMS reported `granted` in event `event_id`, or
    /// `None` if nothing changes.
    pub fn with_marketing(&self, granted: Option<bool>, event_id: &str, at: DateTime<Utc>) -> Option<Consent> {
        let granted = granted?;
        if self.marketing.as_ref().is_some_and(|m| m.granted == granted) {
            return None;
        }
        let source = format!("dms event {event_id}");
        let mut next = self.clone();
        next.marketing = Some(MarketingConsent { granted, source: source.clone(), at });
        next.record(at, if granted { "marketing_granted" } else { "marketing_withdrawn" }, source);
        Some(next)
    }

    /// Adds a change to the ledger's history, keeping the latest
    /// [`CONSENT_HISTORY`] (one item holds at most 400 KB, and a full ledger
    /// must still take a STOP; the timeline keeps every change as a touchpoint).
    pub fn record(&mut self, at: DateTime<Utc>, change: &str, source: impl Into<String>) {
        self.history.push(ConsentChange { at, change: change.to_owned(), source: source.into() });
        self.cap();
    }

    /// Adds a change in its place by time (after every change at or before `at`).
    fn insert(&mut self, at: DateTime<Utc>, change: &str, source: impl Into<String>) {
        let position = self.history.partition_point(|c| c.at <= at);
        self.history.insert(position, ConsentChange { at, change: change.to_owned(), source: source.into() });
        self.cap();
    }

    fn cap(&mut self) {
        let over = self.history.len().saturating_sub(CONSENT_HISTORY);
        self.history.drain(..over);
    }

    /// Whether the last opt-out or opt-in on the history at or before `at`
    /// (all of it: `None`) is an opt-out.
    fn out_on_history(&self, at: Option<DateTime<Utc>>) -> bool {
        self.history
            .iter()
            .rev()
            .filter(|c| at.is_none_or(|at| c.at <= at))
            .find(|c| c.change == OPTED_OUT || c.change == OPTED_IN)
            .is_some_and(|c| c.change == OPTED_OUT)
    }

    /// The ledger after a keyword sent at `at` that is older than the one it
    /// follows (see [`Consent::keyword`]), or `None` if nothing changes. The
    /// state stays as the later keyword left it; the history gets the late
    /// one in its place when it changed what held then, and then the later
    /// keyword too when it now changes something (a START that found the
    /// number opted in, then a STOP sent before it and committed after it:
    /// the history reads opted out, then opted in, in the customer's order).
    pub fn with_late_keyword(&self, at: DateTime<Utc>, opted_out: bool, source: &str) -> Option<Consent> {
        if self.out_on_history(Some(at)) == opted_out {
            return None;
        }
        let mut next = self.clone();
        next.insert(at, if opted_out { OPTED_OUT } else { OPTED_IN }, source);
        if let Some(last) = &self.keyword {
            if next.out_on_history(None) != last.opted_out {
                next.insert(last.at, if last.opted_out { OPTED_OUT } else { OPTED_IN }, last.source.clone());
            }
        }
        Some(next)
    }

    /// Whether marketing is held back for a person to look at a reply.
    pub fn marketing_paused(&self) -> bool {
        self.marketing_paused.is_some()
    }

    pub fn opted_out(&self) -> bool {
        self.opted_out_at.is_some()
    }

    pub fn marketing_granted(&self) -> bool {
        self.marketing.as_ref().is_some_and(|m| m.granted)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairOrder {
    pub ro_number: String,
    pub status: String,
    pub status_at: DateTime<Utc>,
    pub vehicle: Vehicle,
    pub advisor: Person,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_due_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Statuses the customer has been texted about (one text per RO and status).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub texted: Vec<String>,
    /// The op codes performed, once the RO is closed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mileage: Option<u32>,
}

impl Entity for RepairOrder {
    const KIND: &'static str = "repair_order";
    type Scope = CustomerId;

    fn keys(&self, of: &CustomerId) -> Keys {
        let sk = format!("#RO#{}", self.ro_number);
        let mut k = Keys::new(of.pk(), if self.closed_at.is_some() { keys::history(&sk) } else { sk });
        k.gsi1 = Some((format!("RO#{}#{}", of.store_id, self.ro_number), "RO".into()));
        k
    }
}

impl RepairOrder {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Where repair order `ro` of `of` is once closed.
    pub fn history_keys(of: &CustomerId, ro: &str) -> Keys {
        Keys::new(of.pk(), keys::history(&format!("#RO#{ro}")))
    }

    /// The status in words for a customer: "ready for pickup".
    pub fn status_words(&self) -> String {
        self.status.replace('_', " ")
    }
}

/// A line of work the customer declined on a closed repair order: revenue
/// the store already earned the right to, followed up until it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclinedLine {
    pub ro_number: String,
    pub line_id: String,
    pub op_code: String,
    pub description: String,
    pub estimate_cents: i64,
    /// The RO's advisor: who calls about it.
    pub advisor: Person,
    /// When it was declined: the RO's close.
    pub declined_at: DateTime<Utc>,
    pub status: LineStatus,
    /// When it stopped being open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The RO that performed the work (recovered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_by: Option<String>,
    /// The vehicle it was declined on: only work on that vehicle recovers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vin: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Declined, not done yet: followed up.
    Open,
    /// A later RO performed its op code: its estimate is recovered revenue.
    Recovered,
    /// An appointment was booked for it.
    Booked,
    /// The customer said no for good (a person closed its task so).
    Declined,
}

impl LineStatus {
    /// The stored statuses a line may be written over with this one: an
    /// ended line never reopens, however late a resend arrives.
    pub fn replaces(self) -> &'static [&'static str] {
        match self {
            LineStatus::Open => &["open"],
            LineStatus::Booked => &["open", "booked"],
            LineStatus::Recovered => &["open", "booked", "recovered"],
            LineStatus::Declined => &["open", "booked", "declined"],
        }
    }
}

impl DeclinedLine {
    pub fn is_open(&self) -> bool {
        self.status == LineStatus::Open
    }

    /// Recovered or declined for good: it leaves the state. A booked line
    /// stays, since the work done on a later RO still recovers it.
    pub fn is_ended(&self) -> bool {
        matches!(self.status, LineStatus::Recovered | LineStatus::Declined)
    }
}

/// An open line is on its store's feed of open declined work (gsi2, sparse).
impl Entity for DeclinedLine {
    const KIND: &'static str = "declined_line";
    type Scope = CustomerId;

    fn keys(&self, of: &CustomerId) -> Keys {
        let sk = format!("#DECL#{}#{}", self.ro_number, self.line_id);
        let mut k = Keys::new(of.pk(), if self.is_ended() { keys::history(&sk) } else { sk });
        // Open work is on the store's feed of open declined work (the report's
        // open dollars); an ended line leaves it.
        k.gsi2 = self.is_open().then(|| {
            let sk = format!("{}#{}#{}#{}", keys::ts(self.declined_at), of.phone.e164(), self.ro_number, self.line_id);
            (keys::open_declined(&of.store_id), sk)
        });
        k
    }
}

/// One step of a repair order's declined-work cadence: on its day the
/// scheduler follows up on the RO's lines still open (a marketing text naming
/// them, a task for the advisor), or cancels the step, saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub store_id: String,
    pub phone: Phone,
    pub ro_number: String,
    /// 1 for the first step.
    pub step: u32,
    /// Days after the RO's close.
    pub days: u32,
    pub due_at: DateTime<Utc>,
    pub status: StepStatus,
    /// What became of it (sent, task only, cancelled and why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The vehicle the work was declined on, as the customer reads it
    /// ("2021 Chevrolet Tahoe"): the closed RO is history by the step's day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Scheduled,
    Done,
    Cancelled,
}

impl StepStatus {
    /// The stored statuses a step may be written over with this one: an
    /// ended step is never scheduled again.
    pub fn replaces(self) -> &'static [&'static str] {
        match self {
            StepStatus::Scheduled => &["scheduled"],
            StepStatus::Done => &["scheduled", "done"],
            StepStatus::Cancelled => &["scheduled", "cancelled"],
        }
    }
}

impl FollowUp {
    pub fn customer(&self) -> CustomerId {
        CustomerId::new(&self.store_id, self.phone.clone())
    }

    /// The step, ended with `status` and why.
    pub fn ended(&self, status: StepStatus, outcome: impl Into<String>) -> Self {
        Self { status, outcome: Some(outcome.into()), ..self.clone() }
    }
}

/// A scheduled step is on the sparse due index (gsi3), beside the texts due:
/// the scheduler's one Query finds both; an ended step leaves it.
impl Entity for FollowUp {
    const KIND: &'static str = "follow_up";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let pk = keys::customer_pk(&self.store_id, &self.phone);
        let sk = format!("#STEP#{}#{}", self.ro_number, self.step);
        if self.status != StepStatus::Scheduled {
            return Keys::new(pk, keys::history(&sk));
        }
        let mut k = Keys::new(pk.clone(), sk.clone());
        {
            k.gsi3 = Some((keys::due_shard(&pk), format!("{}#{pk}#{sk}", keys::ts(self.due_at))));
        }
        k
    }
}

/// The keys of a timed item on a customer's record: `sk` while it is live
/// (on the due index at `due` when given), its history key once `ended`.
fn timed_keys(store_id: &str, phone: &Phone, sk: String, ended: bool, due: Option<DateTime<Utc>>) -> Keys {
    let pk = keys::customer_pk(store_id, phone);
    if ended {
        return Keys::new(pk, keys::history(&sk));
    }
    let mut k = Keys::new(pk.clone(), sk.clone());
    k.gsi3 = due.map(|at| (keys::due_shard(&pk), format!("{}#{pk}#{sk}", keys::ts(at))));
    k
}

/// A booked appointment on the customer's record (section 7, confirmed and
/// reminded): its time, and the day-before reminder it is owed, on the due
/// index until the scheduler hands it to `appointments`. A cancellation or a
/// no-show ends it, and a reminder not yet sent with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booking {
    pub store_id: String,
    pub phone: Phone,
    pub appointment_id: String,
    /// When the appointment is.
    pub at: DateTime<Utc>,
    pub status: BookingStatus,
    /// When the reminder is due (none: no reminder, the appointment is too close).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_at: Option<DateTime<Utc>>,
    /// When the reminder was decided (sent, or why not, in `outcome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// "2021 Chevrolet Tahoe", when the DMS named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Booked and still ahead (or not yet known to be kept or missed).
    Open,
    /// Cancelled, missed, or passed.
    Ended,
}

impl BookingStatus {
    /// The stored statuses a booking may be written over with this one.
    pub fn replaces(self) -> &'static [&'static str] {
        match self {
            BookingStatus::Open => &["open"],
            BookingStatus::Ended => &["open", "ended"],
        }
    }
}

impl Booking {
    pub fn customer(&self) -> CustomerId {
        CustomerId::new(&self.store_id, self.phone.clone())
    }

    /// Whether its reminder is still to be decided.
    pub fn awaits_reminder(&self) -> bool {
        self.status == BookingStatus::Open && self.reminded_at.is_none() && self.remind_at.is_some()
    }

    /// The booking, ended, and why.
    pub fn ended(&self, why: impl Into<String>) -> Self {
        Self { status: BookingStatus::Ended, outcome: Some(why.into()), ..self.clone() }
    }
}

impl Entity for Booking {
    const KIND: &'static str = "booking";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let due = self.awaits_reminder().then_some(self.remind_at).flatten();
        let sk = format!("#APPT#{}", self.appointment_id);
        timed_keys(&self.store_id, &self.phone, sk, self.status == BookingStatus::Ended, due)
    }
}

/// The post-visit check of one repair order (section 7): scheduled for the
/// next store-local day (on the due index until the scheduler hands it to
/// `declined-service`), asked, then answered or expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitCheck {
    pub store_id: String,
    pub phone: Phone,
    pub ro_number: String,
    pub closed_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub status: CheckStatus,
    /// When the question went (or was decided not to, with `outcome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_at: Option<DateTime<Utc>>,
    /// The customer's answer, 1-5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Scheduled,
    /// The question went; an answer is read for [`ANSWER_DAYS`].
    Asked,
    /// Answered, not asked (and why), or past its answer days.
    Ended,
}

/// How long after the question an answer of 1-5 is read as one.
pub const ANSWER_DAYS: i64 = 3;

impl CheckStatus {
    pub fn replaces(self) -> &'static [&'static str] {
        match self {
            CheckStatus::Scheduled => &["scheduled"],
            CheckStatus::Asked => &["scheduled", "asked"],
            CheckStatus::Ended => &["scheduled", "asked", "ended"],
        }
    }
}

impl VisitCheck {
    pub fn customer(&self) -> CustomerId {
        CustomerId::new(&self.store_id, self.phone.clone())
    }

    /// The check, ended, and why.
    pub fn ended(&self, why: impl Into<String>) -> Self {
        Self { status: CheckStatus::Ended, outcome: Some(why.into()), ..self.clone() }
    }

    /// Whether a 1-5 from the customer at `at` answers it.
    pub fn takes_answer_at(&self, at: DateTime<Utc>) -> bool {
        self.status == CheckStatus::Asked
            && self.asked_at.is_some_and(|asked| asked <= at && at - asked <= chrono::Duration::days(ANSWER_DAYS))
    }
}

impl Entity for VisitCheck {
    const KIND: &'static str = "visit_check";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let due = (self.status == CheckStatus::Scheduled).then_some(self.due_at);
        let sk = format!("#CHECK#{}", self.ro_number);
        timed_keys(&self.store_id, &self.phone, sk, self.status == CheckStatus::Ended, due)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Call back a customer whose call nobody answered.
    Callback,
    /// Call to book the install of an arrived part.
    BookInstall,
    /// Answer a text the customer sent.
    #[serde(rename = "reply")]
    ReplySms,
    /// Call about work the customer declined (a step of the declined-work cadence).
    DeclinedFollowup,
    /// Call a customer who missed their appointment, to rebook it.
    NoShow,
    /// Call a customer who has not been back for `lapse_months`.
    WinBack,
    /// Set the first service appointment of a vehicle just delivered.
    FirstService,
    /// Reach a customer whose text did not arrive (its delivery receipt failed).
    TextFailed,
    /// Answer a new lead (an ADF mail) while it is fresh.
    Lead,
    /// Call a customer who rated a visit 1 or 2.
    HeatCase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
}

impl TaskStatus {
    /// The stored statuses a task may be written over with this one: a done
    /// task never reopens.
    pub fn replaces(self) -> &'static [&'static str] {
        match self {
            TaskStatus::Open => &["open"],
            TaskStatus::Done => &["open", "done"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub store_id: String,
    pub phone: Phone,
    pub kind: TaskKind,
    pub status: TaskStatus,
    pub owner: String,
    pub department: Department,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ro_number: Option<String>,
    pub note: String,
    /// What only a callback has: the calls folded into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<Calls>,
    /// How a person closed it, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<TaskOutcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<DateTime<Utc>>,
    /// Who closed it or answered it (a staff user's email; absent: an
    /// operator's command or a trigger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_by: Option<String>,
    /// When a customer's text waiting on it is escalated if no person has
    /// answered (`reply_sla_minutes` of open hours after it came): the task
    /// is on the due index until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalate_at: Option<DateTime<Utc>>,
    /// When it was escalated (the store's managers were told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<DateTime<Utc>>,
    /// Made by this change (not read from the table): the commit path tells
    /// `staff-alerts` about it. Never stored.
    #[serde(skip)]
    pub fresh: Fresh,
}

/// Whether a task is new in the change that carries it ([`Task::fresh`]).
/// Equal to every other: two tasks that differ only in it are the same task.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fresh(pub bool);

impl PartialEq for Fresh {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// How a person closed a task (`custops task done --outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOutcome {
    /// The customer booked: the work the task was about is ended as booked.
    Booked,
    Reached,
    NoAnswer,
    /// The customer said no for good: the work is ended as declined.
    Declined,
}

impl TaskOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskOutcome::Booked => "booked",
            TaskOutcome::Reached => "reached",
            TaskOutcome::NoAnswer => "no_answer",
            TaskOutcome::Declined => "declined",
        }
    }
}

/// The missed calls a callback task answers (repeat calls add to it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calls {
    pub count: u32,
    pub last_call_at: DateTime<Utc>,
    /// When the caller was last texted back for this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_text_at: Option<DateTime<Utc>>,
}

impl Task {
    /// A new open task on a customer's record.
    pub fn open(
        customer: &CustomerId,
        kind: TaskKind,
        task_id: impl Into<String>,
        owner: (String, Department),
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            task_id: task_id.into(),
            store_id: customer.store_id.clone(),
            phone: customer.phone.clone(),
            kind,
            status: TaskStatus::Open,
            owner: owner.0,
            department: owner.1,
            due_at,
            created_at: now,
            ro_number: None,
            note: String::new(),
            calls: None,
            outcome: None,
            done_at: None,
            done_by: None,
            escalate_at: None,
            escalated_at: None,
            fresh: Fresh(true),
        }
    }

    /// Escalated at `at` unless a person answers first (the task waits on
    /// the due index until then).
    pub fn escalate_at(mut self, at: DateTime<Utc>) -> Self {
        self.escalate_at = Some(at);
        self
    }

    /// Whether it still waits to be escalated.
    pub fn awaits_escalation(&self) -> bool {
        self.is_open() && self.escalated_at.is_none() && self.escalate_at.is_some()
    }

    /// What a person is asked to do.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// The repair order it is about.
    pub fn about_ro(mut self, ro_number: Option<&str>) -> Self {
        self.ro_number = ro_number.map(str::to_owned);
        self
    }

    pub fn is_open(&self) -> bool {
        self.status == TaskStatus::Open
    }

    /// The task, done.
    pub fn closed(&self) -> Self {
        Self { status: TaskStatus::Done, ..self.clone() }
    }
}

/// Open tasks are on their store's feed (gsi2), in due order; done ones
/// leave it. One that waits to be escalated is on the due index (gsi3) at
/// that time, where the scheduler finds it.
impl Entity for Task {
    const KIND: &'static str = "task";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let sk = format!("#TASK#{}", self.task_id);
        let sk = if self.is_open() { sk } else { keys::history(&sk) };
        let mut k = Keys::new(keys::customer_pk(&self.store_id, &self.phone), sk);
        k.gsi2 = self
            .is_open()
            .then(|| (keys::open_tasks(&self.store_id), format!("{}#{}", keys::ts(self.due_at), self.task_id)));
        if let (true, Some(at)) = (self.awaits_escalation(), self.escalate_at) {
            k.gsi3 = Some((keys::due_shard(&k.pk), format!("{}#{}#{}", keys::ts(at), k.pk, k.sk)));
        }
        k
    }
}

/// One thing that happened with a customer, in order, on their timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touchpoint {
    pub at: DateTime<Utc>,
    /// `call.missed`, `text.sent`, `text.suppressed`, `task.created`, `ro.status_changed`, ...
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub summary: String,
}

impl Touchpoint {
    /// A touchpoint caused by an inbound event.
    pub fn of_event(at: DateTime<Utc>, event_id: &str, kind: &str, summary: String) -> Self {
        Self { at, kind: kind.to_owned(), event_id: Some(event_id.to_owned()), summary }
    }

    /// A touchpoint of a carrier or DMS event, when it happened.
    pub fn of_envelope(envelope: &crate::event::Envelope, kind: &str, summary: String) -> Self {
        Self::of_event(envelope.occurred_at, &envelope.event_id, kind, summary)
    }
}

/// Unique per event and kind, so a retried event rewrites, never repeats, it.
impl Entity for Touchpoint {
    const KIND: &'static str = "touchpoint";
    type Scope = CustomerId;

    fn keys(&self, of: &CustomerId) -> Keys {
        let event = self.event_id.as_deref().unwrap_or("-");
        Keys::new(of.pk(), format!("TL#{}#{event}#{}", keys::ts(self.at), self.kind))
    }
}

/// The texts planned for one number at one store (sent or due), kept for the
/// frequency caps: entries older than the longest cap window are pruned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendLedger {
    #[serde(default)]
    pub entries: Vec<SendEntry>,
    /// Optimistic-concurrency version (0: never written).
    #[serde(default)]
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendEntry {
    /// When the text goes (now, or its due time).
    pub at: DateTime<Utc>,
    pub class: crate::text::MessageClass,
    /// The cadence it belongs to (a repair order's declined-work follow-ups):
    /// the steps of one cadence never cap each other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<String>,
}

/// Versioned (`version`): two texts planned at once cannot both pass a cap.
impl Entity for SendLedger {
    const KIND: &'static str = "send_ledger";
    type Scope = CustomerId;

    fn keys(&self, of: &CustomerId) -> Keys {
        Keys::new(of.pk(), "#SENDS")
    }
}

impl SendLedger {
    /// Texts of `class` (any class if `None`) closer than `window` to `t`,
    /// leaving out the steps of cadence `except` (they never cap each other).
    pub fn count_near(
        &self,
        t: DateTime<Utc>,
        window: chrono::Duration,
        class: Option<crate::text::MessageClass>,
        except: Option<&str>,
    ) -> usize {
        self.entries
            .iter()
            .filter(|e| class.is_none_or(|c| e.class == c) && (e.at - t).abs() < window)
            .filter(|e| except.is_none() || e.cadence.as_deref() != except)
            .count()
    }

    /// The ledger with one more text, pruned of entries older than `keep` before `now`.
    pub fn with(&self, entry: SendEntry, now: DateTime<Utc>, keep: chrono::Duration) -> SendLedger {
        let mut entries: Vec<SendEntry> = self.entries.iter().filter(|e| e.at > now - keep).cloned().collect();
        entries.push(entry);
        SendLedger { entries, version: self.version + 1 }
    }
}

/// Everything current about one customer: one Query.
#[derive(Debug, Clone, Default)]
pub struct CustomerState {
    pub profile: Option<Customer>,
    /// Texts planned recently (frequency caps).
    pub sends: SendLedger,
    /// The profile's version, for the optimistic check of the next write.
    pub version: Option<u64>,
    pub consent: Consent,
    /// The consent ledger's version: every change of it is conditional on it.
    pub consent_version: Option<u64>,
    pub repair_orders: Vec<RepairOrder>,
    pub tasks: Vec<Task>,
    pub declined: Vec<DeclinedLine>,
    pub follow_ups: Vec<FollowUp>,
    /// Appointments booked and not ended.
    pub bookings: Vec<Booking>,
    /// Post-visit checks scheduled or asked.
    pub checks: Vec<VisitCheck>,
}

impl CustomerState {
    /// The most recently updated open repair order.
    pub fn open_repair_order(&self) -> Option<&RepairOrder> {
        self.repair_orders.iter().filter(|r| r.is_open()).max_by_key(|r| r.status_at)
    }

    pub fn open_task(&self, kind: TaskKind) -> Option<&Task> {
        self.tasks.iter().filter(|t| t.kind == kind && t.is_open()).max_by_key(|t| t.created_at)
    }
}

/// What a store's day is made of: one fact per thing that happened, under the
/// store's day, written in the event's own transaction. A report reads the
/// day's partition; no item is shared by two events, so concurrent events of
/// one store never conflict (DynamoDB cancels transactions that overlap on an item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub store_id: String,
    /// The store-local day it happened on.
    pub day: NaiveDate,
    pub kind: FactKind,
    pub event_id: String,
    pub at: DateTime<Utc>,
    /// The amount it is about (a declined line's estimate), in cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cents: Option<i64>,
    /// The department it concerns (a missed call's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<Department>,
    /// The task it gave a person (a callback, a no-show's), for the report
    /// to see what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskRef>,
    /// A customer's rating of a visit, 1-5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
}

/// Where a task is: its customer's number and its id (the store is the fact's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRef {
    pub phone: Phone,
    pub task_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// A missed call from a number that can be called back.
    MissedCall,
    /// A missed call from the store's own line (not texted).
    MissedCallOwnLine,
    /// A missed call from a number that cannot be parsed (not texted).
    MissedCallInvalidNumber,
    RoStatusChanged,
    /// A customer opted out by text.
    SmsOptOut,
    /// A customer texted the store (not a keyword).
    SmsReceived,
    /// A text whose publish may or may not have happened (never resent).
    TextAmbiguous,
    /// A text closed as failed: its release attempts ran out.
    TextFailed,
    /// A repair order closed (a service visit).
    RoClosed,
    /// A line declined on an RO closed that day (`cents`: its estimate).
    LineDeclined,
    /// A declined line a later RO performed (`cents`: recovered revenue).
    LineRecovered,
    /// A declined-work follow-up step texted the customer.
    FollowUpTexted,
    /// A declined-work follow-up step gave the advisor a task, no text.
    FollowUpTaskOnly,
    AppointmentBooked,
    /// A customer missed their appointment.
    NoShow,
    /// A vehicle was delivered (a sale).
    DealDelivered,
    /// A lapsed customer got a win-back text (and the service owner a task).
    WinBackTexted,
    /// A lapsed customer was given to the service owner, without a text.
    WinBackTaskOnly,
    /// A customer the store reached out to about their lapse came back (a visit).
    WinBackReturned,
    /// A missed call gave a person a new callback task (`task`).
    CallbackCreated,
    /// A customer's text waited past `reply_sla_minutes` (`task`: its reply task).
    ReplyEscalated,
    /// A person at the store texted the customer from the staff inbox.
    StaffReply,
    /// A carrier reported a number opted out (a delivery receipt).
    CarrierOptOut,
    /// An appointment was cancelled.
    AppointmentCancelled,
    /// A lead arrived (an ADF mail; `task`: its lead task).
    LeadReceived,
    /// A customer answered a post-visit check (`score`: the answer, 1-5).
    VisitAnswered,
    /// An answer of 1 or 2 gave service a heat case (`task`).
    HeatCase,
}

impl FactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::MissedCall => "missed_call",
            FactKind::MissedCallOwnLine => "missed_call_own_line",
            FactKind::MissedCallInvalidNumber => "missed_call_invalid_number",
            FactKind::RoStatusChanged => "ro_status_changed",
            FactKind::SmsOptOut => "sms_opt_out",
            FactKind::SmsReceived => "sms_received",
            FactKind::TextAmbiguous => "text_ambiguous",
            FactKind::TextFailed => "text_failed",
            FactKind::RoClosed => "ro_closed",
            FactKind::LineDeclined => "line_declined",
            FactKind::LineRecovered => "line_recovered",
            FactKind::FollowUpTexted => "follow_up_texted",
            FactKind::FollowUpTaskOnly => "follow_up_task_only",
            FactKind::AppointmentBooked => "appointment_booked",
            FactKind::NoShow => "no_show",
            FactKind::DealDelivered => "deal_delivered",
            FactKind::WinBackTexted => "win_back_texted",
            FactKind::WinBackTaskOnly => "win_back_task_only",
            FactKind::WinBackReturned => "win_back_returned",
            FactKind::CallbackCreated => "callback_created",
            FactKind::ReplyEscalated => "reply_escalated",
            FactKind::StaffReply => "staff_reply",
            FactKind::CarrierOptOut => "carrier_opt_out",
            FactKind::AppointmentCancelled => "appointment_cancelled",
            FactKind::LeadReceived => "lead_received",
            FactKind::VisitAnswered => "visit_answered",
            FactKind::HeatCase => "heat_case",
        }
    }
}

impl Fact {
    /// `kind` happened at `at` at `store` because of event `event_id`.
    pub fn new(store: &StoreConfig, kind: FactKind, event_id: &str, at: DateTime<Utc>) -> Self {
        Self {
            store_id: store.store_id.clone(),
            day: store.local(at).date_naive(),
            kind,
            event_id: event_id.to_owned(),
            at,
            cents: None,
            department: None,
            task: None,
            score: None,
        }
    }

    /// The fact, with the customer's rating.
    pub fn score(mut self, score: u8) -> Self {
        self.score = Some(score);
        self
    }

    /// The fact, about `department`.
    pub fn department(mut self, department: Department) -> Self {
        self.department = Some(department);
        self
    }

    /// The fact, about the task `task`.
    pub fn task(mut self, task: &Task) -> Self {
        self.task = Some(TaskRef { phone: task.phone.clone(), task_id: task.task_id.clone() });
        self
    }

    /// The fact, about `cents`.
    pub fn cents(mut self, cents: i64) -> Self {
        self.cents = Some(cents);
        self
    }
}

impl Entity for Fact {
    const KIND: &'static str = "fact";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        Keys::new(keys::day(&self.store_id, self.day), format!("{}#{}", self.kind.as_str(), self.event_id))
    }
}

/// One of a store's lead texts of an hour (CONTRACT section 4,
/// `lead_texts_per_hour`): the n-th text of the hour takes slot n, a new
/// item, so two leads that both saw slot n free cannot both text (the
/// second is decided again and takes n+1), and no two leads write one item.
/// Kept two hours (TTL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadSlot {
    pub store_id: String,
    /// The UTC hour, `2026-11-24T15`.
    pub hour: String,
    pub slot: u32,
    /// The lead that took it.
    pub event_id: String,
    #[serde(skip)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl LeadSlot {
    /// The UTC hour `t` falls in, as slots name it.
    pub fn hour_of(t: DateTime<Utc>) -> String {
        t.format("%Y-%m-%dT%H").to_string()
    }

    /// The next free slot of `t`'s hour, when `taken` are taken and the store
    /// allows `per_hour`; none when the hour is spent.
    pub fn next(store_id: &str, t: DateTime<Utc>, taken: u32, per_hour: u32, event_id: &str) -> Option<Self> {
        (taken < per_hour).then(|| Self {
            store_id: store_id.to_owned(),
            hour: Self::hour_of(t),
            slot: taken,
            event_id: event_id.to_owned(),
            expires_at: Some(t + chrono::Duration::hours(2)),
        })
    }
}

impl Entity for LeadSlot {
    const KIND: &'static str = "lead_slot";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let mut k = Keys::new(keys::lead_texts(&self.store_id, &self.hour), format!("SLOT#{:05}", self.slot));
        k.expires_at = self.expires_at.map(|t| t.timestamp());
        k
    }
}
