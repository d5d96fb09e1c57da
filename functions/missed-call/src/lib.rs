//! `missed-call`: texts back a caller who reached nobody, with context, and
//! gives someone at the store the callback.
//!
//! Trigger: `call.missed` events on the `carrier-events` topic, through the
//! function's SQS queue (filter policy on `event_type`).
//! Reads: the store config, the caller's customer record (one Query).
//! Writes (one transaction): the event claim, the customer (a lead if new), the
//! callback task, the call and the text on the timeline, the outbox row, the
//! store's daily counts. Then one SNS publish (class `reply`) and one mark-sent.

use chrono::{DateTime, Duration, Utc};
use tracing::{info, warn};

use custops::batch::Message;
use custops::event::{CallMissed, Envelope};
use custops::function::SqsFunction;
use custops::model::{Customer, CustomerState, Task, TaskKind, TaskStatus, Touchpoint};
use custops::outbound::{Committed, Plan, TextRequest};
use custops::store::{clock_words, Department, StoreConfig};
use custops::table::{Tx, TxError, TxRejected};
use custops::templates;
use custops::text::MessageClass;
use custops::{Deps, Phone, ProcessError};

/// How soon after the call (or after the next opening) the callback is due.
pub const CALLBACK_DUE: i64 = 15;
/// At most one text-back per caller per store in this window.
pub const TEXT_BACK_WINDOW_HOURS: i64 = 24;

#[derive(Debug, Clone)]
pub struct MissedCall {
    deps: Deps,
}

impl SqsFunction for MissedCall {
    const NAME: &'static str = "missed-call";

    fn new(deps: Deps) -> Self {
        Self { deps }
    }

    fn deps(&self) -> &Deps {
        &self.deps
    }

    async fn process(&self, message: Message) -> Result<(), ProcessError> {
        let envelope = Envelope::parse(&message.body)?;
        tracing::Span::current().record("event_id", envelope.event_id.as_str());
        let call: CallMissed = envelope.data()?;
        let store = self.deps.stores.get(&envelope.store_id, &envelope.event_id).await?;
        let now = self.deps.clock.now();

        let caller = match Phone::parse(&call.from) {
            Ok(p) if p != store.sms_number => p,
            Ok(_) => {
                let why = "the call came from the store's own line";
                return self.record_untextable(&envelope, &store, "missed_calls_own_line", why).await;
            }
            Err(e) => {
                return self.record_untextable(&envelope, &store, "missed_calls_invalid_number", &e.to_string()).await
            }
        };
        let state = self.deps.table.customer_state(&store.store_id, &caller).await?;
        let decision = decide(&store, &envelope, &call, &caller, &state, now);

        let mut tx = Tx::new();
        let table = &self.deps.table;
        tx.claim_event(table, &envelope.event_id, now);
        // The carrier may resend a call under a new event id: the call id is the natural key.
        tx.claim_event(table, &format!("call.missed#{}#{}", store.store_id, call.call_id), now);
        tx.put_profile(table, &decision.customer, state.version);
        tx.put_task(table, &decision.task);
        let (at, event_id) = (envelope.occurred_at, envelope.event_id.as_str());
        let voicemail = if call.voicemail == Some(true) { " (left voicemail)" } else { "" };
        let task = &decision.task;
        let (task_kind, plural) = if task.calls > 1 { ("task.updated", "s") } else { ("task.created", "") };
        for touch in [
            Touchpoint::of_event(
                at,
                event_id,
                "call.missed",
                format!("missed {} call{voicemail}", call.department.as_str()),
            ),
            Touchpoint::of_event(
                at,
                event_id,
                task_kind,
                format!("callback for {} due {} ({} call{plural})", task.owner, task.due_at.to_rfc3339(), task.calls),
            ),
        ] {
            tx.touch(table, &store.store_id, &caller, &touch);
        }
        let plan = decision.text.map(|body| {
            self.deps.outbound.plan(
                TextRequest {
                    store: &store,
                    to: &caller,
                    class: MessageClass::Reply,
                    body,
                    dedupe_key: format!("missed-call#{}", call.call_id),
                    trigger: Self::NAME,
                    event_id: &envelope.event_id,
                },
                &state.consent,
                &state.sends,
            )
        });
        let text_note = match &plan {
            Some(Plan::Send(_)) | Some(Plan::Defer(_)) => ("text.queued", "text-back queued".to_owned()),
            Some(Plan::Suppress(s)) => ("text.suppressed", format!("no text-back: {}", s.reason())),
            None => {
                ("text.suppressed", format!("no text-back: one was sent in the last {TEXT_BACK_WINDOW_HOURS} hours"))
            }
        };
        tx.touch(table, &store.store_id, &caller, &Touchpoint::of_event(at, event_id, text_note.0, text_note.1));
        if let Some(plan) = &plan {
            self.deps.outbound.stage(&mut tx, plan, &state.sends);
        }
        let day = store.local(envelope.occurred_at).date_naive();
        tx.count(table, &store.store_id, day, "missed_calls");

        let committed = self.deps.outbound.commit(tx, plan.as_ref(), &store, &envelope.event_id).await?;
        if committed == Committed::Duplicate {
            return Ok(());
        }
        info!(owner = %decision.task.owner, due_at = %decision.task.due_at, texted = matches!(plan, Some(Plan::Send(_))), "missed call handled");
        Ok(())
    }
}

