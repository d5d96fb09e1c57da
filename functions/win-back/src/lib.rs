//! `win-back`: a customer who has not been back for `lapse_months` is a
//! silent defector unless somebody reaches out.
//!
//! Trigger: a [`Lapsed`] message on the function's own SQS queue, sent by the
//! `lapse-sweep` (one message per customer, so one bad customer never stops
//! the rest, and the work scales out).
//! Reads: the store config (cached), the customer's current state (one Query).
//! Decides ([`decide`], pure), from the record as it is now:
//! - a visit since the sweep (the last visit moved) cancels it: nothing is sent;
//! - otherwise the lapse is marked contacted (the customer leaves the
//!   sweep's index until their next visit), the store's `service` owner gets
//!   a `win_back` task, and the customer one `marketing` text naming the
//!   store and the vehicle, with the booking link, unless the store already
//!   speaks to them (an open repair order, a declined-work follow-up still
//!   scheduled, a reply a person has not closed: one voice at a time). The
//!   outbound path adds consent (no marketing consent: the task only),
//!   opt-outs, caps and the texting window (a text outside it waits).
//!
//! Claimed on the customer and the visit the lapse is counted from: the
//! sweep handing the same lapse over twice changes nothing; a later visit
//! starts a new lapse, contacted again when it lapses.
//!
//! The same daily sweep hands over, as a second kind of message, the
//! customers with something falling due between visits (section 14: service
//! due, lease and loan maturity): see [`due`].

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tracing::info;

use custops::batch::Message;
use custops::function::SqsFunction;
use custops::keys;
use custops::model::{CustomerState, Fact, FactKind, LapseContact, StepStatus, Task, TaskKind, Touchpoint};
use custops::outbound::{plan, Plan, Suppressed, TextRequest};
use custops::store::{Department, StoreConfig};
use custops::templates;
use custops::text::{MessageClass, WithdrawnIf};
use custops::{Applied, Change, CustomerId, Deps, Phone, ProcessError, RecordChange};

/// What the sweep hands over: one customer whose last visit is past the lapse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lapsed {
    pub store_id: String,
    pub phone: Phone,
    /// The visit the lapse is counted from.
    pub last_visit_at: DateTime<Utc>,
    /// The store's `lapse_months` the sweep found it lapsed by (the sweep
    /// reads the stores fresh; the worker's store cache may be a minute old).
    pub lapse_months: u32,
    /// When the sweep handed it over: it is decided as of then, whatever the
    /// worker's own clock says (`custops local tick --at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

impl Lapsed {
    pub fn customer(&self) -> CustomerId {
        CustomerId::new(&self.store_id, self.phone.clone())
    }

    /// The idempotency key: one win-back per customer and lapse.
    pub fn key(&self) -> String {
        format!("win-back#{}#{}#{}", self.store_id, self.customer().token(), keys::ts(self.last_visit_at))
    }
}

/// The function (its code is [`decide`]; see [`SqsFunction`]).
pub struct WinBack;

impl SqsFunction for WinBack {
    const NAME: &'static str = "win-back";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        if message.event_type.as_deref() == Some(due::DUE_EVENT_TYPE) {
            return due::process(deps, &message).await;
        }
        let lapsed: Lapsed = serde_json::from_str(&message.body).map_err(|e| ProcessError::Invalid {
            event_id: message.message_id.clone(),
            reason: format!("not a lapsed customer: {}", custops::phone::redact_digits(&e.to_string())),
        })?;
        let key = lapsed.key();
        tracing::Span::current().record("event_id", key.as_str());
        let store = deps.store(&lapsed.store_id, &key).await?;
        let state = deps.table.customer_state(&lapsed.customer()).await?;
        let at = lapsed.at.unwrap_or_else(|| deps.clock.now());
        let change = decide(&store, &lapsed, &state, at);
        if deps.as_of(at).apply(&store, change).await? != Applied::Duplicate {
            info!("lapsed customer handled");
        }
        Ok(())
    }
}

/// The service owner's win-back task is due this long after the hand-over.
pub const TASK_DUE_DAYS: i64 = 2;

