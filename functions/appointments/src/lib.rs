//! `appointments`: a booked appointment answers the work the store was
//! chasing; a no-show is saved the same day or lost.
//!
//! Trigger: `appointment.booked` and `appointment.missed` on `dms-events`,
//! through the function's SQS queue (filter policy on `event_type`).
//! Reads: the store config (cached), the customer's current state (one Query).
//! Decides (pure):
//! - [`booked`]: the appointment on the timeline; the open callback and
//!   declined-work tasks it answers closed as `booked`; the declined lines it
//!   covers (its op codes, or every open line when it lists none) ended as
//!   booked, so their follow-ups stop (the remaining steps are cancelled).
//! - [`missed`]: a `transactional` text inviting the customer to rebook (the
//!   booking link when the store has one; deferred into the texting window
//!   like any transactional text) and a `no_show` task for the store's
//!   `service` owner, due that day.
//!
//! Claimed on the event id and on the appointment: a resend, or a second
//! event for the same appointment, does nothing more.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tracing::info;

use custops::batch::Message;
use custops::event::{Appointment, AppointmentBooked, AppointmentMissed, Envelope, EventData};
use custops::function::SqsFunction;
use custops::model::{
    Customer, CustomerState, DeclinedLine, Fact, FactKind, LineStatus, StepStatus, Task, TaskKind, TaskOutcome,
    Touchpoint,
};
use custops::outbound::{plan, TextRequest};
use custops::store::{Department, StoreConfig};
use custops::templates;
use custops::text::MessageClass;
use custops::{Applied, Change, CustomerId, Deps, Event, ProcessError, RecordChange};

/// The function (its code is [`booked`] and [`missed`]; see [`SqsFunction`]).
pub struct Appointments;

impl SqsFunction for Appointments {
    const NAME: &'static str = "appointments";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        let kind = Envelope::parse(&message.body)?.event_type;
        let (Event { envelope, data, store }, customer, state) = if kind == AppointmentMissed::EVENT_TYPE {
            let (e, c, s) = deps.load::<AppointmentMissed>(&message).await?;
            (Event { envelope: e.envelope, data: Kept::Missed(e.data.0), store: e.store }, c, s)
        } else {
            let (e, c, s) = deps.load::<AppointmentBooked>(&message).await?;
            (Event { envelope: e.envelope, data: Kept::Booked(e.data.0), store: e.store }, c, s)
        };
        let change = decide(&store, &envelope, &data, &customer, &state, deps.clock.now());
        if deps.apply(&store, change).await? != Applied::Duplicate {
            info!(event_type = %kind, "appointment recorded");
        }
        Ok(())
    }
}

/// The customer's record with what the DMS says about them.
fn profile(
    store: &StoreConfig,
    a: &Appointment,
    customer: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Customer {
    let mut profile =
        state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, customer.phone.clone(), now));
    profile.merge_dms(&a.customer, now);
    if let Some(v) = &a.vehicle {
        profile.upsert_vehicle(v);
    }
    profile
}

/// An appointment kept or not.
#[derive(Debug, Clone)]
pub enum Kept {
    Booked(Appointment),
    Missed(Appointment),
}

