//! `appointments`: a booked appointment answers the work the store was
//! chasing; a no-show is saved the same day or lost.
//!
//! Trigger: `appointment.booked`, `appointment.missed` and
//! `appointment.cancelled` on `dms-events`, through the function's SQS queue
//! (filter policy on `event_type`); and its own timer, a booking's reminder
//! (`booking.due`), which the `scheduler` hands to the same queue on the day
//! before the appointment.
//! Reads: the store config (cached), the customer's current state (one Query).
//! Decides (pure):
//! - [`booked`]: the appointment on the record and the timeline; the open
//!   callback and declined-work tasks it answers closed as `booked`; the
//!   declined lines it covers (its op codes, or every open line when it lists
//!   none) ended as booked, so their follow-ups stop (the remaining steps are
//!   cancelled). With the store's `appointment_texts` on: a `transactional`
//!   confirmation at once (the day and time in the store's zone, the vehicle
//!   when known) and, for an appointment more than 24 hours ahead, a reminder
//!   due when the texting window opens on the day before. A second booking of
//!   the same appointment at another time is a reschedule: a new
//!   confirmation, and the reminder moves.
//! - [`decide_reminder`]: the reminder, as of the time the scheduler handed it
//!   on: one `transactional` text, unless the appointment ended (cancelled,
//!   missed, moved) or passed, or the customer opted out.
//! - [`missed`]: a `transactional` text inviting the customer to rebook (the
//!   booking link when the store has one; deferred into the texting window
//!   like any transactional text) and a `no_show` task for the store's
//!   `service` owner, due that day; the booking ends.
//! - [`cancelled`]: the booking ends, and a reminder not yet sent with it (a
//!   confirmation or reminder still waiting for the window is withdrawn).
//!
//! Claimed on the event id and on the appointment (and its time, for a
//! booking): a resend, or a second event for the same appointment, does
//! nothing more.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tracing::info;

use custops::batch::Message;
use custops::entity::Entity;
use custops::event::{
    Appointment, AppointmentBooked, AppointmentCancelled, AppointmentMissed, DmsCustomer, Envelope, EventData,
};
use custops::function::SqsFunction;
use custops::handoff::due_event_type;
use custops::model::{
    Booking, BookingStatus, Customer, CustomerState, DeclinedLine, Fact, FactKind, LineStatus, StepStatus, Task,
    TaskKind, TaskOutcome, Touchpoint,
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
        if message.event_type.as_deref() == Some(REMINDER_DUE.as_str()) {
            return remind(deps, &message).await;
        }
        let kind = Envelope::parse(&message.body)?.event_type;
        let (Event { envelope, data, store }, customer, state) = if kind == AppointmentMissed::EVENT_TYPE {
            let (e, c, s) = deps.load::<AppointmentMissed>(&message).await?;
            (Event { envelope: e.envelope, data: Kept::Missed(e.data.0), store: e.store }, c, s)
        } else if kind == AppointmentCancelled::EVENT_TYPE {
            let (e, c, s) = deps.load::<AppointmentCancelled>(&message).await?;
            (Event { envelope: e.envelope, data: Kept::Cancelled(e.data), store: e.store }, c, s)
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

/// The `event_type` of a reminder the scheduler hands over (`booking.due`).
pub static REMINDER_DUE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| due_event_type(<Booking as Entity>::KIND));

/// A reminder whose day came, handed over by the scheduler: decided as of
/// the time it was handed on, from the record as it is now.
async fn remind(deps: &Deps, message: &Message) -> Result<(), ProcessError> {
    let due = deps.load_due(message, "reminder", reminder_key, Booking::customer).await?;
    let change = decide_reminder(&due.store, &due.work, &due.state, due.at);
    if deps.as_of(due.at).apply(&due.store, change).await? != Applied::Duplicate {
        info!(appointment_id = %due.work.appointment_id, "reminder decided");
    }
    Ok(())
}

/// The idempotency key of one booking's reminder (the appointment and its time).
pub fn reminder_key(booking: &Booking) -> String {
    format!("reminder#{}#{}", booking.appointment_id, booking.at.timestamp_millis())
}

/// The customer's record with what the DMS says about them.
fn profile(
    store: &StoreConfig,
    dms: &DmsCustomer,
    vehicle: Option<&custops::event::Vehicle>,
    customer: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Customer {
    let mut profile =
        state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, customer.phone.clone(), now));
    profile.merge_dms(dms, now);
    if let Some(v) = vehicle {
        profile.upsert_vehicle(v);
    }
    profile
}

