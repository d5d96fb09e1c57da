//! What falls due between visits (CONTRACT.md section 14), the second kind
//! of work on this function's queue: the daily sweep finds a customer whose
//! vehicle's service or lease or loan maturity step falls due today (the
//! store's due-day feed) and hands the customer over ([`Due`], `event_type`
//! [`DUE_EVENT_TYPE`]); [`decide`] takes up everything of theirs due that
//! day, from the record as it is now:
//! - **service due**, per vehicle: a `service_due` task for the store's
//!   `service` owner naming the vehicle, its estimated mileage and how it
//!   was estimated; neither task nor text when the customer opted out, has an
//!   appointment booked, an open repair order, declined work being followed
//!   up, a win-back waiting, or a visit in the last 30 days (the timeline
//!   says which): held until the store no longer speaks to them (the day
//!   after the appointment, after the last follow-up step, 30 days after the
//!   visit, a week for the rest), then looked at again; an opt-out, never. One `marketing` text naming every vehicle of theirs then
//!   due, with the booking link and no price, at most one in 30 days (the
//!   outbound path adds consent, caps and the window; a visit before it goes
//!   withdraws it);
//! - **maturity**, per deal: a `maturity` task for the store's `sales` owner
//!   at each step, naming the vehicle, lease or loan, the maturity date and
//!   who sold it; with `maturity_texts` on, at the last step one `marketing`
//!   text with no payment, rate, balance or term in it. None after the
//!   customer bought again.
//!
//! Claimed per customer and day: the sweep handing a customer over twice
//! changes nothing. Each vehicle takes up a due day once ([`VehicleLife`]'s
//! `reminded_on`, a maturity's `steps_done`), and leaves the feed until its
//! next visit or step.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tracing::info;

use custops::batch::Message;
use custops::model::{CustomerState, Fact, FactKind, StepStatus, Task, TaskKind, Touchpoint, VehicleLife};
use custops::outbound::{plan, Plan, TextRequest};
use custops::store::{Department, StoreConfig};
use custops::templates;
use custops::text::{MessageClass, WithdrawnIf};
use custops::{Applied, Change, CustomerId, Deps, Phone, ProcessError, RecordChange};

use custops::function::SqsFunction;

use crate::WinBack;

/// The `event_type` of a customer the daily sweep hands over for what falls due.
pub const DUE_EVENT_TYPE: &str = "vehicle.due";

/// At most one service-due text per customer in this many days.
pub const TEXT_EVERY_DAYS: i64 = 30;
/// No service-due work for a customer who visited this recently.
pub const RECENT_VISIT_DAYS: i64 = 30;
/// The owner's task is due this long after it is made.
pub const TASK_DUE_DAYS: i64 = 2;

/// A customer with something due on `day` (store-local), handed over by
/// the sweep as a [`custops::handoff::HandedOn`] (the time it was handed
/// over, which it is decided as of).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Due {
    pub store_id: String,
    pub phone: Phone,
    pub day: NaiveDate,
}

impl Due {
    pub fn customer(&self) -> CustomerId {
        CustomerId::new(&self.store_id, self.phone.clone())
    }

    /// The idempotency key: once per customer and day.
    pub fn key(&self) -> String {
        format!("due#{}#{}#{}", self.store_id, self.customer().token(), self.day)
    }
}

/// A handed-over customer: decided as of the hand-over, from the record as it is now.
pub async fn process(deps: &Deps, message: &Message) -> Result<(), ProcessError> {
    let due = deps.load_due(message, "customer with something due", Due::key, Due::customer).await?;
    let change = decide(&due.store, &due.work, &due.state, due.at);
    if deps.as_of(due.at).apply(&due.store, change).await? != Applied::Duplicate {
        info!("due work taken up");
    }
    Ok(())
}

/// Days a service due held by an open repair order or a waiting win-back
/// waits before it is looked at again.
pub const HOLD_DAYS: i64 = 7;

