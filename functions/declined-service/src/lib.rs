//! `declined-service`: the RO close is a trigger, not the finish line. A
//! declined brake job is revenue the store already earned the right to.
//!
//! Trigger: `ro.closed` on `dms-events`, through the function's SQS queue
//! (filter policy on `event_type`).
//! Reads: the store config (cached), the customer's current state (one Query).
//! Decides ([`decide`], pure): the repair order closed (performed work,
//! mileage), the visit (the customer's last service date: the lapse clock),
//! each declined line (op code, description, estimate), the lines of earlier
//! ROs this one performed (recovered: their estimates are recovered revenue),
//! the day's facts, the timeline, and one follow-up step per day of the
//! store's `declined_cadence_days`. Applies it in one transaction, claimed on
//! the event id and on the RO (a duplicate `ro.closed` changes nothing).
//!
//! With the store's `post_visit_check` on, the close also schedules the
//! post-visit check for the next store-local day, when the texting window
//! opens (none for a close that arrives after that day, for a customer who
//! opted out, or when a check of that day is scheduled already).
//!
//! Third message kind: a due check (`visit_check.due`), decided by
//! [`decide_check`] as of the time it was handed on: one `transactional` text
//! asking how the visit went (answered 1-5; `inbound-sms` reads the answer),
//! unless that day has passed, the customer opted out, or the store already
//! texted them that day. The same for the delivery check `deal-delivered`
//! schedules (section 14): how the new vehicle is going, not asked either
//! when a repair order is open or the deal was unwound.
//!
//! Second message kind: a due step (`follow_up.due`), which the `scheduler`
//! hands to this function's queue on the step's day (so a step that cannot
//! be released is retried by SQS and ends in this function's DLQ with its
//! reason). It is decided by [`decide_step`] as of the time it was handed on:
//! a `marketing` text naming the RO's lines still open (largest estimate
//! first, with the booking link) and a task for the RO's advisor; the task
//! only, without marketing consent; nothing, and the reason on the timeline,
//! when every line ended, the customer opted out, or the customer replied and
//! a person has the conversation.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tracing::info;

use custops::batch::Message;
use custops::event::{Envelope, RoClosed};
use custops::function::SqsFunction;
use custops::handoff::due_event_type;
use custops::model::{
    CheckAbout, CheckStatus, Customer, CustomerState, DeclinedLine, Fact, FactKind, FollowUp, LineStatus, RepairOrder,
    StepStatus, Task, TaskKind, Touchpoint, VisitCheck,
};
use custops::outbound::{plan, Plan, Suppressed, TextRequest};
use custops::store::{Department, StoreConfig};
use custops::templates;
use custops::text::{dollars, MessageClass};
use custops::{Applied, Change, CustomerId, Deps, Event, ProcessError, RecordChange};

/// The function (its code is [`decide`] and [`decide_step`]; see [`SqsFunction`]).
pub struct DeclinedService;

impl SqsFunction for DeclinedService {
    const NAME: &'static str = "declined-service";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        if message.event_type.as_deref() == Some(STEP_DUE.as_str()) {
            return release_step(deps, &message).await;
        }
        if message.event_type.as_deref() == Some(CHECK_DUE.as_str()) {
            return ask(deps, &message).await;
        }
        let (Event { envelope, data: closed, store }, customer, state) = deps.load::<RoClosed>(&message).await?;
        let change = decide(&store, &envelope, &closed, &customer, &state, deps.clock.now());
        if deps.apply(&store, change).await? != Applied::Duplicate {
            info!(ro_number = %closed.ro_number, declined = closed.declined.len(), "repair order closed");
        }
        Ok(())
    }
}

/// The `event_type` of a due step the scheduler hands over (`follow_up.due`).
pub static STEP_DUE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| due_event_type(<FollowUp as custops::entity::Entity>::KIND));

/// The `event_type` of a due post-visit check (`visit_check.due`).
pub static CHECK_DUE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| due_event_type(<VisitCheck as custops::entity::Entity>::KIND));

