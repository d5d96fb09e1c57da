//! Service: repair orders, declined work and its follow-ups, bookings and
//! the post-visit checks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{CustomerId, Entity};
use crate::event::{Person, Vehicle};
use crate::keys::{self, Keys};
use crate::phone::Phone;

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

/// One 1-5 question to a customer: the post-visit check of a repair order
/// (section 7), scheduled for the next store-local day, or the delivery
/// check of a deal (section 14), some weeks after the delivery. On the due
/// index until the scheduler hands it to `declined-service`, then asked,
/// then answered or expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitCheck {
    pub store_id: String,
    pub phone: Phone,
    /// What it asks about.
    #[serde(default)]
    pub about: CheckAbout,
    /// The repair order (a visit) or the deal (a delivery) it asks about.
    pub ro_number: String,
    /// When the visit ended (the RO closed) or the vehicle was delivered.
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

/// What a [`VisitCheck`] asks about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckAbout {
    /// A service visit: its repair order.
    #[default]
    Visit,
    /// A delivery: its deal.
    Delivery,
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

    /// What the timeline and the staff call it ("post-visit check of RO-1",
    /// "delivery check of deal D-1").
    pub fn label(&self) -> String {
        match self.about {
            CheckAbout::Visit => format!("post-visit check of {}", self.ro_number),
            CheckAbout::Delivery => format!("delivery check of deal {}", self.ro_number),
        }
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
        let sk = match self.about {
            CheckAbout::Visit => format!("#CHECK#{}", self.ro_number),
            CheckAbout::Delivery => format!("#CHECK#DEAL#{}", self.ro_number),
        };
        timed_keys(&self.store_id, &self.phone, sk, self.status == CheckStatus::Ended, due)
    }
}
