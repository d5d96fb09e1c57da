//! `missed-call`: texts back a caller who reached nobody, with context, and
//! gives someone at the store the callback.
//!
//! Trigger: `call.missed` and `call.answered` events on the `carrier-events`
//! topic, through the function's SQS queue (filter policy on `event_type`).
//! Reads: the store config (cached), the caller's current state (one Query).
//! Decides ([`decide`], pure): the customer (a lead if new), the callback task
//! and its owner, the text-back (at most one per caller per 24 hours), the
//! timeline and the day's fact. Applies it in one transaction (claims on the
//! event id and the call id), then one SNS publish (class `reply`) and one
//! mark-sent.
//! [`answered`] (section 14): a call the store answered goes on the caller's
//! record and closes their open callbacks (from calls before it) as
//! `reached`; a number with no record gets none.

use chrono::{DateTime, Duration, Utc};
use tracing::{info, warn};

use custops::batch::Message;
use custops::event::{CallAnswered, CallMissed, Envelope, EventData};
use custops::function::SqsFunction;
use custops::model::{
    Calls, Customer, CustomerState, Fact, FactKind, RepairOrder, Task, TaskKind, TaskOutcome, Touchpoint,
};
use custops::outbound::{plan, Plan, TextRequest};
use custops::store::{clock_words, Department, StoreConfig};
use custops::templates;
use custops::text::MessageClass;
use custops::{Applied, Change, CustomerId, Deps, Event, Phone, ProcessError, RecordChange};

/// How soon after the call (or after the next opening) the callback is due.
pub const CALLBACK_DUE: i64 = 15;
/// At most one text-back per caller per store in this window.
pub const TEXT_BACK_WINDOW_HOURS: i64 = 24;

/// The function (its code is [`decide`]; see [`SqsFunction`]).
pub struct MissedCall;

impl SqsFunction for MissedCall {
    const NAME: &'static str = "missed-call";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        if Envelope::parse(&message.body)?.event_type == CallAnswered::EVENT_TYPE {
            return on_answered(deps, &message).await;
        }
        let Event { envelope, data: call, store } = deps.event::<CallMissed>(&message).await?;
        let change = match caller(&store, &call) {
            Ok(phone) => {
                let customer = CustomerId::new(&store.store_id, phone);
                let state = deps.table.customer_state(&customer).await?;
                decide(&store, &envelope, &call, &customer, &state, deps.clock.now())
            }
            Err((kind, why)) => {
                warn!(reason = %custops::phone::redact_digits(&why), "missed call not texted back");
                untextable(&store, &envelope, &call, kind)
            }
        };
        let texted = matches!(change.plan(), Some(Plan::Send(_)));
        if deps.apply(&store, change).await? != Applied::Duplicate {
            info!(texted, "missed call handled");
        }
        Ok(())
    }
}

/// A call the store answered: on the caller's record, if they have one.
async fn on_answered(deps: &Deps, message: &Message) -> Result<(), ProcessError> {
    let Event { envelope, data: call, store } = deps.event::<CallAnswered>(message).await?;
    let phone = match Phone::parse(&call.from) {
        Ok(p) if !store.owns_number(&p) => p,
        _ => {
            info!("an answered call from no customer's number: nothing to record");
            return Ok(());
        }
    };
    let customer = CustomerId::new(&store.store_id, phone);
    let state = deps.table.customer_state(&customer).await?;
    let change = answered(&store, &envelope, &call, &customer, &state);
    if deps.apply(&store, change).await? != Applied::Duplicate {
        info!(known = state.profile.is_some(), "answered call recorded");
    }
    Ok(())
}

/// What a call the store answered changes: a touchpoint on the caller's
/// record and their open callbacks from before it closed as `reached`.
/// Nothing for a number with no record (an answered call makes none). Pure.
pub fn answered(
    store: &StoreConfig,
    envelope: &Envelope,
    call: &CallAnswered,
    customer: &CustomerId,
    state: &CustomerState,
) -> Change {
    let at = envelope.occurred_at;
    let decided =
        Change::new(&envelope.event_id).lasting_key(format!("call.answered#{}#{}", store.store_id, call.call_id));
    if state.profile.is_none() {
        return decided;
    }
    let mut record = RecordChange::new(customer.clone());
    let length = call.duration_seconds.map(|s| format!(", {}:{:02}", s / 60, s % 60)).unwrap_or_default();
    record.touch(Touchpoint::of_envelope(
        envelope,
        CallAnswered::EVENT_TYPE,
        format!("call answered ({}{length})", call.department.as_str()),
    ));
    for task in state.tasks.iter().filter(|t| t.is_open() && t.kind == TaskKind::Callback && t.created_at <= at) {
        let id = format!("{}#{}", envelope.event_id, task.task_id);
        let summary = format!("{} closed: the store reached them", task.task_id);
        record.touch(Touchpoint::of_event(at, &id, "task.closed", summary));
        record.tasks.push(Task { outcome: Some(TaskOutcome::Reached), done_at: Some(at), ..task.closed() });
    }
    decided.record(record)
}

/// The number to call and text back, or why there is none.
pub fn caller(store: &StoreConfig, call: &CallMissed) -> Result<Phone, (FactKind, String)> {
    match Phone::parse(&call.from) {
        Ok(p) if store.owns_number(&p) => {
            Err((FactKind::MissedCallOwnLine, "the call came from the store's own line".into()))
        }
        Ok(p) => Ok(p),
        Err(e) => Err((FactKind::MissedCallInvalidNumber, e.to_string())),
    }
}

/// The claim on the call id: a carrier resending a call under a new event id
/// is a duplicate.
pub fn natural_key(store: &StoreConfig, call: &CallMissed) -> String {
    format!("call.missed#{}#{}", store.store_id, call.call_id)
}