/// An appointment booked, kept or not, or called off.
#[derive(Debug, Clone)]
pub enum Kept {
    Booked(Appointment),
    Missed(Appointment),
    Cancelled(AppointmentCancelled),
}

impl Kept {
    fn appointment_id(&self) -> &str {
        match self {
            Kept::Booked(a) | Kept::Missed(a) => &a.appointment_id,
            Kept::Cancelled(c) => &c.appointment_id,
        }
    }
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
    let profile = match kept {
        Kept::Booked(a) | Kept::Missed(a) => profile(store, &a.customer, a.vehicle.as_ref(), customer, state, now),
        Kept::Cancelled(c) => profile(store, &c.customer, None, customer, state, now),
    };
    let first_name = profile.first_name.clone().unwrap_or_else(|| "there".into());
    record.profile = Some((profile, state.version));
    let (kind, fact) = match kept {
        Kept::Booked(a) => (
            "appointment.booked",
            booked(&Seen { store, envelope, a, first_name: &first_name, state, now }, &mut record),
        ),
        Kept::Missed(a) => (
            "appointment.missed",
            missed(&Seen { store, envelope, a, first_name: &first_name, state, now }, &mut record),
        ),
        Kept::Cancelled(c) => ("appointment.cancelled", cancelled(envelope, c, state, &mut record)),
    };
    let mut fact = Fact::new(store, fact, &envelope.event_id, envelope.occurred_at);
    if let (Kept::Missed(_), Some(task)) = (kept, record.tasks.iter().find(|t| t.kind == TaskKind::NoShow)) {
        // The report sees whether the no-show rebooked: its task closed as booked.
        fact = fact.task(task);
    }
    // A booking is claimed with its time: the same appointment at another
    // time is a reschedule.
    let key = match kept {
        Kept::Booked(a) => format!("{kind}#{}#{}#{}", store.store_id, a.appointment_id, a.at.timestamp_millis()),
        _ => format!("{kind}#{}#{}", store.store_id, kept.appointment_id()),
    };
    Change::new(&envelope.event_id).natural_key(key).fact(fact).record(record)
}

/// When an appointment is, as the customer reads it: "Monday, November 30 at 9:00 AM".
pub fn when(store: &StoreConfig, at: DateTime<Utc>) -> String {
    store.local(at).format("%A, %B %-d at %-I:%M %p").to_string()
}

/// When the reminder of an appointment at `at`, booked at `now`, is due:
/// when the texting window opens on the store-local day before; none for an
/// appointment 24 hours ahead or less, or whose day before is today (the
/// confirmation was just sent).
pub fn remind_at(store: &StoreConfig, at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let day_before = store.local(at).date_naive() - Duration::days(1);
    (at - now > Duration::hours(24) && day_before > store.local(now).date_naive())
        .then(|| store.window_opens_on(day_before))
}