/// Why the store gives a vehicle due for service neither a task nor a text
/// now (section 14), if it does not, and until which store-local day it
/// waits (none: not at all, the customer opted out): the day after the
/// booked appointment, the day after the last follow-up step, 30 days after
/// the last visit, else [`HOLD_DAYS`].
pub fn service_held(
    store: &StoreConfig,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Option<(&'static str, Option<NaiveDate>)> {
    let day = |t: DateTime<Utc>| store.local(t).date_naive();
    let later = day(now) + Duration::days(HOLD_DAYS);
    let visited = state.profile.as_ref().and_then(|p| p.last_visit_at);
    let booked = state
        .bookings
        .iter()
        .filter(|b| b.status == custops::model::BookingStatus::Open && b.at >= now)
        .map(|b| b.at)
        .min();
    let steps = state.follow_ups.iter().filter(|s| s.status == StepStatus::Scheduled).map(|s| s.due_at).max();
    if state.consent.opted_out() {
        Some(("the customer opted out", None))
    } else if let Some(at) = booked {
        Some(("an appointment is booked", Some(day(at) + Duration::days(1))))
    } else if state.open_repair_order().is_some() {
        Some(("a repair order is open", Some(later)))
    } else if let Some(last) = steps {
        Some(("declined work is being followed up", Some(day(last) + Duration::days(1))))
    } else if state.open_task(TaskKind::WinBack).is_some() {
        Some(("a win-back is waiting", Some(later)))
    } else if let Some(v) = visited.filter(|v| now - *v < Duration::days(RECENT_VISIT_DAYS)) {
        Some(("a visit in the last 30 days", Some(day(v + Duration::days(RECENT_VISIT_DAYS)) + Duration::days(1))))
    } else {
        None
    }
}

/// "the 2021 Chevrolet Tahoe", "the 2021 Chevrolet Tahoe and 2019 Chevrolet Equinox".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What falls due for one customer on the day, decided from the record as
/// it is now. Pure.
pub fn decide(store: &StoreConfig, due: &Due, state: &CustomerState, now: DateTime<Utc>) -> Change {
    let event_id = due.key();
    let customer = due.customer();
    let change = Change::new(&event_id);
    let Some(profile) = &state.profile else { return change };
    let today = store.local(now).date_naive();
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let mut record = RecordChange::new(customer.clone());
    record.rests_on = Some(state.version);
    let mut facts = Vec::new();
    let first_name = profile.first_name.clone().unwrap_or_else(|| "there".into());
    let name = profile.full_name().unwrap_or_else(|| "the customer".to_owned());
    let held = service_held(store, state, now);
    let recently_texted =
        state.vehicles.iter().filter_map(|v| v.texted_at).any(|t| now - t < Duration::days(TEXT_EVERY_DAYS));
    let mut service_texts: Vec<usize> = Vec::new();
    let mut maturity_text: Option<(String, String)> = None;
    let mut vehicles: Vec<VehicleLife> = Vec::new();

    for v in &state.vehicles {
        let mut next = v.clone();
        let mut changed = false;
        let what = v.vehicle.describe();
        if let Some(sd) = v.service_due_on(today) {
            changed = true;
            match held {
                Some((why, until)) => {
                    let again = match until {
                        Some(day) => {
                            next.held_until = Some(day);
                            format!("; looked at again on {day}")
                        }
                        None => {
                            next.reminded_on = Some(sd.on);
                            String::new()
                        }
                    };
                    record.touch(touch(
                        "service_due.held",
                        format!("{what} due for service on {}: no task or text, {why}{again}", sd.on),
                    ));
                }
                None => {
                    next.reminded_on = Some(sd.on);
                    next.held_until = None;
                    let miles =
                        sd.miles.map(|m| format!("about {m} miles")).unwrap_or_else(|| "mileage unknown".into());
                    let by = if sd.by_miles { "by mileage" } else { "by time" };
                    let last = v
                        .last_service_at
                        .map(|t| format!(" Last visit here {}.", store.local(t).format("%-d %B %Y")))
                        .unwrap_or_default();
                    let task_id = format!("service-due-{}-{}", v.vehicle.vin, sd.on.format("%Y%m%d"));
                    let owner = (store.owners.service.clone(), Department::Service);
                    let task = Task::open(&customer, TaskKind::ServiceDue, task_id, owner, now + Duration::days(TASK_DUE_DAYS), now)
                        .note(format!(
                            "{name}'s {what} is due for service ({by}, {}): {miles}, estimated from {}.{last} Call to book it.",
                            sd.on,
                            sd.estimate.describe()
                        ));
                    record.touch(touch(
                        "task.created",
                        format!("{} for {}: {what} due for service", task.task_id, task.owner),
                    ));
                    // One fact per task (a fact's key is its kind and event).
                    let of_task = format!("{event_id}#{}", task.task_id);
                    facts.push(Fact::new(store, FactKind::ServiceDueTask, &of_task, now).task(&task));
                    next.task_id = Some(task.task_id.clone());
                    record.tasks.push(task);
                    service_texts.push(vehicles.len());
                }
            }
        }
        for (days, day) in v.maturity_due_on(today) {
            let Some(m) = next.maturity.as_mut() else { continue };
            changed = true;
            m.steps_done.push(days);
            let bought_again = profile
                .purchases
                .iter()
                .any(|p| p.deal_id != m.deal_id && p.unwound_at.is_none() && p.delivered_at > m.delivered_at);
            if bought_again {
                m.ended = Some("bought again".into());
                record
                    .touch(touch("maturity.ended", format!("{what} {} of deal {}: bought again", m.kind(), m.deal_id)));
                continue;
            }
            let task_id = format!("{}{days}", custops::model::maturity_task_prefix(&m.deal_id));
            let owner = (store.owners.sales.clone(), Department::Sales);
            let task = Task::open(&customer, TaskKind::Maturity, task_id, owner, now + Duration::days(TASK_DUE_DAYS), now)
                .note(format!(
                    "{name}'s {what} {} (deal {}, sold by {}) matures on {}: {days} days out (step of {day}). Call about what's next.",
                    m.kind(),
                    m.deal_id,
                    m.salesperson,
                    m.matures_on
                ));
            record.touch(touch(
                "task.created",
                format!("{} for {}: {what} {} matures {}", task.task_id, task.owner, m.kind(), m.matures_on),
            ));
            let of_task = format!("{event_id}#{}", task.task_id);
            facts.push(Fact::new(store, FactKind::MaturityTask, &of_task, now).task(&task));
            record.tasks.push(task);
            let last_step = m.steps.iter().min() == Some(&days);
            if store.maturity_texts && last_step {
                maturity_text = Some((what.clone(), m.deal_id.clone()));
            }
        }
        // Taken up, or on the feed for a day that has gone by (a step
        // past its grace, a sweep that did not run): its next day.
        if changed || v.next_on.is_some_and(|d| d <= today) {
            next.reindex(today, now);
            vehicles.push(next);
        }
    }

    let booking = store.booking_url.as_ref().map(|u| format!(" Book: {u}")).unwrap_or_default();
    let request = |spec, vars: &[(&str, &str)], key: String| TextRequest {
        withdrawn_if: Some(WithdrawnIf::Visited),
        ..TextRequest::new(
            store,
            &customer.phone,
            MessageClass::Marketing,
            store.render(spec, vars),
            key,
            WinBack::NAME,
            &event_id,
        )
    };
    if !service_texts.is_empty() {
        if recently_texted {
            record.touch(touch(
                "service_due.text_held",
                format!("no service-due text: one went in the last {TEXT_EVERY_DAYS} days"),
            ));
        } else {
            let named: Vec<String> = service_texts.iter().map(|i| vehicles[*i].vehicle.describe()).collect();
            let text = plan(
                request(
                    &templates::SERVICE_DUE,
                    &[("first_name", &first_name), ("vehicles", &and_list(&named)), ("booking", &booking)],
                    format!("{}{today}", custops::report::SERVICE_DUE_KEY),
                ),
                &state.consent,
                &state.sends,
                now,
            );
            let (kind, summary) = text.summary("service-due text");
            record.touch(touch(kind, summary));
            if matches!(text, Plan::Send(_) | Plan::Defer(_)) {
                for i in &service_texts {
                    vehicles[*i].texted_at = Some(now);
                }
            }
            record.text = Some((text, state.sends.clone()));
        }
    }
    if let Some((vehicle, deal_id)) = maturity_text {
        if record.text.is_some() {
            record.touch(touch(
                "maturity.text_held",
                "no maturity text: the store speaks about service due today (one voice)".into(),
            ));
        } else {
            let text = plan(
                request(
                    &templates::MATURITY,
                    &[("first_name", &first_name), ("vehicle", &vehicle)],
                    format!("maturity#{deal_id}"),
                ),
                &state.consent,
                &state.sends,
                now,
            );
            let (kind, summary) = text.summary("maturity text");
            record.touch(touch(kind, summary));
            record.text = Some((text, state.sends.clone()));
        }
    }
    if vehicles.is_empty() {
        return change;
    }
    record.vehicles = vehicles;
    change.facts(facts).record(record)
}

#[cfg(test)]
mod tests;
