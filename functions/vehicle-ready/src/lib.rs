//! `vehicle-ready`: the DMS knows the part arrived or the car is ready; now the
//! customer does too, and the follow-up call has an owner.
//!
//! Trigger: `ro.status_changed` on `dms-events`, through the function's SQS
//! queue (filter policy on `event_type`).
//! Reads: the store config (cached), the customer's current state (one Query;
//! a second, by DMS id, only when the phone number is new to the store).
//! Decides ([`decide`], pure): the customer merged from the DMS (into a lead a
//! missed call created, or moved from an old number), the consent ledger when
//! the DMS reports marketing consent, the repair order, tasks, the timeline,
//! the day's fact and, for `parts_arrived` and `ready_for_pickup`, one
//! `transactional` text per RO and status, ever; for `waiting_parts` with an
//! `eta`, one per RO and ETA, naming the expected day (a new ETA texts once
//! more). Texts are deferred by the outbound path outside the texting window. Applies it in one transaction (claims on the
//! event id and on RO, status and time: a DMS resend under a new event id is a
//! duplicate).

use chrono::{DateTime, Duration, Utc};
use tracing::info;

use custops::batch::Message;
use custops::event::{Envelope, RoStatusChanged};
use custops::function::SqsFunction;
use custops::model::{Customer, CustomerState, Fact, FactKind, Origin, RepairOrder, Task, TaskKind, Touchpoint};
use custops::outbound::{next_allowed, plan, TextRequest};
use custops::store::{Department, StoreConfig};
use custops::templates;
use custops::text::{dollars, MessageClass};
use custops::{Applied, Change, CustomerId, Deps, Event, ProcessError, RecordChange};

pub const PARTS_ARRIVED: &str = "parts_arrived";
pub const READY_FOR_PICKUP: &str = "ready_for_pickup";
pub const WAITING_PARTS: &str = "waiting_parts";
/// The DMS voided the repair order (CONTRACT.md section 13): it leaves the
/// record's open work, texting nobody.
pub const VOIDED: &str = "voided";

/// What the customer has been told about, once per RO: the status, and for
/// `waiting_parts` the ETA (`waiting_parts@2026-12-04`: a new ETA is news).
fn told(change: &RoStatusChanged) -> String {
    match (change.status.as_str(), change.eta) {
        (WAITING_PARTS, Some(eta)) => format!("{WAITING_PARTS}@{eta}"),
        _ => change.status.clone(),
    }
}

/// The function (its code is [`decide`]; see [`SqsFunction`]).
pub struct VehicleReady;

impl SqsFunction for VehicleReady {
    const NAME: &'static str = "vehicle-ready";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        let (Event { envelope, data: change, store }, customer, state) = deps.load::<RoStatusChanged>(&message).await?;
        // A DMS customer at a number the store has no record for may have changed
        // numbers: the DMS id finds the old record (one more Query, only then).
        let previous = match &state.profile {
            Some(_) => None,
            None => deps
                .table
                .customer_by_dms_id(&store.store_id, &change.customer.dms_id)
                .await?
                .filter(|(old, _)| old.phone != customer.phone),
        };
        let decided = decide(&store, &envelope, &change, &customer, &state, previous, deps.clock.now());
        if deps.apply(&store, decided).await? != Applied::Duplicate {
            info!(ro_number = %change.ro_number, status = %change.status, "status recorded");
        }
        Ok(())
    }
}

/// The claim on RO, status and time: a DMS resend under a new event id is a
/// duplicate. A part's ETA is claimed on the RO and the ETA alone: the same
/// ETA sent again, at any time and under any id, is one event.
pub fn natural_key(store: &StoreConfig, envelope: &Envelope, change: &RoStatusChanged) -> String {
    if let (WAITING_PARTS, Some(eta)) = (change.status.as_str(), change.eta) {
        return format!("ro.status_changed#{}#{}#{WAITING_PARTS}#eta#{eta}", store.store_id, change.ro_number);
    }
    format!(
        "ro.status_changed#{}#{}#{}#{}",
        store.store_id,
        change.ro_number,
        change.status,
        envelope.occurred_at.timestamp_millis()
    )
}