/// The booking's text, `(wording, key prefix)`: a confirmation or a reminder,
/// `transactional`, once per appointment and time, withdrawn if the booking
/// ends before it goes (`while_open`).
fn booking_text(
    store: &StoreConfig,
    booking: &Booking,
    (spec, prefix): (&templates::Spec, &str),
    first_name: &str,
    event_id: &str,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> custops::outbound::Plan {
    let key = format!("{prefix}{}#{}", booking.appointment_id, booking.at.timestamp_millis());
    let for_vehicle = booking.vehicle.as_ref().map(|v| format!(" for your {v}")).unwrap_or_default();
    let body = store
        .render(spec, &[("first_name", first_name), ("when", &when(store, booking.at)), ("for_vehicle", &for_vehicle)]);
    plan(
        TextRequest {
            while_open: vec![booking.keys(&()).sk],
            ..TextRequest::new(
                store,
                &booking.phone,
                MessageClass::Transactional,
                body,
                key,
                Appointments::NAME,
                event_id,
            )
        },
        &state.consent,
        &state.sends,
        now,
    )
}

/// A reminder whose day came, as of `now` (the time it was handed on). Pure.
pub fn decide_reminder(store: &StoreConfig, due: &Booking, state: &CustomerState, now: DateTime<Utc>) -> Change {
    let event_id = reminder_key(due);
    let mut record = RecordChange::new(due.customer());
    let change = Change::new(&event_id);
    // Ended, moved (a new time has its own reminder), or decided already:
    // nothing more (the due index is eventually consistent).
    let Some(booking) =
        state.bookings.iter().find(|b| b.appointment_id == due.appointment_id && b.at == due.at && b.awaits_reminder())
    else {
        return change.record(record);
    };
    // Committed only if the record is as read: a cancellation meanwhile decides again.
    record.rests_on = Some(state.version);
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let label = format!("reminder of appointment {}", booking.appointment_id);
    let why_not = if now >= booking.at {
        Some("the appointment has passed")
    } else if !store.appointment_texts {
        Some("the store's appointment texts are off")
    } else {
        None
    };
    if let Some(why) = why_not {
        record.touch(touch("reminder.cancelled", format!("{label}: not sent, {why}")));
        record.bookings.push(Booking { reminded_at: Some(now), outcome: Some(why.into()), ..booking.clone() });
        return change.record(record);
    }
    let first_name = state.profile.as_ref().and_then(|p| p.first_name.clone()).unwrap_or_else(|| "there".into());
    let what = (&templates::APPOINTMENT_REMINDER, custops::report::REMINDER_KEY);
    let text = booking_text(store, booking, what, &first_name, &event_id, state, now);
    let (kind, summary) = text.summary("appointment reminder");
    record.touch(touch(kind, summary.clone()));
    record.bookings.push(Booking { reminded_at: Some(now), outcome: Some(summary), ..booking.clone() });
    record.text = Some((text, state.sends.clone()));
    change.record(record)
}

/// A cancelled appointment: the booking ends (a reminder not yet sent with
/// it, and a confirmation or reminder still waiting for the window is withdrawn).
fn cancelled(
    envelope: &Envelope,
    c: &AppointmentCancelled,
    state: &CustomerState,
    record: &mut RecordChange,
) -> FactKind {
    record.touch(Touchpoint::of_envelope(
        envelope,
        "appointment.cancelled",
        format!("appointment {} cancelled", c.appointment_id),
    ));
    end_booking(state, &c.appointment_id, "cancelled", record);
    FactKind::AppointmentCancelled
}

/// What a booked or missed appointment is decided on: the store, the event,
/// the appointment, how the customer is greeted, their record and now.
#[derive(Clone, Copy)]
struct Seen<'a> {
    store: &'a StoreConfig,
    envelope: &'a Envelope,
    a: &'a Appointment,
    first_name: &'a str,
    state: &'a CustomerState,
    now: DateTime<Utc>,
}

/// Ends the customer's booking `id` (if the record holds it), saying why.
fn end_booking(state: &CustomerState, id: &str, why: &str, record: &mut RecordChange) {
    for b in state.bookings.iter().filter(|b| b.appointment_id == id && b.status == BookingStatus::Open) {
        record.bookings.push(b.ended(why));
    }
}