impl MissedCall {
    /// A call we cannot text back: claimed and counted, with the reason in the log.
    ///
    /// The reason is counted per store and day (`counter`) and logged.
    async fn record_untextable(
        &self,
        envelope: &Envelope,
        store: &StoreConfig,
        counter: &str,
        why: &str,
    ) -> Result<(), ProcessError> {
        let mut tx = Tx::new();
        tx.claim_event(&self.deps.table, &envelope.event_id, self.deps.clock.now());
        tx.count(&self.deps.table, &store.store_id, store.local(envelope.occurred_at).date_naive(), counter);
        match self.deps.table.commit(tx).await {
            Ok(()) | Err(TxError::Rejected(TxRejected::Duplicate { .. })) => {
                warn!(reason = %custops::phone::redact_digits(why), "missed call not texted back");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// What the function does for one call, decided from the record. Pure.
#[derive(Debug, Clone)]
pub struct Decision {
    pub customer: Customer,
    pub task: Task,
    /// The text-back body, or `None` when one went out in the last 24 hours.
    pub text: Option<String>,
}

pub fn decide(
    store: &StoreConfig,
    envelope: &Envelope,
    call: &CallMissed,
    caller: &Phone,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Decision {
    let at = envelope.occurred_at;
    let mut customer = state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, caller.clone(), now));
    customer.updated_at = now;
    let open_ro = state.open_repair_order();
    let open = store.is_open(at);
    let next_opening = store.next_opening(at);

    let owner = open_ro
        .map(|ro| ro.advisor.id.clone())
        .or_else(|| {
            (call.department == Department::Sales)
                .then(|| customer.salesperson.as_ref().map(|s| s.id.clone()))
                .flatten()
        })
        .unwrap_or_else(|| store.owners.for_department(call.department).to_owned());
    let due_base = if open { at } else { next_opening.map(|t| t.with_timezone(&Utc)).unwrap_or(at) };
    let due = due_base + Duration::minutes(CALLBACK_DUE);

    let existing = state.open_task(TaskKind::Callback);
    let texted_recently =
        existing.and_then(|t| t.last_text_at).is_some_and(|t| at - t < Duration::hours(TEXT_BACK_WINDOW_HOURS));
    let text = (!texted_recently).then(|| body(store, &customer, open_ro, open, next_opening, call.department));
    let task = match existing {
        Some(t) => {
            let mut t = t.clone();
            t.calls += 1;
            t.last_call_at = Some(at);
            if text.is_some() {
                t.last_text_at = Some(at);
            }
            t
        }
        None => Task {
            task_id: format!("callback-{}", call.call_id),
            store_id: store.store_id.clone(),
            phone: caller.clone(),
            kind: TaskKind::Callback,
            status: TaskStatus::Open,
            owner,
            department: call.department,
            due_at: due,
            created_at: now,
            calls: 1,
            last_call_at: Some(at),
            last_text_at: text.as_ref().map(|_| at),
            ro_number: open_ro.map(|r| r.ro_number.clone()),
            note: format!("call back about the missed {} call", call.department.as_str()),
        },
    };
    Decision { customer, task, text }
}

fn body(
    store: &StoreConfig,
    customer: &Customer,
    open_ro: Option<&custops::model::RepairOrder>,
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
