//! Tasks (who owns the next step, due when, closed how) and the timeline's
//! touchpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{CustomerId, Entity};
use crate::keys::{self, Keys};
use crate::phone::Phone;
use crate::store::Department;

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
    /// Call a customer who rated a visit (or a delivery) 1 or 2.
    HeatCase,
    /// A vehicle falls due for service (section 14): book it.
    ServiceDue,
    /// A lease or loan comes to its last payment (section 14): sales calls.
    Maturity,
}

impl TaskKind {
    /// As `custops tasks` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Callback => "callback",
            TaskKind::BookInstall => "book_install",
            TaskKind::ReplySms => "reply",
            TaskKind::DeclinedFollowup => "declined_followup",
            TaskKind::NoShow => "no_show",
            TaskKind::WinBack => "win_back",
            TaskKind::FirstService => "first_service",
            TaskKind::TextFailed => "text_failed",
            TaskKind::Lead => "lead",
            TaskKind::HeatCase => "heat_case",
            TaskKind::ServiceDue => "service_due",
            TaskKind::Maturity => "maturity",
        }
    }
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
    /// The work was done at another shop: a `service_due` task so closed
    /// ends that vehicle's reminders until its next visit here.
    DoneElsewhere,
    /// The customer no longer has the vehicle: it leaves their vehicles
    /// (service due and the lapse sweep forget it).
    Sold,
}

impl TaskOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskOutcome::Booked => "booked",
            TaskOutcome::Reached => "reached",
            TaskOutcome::NoAnswer => "no_answer",
            TaskOutcome::Declined => "declined",
            TaskOutcome::DoneElsewhere => "done_elsewhere",
            TaskOutcome::Sold => "sold",
        }
    }

    /// Every outcome, as `custops task done --outcome` and the inbox name them.
    pub const ALL: [TaskOutcome; 6] = [
        TaskOutcome::Reached,
        TaskOutcome::Booked,
        TaskOutcome::NoAnswer,
        TaskOutcome::Declined,
        TaskOutcome::DoneElsewhere,
        TaskOutcome::Sold,
    ];

    /// The outcome `name` names, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
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
    /// The code of its link in an alert (`/app/t/{code}`): its store and id, never its customer's number.
    pub fn link_code(&self) -> String {
        keys::task_link_code(&self.store_id, &self.task_id)
    }

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
        k.gsi1 = Some((keys::task_link(&self.link_code()), "TASK".to_owned()));
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