/// A booked appointment: on the timeline; the declined work it covers ends
/// as booked (the ROs left with nothing open have their cadence cancelled);
/// the open callback and follow-up tasks it answers are closed.
fn booked(seen: &Seen<'_>, record: &mut RecordChange) -> FactKind {
    let Seen { store, envelope, a, state, .. } = *seen;
    let at = envelope.occurred_at;
    let touch = |kind: &str, summary: String| Touchpoint::of_envelope(envelope, kind, summary);
    let local = store.local(a.at).format("%A %-d %B, %-I:%M %p");
    let work =
        a.op_codes.as_ref().filter(|c| !c.is_empty()).map(|c| format!(" for {}", c.join(", "))).unwrap_or_default();
    let earlier = state.bookings.iter().find(|b| b.appointment_id == a.appointment_id);
    let what = if earlier.is_some() { "rescheduled" } else { "booked" };
    record.touch(touch("appointment.booked", format!("appointment {} {what} for {local}{work}", a.appointment_id)));
    confirm(seen, record);

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
            TaskKind::Callback
            | TaskKind::NoShow
            | TaskKind::WinBack
            | TaskKind::FirstService
            | TaskKind::ServiceDue => true,
            TaskKind::DeclinedFollowup => ending.iter().any(|l| task.ro_number.as_deref() == Some(&l.ro_number)),
            TaskKind::BookInstall
            | TaskKind::ReplySms
            | TaskKind::TextFailed
            | TaskKind::Lead
            | TaskKind::HeatCase
            | TaskKind::Maturity => false,
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

/// The booking on the record (its reminder moved when it is a reschedule;
/// bookings long past leave the state) and, with `appointment_texts` on, the
/// confirmation of an appointment still ahead.
fn confirm(seen: &Seen<'_>, record: &mut RecordChange) {
    let Seen { store, envelope, a, first_name, state, now } = *seen;
    // Appointments a day past are kept or missed by now: history.
    for b in state.bookings.iter().filter(|b| b.appointment_id != a.appointment_id && b.at + Duration::days(1) < now) {
        record.bookings.push(b.ended("passed"));
    }
    let ahead = a.at > now;
    let booking = Booking {
        store_id: store.store_id.clone(),
        phone: record.customer.phone.clone(),
        appointment_id: a.appointment_id.clone(),
        at: a.at,
        status: if ahead { BookingStatus::Open } else { BookingStatus::Ended },
        remind_at: remind_at(store, a.at, now).filter(|_| store.appointment_texts),
        reminded_at: None,
        outcome: (!ahead).then(|| "booked after its time".to_owned()),
        vehicle: a.vehicle.as_ref().map(custops::event::Vehicle::describe),
    };
    if store.appointment_texts && ahead {
        let what = (&templates::APPOINTMENT_CONFIRMED, custops::report::CONFIRMATION_KEY);
        let text = booking_text(store, &booking, what, first_name, &envelope.event_id, state, now);
        let (kind, summary) = text.summary("appointment confirmation");
        record.touch(Touchpoint::of_envelope(envelope, kind, summary));
        if let Some(due) = booking.remind_at {
            let summary = format!("reminder of appointment {} due {}", a.appointment_id, due.to_rfc3339());
            record.touch(Touchpoint::of_envelope(envelope, "reminder.scheduled", summary));
        }
        record.text = Some((text, state.sends.clone()));
    }
    record.bookings.push(booking);
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
fn missed(seen: &Seen<'_>, record: &mut RecordChange) -> FactKind {
    let Seen { store, envelope, a, first_name, state, now } = *seen;
    let event_id = envelope.event_id.as_str();
    let local = store.local(a.at).format("%-I:%M %p");
    let summary = format!("missed appointment {} at {local}", a.appointment_id);
    record.touch(Touchpoint::of_envelope(envelope, "appointment.missed", summary));
    end_booking(state, &a.appointment_id, "missed", record);
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
