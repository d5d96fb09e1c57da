//! `vehicle-ready`: the DMS knows the part arrived or the car is ready; now the
//! customer does too, and the follow-up call has an owner.
//!
//! Trigger: `ro.status_changed` on `dms-events`, through the function's SQS
//! queue (filter policy on `event_type`).
//! Reads: the store config (cached), the customer's current state (one Query).
//! Writes (one transaction): the event claim and the natural-key claim (RO,
//! status, time: a DMS resend under a new event id is a duplicate), the customer
//! merged from the DMS (into a lead a missed call created, if any), the consent
//! ledger when the DMS reports marketing consent, the repair order, tasks, the
//! timeline, the outbox row. Then, for `parts_arrived` and `ready_for_pickup`,
//! one `transactional` text (deferred by the outbound path outside the texting
//! window), one per RO and status, ever.

use chrono::{DateTime, Duration, Utc};
use tracing::info;

use custops::batch::Message;
use custops::event::{Envelope, RoStatusChanged};
use custops::function::SqsFunction;
use custops::model::{Customer, CustomerState, RepairOrder, Task, TaskKind, TaskStatus, Touchpoint};
use custops::outbound::{Committed, Plan, TextRequest};
use custops::store::{Department, StoreConfig};
use custops::table::Tx;
use custops::templates;
use custops::text::{dollars, MessageClass};
use custops::{Deps, Phone, ProcessError};

pub const PARTS_ARRIVED: &str = "parts_arrived";
pub const READY_FOR_PICKUP: &str = "ready_for_pickup";

#[derive(Debug, Clone)]
pub struct VehicleReady {
    deps: Deps,
}

impl SqsFunction for VehicleReady {
    const NAME: &'static str = "vehicle-ready";

    fn new(deps: Deps) -> Self {
        Self { deps }
    }

    fn deps(&self) -> &Deps {
        &self.deps
    }

