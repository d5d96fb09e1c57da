//! `deal-delivered`: sales closes the deal; the first service appointment is
//! where the store keeps the customer, and nobody owns it unless someone is
//! given it.
//!
//! Trigger: `deal.delivered` on `dms-events`, through the function's SQS
//! queue (filter policy on `event_type`).
//! Reads: the store config (cached), the customer's current state (one Query).
//! Decides ([`decide`], pure): the purchase on the customer's one record
//! (the deal, the vehicle, the salesperson; a lead a missed call created for
//! the number becomes this customer), the delivery as a visit for the lapse
//! clock (unless a later service visit is on record), the DMS's marketing
//! consent, a `first_service` task for the store's `service` owner, the
//! timeline and the day's fact.
//! Sends: nothing. A thank-you is the salesperson's; an invitation to book
//! service would be `marketing` (it asks the customer to buy), and the
//! service department calls instead: the task is what the store owes.
//! Claimed on the event id and on the deal: a resend changes nothing.

use chrono::{DateTime, Duration, Utc};
use tracing::info;

use custops::batch::Message;
use custops::event::{DealDelivered, Envelope};
use custops::function::SqsFunction;
use custops::model::{Customer, CustomerState, Fact, FactKind, Purchase, Task, TaskKind, Touchpoint};
use custops::store::{Department, StoreConfig};
use custops::{Applied, Change, CustomerId, Deps, Event, ProcessError, RecordChange};

/// The function (its code is [`decide`]; see [`SqsFunction`]).
pub struct DealDeliveredFn;

impl SqsFunction for DealDeliveredFn {
    const NAME: &'static str = "deal-delivered";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        let (Event { envelope, data: deal, store }, customer, state) = deps.load::<DealDelivered>(&message).await?;
        let change = decide(&store, &envelope, &deal, &customer, &state, deps.clock.now());
        if deps.apply(&store, change).await? != Applied::Duplicate {
            info!(deal_id = %deal.deal_id, "vehicle delivered");
        }
        Ok(())
    }
}

/// The service department has this long after the delivery to set the
/// first service appointment.
pub const FIRST_SERVICE_DUE_DAYS: i64 = 3;

/// The claim on the deal: a DMS resend under a new event id is a duplicate.
pub fn natural_key(store: &StoreConfig, deal: &DealDelivered) -> String {
    format!("deal.delivered#{}#{}", store.store_id, deal.deal_id)
}

/// What one delivery changes, decided from the customer's record. Pure.
pub fn decide(
    store: &StoreConfig,
    envelope: &Envelope,
    deal: &DealDelivered,
    customer: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Change {
    let event_id = envelope.event_id.as_str();
    let touch = |kind: &str, summary: String| Touchpoint::of_envelope(envelope, kind, summary);
    let mut record = RecordChange::new(customer.clone());
    if state.profile.as_ref().is_some_and(|p| p.purchases.iter().any(|p| p.deal_id == deal.deal_id)) {
        // Delivered before: a DMS resend, however late (its claims long
        // expired), changes nothing and reopens no first-service task.
        return Change::new(event_id).lasting_key(natural_key(store, deal));
    }
    let mut facts = vec![Fact::new(store, FactKind::DealDelivered, event_id, deal.delivered_at)];

    let mut profile =
        state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, customer.phone.clone(), now));
    let was_lead = state.profile.as_ref().is_some_and(|p| p.dms_id.is_none());
    profile.merge_dms(&deal.customer, now);
    profile.upsert_vehicle(&deal.vehicle);
    profile.salesperson = Some(deal.salesperson.clone());
    profile.purchased(Purchase {
        deal_id: deal.deal_id.clone(),
        delivered_at: deal.delivered_at,
        vehicle: deal.vehicle.clone(),
        salesperson: deal.salesperson.clone(),
    });
    if profile.contacted_about_lapse() && profile.last_visit_at.is_some_and(|v| v < deal.delivered_at) {
        facts.push(Fact::new(store, FactKind::WinBackReturned, event_id, deal.delivered_at));
    }
    profile.visited(deal.delivered_at);
    let first_name = profile.first_name.clone().unwrap_or_else(|| "the customer".into());
    record.consent = state
        .consent
        .with_marketing(deal.customer.marketing_consent, event_id, envelope.occurred_at)
        .map(|c| (c, state.consent_version));

    let lead = if was_lead { " (the lead from their call is now this customer)" } else { "" };
    record.touch(touch(
        "deal.delivered",
        format!(
            "{} delivered (deal {}), sold by {}{lead}",
            deal.vehicle.describe(),
            deal.deal_id,
            deal.salesperson.name
        ),
    ));
    let owner = (store.owners.service.clone(), Department::Service);
    let due = deal.delivered_at.max(now) + Duration::days(FIRST_SERVICE_DUE_DAYS);
    let task = Task::open(customer, TaskKind::FirstService, format!("first-service-{}", deal.deal_id), owner, due, now)
        .note(format!(
            "set {first_name}'s first service appointment for the {} (delivered by {})",
            deal.vehicle.describe(),
            deal.salesperson.name
        ));
    record.touch(touch(
        "task.created",
        format!("{} for {}: set the first service appointment", task.task_id, task.owner),
    ));
    record.tasks.push(task);
    record.profile = Some((profile, state.version));
    Change::new(event_id).lasting_key(natural_key(store, deal)).facts(facts).record(record)
}

#[cfg(test)]
mod tests;