/// Why the store does not text a lapsed customer now (it already speaks to
/// them), if it does.
pub fn busy(state: &CustomerState) -> Option<&'static str> {
    if state.open_repair_order().is_some() {
        Some("a repair order is open")
    } else if state.follow_ups.iter().any(|s| s.status == StepStatus::Scheduled) {
        Some("declined work is being followed up")
    } else if state.open_task(TaskKind::ReplySms).is_some() {
        Some("the customer replied and a person has the conversation")
    } else {
        None
    }
}

/// What reaching out about one lapse changes, decided from the record as it
/// is now. Pure.
pub fn decide(store: &StoreConfig, lapsed: &Lapsed, state: &CustomerState, now: DateTime<Utc>) -> Change {
    let event_id = lapsed.key();
    let customer = lapsed.customer();
    let change = Change::new(&event_id);
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let mut record = RecordChange::new(customer.clone());
    let Some(profile) = &state.profile else { return change };
    let visit = lapsed.last_visit_at.format("%-d %B %Y");
    if profile.lapse_contacted.as_ref().is_some_and(|c| c.visit_at == lapsed.last_visit_at) {
        return change;
    }
    if profile.last_visit_at != Some(lapsed.last_visit_at) {
        let why = "the customer has visited since";
        record.touch(touch("win_back.cancelled", format!("win-back for the lapse since {visit} cancelled: {why}")));
        return change.record(record);
    }

    let mut next = profile.clone();
    next.lapse_contacted = Some(LapseContact { visit_at: lapsed.last_visit_at, at: now });
    next.updated_at = now;
    let first_name = profile.first_name.clone().unwrap_or_else(|| "there".into());
    let vehicle = profile.main_vehicle().map(|v| v.describe());
    let booking = store.booking_url.as_ref().map(|u| format!(" Book: {u}")).unwrap_or_default();
    let text = match busy(state) {
        Some(why) => Plan::Suppress(Suppressed::OneVoice(why.to_owned())),
        None => plan(
            TextRequest {
                // A visit before the text goes (it waits for the window, or
                // is retried) withdraws it: the lapse it is about has ended.
                withdrawn_if: Some(WithdrawnIf::Visited),
                ..TextRequest::new(
                    store,
                    &customer.phone,
                    MessageClass::Marketing,
                    store.render(
                        &templates::WIN_BACK,
                        &[
                            ("first_name", &first_name),
                            ("vehicle", vehicle.as_deref().unwrap_or("vehicle")),
                            ("booking", &booking),
                        ],
                    ),
                    format!("win-back#{}", keys::ts(lapsed.last_visit_at)),
                    WinBack::NAME,
                    &event_id,
                )
            },
            &state.consent,
            &state.sends,
            now,
        ),
    };
    let fact = match &text {
        Plan::Send(_) | Plan::Defer(_) => FactKind::WinBackTexted,
        Plan::Suppress(_) => FactKind::WinBackTaskOnly,
    };
    let months = lapsed.lapse_months;
    record.touch(touch("win_back.lapsed", format!("no visit since {visit} (over {months} months): lapsed")));
    let (kind, summary) = text.summary("win-back text");
    record.touch(touch(kind, summary));
    let owner = (store.owners.service.clone(), Department::Service);
    let task_id = format!("win-back-{}", lapsed.last_visit_at.format("%Y%m%d"));
    let about = vehicle.map(|v| format!(" and their {v}")).unwrap_or_default();
    let task = Task::open(&customer, TaskKind::WinBack, task_id, owner, now + Duration::days(TASK_DUE_DAYS), now)
        .note(format!("call {first_name}{about}: no visit since {visit}"));
    record.touch(touch("task.created", format!("{} for {}: win the customer back", task.task_id, task.owner)));
    record.tasks.push(task);
    record.profile = Some((next, state.version));
    record.text = Some((text, state.sends.clone()));
    change.fact(Fact::new(store, fact, &event_id, now)).record(record)
}

pub mod due;

#[cfg(test)]
mod tests;