    async fn process(&self, message: Message) -> Result<(), ProcessError> {
        let envelope = Envelope::parse(&message.body)?;
        tracing::Span::current().record("event_id", envelope.event_id.as_str());
        let change: RoStatusChanged = envelope.data()?;
        let store = self.deps.stores.get(&envelope.store_id, &envelope.event_id).await?;
        let phone = Phone::parse(&change.customer.phone).map_err(|e| ProcessError::Invalid {
            event_id: envelope.event_id.clone(),
            reason: format!("customer {}: {e}", change.customer.dms_id),
        })?;
        let now = self.deps.clock.now();
        let state = self.deps.table.customer_state(&store.store_id, &phone).await?;
        // A DMS customer at a number the store has no record for may have changed
        // numbers: the DMS id finds the old record (one more Query, only then).
        let previous = match &state.profile {
            Some(_) => None,
            None => self
                .deps
                .table
                .customer_by_dms_id(&store.store_id, &change.customer.dms_id)
                .await?
                .filter(|(old, _)| old.phone != phone),
        };
        let decision = decide(&store, &envelope, &change, &phone, &state, previous.as_ref().map(|(c, _)| c), now);

        let table = &self.deps.table;
        let mut tx = Tx::new();
        tx.claim_event(table, &envelope.event_id, now);
        let natural_key = format!(
            "ro.status_changed#{}#{}#{}#{}",
            store.store_id,
            change.ro_number,
            change.status,
            envelope.occurred_at.timestamp_millis()
        );
        tx.claim_event(table, &natural_key, now);
        tx.put_profile(table, &decision.customer, state.version);
        if let Some((old, version)) = &previous {
            let mut old = old.clone();
            old.moved_to = Some(phone.clone());
            old.updated_at = now;
            tx.put_profile(table, &old, *version);
            let summary = format!("the DMS moved customer {} to {}", change.customer.dms_id, phone.masked());
            tx.touch(
                table,
                &store.store_id,
                &old.phone,
                &Touchpoint::of_event(envelope.occurred_at, &envelope.event_id, "customer.moved", summary),
            );
        }
        if let Some(consent) = &decision.consent {
            tx.put_consent(table, &store.store_id, &phone, consent, &state.consent);
        }
        if let Some(ro) = &decision.repair_order {
            tx.put_repair_order(table, &store.store_id, &phone, ro);
        }
        for task in &decision.tasks {
            tx.put_task(table, task);
        }
        let plan = decision.text.map(|body| {
            self.deps.outbound.plan(
                TextRequest {
                    store: &store,
                    to: &phone,
                    class: MessageClass::Transactional,
                    body,
                    dedupe_key: format!("ro-status#{}#{}", change.ro_number, change.status),
                    trigger: Self::NAME,
                    event_id: &envelope.event_id,
                },
                // The ledger as this transaction leaves it.
                decision.consent.as_ref().unwrap_or(&state.consent),
                &state.sends,
            )
        });
        let mut touches = decision.touchpoints;
        match &plan {
            Some(Plan::Send(_)) => touches.push(("text.queued", format!("{} text queued", change.status))),
            Some(Plan::Defer(t)) => touches.push((
                "text.deferred",
                format!(
                    "{} text deferred to {} ({})",
                    change.status,
                    t.due_at.map(|d| d.to_rfc3339()).unwrap_or_default(),
                    t.defer_reason.as_deref().unwrap_or("quiet hours")
                ),
            )),
            Some(Plan::Suppress(s)) => {
                touches.push(("text.suppressed", format!("no {} text: {}", change.status, s.reason())))
            }
            None => {}
        }
        for (kind, summary) in touches {
            tx.touch(
                table,
                &store.store_id,
                &phone,
                &Touchpoint::of_event(envelope.occurred_at, &envelope.event_id, kind, summary),
            );
        }
        if let Some(plan) = &plan {
            self.deps.outbound.stage(&mut tx, plan, &state.sends);
        }
        tx.count(table, &store.store_id, store.local(envelope.occurred_at).date_naive(), "ro_status_changes");

        if self.deps.outbound.commit(tx, plan.as_ref(), &store, &envelope.event_id).await? == Committed::Duplicate {
            return Ok(());
        }
        info!(ro_number = %change.ro_number, status = %change.status, stale = decision.repair_order.is_none(), "status recorded");
        Ok(())
    }
}

