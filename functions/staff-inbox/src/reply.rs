//! A person's answer to a customer: one text through the one outbound path
//! (opt-out, consent, quiet hours and caps are checked there, as for every
//! text), recorded with who wrote it, answering the customer's open reply
//! task. Pure: [`decide`] returns the whole change.

use chrono::{DateTime, Duration, Utc};
use custops::model::{CustomerState, Fact, FactKind, TaskKind, TaskOutcome, Touchpoint};
use custops::outbound::{plan, Plan, TextRequest};
use custops::text::MessageClass;
use custops::{Change, CustomerId, RecordChange, StoreConfig};

/// The longest answer a person may send (four SMS segments).
pub const MAX_CHARS: usize = 612;

/// How recent a customer's text or call makes an answer a `reply`.
pub fn reply_window() -> Duration {
    Duration::hours(24)
}

/// Why an answer was not sent (the page says so).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotSent {
    #[error("write something to send")]
    Empty,
    #[error("the answer is over {MAX_CHARS} characters")]
    TooLong,
    #[error("not sent: {0}")]
    Refused(String),
}

/// The idempotency key of one answer: the form's own id, so a double
/// click or a resent form sends once.
pub fn reply_key(customer: &CustomerId, form_id: &str) -> String {
    format!("staff-reply#{}#{form_id}", customer.token())
}

/// The class of an answer at `now`: `reply` within 24 hours of the
/// customer's last text or call, else `transactional`.
pub fn class_of(state: &CustomerState, now: DateTime<Utc>) -> MessageClass {
    let texted = state.profile.as_ref().and_then(|p| p.replied_at);
    let called = state.tasks.iter().filter_map(|t| t.calls.as_ref().map(|c| c.last_call_at)).max();
    match texted.max(called) {
        Some(at) if now - at <= reply_window() => MessageClass::Reply,
        _ => MessageClass::Transactional,
    }
}

/// The text as the customer reads it: it names the store.
pub fn body_of(store: &StoreConfig, written: &str) -> String {
    let written = written.trim();
    if written.to_lowercase().contains(&store.name.to_lowercase()) {
        written.to_owned()
    } else {
        format!("{}: {written}", store.name)
    }
}

/// What `by`'s answer `written` (form `form_id`) to `customer` changes.
pub fn decide(
    store: &StoreConfig,
    customer: &CustomerId,
    state: &CustomerState,
    written: &str,
    by: &str,
    form_id: &str,
    now: DateTime<Utc>,
) -> Result<Change, NotSent> {
    if written.trim().is_empty() {
        return Err(NotSent::Empty);
    }
    if written.trim().chars().count() > MAX_CHARS {
        return Err(NotSent::TooLong);
    }
    let key = reply_key(customer, form_id);
    let class = class_of(state, now);
    let text = plan(
        TextRequest {
            sent_by: Some(by.to_owned()),
            ..TextRequest::new(
                store,
                &customer.phone,
                class,
                body_of(store, written),
                key.clone(),
                crate::TRIGGER,
                &key,
            )
        },
        &state.consent,
        &state.sends,
        now,
    );
    if let Plan::Suppress(why) = &text {
        return Err(NotSent::Refused(why.reason()));
    }
    // It answers the customer's open reply task (a flagged one lifts the
    // marketing pause, as a person closing it does).
    let mut change = match state.open_task(TaskKind::ReplySms) {
        Some(task) => custops::tasks::done_by(customer, state, &task.task_id, TaskOutcome::Reached, Some(by), now)
            .map_err(|e| NotSent::Refused(e.to_string()))?,
        None => Change::new(&key),
    };
    change.event_id = key.clone();
    let mut record = change.records.pop().unwrap_or_else(|| RecordChange::new(customer.clone()));
    record.rests_on = Some(state.version);
    let (kind, summary) = text.summary("answer");
    record.touch(Touchpoint::of_event(now, &key, kind, format!("{summary}, by {by}")));
    record.text = Some((text, state.sends.clone()));
    Ok(change.fact(Fact::new(store, FactKind::StaffReply, &key, now)).record(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use custops::model::{Customer, Task};
    use custops::outbound::Plan;
    use custops::store::Department;
    use custops::Phone;

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    fn store() -> StoreConfig {
        custops::fixtures::northside()
    }

    fn maria() -> CustomerId {
        CustomerId::new(store().store_id, Phone::parse("+15125550142").unwrap())
    }

    /// Maria texted at `texted` and has the reply task it made.
    fn texted(texted: DateTime<Utc>) -> CustomerState {
        let mut profile = Customer::lead(&store().store_id, maria().phone, texted);
        profile.replied_at = Some(texted);
        let task =
            Task::open(&maria(), TaskKind::ReplySms, "reply-1", ("bdc".into(), Department::Main), texted, texted);
        CustomerState { profile: Some(profile), version: Some(3), tasks: vec![task], ..Default::default() }
    }

    #[test]
    fn an_answer_within_a_day_of_the_customers_text_is_a_reply_that_closes_the_reply_task() {
        let now = at("2026-11-24T17:00:00Z");
        let change =
            decide(&store(), &maria(), &texted(at("2026-11-24T16:00:00Z")), "See you at 3", "ana@x", "f1", now)
                .unwrap();
        let r = &change.records[0];
        let Some((Plan::Send(text), _)) = &r.text else { panic!("sent now: {:?}", r.text) };
        assert_eq!(text.class, MessageClass::Reply);
        assert_eq!(text.sent_by.as_deref(), Some("ana@x"));
        assert!(text.body.starts_with(&store().name), "names the store: {}", text.body);
        assert_eq!(r.tasks[0].task_id, "reply-1");
        assert_eq!((r.tasks[0].outcome, r.tasks[0].done_by.as_deref()), (Some(TaskOutcome::Reached), Some("ana@x")));
        assert_eq!(change.event_id, reply_key(&maria(), "f1"));
        assert!(change.facts.iter().any(|f| f.kind == FactKind::StaffReply));
    }

    #[test]
    fn an_answer_days_later_is_transactional_and_an_opted_out_number_gets_nothing() {
        let now = at("2026-11-27T17:00:00Z");
        let state = texted(at("2026-11-24T16:00:00Z"));
        assert_eq!(class_of(&state, now), MessageClass::Transactional);
        let mut out = state.clone();
        out.consent.opted_out_at = Some(at("2026-11-25T00:00:00Z"));
        match decide(&store(), &maria(), &out, "hello", "ana@x", "f2", now) {
            Err(NotSent::Refused(why)) => assert!(why.contains("opted out"), "{why}"),
            other => panic!("refused: {other:?}"),
        }
        assert_eq!(decide(&store(), &maria(), &state, "  ", "ana@x", "f3", now).unwrap_err(), NotSent::Empty);
        let long = "x".repeat(MAX_CHARS + 1);
        assert_eq!(decide(&store(), &maria(), &state, &long, "ana@x", "f4", now).unwrap_err(), NotSent::TooLong);
    }
}
