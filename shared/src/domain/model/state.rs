//! The customer's state as one Query reads it, the caps ledger, the
//! day's facts the report counts, and the store's hourly lead-text slots.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{CustomerId, Entity};
use crate::keys::{self, Keys};
use crate::phone::Phone;
use crate::store::{Department, StoreConfig};

use super::*;

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
    /// The other members of the customer's household (section 14).
    pub household: Vec<HouseholdMember>,
    /// The customer's vehicles followed for service due and maturity (section 14).
    pub vehicles: Vec<super::VehicleLife>,
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
    /// An answer of 1 or 2 gave service (or, for a delivery, sales) a heat case (`task`).
    HeatCase,
    /// A customer answered a delivery check (`score`: the answer, 1-5).
    DeliveryAnswered,
    /// A vehicle fell due for service and service got a task (`task`).
    ServiceDueTask,
    /// A lease or loan maturity step gave sales a task (`task`).
    MaturityTask,
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
            FactKind::DeliveryAnswered => "delivery_answered",
            FactKind::ServiceDueTask => "service_due_task",
            FactKind::MaturityTask => "maturity_task",
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