/// A call nobody can be texted or called back for: claimed and counted.
pub fn untextable(store: &StoreConfig, envelope: &Envelope, call: &CallMissed, kind: FactKind) -> Change {
    Change::new(&envelope.event_id)
        .fact(Fact::new(store, kind, &envelope.event_id, envelope.occurred_at).department(call.department))
}

/// What one missed call changes, decided from the caller's record. Pure.
pub fn decide(
    store: &StoreConfig,
    envelope: &Envelope,
    call: &CallMissed,
    caller: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Change {
    let (at, event_id) = (envelope.occurred_at, envelope.event_id.as_str());
    let mut customer =
        state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, caller.phone.clone(), now));
    customer.updated_at = now;
    let open_ro = state.open_repair_order();
    let open = store.is_open(at);
    let next_opening = store.next_opening(at);

    let existing = state.open_task(TaskKind::Callback);
    let texted_recently = existing
        .and_then(|t| t.calls.as_ref())
        .and_then(|c| c.last_text_at)
        .is_some_and(|t| at - t < Duration::hours(TEXT_BACK_WINDOW_HOURS));
    let body = (!texted_recently).then(|| body(store, &customer, open_ro, open, next_opening, call.department));
    let last_text_at = body.as_ref().map(|_| at);
    let task = match existing {
        Some(t) => {
            let mut t = t.clone();
            let calls = t.calls.get_or_insert(Calls { count: 0, last_call_at: at, last_text_at: None });
            calls.count += 1;
            calls.last_call_at = at;
            calls.last_text_at = last_text_at.or(calls.last_text_at);
            t
        }
        None => {
            let owner = open_ro
                .map(|ro| ro.advisor.id.clone())
                .or_else(|| match call.department {
                    Department::Sales => customer.salesperson.as_ref().map(|s| s.id.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| store.owners.for_department(call.department).to_owned());
            let due_base = if open { at } else { next_opening.map(|t| t.with_timezone(&Utc)).unwrap_or(at) };
            let mut t = Task::open(
                caller,
                TaskKind::Callback,
                format!("callback-{}", call.call_id),
                (owner, call.department),
                due_base + Duration::minutes(CALLBACK_DUE),
                now,
            )
            .note(format!("call back about the missed {} call", call.department.as_str()))
            .about_ro(open_ro.map(|r| r.ro_number.as_str()));
            t.calls = Some(Calls { count: 1, last_call_at: at, last_text_at });
            t
        }
    };

    let mut record = RecordChange::new(caller.clone());
    let voicemail = if call.voicemail == Some(true) { " (left voicemail)" } else { "" };
    record.touch(Touchpoint::of_event(
        at,
        event_id,
        "call.missed",
        format!("missed {} call{voicemail}", call.department.as_str()),
    ));
    let count = task.calls.as_ref().map_or(1, |c| c.count);
    let (task_kind, plural) = if count > 1 { ("task.updated", "s") } else { ("task.created", "") };
    record.touch(Touchpoint::of_event(
        at,
        event_id,
        task_kind,
        format!("callback for {} due {} ({count} call{plural})", task.owner, task.due_at.to_rfc3339()),
    ));
    let text = body.map(|body| {
        plan(
            TextRequest::new(
                store,
                &caller.phone,
                MessageClass::Reply,
                body,
                format!("missed-call#{}", call.call_id),
                MissedCall::NAME,
                event_id,
            ),
            &state.consent,
            &state.sends,
            now,
        )
    });
    let (kind, summary) = match &text {
        Some(p) => p.summary("text-back"),
        None => ("text.suppressed", format!("no text-back: one was sent in the last {TEXT_BACK_WINDOW_HOURS} hours")),
    };
    record.touch(Touchpoint::of_event(at, event_id, kind, summary));
    let mut facts = vec![Fact::new(store, FactKind::MissedCall, event_id, at).department(call.department)];
    if existing.is_none() {
        facts.push(Fact::new(store, FactKind::CallbackCreated, event_id, at).department(call.department).task(&task));
    }
    record.profile = Some((customer, state.version));
    record.tasks.push(task);
    record.text = text.map(|p| (p, state.sends.clone()));

    Change::new(event_id).natural_key(natural_key(store, call)).facts(facts).record(record)
}

fn body(
    store: &StoreConfig,
    customer: &Customer,
    open_ro: Option<&RepairOrder>,
    open: bool,
    next_opening: Option<DateTime<chrono_tz::Tz>>,
    department: Department,
) -> String {
    let greeting = match &customer.first_name {
        Some(name) => format!("Hi {name}"),
        None => "Hi".to_owned(),
    };
    let ro_context = match open_ro {
        Some(ro) => format!(" Your {} ({}) is {}.", ro.vehicle.describe(), ro.ro_number, ro.status_words()),
        None => String::new(),
    };
    let opens = next_opening
        .filter(|_| !open)
        .map(|t| format!(" We open {} at {}; we'll call you then.", t.format("%A"), clock_words(t.time())))
        .unwrap_or_default();
    let booking = match (&store.booking_url, open, department) {
        (Some(url), false, Department::Service) => format!(" Book service anytime: {url}"),
        _ => String::new(),
    };
    let stop = if customer.first_name.is_none() { " Reply STOP to opt out." } else { "" };
    let spec = if open { &templates::MISSED_CALL_OPEN } else { &templates::MISSED_CALL_CLOSED };
    store.render(
        spec,
        &[
            ("greeting", &greeting),
            ("ro_context", &ro_context),
            ("opens", &opens),
            ("booking", &booking),
            ("stop", stop),
        ],
    )
}

#[cfg(test)]
mod tests;