/// What a booked or missed appointment changes, decided from the customer's
/// record. Pure.
pub fn decide(
    store: &StoreConfig,
    envelope: &Envelope,
    kept: &Kept,
    customer: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Change {
    let mut record = RecordChange::new(customer.clone());
    let (Kept::Booked(a) | Kept::Missed(a)) = kept;
    let profile = profile(store, a, customer, state, now);
    let first_name = profile.first_name.clone().unwrap_or_else(|| "there".into());
    record.profile = Some((profile, state.version));
    let (kind, fact) = match kept {
        Kept::Booked(a) => ("appointment.booked", booked(store, envelope, a, state, &mut record)),
        Kept::Missed(a) => ("appointment.missed", missed(store, envelope, a, &first_name, state, now, &mut record)),
    };
    let mut fact = Fact::new(store, fact, &envelope.event_id, envelope.occurred_at);
    if let (Kept::Missed(_), Some(task)) = (kept, record.tasks.iter().find(|t| t.kind == TaskKind::NoShow)) {
        // The report sees whether the no-show rebooked: its task closed as booked.
        fact = fact.task(task);
    }
    Change::new(&envelope.event_id)
        .natural_key(format!("{kind}#{}#{}", store.store_id, a.appointment_id))
        .fact(fact)
        .record(record)
}

/// A booked appointment: on the timeline; the declined work it covers ends
/// as booked (the ROs left with nothing open have their cadence cancelled);
/// the open callback and follow-up tasks it answers are closed.
fn booked(
    store: &StoreConfig,
    envelope: &Envelope,
    a: &Appointment,
    state: &CustomerState,
    record: &mut RecordChange,
) -> FactKind {
    let at = envelope.occurred_at;
    let touch = |kind: &str, summary: String| Touchpoint::of_envelope(envelope, kind, summary);
    let local = store.local(a.at).format("%A %-d %B, %-I:%M %p");
    let work =
        a.op_codes.as_ref().filter(|c| !c.is_empty()).map(|c| format!(" for {}", c.join(", "))).unwrap_or_default();
    record.touch(touch("appointment.booked", format!("appointment {} booked for {local}{work}", a.appointment_id)));

    // The declined work it covers ends as booked; the ROs left with nothing
    // open have the rest of their cadence cancelled.
    let covers = |l: &DeclinedLine| a.op_codes.as_ref().is_none_or(|c| c.is_empty() || c.contains(&l.op_code));
    let ending: Vec<DeclinedLine> = state.declined.iter().filter(|l| l.is_open() && covers(l)).cloned().collect();
    for line in &ending {
        record.declined.push(DeclinedLine { status: LineStatus::Booked, ended_at: Some(at), ..line.clone() });
    }
    let still_open = |ro: &str| state.declined.iter().any(|l| l.ro_number == ro && l.is_open() && !covers(l));
    for step in state.follow_ups.iter().filter(|s| s.status == StepStatus::Scheduled && !still_open(&s.ro_number)) {
        if ending.iter().any(|l| l.ro_number == step.ro_number) {
            record
                .follow_ups
                .push(step.ended(StepStatus::Cancelled, format!("appointment {} booked", a.appointment_id)));
        }
    }
    if !ending.is_empty() {
        let lines: Vec<&str> = ending.iter().map(|l| l.description.as_str()).collect();
        record.touch(touch("declined.booked", format!("booked: {}", lines.join(", "))));
    }
    // The open tasks it answers: callbacks, and the follow-ups of work it covers.
    for task in state.tasks.iter().filter(|t| t.is_open()) {
        let answers = match task.kind {
            // Setting an appointment is what these tasks ask for.
            TaskKind::Callback | TaskKind::NoShow | TaskKind::WinBack | TaskKind::FirstService => true,
            TaskKind::DeclinedFollowup => ending.iter().any(|l| task.ro_number.as_deref() == Some(&l.ro_number)),
            TaskKind::BookInstall | TaskKind::ReplySms | TaskKind::TextFailed => false,
        };
        if answers {
            // One touchpoint per task: a transaction writes an item once, and
            // a touchpoint's key is its time, event and kind.
            let id = format!("{}#{}", envelope.event_id, task.task_id);
            let summary = format!("{} closed: the appointment is booked", task.task_id);
            record.touch(Touchpoint::of_event(at, &id, "task.closed", summary));
            record.tasks.push(Task { outcome: Some(TaskOutcome::Booked), done_at: Some(at), ..task.closed() });
        }
    }
    FactKind::AppointmentBooked
}

/// When a no-show's task is due: the store's closing time that day, or the
/// end of the store-local day when it is closed.
pub fn end_of_day(store: &StoreConfig, at: DateTime<Utc>) -> DateTime<Utc> {
    let local = store.local(at);
    let closes = store.hours.on(chrono::Datelike::weekday(&local)).map(|(_, c)| c);
    let time =
        closes.filter(|c| *c > local.time()).unwrap_or(chrono::NaiveTime::from_hms_opt(23, 59, 0).unwrap_or_default());
    store
        .timezone
        .from_local_datetime(&local.date_naive().and_time(time))
        .earliest()
        .map_or(at + Duration::hours(4), |t| t.with_timezone(&Utc))
}

/// A no-show: a rebook invitation (transactional, deferred into the window
/// like any) and a task for the store's service owner, due that day.
fn missed(
    store: &StoreConfig,
    envelope: &Envelope,
    a: &Appointment,
    first_name: &str,
    state: &CustomerState,
    now: DateTime<Utc>,
    record: &mut RecordChange,
) -> FactKind {
    let event_id = envelope.event_id.as_str();
    let local = store.local(a.at).format("%-I:%M %p");
    let summary = format!("missed appointment {} at {local}", a.appointment_id);
    record.touch(Touchpoint::of_envelope(envelope, "appointment.missed", summary));
    let (id, owner) = (format!("no-show-{}", a.appointment_id), (store.owners.service.clone(), Department::Service));
    let due = end_of_day(store, now.max(envelope.occurred_at));
    let task = Task::open(&record.customer, TaskKind::NoShow, id, owner, due, now);
    record.tasks.push(task.note(format!("call {first_name} to rebook the missed appointment")));
    let booking = store.booking_url.as_ref().map(|u| format!(" Book: {u}")).unwrap_or_default();
    let text = plan(
        TextRequest::new(
            store,
            &record.customer.phone,
            MessageClass::Transactional,
            store.render(&templates::NO_SHOW, &[("first_name", first_name), ("booking", &booking)]),
            format!("no-show#{}", a.appointment_id),
            Appointments::NAME,
            event_id,
        ),
        &state.consent,
        &state.sends,
        now,
    );
    let (kind, summary) = text.summary("rebook invitation");
    record.touch(Touchpoint::of_envelope(envelope, kind, summary));
    record.text = Some((text, state.sends.clone()));
    FactKind::NoShow
}

#[cfg(test)]
mod tests;