/// What the function does for one status change, decided from the record. Pure.
#[derive(Debug, Clone)]
pub struct Decision {
    pub customer: Customer,
    /// The new consent ledger, when the DMS changed marketing consent.
    pub consent: Option<custops::model::Consent>,
    /// The repair order to write; `None` when the change is older than what we know.
    pub repair_order: Option<RepairOrder>,
    /// Tasks created or closed.
    pub tasks: Vec<Task>,
    /// `(kind, summary)` for the timeline.
    pub touchpoints: Vec<(&'static str, String)>,
    pub text: Option<String>,
}

pub fn decide(
    store: &StoreConfig,
    envelope: &Envelope,
    change: &RoStatusChanged,
    phone: &Phone,
    state: &CustomerState,
    previous: Option<&Customer>,
    now: DateTime<Utc>,
) -> Decision {
    let at = envelope.occurred_at;
    let moved = previous.map(|old| {
        let mut c = old.clone();
        c.phone = phone.clone();
        c.created_at = now;
        c
    });
    let mut customer = state
        .profile
        .clone()
        .or_else(|| moved.clone())
        .unwrap_or_else(|| Customer::lead(&store.store_id, phone.clone(), now));
    let was_lead = state.profile.as_ref().is_some_and(|c| c.origin == custops::model::Origin::Lead);
    customer.merge_dms(&change.customer, now);
    customer.upsert_vehicle(&change.vehicle);
    let consent = state.consent.with_marketing(change.customer.marketing_consent, "dms", at);

    let known = state.repair_orders.iter().find(|r| r.ro_number == change.ro_number);
    let mut touchpoints = Vec::new();
    if was_lead {
        touchpoints.push(("customer.merged", format!("DMS customer {} merged into the lead", change.customer.dms_id)));
    }
    if let Some(old) = previous {
        touchpoints.push(("customer.moved", format!("phone number changed from {}", old.phone.masked())));
    }
    let summary = format!("{} {}: {}", change.ro_number, change.vehicle.describe(), change.status);
    if known.is_some_and(|r| r.status_at > at) {
        // Older than what we know: history only.
        touchpoints.push(("ro.status_changed", format!("{summary} (arrived late; current status unchanged)")));
        return Decision { customer, consent, repair_order: None, tasks: vec![], touchpoints, text: None };
    }
    touchpoints.push(("ro.status_changed", summary));

    let mut ro = RepairOrder {
        ro_number: change.ro_number.clone(),
        status: change.status.clone(),
        status_at: at,
        vehicle: change.vehicle.clone(),
        advisor: change.advisor.clone(),
        amount_due_cents: change.amount_due_cents,
        closed_at: known.and_then(|r| r.closed_at),
        texted: known.map(|r| r.texted.clone()).unwrap_or_default(),
    };
    let already_texted = ro.texted.contains(&change.status);
    let first_name = change.customer.first_name.as_str();
    let vehicle = change.vehicle.describe();
    let mut tasks = Vec::new();
    let text = match change.status.as_str() {
        PARTS_ARRIVED => {
            if state
                .tasks
                .iter()
                .all(|t| !(t.kind == TaskKind::BookInstall && t.ro_number.as_deref() == Some(&ro.ro_number)))
            {
                let due = store.close_of_next_business_day(at).unwrap_or(at + Duration::days(1));
                tasks.push(Task {
                    task_id: format!("book-install-{}", ro.ro_number),
                    store_id: store.store_id.clone(),
                    phone: phone.clone(),
                    kind: TaskKind::BookInstall,
                    status: TaskStatus::Open,
                    owner: change.advisor.id.clone(),
                    department: Department::Service,
                    due_at: due,
                    created_at: now,
                    calls: 0,
                    last_call_at: None,
                    last_text_at: None,
                    ro_number: Some(ro.ro_number.clone()),
                    note: format!("call {first_name} to book the install on the {vehicle}"),
                });
                touchpoints.push((
                    "task.created",
                    format!("book the install: {} by {}", change.advisor.name, due.to_rfc3339()),
                ));
            }
            Some(store.render(
                &templates::PARTS_ARRIVED,
                &[("first_name", first_name), ("vehicle", &vehicle), ("advisor", &change.advisor.name)],
            ))
        }
        READY_FOR_PICKUP => {
            for t in state.tasks.iter().filter(|t| {
                t.status == TaskStatus::Open
                    && t.kind == TaskKind::BookInstall
                    && t.ro_number.as_deref() == Some(&ro.ro_number)
            }) {
                let mut done = t.clone();
                done.status = TaskStatus::Done;
                touchpoints.push(("task.closed", format!("{} closed: the vehicle is ready", t.task_id)));
                tasks.push(done);
            }
            let amount_due = change
                .amount_due_cents
                .filter(|c| *c > 0)
                .map(|c| format!(" Amount due: {}.", dollars(c)))
                .unwrap_or_default();
            // The hours of the day the text goes out (it may wait for the texting window).
            let hours = store.hours_on(custops::outbound::next_allowed(MessageClass::Transactional, store, now));
            Some(store.render(
                &templates::READY_FOR_PICKUP,
                &[
                    ("first_name", first_name),
                    ("vehicle", &vehicle),
                    ("amount_due", &amount_due),
                    ("hours", &hours),
                    ("advisor", &change.advisor.name),
                ],
            ))
        }
        _ => None,
    }
    .filter(|_| !already_texted);
    if text.is_some() {
        ro.texted.push(change.status.clone());
    }
    Decision { customer, consent, repair_order: Some(ro), tasks, touchpoints, text }
}