/// A due post-visit check, handed over by the scheduler: decided as of the
/// time it was handed on, from the record as it is now.
async fn ask(deps: &Deps, message: &Message) -> Result<(), ProcessError> {
    let due = deps.load_due(message, "post-visit check", check_key, VisitCheck::customer).await?;
    let change = decide_check(&due.store, &due.work, &due.state, due.at);
    if deps.as_of(due.at).apply(&due.store, change).await? != Applied::Duplicate {
        info!(ro_number = %due.work.ro_number, "post-visit check decided");
    }
    Ok(())
}

/// The idempotency key of a check's question: once per RO (a post-visit
/// check), once per deal (a delivery check).
pub fn check_key(check: &VisitCheck) -> String {
    let prefix = match check.about {
        CheckAbout::Visit => "visit-check",
        CheckAbout::Delivery => "delivery-check",
    };
    format!("{prefix}#{}#{}#{}", check.store_id, check.customer().token(), check.ro_number)
}

/// The post-visit check of a close, if one is owed: due when the texting
/// window opens on the store-local day after `closed_at`; none when that day
/// has passed by `now`, the customer opted out, or a check of that day is
/// scheduled already (two ROs closed one day are asked about once).
pub fn visit_check(
    store: &StoreConfig,
    closed: &RoClosed,
    customer: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Option<VisitCheck> {
    let next_day = store.local(closed.closed_at).date_naive() + Duration::days(1);
    let due_at = store.window_opens_on(next_day);
    let owed = store.post_visit_check
        && store.local(now).date_naive() <= next_day
        && !state.consent.opted_out()
        && !state.checks.iter().any(|c| c.ro_number == closed.ro_number || c.due_at == due_at);
    owed.then(|| VisitCheck {
        store_id: store.store_id.clone(),
        phone: customer.phone.clone(),
        ro_number: closed.ro_number.clone(),
        closed_at: closed.closed_at,
        due_at,
        about: CheckAbout::Visit,
        status: CheckStatus::Scheduled,
        asked_at: None,
        answer: None,
        outcome: None,
        vehicle: Some(closed.vehicle.describe()),
    })
}

/// A check whose day came (a post-visit check, or a delivery check), as of
/// `now` (when it was handed on). Pure.
pub fn decide_check(store: &StoreConfig, due: &VisitCheck, state: &CustomerState, now: DateTime<Utc>) -> Change {
    let event_id = check_key(due);
    let mut record = RecordChange::new(due.customer());
    let change = Change::new(&event_id);
    let scheduled =
        |c: &&VisitCheck| c.about == due.about && c.ro_number == due.ro_number && c.status == CheckStatus::Scheduled;
    let Some(check) = state.checks.iter().find(scheduled) else {
        return change.record(record);
    };
    record.rests_on = Some(state.version);
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let today = store.local(now).date_naive();
    // Any text of the store that day, sent or still to go.
    let heard_today = state.sends.entries.iter().any(|e| store.local(e.at).date_naive() == today);
    let delivery = check.about == CheckAbout::Delivery;
    let unwound = || {
        state
            .profile
            .as_ref()
            .is_some_and(|p| p.purchases.iter().any(|d| d.deal_id == check.ro_number && d.unwound_at.is_some()))
    };
    let why_not = if !delivery && !store.post_visit_check {
        Some("the store's post-visit check is off")
    } else if delivery && !store.delivery_check {
        Some("the store's delivery check is off")
    } else if today != store.local(check.due_at).date_naive() {
        Some("its day has passed")
    } else if state.consent.opted_out() {
        Some("the customer opted out")
    } else if delivery && unwound() {
        Some("the deal was unwound")
    } else if delivery && state.open_repair_order().is_some() {
        Some("a repair order is open")
    } else if heard_today {
        Some("the store already texted the customer today")
    } else {
        None
    };
    let label = check.label();
    let (cancelled, spec, key) = match check.about {
        CheckAbout::Visit => ("visit_check.cancelled", &templates::VISIT_CHECK, custops::report::VISIT_CHECK_KEY),
        CheckAbout::Delivery => {
            ("delivery_check.cancelled", &templates::DELIVERY_CHECK, custops::report::DELIVERY_CHECK_KEY)
        }
    };
    if let Some(why) = why_not {
        record.touch(touch(cancelled, format!("{label}: not asked, {why}")));
        record.checks.push(check.ended(why));
        return change.record(record);
    }
    let first_name = state.profile.as_ref().and_then(|p| p.first_name.clone()).unwrap_or_else(|| "there".into());
    let vehicle = check.vehicle.clone().unwrap_or_else(|| "vehicle".into());
    let text = plan(
        TextRequest::new(
            store,
            &check.phone,
            MessageClass::Transactional,
            store.render(spec, &[("first_name", &first_name), ("vehicle", &vehicle)]),
            format!("{key}{}", check.ro_number),
            DeclinedService::NAME,
            &event_id,
        ),
        &state.consent,
        &state.sends,
        now,
    );
    // Held past its day (the caps): not asked at all; the check is of the day after the visit.
    if let Plan::Defer(t) = &text {
        if t.due_at.is_some_and(|due| store.local(due).date_naive() != today) {
            let why = "the store's caps would hold it past its day";
            record.touch(touch(cancelled, format!("{label}: not asked, {why}")));
            record.checks.push(check.ended(why));
            return change.record(record);
        }
    }
    let (kind, summary) = text.summary(if delivery { "delivery check" } else { "post-visit check" });
    record.touch(touch(kind, summary.clone()));
    let asked = matches!(text, Plan::Send(_) | Plan::Defer(_));
    record.checks.push(if asked {
        VisitCheck { status: CheckStatus::Asked, asked_at: Some(now), outcome: Some(summary), ..check.clone() }
    } else {
        check.ended(summary)
    });
    record.text = Some((text, state.sends.clone()));
    change.record(record)
}

/// A due step, handed over by the scheduler: decided as of the time it was
/// handed on ([`HandedOn::at`]), from the customer's record as it is now.
async fn release_step(deps: &Deps, message: &Message) -> Result<(), ProcessError> {
    let due = deps.load_due(message, "follow-up step", step_key, FollowUp::customer).await?;
    let change = decide_step(&due.store, &due.work, &due.state, due.at);
    if deps.as_of(due.at).apply(&due.store, change).await? != Applied::Duplicate {
        info!(ro_number = %due.work.ro_number, step = due.work.step, "follow-up step released");
    }
    Ok(())
}

/// The store-local hour a follow-up step falls due: inside the texting
/// window, no later than 16:00.
pub const FOLLOW_UP_HOUR: u32 = 10;
/// The advisor's task is due this long after the step (16:00 that day).
pub const TASK_DUE_HOURS: i64 = 6;

/// The claim on the RO: a DMS resend of its close under a new event id is a duplicate.
pub fn natural_key(store: &StoreConfig, closed: &RoClosed) -> String {
    format!("ro.closed#{}#{}", store.store_id, closed.ro_number)
}

/// When the step `days` after a close falls due: that store-local day at
/// [`FOLLOW_UP_HOUR`].
pub fn step_due(store: &StoreConfig, closed_at: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let date = store.local(closed_at).date_naive() + Duration::days(i64::from(days));
    date.and_hms_opt(FOLLOW_UP_HOUR, 0, 0)
        .and_then(|t| store.timezone.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(closed_at + Duration::days(i64::from(days)))
}

/// What one RO close changes, decided from the customer's record. Pure.
pub fn decide(
    store: &StoreConfig,
    envelope: &Envelope,
    closed: &RoClosed,
    customer: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Change {
    let (at, event_id) = (envelope.occurred_at, envelope.event_id.as_str());
    let touch = |kind: &str, summary: String| Touchpoint::of_event(at, event_id, kind, summary);
    let ro_number = closed.ro_number.as_str();
    let mut record = RecordChange::new(customer.clone());
    let mut facts = vec![Fact::new(store, FactKind::RoClosed, event_id, closed.closed_at)];

    let mut profile =
        state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, customer.phone.clone(), now));
    profile.merge_dms(&closed.customer, now);
    profile.upsert_vehicle(&closed.vehicle);
    if profile.contacted_about_lapse() && profile.last_visit_at.is_some_and(|v| v < closed.closed_at) {
        // Back after a win-back: the day counts it.
        facts.push(Fact::new(store, FactKind::WinBackReturned, event_id, closed.closed_at));
    }
    profile.visited(closed.closed_at);
    record.profile = Some((profile, state.version));
    record.consent = state
        .consent
        .with_marketing(closed.customer.marketing_consent, event_id, at)
        .map(|c| (c, state.consent_version));

    let known = state.repair_orders.iter().find(|r| r.ro_number == ro_number);
    let mileage = closed.mileage.map(|m| format!(" at {m} miles")).unwrap_or_default();
    record.touch(touch(
        "ro.closed",
        format!("{ro_number} {} closed{mileage}: {} performed", closed.vehicle.describe(), closed.performed.join(", ")),
    ));
    record.repair_orders.push(RepairOrder {
        ro_number: ro_number.to_owned(),
        status: "closed".into(),
        status_at: known.map_or(closed.closed_at, |r| r.status_at.max(closed.closed_at)),
        vehicle: closed.vehicle.clone(),
        advisor: closed.advisor.clone(),
        amount_due_cents: known.and_then(|r| r.amount_due_cents),
        closed_at: Some(closed.closed_at),
        texted: known.map(|r| r.texted.clone()).unwrap_or_default(),
        performed: closed.performed.clone(),
        mileage: closed.mileage,
    });

    // Work declined on an earlier RO and done on this one is recovered: open
    // work, and work booked (the booking kept), declined before this close
    // (an older close delivered late recovers nothing newer), on this
    // vehicle when the line's RO names one.
    let vin_of = |line: &DeclinedLine| {
        line.vin
            .clone()
            .or_else(|| {
                state.repair_orders.iter().find(|r| r.ro_number == line.ro_number).map(|r| r.vehicle.vin.clone())
            })
            .filter(|v| !v.is_empty())
    };
    let recovered: Vec<DeclinedLine> = state
        .declined
        .iter()
        .filter(|l| matches!(l.status, LineStatus::Open | LineStatus::Booked))
        .filter(|l| l.ro_number != ro_number && l.declined_at < closed.closed_at)
        .filter(|l| closed.performed.contains(&l.op_code))
        .filter(|l| vin_of(l).is_none_or(|v| closed.vehicle.vin.is_empty() || v == closed.vehicle.vin))
        .map(|l| DeclinedLine {
            status: LineStatus::Recovered,
            ended_at: Some(closed.closed_at),
            recovered_by: Some(ro_number.to_owned()),
            ..l.clone()
        })
        .collect();
    // Lines this RO already has are never written again (a resend after its
    // claims expired): whatever became of them stands.
    let new_lines: Vec<DeclinedLine> = closed
        .declined
        .iter()
        .filter(|d| !state.declined.iter().any(|l| l.ro_number == ro_number && l.line_id == d.line_id))
        .map(|d| DeclinedLine {
            ro_number: ro_number.to_owned(),
            line_id: d.line_id.clone(),
            op_code: d.op_code.clone(),
            description: d.description.clone(),
            estimate_cents: d.estimate_cents,
            advisor: closed.advisor.clone(),
            declined_at: closed.closed_at,
            status: LineStatus::Open,
            ended_at: None,
            recovered_by: None,
            vin: Some(closed.vehicle.vin.clone()).filter(|v| !v.is_empty()),
        })
        .collect();
    // One fact and one touchpoint for all the lines of each kind, however
    // many: the close stays one transaction within DynamoDB's 100 actions
    // (a line is one item).
    let lines_event = |lines: &[DeclinedLine], kind: FactKind, touch_kind: &str, summary: String| {
        let total: i64 = lines.iter().map(|l| l.estimate_cents).sum();
        let fact = Fact::new(store, kind, event_id, closed.closed_at).cents(total);
        (fact, Touchpoint::of_event(at, event_id, touch_kind, summary))
    };
    if !recovered.is_empty() {
        let each: Vec<String> = recovered
            .iter()
            .map(|l| format!("{} ({}), declined on {}", l.description, l.op_code, l.ro_number))
            .collect();
        let total = recovered.iter().map(|l| l.estimate_cents).sum();
        let summary = format!("done on {ro_number}: {}: {} recovered", each.join("; "), dollars(total));
        let (fact, touch) = lines_event(&recovered, FactKind::LineRecovered, "declined.recovered", summary);
        facts.push(fact);
        record.touch(touch);
    }
    if !new_lines.is_empty() {
        let each: Vec<String> = new_lines
            .iter()
            .map(|l| format!("{} ({}), {}", l.description, l.op_code, dollars(l.estimate_cents)))
            .collect();
        let summary = format!("declined on {ro_number}: {}", each.join("; "));
        let (fact, touch) = lines_event(&new_lines, FactKind::LineDeclined, "declined.recorded", summary);
        facts.push(fact);
        record.touch(touch);
    }
    record.declined.extend(recovered);
    let scheduled = state.follow_ups.iter().any(|s| s.ro_number == ro_number);
    if !new_lines.is_empty() && !scheduled {
        for (i, days) in store.declined_cadence_days.iter().enumerate() {
            record.follow_ups.push(FollowUp {
                store_id: store.store_id.clone(),
                phone: customer.phone.clone(),
                ro_number: ro_number.to_owned(),
                step: i as u32 + 1,
                days: *days,
                due_at: step_due(store, closed.closed_at, *days),
                status: StepStatus::Scheduled,
                outcome: None,
                vehicle: Some(closed.vehicle.describe()),
            });
        }
        let days: Vec<String> = store.declined_cadence_days.iter().map(u32::to_string).collect();
        record.touch(touch(
            "follow_up.scheduled",
            format!("declined work followed up {} days after the close", days.join(", ")),
        ));
    }
    record.declined.extend(new_lines);
    // The vehicle's service clock restarts from this visit (section 14).
    record.vehicles = custops::model::visited(
        store,
        state,
        customer,
        (&closed.vehicle, closed.closed_at, closed.mileage),
        now,
        |_| {},
    );
    if let Some(check) = visit_check(store, closed, customer, state, now) {
        let summary = format!("post-visit check of {ro_number} due {}", check.due_at.to_rfc3339());
        record.touch(touch("visit_check.scheduled", summary));
        record.checks.push(check);
    }
    // Claimed for good: a resend of the close, however late, changes nothing
    // (the closed RO and its ended lines are history, not state).
    Change::new(event_id).lasting_key(natural_key(store, closed)).facts(facts).record(record)
}

/// The idempotency key of a step's release: once per step, however often
/// the scheduler runs.
pub fn step_key(step: &FollowUp) -> String {
    format!("follow-up#{}#{}#{}#{}", step.store_id, step.customer().token(), step.ro_number, step.step)
}

/// What one due follow-up step does, decided from the customer's record. Pure.
pub fn decide_step(store: &StoreConfig, step: &FollowUp, state: &CustomerState, now: DateTime<Utc>) -> Change {
    let event_id = step_key(step);
    let customer = step.customer();
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let mut record = RecordChange::new(customer.clone());
    let change = Change::new(&event_id);
    // The due index is eventually consistent: a step already released or
    // cancelled (gone from the state to the history) does nothing more.
    if !state
        .follow_ups
        .iter()
        .any(|s| s.ro_number == step.ro_number && s.step == step.step && s.status == StepStatus::Scheduled)
    {
        return change.record(record);
    }
    let mut open: Vec<&DeclinedLine> =
        state.declined.iter().filter(|l| l.ro_number == step.ro_number && l.is_open()).collect();
    open.sort_by_key(|l| std::cmp::Reverse(l.estimate_cents));
    let stop = if open.is_empty() {
        Some(format!("nothing declined on {} is still open (recovered, booked or declined)", step.ro_number))
    } else if state.consent.opted_out() {
        Some("the customer opted out".to_owned())
    } else if state.open_task(TaskKind::ReplySms).is_some() {
        Some("the customer replied: a person has the conversation until the reply task is closed".to_owned())
    } else {
        None
    };
    // Committed only if the record is as read here: a booking, a reply or a
    // recovery that commits meanwhile makes it decide again.
    record.rests_on = Some(state.version);
    let label = format!("step {} (day {}) for {}", step.step, step.days, step.ro_number);
    if let Some(why) = stop {
        record.touch(touch("follow_up.cancelled", format!("{label} cancelled: {why}")));
        record.follow_ups.push(step.ended(StepStatus::Cancelled, why));
        return change.record(record);
    }

    let work: Vec<String> = open.iter().map(|l| l.description.to_lowercase()).collect();
    let total: i64 = open.iter().map(|l| l.estimate_cents).sum();
    let advisor = &open[0].advisor;
    let first_name = state.profile.as_ref().and_then(|p| p.first_name.clone()).unwrap_or_else(|| "there".into());
    let vehicle = step
        .vehicle
        .clone()
        .or_else(|| state.repair_orders.iter().find(|r| r.ro_number == step.ro_number).map(|r| r.vehicle.describe()))
        .unwrap_or_else(|| "vehicle".into());
    let booking = store.booking_url.as_ref().map(|u| format!(" Book: {u}")).unwrap_or_default();
    // Each step worded for where it stands: a reminder, a check-in, a last note.
    let body = store.render(
        templates::declined_step(step.step, store.declined_cadence_days.len()),
        &[("first_name", &first_name), ("vehicle", &vehicle), ("work", &work.join(", ")), ("booking", &booking)],
    );
    let text = plan(
        TextRequest {
            // The steps of one cadence never cap each other.
            cadence: Some(format!("declined#{}", step.ro_number)),
            // Withdrawn if, before it goes, the work it names is booked,
            // done or closed by a person (each line must still be open).
            while_open: open.iter().map(|l| custops::entity::Entity::keys(*l, &customer).sk).collect(),
            ..TextRequest::new(
                store,
                &customer.phone,
                MessageClass::Marketing,
                body,
                format!("declined#{}#{}", step.ro_number, step.step),
                DeclinedService::NAME,
                &event_id,
            )
        },
        &state.consent,
        &state.sends,
        now,
    );
    let (fact, outcome) = match &text {
        Plan::Send(_) | Plan::Defer(_) => (FactKind::FollowUpTexted, "texted, and the advisor calls".to_owned()),
        Plan::Suppress(Suppressed::NoMarketingConsent) => {
            (FactKind::FollowUpTaskOnly, "no marketing consent: the advisor calls, no text".to_owned())
        }
        Plan::Suppress(s) => (FactKind::FollowUpTaskOnly, format!("no text ({}): the advisor calls", s.reason())),
    };
    record.touch(touch(
        "follow_up.released",
        format!("{label}: {outcome}; open: {} ({})", work.join(", "), dollars(total)),
    ));
    record.tasks.push(
        Task::open(
            &customer,
            TaskKind::DeclinedFollowup,
            format!("declined-{}-{}", step.ro_number, step.step),
            (advisor.id.clone(), Department::Service),
            now.max(step.due_at) + Duration::hours(TASK_DUE_HOURS),
            now,
        )
        .note(format!("call {first_name} about the declined work: {} ({})", work.join(", "), dollars(total)))
        .about_ro(Some(&step.ro_number)),
    );
    record.follow_ups.push(step.ended(StepStatus::Done, outcome));
    record.text = Some((text, state.sends.clone()));
    change.fact(Fact::new(store, fact, &event_id, now)).record(record)
}

#[cfg(test)]
mod tests;
