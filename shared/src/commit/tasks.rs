//! What closing a task means (`custops task done`): a pure decision, applied
//! through the one commit path like every trigger's.

use chrono::{DateTime, Utc};

use crate::apply::{Change, RecordChange};
use crate::entity::CustomerId;
use crate::model::{CustomerState, LineStatus, StepStatus, TaskKind, TaskOutcome, TaskStatus, Touchpoint};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("no task {0:?} on this customer's record")]
    NotFound(String),
    #[error("task {0:?} was closed already")]
    AlreadyDone(String),
}

/// Gives an open task to `owner` (a manager's choice in the staff inbox),
/// recorded with who did it.
pub fn assign(
    customer: &CustomerId,
    state: &CustomerState,
    task_id: &str,
    owner: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Change, TaskError> {
    let task = state.tasks.iter().find(|t| t.task_id == task_id).ok_or_else(|| TaskError::NotFound(task_id.into()))?;
    if task.status == TaskStatus::Done {
        return Err(TaskError::AlreadyDone(task_id.into()));
    }
    let event_id =
        format!("task-assign#{}#{}#{task_id}#{}", customer.store_id, customer.token(), now.timestamp_millis());
    let mut record = RecordChange::new(customer.clone());
    record.rests_on = Some(state.version);
    record.touch(Touchpoint::of_event(
        now,
        &event_id,
        "task.assigned",
        format!("{task_id} given to {owner} by {by} (was {})", task.owner),
    ));
    record.tasks.push(crate::model::Task { owner: owner.to_owned(), ..task.clone() });
    Ok(Change::new(&event_id).record(record))
}

/// The idempotency key of closing a task: a task is closed once.
pub fn done_key(customer: &CustomerId, task_id: &str) -> String {
    format!("task-done#{}#{}#{task_id}", customer.store_id, customer.token())
}

/// Closes `task_id` with `outcome`. A declined-work task closed as `booked`
/// or `declined` ends the RO's open declined lines so (the rest of its
/// cadence is cancelled, never sent); closing a reply task lets marketing
/// follow-ups go again.
pub fn done(
    customer: &CustomerId,
    state: &CustomerState,
    task_id: &str,
    outcome: TaskOutcome,
    now: DateTime<Utc>,
) -> Result<Change, TaskError> {
    done_by(customer, state, task_id, outcome, None, now)
}

/// [`done`], by the person `by` (a staff user; `None`: an operator's command).
pub fn done_by(
    customer: &CustomerId,
    state: &CustomerState,
    task_id: &str,
    outcome: TaskOutcome,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Change, TaskError> {
    let task = state.tasks.iter().find(|t| t.task_id == task_id).ok_or_else(|| TaskError::NotFound(task_id.into()))?;
    if task.status == TaskStatus::Done {
        return Err(TaskError::AlreadyDone(task_id.into()));
    }
    let event_id = done_key(customer, task_id);
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let mut record = RecordChange::new(customer.clone());
    // Committed only if the record is as read here: a recovery, a booking or
    // another person's close that commits meanwhile makes it decide again.
    record.rests_on = Some(state.version);
    let who = by.unwrap_or("a person");
    record.touch(touch("task.done", format!("{task_id} done by {who}: {}", outcome.as_str())));
    record.tasks.push(crate::model::Task {
        outcome: Some(outcome),
        done_at: Some(now),
        done_by: by.map(str::to_owned),
        ..task.closed()
    });
    let ends = match outcome {
        TaskOutcome::Booked => Some(LineStatus::Booked),
        TaskOutcome::Declined => Some(LineStatus::Declined),
        TaskOutcome::Reached | TaskOutcome::NoAnswer | TaskOutcome::DoneElsewhere | TaskOutcome::Sold => None,
    };
    // A person read the reply that paused marketing: it may go again.
    if state.consent.marketing_paused.as_ref().is_some_and(|p| p.task_id == task_id) {
        let mut consent = state.consent.clone();
        consent.marketing_paused = None;
        consent.record(now, "marketing_resumed", format!("operator (task {task_id} closed as {})", outcome.as_str()));
        record.consent = Some((consent, state.consent_version));
        record.touch(touch("consent.marketing_resumed", format!("marketing may go again: {task_id} closed")));
    }
    if let (TaskKind::DeclinedFollowup, Some(status), Some(ro)) = (task.kind, ends, task.ro_number.as_deref()) {
        for line in state.declined.iter().filter(|l| l.ro_number == ro && l.is_open()) {
            record.declined.push(crate::model::DeclinedLine { status, ended_at: Some(now), ..line.clone() });
        }
        let why = format!("the advisor's task was closed as {}", outcome.as_str());
        for step in state.follow_ups.iter().filter(|s| s.ro_number == ro && s.status == StepStatus::Scheduled) {
            record.follow_ups.push(step.ended(StepStatus::Cancelled, why.clone()));
        }
        record.touch(touch("declined.ended", format!("declined work on {ro} ended: {why}")));
    }
    vehicle_outcome(customer, state, task, outcome, &mut record, now);
    Ok(Change::new(&event_id).record(record))
}

/// What closing a `service_due` or `maturity` task says of the vehicle
/// (section 14): serviced elsewhere (no reminder until its next visit
/// here), sold (it leaves the customer's vehicles), or, for a maturity,
/// declined (the maturity work ends).
fn vehicle_outcome(
    customer: &CustomerId,
    state: &CustomerState,
    task: &crate::model::Task,
    outcome: TaskOutcome,
    record: &mut RecordChange,
    now: DateTime<Utc>,
) {
    let of_task = |v: &&crate::model::VehicleLife| match task.kind {
        TaskKind::ServiceDue => v.task_id.as_deref() == Some(task.task_id.as_str()),
        TaskKind::Maturity => v
            .maturity
            .as_ref()
            .is_some_and(|m| task.task_id.starts_with(&crate::model::maturity_task_prefix(&m.deal_id))),
        _ => false,
    };
    let Some(vehicle) = state.vehicles.iter().find(of_task) else { return };
    let mut v = vehicle.clone();
    let what = v.vehicle.describe();
    let event_id = done_key(customer, &task.task_id);
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    match (task.kind, outcome) {
        (_, TaskOutcome::Sold) => {
            v.gone(now, format!("sold ({} closed as sold)", task.task_id));
            record.touch(touch(
                "vehicle.sold",
                format!("{what} is no longer theirs: service due and maturity forget it"),
            ));
            if let Some(profile) = &state.profile {
                let mut p = profile.clone();
                p.vehicles.retain(|x| x.vin != v.vehicle.vin);
                p.updated_at = now;
                record.profile = Some((p, state.version));
            }
        }
        (TaskKind::ServiceDue, TaskOutcome::DoneElsewhere) => {
            v.done_elsewhere_at = Some(now);
            record.touch(touch(
                "service_due.done_elsewhere",
                format!("{what} serviced elsewhere: no reminder until its next visit here"),
            ));
        }
        (TaskKind::Maturity, TaskOutcome::Declined) => {
            let Some(m) = v.maturity.as_mut() else { return };
            m.ended = Some(format!("{} closed as declined", task.task_id));
            record.touch(touch(
                "maturity.ended",
                format!("{what} {}: the customer declined, no more maturity work", m.kind()),
            ));
        }
        _ => return,
    }
    v.reindex(now.date_naive(), now);
    record.vehicles.push(v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::Entity;
    use crate::phone::Phone;

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    fn maria() -> CustomerId {
        CustomerId::new("northside-chevy", Phone::parse("+15125550142").unwrap())
    }

    fn with_declined_work() -> CustomerState {
        crate::fixtures::declined_work()
    }

    #[test]
    fn a_declined_work_task_closed_as_booked_ends_the_work_and_cancels_the_rest_of_the_cadence() {
        let now = at("2026-11-26T18:00:00Z");
        let change = done(&maria(), &with_declined_work(), "declined-RO-1-1", TaskOutcome::Booked, now).unwrap();
        let r = &change.records[0];
        assert_eq!((r.tasks[0].status, r.tasks[0].outcome), (TaskStatus::Done, Some(TaskOutcome::Booked)));
        assert_eq!(r.declined[0].status, LineStatus::Booked);
        assert_eq!(r.follow_ups[0].status, StepStatus::Cancelled);
        assert_eq!(change.event_id, format!("task-done#northside-chevy#{}#declined-RO-1-1", maria().token()));
        assert!(!change.event_id.contains("5125550142"), "no phone number in an id that is logged");
    }

    #[test]
    fn reached_or_no_answer_only_closes_the_task_and_unknown_or_done_tasks_are_errors() {
        let now = at("2026-11-26T18:00:00Z");
        let change = done(&maria(), &with_declined_work(), "declined-RO-1-1", TaskOutcome::NoAnswer, now).unwrap();
        assert!(change.records[0].declined.is_empty() && change.records[0].follow_ups.is_empty());
        assert_eq!(
            done(&maria(), &with_declined_work(), "nope", TaskOutcome::Reached, now).unwrap_err(),
            TaskError::NotFound("nope".into())
        );
        let mut closed = with_declined_work();
        closed.tasks[0].status = TaskStatus::Done;
        assert!(matches!(
            done(&maria(), &closed, "declined-RO-1-1", TaskOutcome::Reached, now),
            Err(TaskError::AlreadyDone(_))
        ));
    }

    #[test]
    fn closing_the_flagged_reply_task_lifts_the_marketing_pause_and_the_ledger_says_who() {
        let now = at("2026-11-24T15:00:00Z");
        let owner = ("bdc".to_owned(), crate::store::Department::Main);
        let task = crate::model::Task::open(&maria(), TaskKind::ReplySms, "reply-9", owner, now, now);
        let mut state = CustomerState { tasks: vec![task], ..Default::default() };
        state.consent.marketing_paused =
            Some(crate::model::MarketingPause { at: now, task_id: "reply-9".into(), why: "may mean stop".into() });
        let change = done(&maria(), &state, "reply-9", TaskOutcome::Reached, now).unwrap();
        let (consent, read) = change.records[0].consent.clone().expect("the ledger changes");
        assert!(consent.marketing_paused.is_none() && read.is_none());
        let last = consent.history.last().unwrap();
        assert_eq!(
            (last.change.as_str(), last.source.as_str()),
            ("marketing_resumed", "operator (task reply-9 closed as reached)")
        );
    }

    fn due_vehicle(now: DateTime<Utc>) -> (CustomerState, crate::model::Task) {
        let vehicle = crate::event::Vehicle {
            vin: "1GNSKCKD5MR100001".into(),
            year: 2021,
            make: "Chevrolet".into(),
            model: "Tahoe".into(),
        };
        let mut v = crate::model::VehicleLife::new(&maria(), &vehicle, now);
        v.serviced(at("2026-05-26T15:00:00Z"), None);
        v.refresh(&crate::fixtures::northside(), now.date_naive(), now);
        v.task_id = Some("service-due-1GNSKCKD5MR100001-20261126".into());
        v.maturity = crate::model::Maturity::of(
            &crate::fixtures::northside(),
            "D-1",
            Some(crate::event::PurchaseType::Lease),
            Some(36),
            Some("2024-12-20".parse().unwrap()),
            at("2024-11-20T22:00:00Z"),
            "Jordan Lee",
        );
        let owner = ("bdc-service".to_owned(), crate::store::Department::Service);
        let task =
            crate::model::Task::open(&maria(), TaskKind::ServiceDue, v.task_id.clone().unwrap(), owner, now, now);
        let mut profile = crate::model::Customer::lead("northside-chevy", maria().phone, now);
        profile.upsert_vehicle(&vehicle);
        let state = CustomerState {
            profile: Some(profile),
            vehicles: vec![v],
            tasks: vec![task.clone()],
            version: Some(2),
            ..Default::default()
        };
        (state, task)
    }

    #[test]
    fn a_service_due_task_closed_done_elsewhere_pauses_the_vehicle_and_sold_takes_it_off_the_record() {
        let now = at("2026-11-26T18:00:00Z");
        let (state, task) = due_vehicle(now);
        let elsewhere = done(&maria(), &state, &task.task_id, TaskOutcome::DoneElsewhere, now).unwrap();
        let v = &elsewhere.records[0].vehicles[0];
        assert_eq!(v.done_elsewhere_at, Some(now));
        assert_eq!(v.next_on, Some("2027-05-24".parse().unwrap()), "only the lease's next step is left on the feed");

        let sold = done(&maria(), &state, &task.task_id, TaskOutcome::Sold, now).unwrap();
        let r = &sold.records[0];
        assert!(r.vehicles[0].gone.is_some() && r.vehicles[0].keys(&()).gsi2.is_none());
        let (profile, version) = r.profile.as_ref().expect("the vehicle leaves the profile");
        assert!(profile.vehicles.is_empty() && *version == Some(2));
        assert!(r.touchpoints.iter().any(|t| t.kind == "vehicle.sold"));
    }

    #[test]
    fn a_maturity_task_closed_declined_ends_the_deals_maturity_work() {
        let now = at("2026-11-26T18:00:00Z");
        let (mut state, _) = due_vehicle(now);
        let owner = ("bdc-sales".to_owned(), crate::store::Department::Sales);
        let task = crate::model::Task::open(&maria(), TaskKind::Maturity, "maturity-D-1-180", owner, now, now);
        state.tasks = vec![task];
        let change = done(&maria(), &state, "maturity-D-1-180", TaskOutcome::Declined, now).unwrap();
        let v = &change.records[0].vehicles[0];
        assert_eq!(v.maturity.as_ref().unwrap().ended.as_deref(), Some("maturity-D-1-180 closed as declined"));
        // A reached close changes nothing of the vehicle.
        let reached = done(&maria(), &state, "maturity-D-1-180", TaskOutcome::Reached, now).unwrap();
        assert!(reached.records[0].vehicles.is_empty());
    }
}