/// What one status change does, decided from the record. Pure. `previous` is
/// the record (and its version) the customer's DMS id had at another number.
pub fn decide(
    store: &StoreConfig,
    envelope: &Envelope,
    change: &RoStatusChanged,
    customer: &CustomerId,
    state: &CustomerState,
    previous: Option<(Customer, Option<u64>)>,
    now: DateTime<Utc>,
) -> Change {
    let (at, event_id) = (envelope.occurred_at, envelope.event_id.as_str());
    let touch = |kind: &str, summary: String| Touchpoint::of_event(at, event_id, kind, summary);
    let mut decided = Change::new(event_id).natural_key(natural_key(store, envelope, change)).fact(Fact::new(
        store,
        FactKind::RoStatusChanged,
        event_id,
        at,
    ));
    let mut record = RecordChange::new(customer.clone());

    let mut profile = state
        .profile
        .clone()
        .or_else(|| {
            previous.as_ref().map(|(old, _)| Customer { phone: customer.phone.clone(), created_at: now, ..old.clone() })
        })
        .unwrap_or_else(|| Customer::lead(&store.store_id, customer.phone.clone(), now));
    if state.profile.as_ref().is_some_and(|c| c.origin == Origin::Lead) {
        record.touch(touch("customer.merged", format!("DMS customer {} merged into the lead", change.customer.dms_id)));
    }
    if let Some((old, version)) = previous {
        record.touch(touch("customer.moved", format!("phone number changed from {}", old.phone.masked())));
        let mut left = RecordChange::new(old.id());
        left.touch(touch(
            "customer.moved",
            format!("the DMS moved customer {} to {}", change.customer.dms_id, customer.phone.masked()),
        ));
        left.profile = Some((Customer { moved_to: Some(customer.phone.clone()), updated_at: now, ..old }, version));
        decided = decided.record(left);
    }
    profile.merge_dms(&change.customer, now);
    profile.upsert_vehicle(&change.vehicle);
    record.profile = Some((profile, state.version));
    let consent = state.consent.with_marketing(change.customer.marketing_consent, event_id, at);

    let known = state.repair_orders.iter().find(|r| r.ro_number == change.ro_number);
    let summary = format!("{} {}: {}", change.ro_number, change.vehicle.describe(), change.status);
    if known.is_some_and(|r| r.status_at > at || r.closed_at.is_some_and(|closed| at <= closed)) {
        // Older than what we know (or than the RO's close): history only.
        record.touch(touch("ro.status_changed", format!("{summary} (arrived late; current status unchanged)")));
        record.consent = consent.map(|c| (c, state.consent_version));
        return decided.record(record);
    }
    record.touch(touch("ro.status_changed", summary));
    if change.status == VOIDED {
        // Kept as history (never a visit: no close event), its install call closed.
        if let Some(open) = known {
            for t in state.tasks.iter().filter(|t| {
                t.kind == TaskKind::BookInstall && t.ro_number.as_deref() == Some(&open.ro_number) && t.is_open()
            }) {
                record.touch(touch("task.closed", format!("{} closed: the repair order was voided", t.task_id)));
                record.tasks.push(t.closed());
            }
            record.repair_orders.push(RepairOrder {
                status: VOIDED.into(),
                status_at: at,
                closed_at: Some(at),
                ..open.clone()
            });
        }
        record.consent = consent.map(|c| (c, state.consent_version));
        return decided.record(record);
    }
    if known.is_none() {
        // Not open here: it may have closed before (closed repair orders are
        // history, not state). Then this status changes nothing.
        record.absent.push(RepairOrder::history_keys(customer, &change.ro_number));
    }
    // The customer is in the shop: a win-back text still waiting for its
    // window is withdrawn when it is released (`WithdrawnIf::Visited`).
    if let Some((profile, _)) = record.profile.as_mut() {
        profile.ro_activity_at = Some(now);
    }

    let mut ro = RepairOrder {
        ro_number: change.ro_number.clone(),
        status: change.status.clone(),
        status_at: at,
        vehicle: change.vehicle.clone(),
        advisor: change.advisor.clone(),
        amount_due_cents: change.amount_due_cents,
        closed_at: known.and_then(|r| r.closed_at),
        texted: known.map(|r| r.texted.clone()).unwrap_or_default(),
        performed: known.map(|r| r.performed.clone()).unwrap_or_default(),
        mileage: known.and_then(|r| r.mileage),
    };
    let first_name = change.customer.first_name.as_str();
    let vehicle = change.vehicle.describe();
    let install_tasks = || {
        state.tasks.iter().filter(|t| t.kind == TaskKind::BookInstall && t.ro_number.as_deref() == Some(&ro.ro_number))
    };
    let body = match change.status.as_str() {
        PARTS_ARRIVED => {
            if install_tasks().next().is_none() {
                let due = store.close_of_next_business_day(at).unwrap_or(at + Duration::days(1));
                record.touch(touch(
                    "task.created",
                    format!("book the install: {} by {}", change.advisor.name, due.to_rfc3339()),
                ));
                record.tasks.push(
                    Task::open(
                        customer,
                        TaskKind::BookInstall,
                        format!("book-install-{}", ro.ro_number),
                        (change.advisor.id.clone(), Department::Service),
                        due,
                        now,
                    )
                    .note(format!("call {first_name} to book the install on the {vehicle}"))
                    .about_ro(Some(&ro.ro_number)),
                );
            }
            Some(store.render(
                &templates::PARTS_ARRIVED,
                &[("first_name", first_name), ("vehicle", &vehicle), ("advisor", &change.advisor.name)],
            ))
        }
        READY_FOR_PICKUP => {
            for t in install_tasks().filter(|t| t.is_open()) {
                record.touch(touch("task.closed", format!("{} closed: the vehicle is ready", t.task_id)));
                record.tasks.push(t.closed());
            }
            let amount_due = change
                .amount_due_cents
                .filter(|c| *c > 0)
                .map(|c| format!(" Amount due: {}.", dollars(c)))
                .unwrap_or_default();
            // The hours of the day the text goes out (it may wait for the texting window).
            let hours = store.hours_on(next_allowed(MessageClass::Transactional, store, now));
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
        WAITING_PARTS => change.eta.map(|eta| {
            store.render(
                &templates::PARTS_ETA,
                &[
                    ("first_name", first_name),
                    ("vehicle", &vehicle),
                    ("eta", &eta.format("%A, %B %-d").to_string()),
                    ("advisor", &change.advisor.name),
                ],
            )
        }),
        _ => None,
    }
    .filter(|_| !ro.texted.contains(&told(change)));

    let text = body.map(|body| {
        plan(
            TextRequest::new(
                store,
                &customer.phone,
                MessageClass::Transactional,
                body,
                format!("ro-status#{}#{}", change.ro_number, told(change)),
                VehicleReady::NAME,
                event_id,
            ),
            // The ledger as this transaction leaves it.
            consent.as_ref().unwrap_or(&state.consent),
            &state.sends,
            now,
        )
    });
    if let Some(p) = &text {
        let (kind, summary) = p.summary(&format!("{} text", change.status));
        record.touch(touch(kind, summary));
    }
    if text.is_some() {
        ro.texted.push(told(change));
    }
    record.repair_orders.push(ro);
    record.consent = consent.map(|c| (c, state.consent_version));
    record.text = text.map(|p| (p, state.sends.clone()));
    decided.record(record)
}

#[cfg(test)]
mod tests;
