//! The customer and their consent: the profile, where they came from, what
//! they bought, and the consent ledger every text is checked against.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{CustomerId, Entity};
use crate::event::{DmsCustomer, Person, Vehicle};
use crate::keys::{self, Keys};
use crate::phone::Phone;

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

    /// "First Last", as far as the record knows it.
    pub fn full_name(&self) -> Option<String> {
        full_name(self.first_name.as_deref(), self.last_name.as_deref())
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

    /// The vehicle to name to the customer: the last one delivered that is
    /// still theirs (not unwound, not sold: still among their vehicles),
    /// else the last serviced.
    pub fn main_vehicle(&self) -> Option<&Vehicle> {
        let theirs = |v: &Vehicle| self.vehicles.iter().any(|x| x.vin == v.vin);
        let bought = self
            .purchases
            .iter()
            .filter(|p| p.unwound_at.is_none() && theirs(&p.vehicle))
            .max_by_key(|p| p.delivered_at)
            .map(|p| &p.vehicle);
        bought.or(self.vehicles.last())
    }
}

/// "First Last" of whichever parts are known; none when neither is.
pub fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [first, last].into_iter().flatten().filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
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
    /// When the DMS unwound the deal: it is no purchase to follow up
    /// (no first service, delivery check or maturity work after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unwound_at: Option<DateTime<Utc>>,
    /// The odometer at delivery (a reading for service due).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mileage: Option<u32>,
    /// What section 14's maturity work needs: how it was paid for, the term
    /// and the first payment's day. Never texted to anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_type: Option<crate::event::PurchaseType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_months: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_payment_on: Option<chrono::NaiveDate>,
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

/// How two records came to be one household (section 14). Nothing links
/// records by name or address alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum LinkedBy {
    /// The deal's co-buyer (`deal.delivered`'s `co_buyer`).
    CoBuyer { deal_id: String },
    /// A person said so: `custops household link` (`operator`) or the inbox
    /// (the staff member's id).
    Person { who: String },
}

/// One other member of a customer's household: an item in the customer's
/// partition (`#HOUSEHOLD#{their number}`), so the one Query of the record
/// reads the household with it, and a link is made without reading the
/// other record (each side is written as one idempotent put). Consent,
/// opt-outs and texts stay per person: a member is a name, a number and
/// how they were linked, never a reason to text anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdMember {
    pub store_id: String,
    /// Whose record this item is on.
    pub phone: Phone,
    /// The other member.
    pub member: Phone,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub linked: LinkedBy,
    pub since: DateTime<Utc>,
}

/// The most members a household item set holds per record (a family, not a
/// fleet: a link past it is refused).
pub const HOUSEHOLD_MAX: usize = 8;

impl HouseholdMember {
    /// The two items of one link, one on each record: `a`'s naming `b`, and
    /// `b`'s naming `a`.
    pub fn pair(
        store_id: &str,
        a: (&Phone, Option<&str>, Option<&str>),
        b: (&Phone, Option<&str>, Option<&str>),
        linked: LinkedBy,
        since: DateTime<Utc>,
    ) -> [HouseholdMember; 2] {
        let item = |on: &Phone, other: (&Phone, Option<&str>, Option<&str>)| HouseholdMember {
            store_id: store_id.to_owned(),
            phone: on.clone(),
            member: other.0.clone(),
            first_name: other.1.map(str::to_owned),
            last_name: other.2.map(str::to_owned),
            linked: linked.clone(),
            since,
        };
        [item(a.0, b), item(b.0, a)]
    }

    /// The record this item is on.
    pub fn owner(&self) -> CustomerId {
        CustomerId::new(&self.store_id, self.phone.clone())
    }

    /// The member's name as the record shows it.
    pub fn name(&self) -> String {
        full_name(self.first_name.as_deref(), self.last_name.as_deref()).unwrap_or_else(|| "a household member".into())
    }
}

impl Entity for HouseholdMember {
    const KIND: &'static str = "household_member";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        Keys::new(keys::customer_pk(&self.store_id, &self.phone), format!("#HOUSEHOLD#{}", self.member.e164()))
    }
}
