//! `deal-delivered`: sales closes the deal; the first service appointment is
//! where the store keeps the customer, and nobody owns it unless someone is
//! given it.
//!
//! Trigger: `deal.delivered` and `deal.unwound` on `dms-events`, through the
//! function's SQS queue (filter policy on `event_type`).
//! Reads: the store config (cached), the customer's current state (one Query).
//! Decides ([`decide`], pure): the purchase on the customer's one record
//! (the deal, the vehicle, the salesperson; a lead a missed call created for
//! the number becomes this customer), the delivery as a visit for the lapse
//! clock (unless a later service visit is on record), the DMS's marketing
//! consent, a `first_service` task for the store's `service` owner, the
//! timeline and the day's fact; with a `co_buyer`, the buyer and the
//! co-buyer as one household (a link item on each record; consent stays
//! each person's); with the store's `delivery_check` on, the delivery check
//! ([`delivery_check`], asked by `declined-service` on its day).
//! Sends: nothing. A thank-you is the salesperson's; an invitation to book
//! service would be `marketing` (it asks the customer to buy), and the
//! service department calls instead: the task is what the store owes.
//! [`unwound`]: the DMS unwound the deal (CONTRACT.md section 13): the
//! purchase stays on the record marked unwound and leaves the open work (its
//! `first_service` task closed; no delivery check or maturity work after
//! it). An unwind that arrives before its delivery is kept, so the delivery
//! then opens nothing.
//! Claimed on the event id and on the deal: a resend changes nothing.

use chrono::{DateTime, Duration, Utc};
use tracing::info;

use custops::batch::Message;
use custops::event::{DealDelivered, DealUnwound, Envelope, EventData};
use custops::function::SqsFunction;
use custops::model::{
    CheckAbout, CheckStatus, Customer, CustomerState, Fact, FactKind, HouseholdMember, LinkedBy, Maturity, Purchase,
    Task, TaskKind, Touchpoint, VisitCheck, HOUSEHOLD_MAX,
};
use custops::store::{Department, StoreConfig};
use custops::{Applied, Change, CustomerId, Deps, Event, Phone, ProcessError, RecordChange};

/// The function (its code is [`decide`]; see [`SqsFunction`]).
pub struct DealDeliveredFn;

impl SqsFunction for DealDeliveredFn {
    const NAME: &'static str = "deal-delivered";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        if Envelope::parse(&message.body)?.event_type == DealUnwound::EVENT_TYPE {
            let (Event { envelope, data: deal, store }, customer, state) = deps.load::<DealUnwound>(&message).await?;
            let change = unwound(&store, &envelope, &deal, &customer, &state, deps.clock.now());
            if deps.apply(&store, change).await? != Applied::Duplicate {
                info!(deal_id = %deal.deal_id, "deal unwound");
            }
            return Ok(());
        }
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
        unwound_at: None,
        mileage: deal.terms.mileage,
        purchase_type: deal.terms.purchase_type,
        term_months: deal.terms.term_months,
        first_payment_on: deal.terms.first_payment_on,
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
    let task = Task::open(customer, TaskKind::FirstService, first_service_task_id(&deal.deal_id), owner, due, now)
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
    if let Some(check) = delivery_check(store, deal, customer, state, now) {
        let summary = format!("{} due {}", check.label(), check.due_at.to_rfc3339());
        record.touch(touch("delivery_check.scheduled", summary));
        record.checks.push(check);
    }
    // Its service clock starts at delivery, and a lease or a loan matures
    // (section 14); the maturity work of what they bought before ends: they
    // bought again.
    let maturity = Maturity::of(
        store,
        &deal.deal_id,
        deal.terms.purchase_type,
        deal.terms.term_months,
        deal.terms.first_payment_on,
        deal.delivered_at,
        &deal.salesperson.name,
    );
    record.vehicles = custops::model::visited(
        store,
        state,
        customer,
        (&deal.vehicle, deal.delivered_at, deal.terms.mileage),
        now,
        |v| {
            if maturity.is_some() {
                v.maturity = maturity;
            }
        },
    );
    let today = store.local(now).date_naive();
    // (Not the one no longer followed, if following this one displaced it:
    // it is written once, gone.)
    let written: Vec<String> = record.vehicles.iter().map(|v| v.vehicle.vin.clone()).collect();
    for v in state.vehicles.iter().filter(|v| !written.contains(&v.vehicle.vin)) {
        let Some(m) = v.maturity.as_ref().filter(|m| m.ended.is_none() && m.delivered_at < deal.delivered_at) else {
            continue;
        };
        let mut v = v.clone();
        let why = format!("bought again (deal {})", deal.deal_id);
        record.touch(touch(
            "maturity.ended",
            format!("{} {} of deal {}: {why}", v.vehicle.describe(), m.kind(), m.deal_id),
        ));
        v.maturity = Some(Maturity { ended: Some(why), ..m.clone() });
        v.refresh(store, today, now);
        record.vehicles.push(v);
    }
    let co_buyer = co_buyer_link(store, deal, customer, &profile, state, envelope);
    record.profile = Some((profile, state.version));
    let change = Change::new(event_id).lasting_key(natural_key(store, deal)).facts(facts);
    match co_buyer {
        Some((on_buyer, co_buyer_record)) => {
            record.touch(touch("household.linked", format!("{} joins the household (co-buyer)", on_buyer.name())));
            record.household.push(on_buyer);
            change.record(record).record(co_buyer_record)
        }
        None => change.record(record),
    }
}

/// The latest store-local hour a delivery check is asked at on its day.
pub const DELIVERY_CHECK_LATEST_HOUR: u32 = 16;

/// The delivery check of a deal (section 14), if one is owed: on the
/// store-local day `delivery_check_days` after the delivery, when the
/// texting window opens (a delivery that reaches custops later that day but
/// before 16:00: at once); none when the store's check is off, that day has
/// passed (or it is 16:00 on it), the customer opted out, or the deal has one.
pub fn delivery_check(
    store: &StoreConfig,
    deal: &DealDelivered,
    customer: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Option<VisitCheck> {
    let day = store.local(deal.delivered_at).date_naive() + Duration::days(i64::from(store.delivery_check_days));
    let latest = store.local_time_on(day, chrono::NaiveTime::from_hms_opt(DELIVERY_CHECK_LATEST_HOUR, 0, 0)?);
    let owed = store.delivery_check
        && now < latest
        && !state.consent.opted_out()
        && !state.checks.iter().any(|c| c.about == CheckAbout::Delivery && c.ro_number == deal.deal_id);
    owed.then(|| VisitCheck {
        store_id: store.store_id.clone(),
        phone: customer.phone.clone(),
        about: CheckAbout::Delivery,
        ro_number: deal.deal_id.clone(),
        closed_at: deal.delivered_at,
        due_at: store.window_opens_on(day).max(now),
        status: CheckStatus::Scheduled,
        asked_at: None,
        answer: None,
        outcome: None,
        vehicle: Some(deal.vehicle.describe()),
    })
}

/// The deal's co-buyer and the buyer as one household (section 14): the item
/// on the buyer's record and the co-buyer's record with its own, unless the
/// co-buyer's number is unusable, the buyer's, the store's, or already
/// linked, or the buyer's household is full. Neither record's consent moves.
fn co_buyer_link(
    store: &StoreConfig,
    deal: &DealDelivered,
    customer: &CustomerId,
    buyer: &Customer,
    state: &CustomerState,
    envelope: &Envelope,
) -> Option<(HouseholdMember, RecordChange)> {
    let co = deal.terms.co_buyer.as_ref()?;
    let phone = Phone::parse(&co.phone).ok().filter(|p| *p != customer.phone && !store.owns_number(p))?;
    if state.household.iter().any(|m| m.member == phone) || state.household.len() >= HOUSEHOLD_MAX {
        return None;
    }
    let [on_buyer, on_co_buyer] = HouseholdMember::pair(
        &store.store_id,
        (&customer.phone, buyer.first_name.as_deref(), buyer.last_name.as_deref()),
        (&phone, Some(&co.first_name), Some(&co.last_name)),
        LinkedBy::CoBuyer { deal_id: deal.deal_id.clone() },
        envelope.occurred_at,
    );
    let mut other = RecordChange::new(on_co_buyer.owner());
    other.touch(Touchpoint::of_envelope(
        envelope,
        "household.linked",
        format!("{} joins the household (bought deal {} together)", on_co_buyer.name(), deal.deal_id),
    ));
    other.household.push(on_co_buyer);
    Some((on_buyer, other))
}

/// The claim on an unwind: a resend changes nothing.
pub fn unwound_key(store: &StoreConfig, deal: &DealUnwound) -> String {
    format!("deal.unwound#{}#{}", store.store_id, deal.deal_id)
}

/// What one unwound deal changes, decided from the customer's record. Pure.
pub fn unwound(
    store: &StoreConfig,
    envelope: &Envelope,
    deal: &DealUnwound,
    customer: &CustomerId,
    state: &CustomerState,
    now: DateTime<Utc>,
) -> Change {
    let event_id = envelope.event_id.as_str();
    let at = envelope.occurred_at;
    let decided = Change::new(event_id).lasting_key(unwound_key(store, deal));
    let known = state.profile.as_ref().and_then(|p| p.purchases.iter().find(|p| p.deal_id == deal.deal_id));
    if known.is_some_and(|p| p.unwound_at.is_some()) {
        return decided;
    }
    let mut record = RecordChange::new(customer.clone());
    let mut profile =
        state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, customer.phone.clone(), now));
    profile.merge_dms(&deal.customer, now);
    // The vehicle went back: it is no longer one of theirs to name or follow.
    profile.vehicles.retain(|v| v.vin != deal.vehicle.vin);
    match profile.purchases.iter_mut().find(|p| p.deal_id == deal.deal_id) {
        Some(p) => p.unwound_at = Some(at),
        // Unwound before its delivery reached custops (the queue keeps no
        // order): kept, so the delivery finds it and opens nothing.
        None => profile.purchased(Purchase {
            deal_id: deal.deal_id.clone(),
            delivered_at: deal.delivered_at.unwrap_or(at),
            vehicle: deal.vehicle.clone(),
            salesperson: deal.salesperson.clone(),
            unwound_at: Some(at),
            mileage: None,
            purchase_type: None,
            term_months: None,
            first_payment_on: None,
        }),
    }
    let touch = |kind: &str, summary: String| Touchpoint::of_envelope(envelope, kind, summary);
    record.touch(touch("deal.unwound", format!("{} unwound (deal {})", deal.vehicle.describe(), deal.deal_id)));
    let first_service = first_service_task_id(&deal.deal_id);
    for t in state.tasks.iter().filter(|t| t.task_id == first_service && t.is_open()) {
        record.touch(touch("task.closed", format!("{} closed: the deal was unwound", t.task_id)));
        record.tasks.push(t.closed());
    }
    let check = |c: &&VisitCheck| {
        c.about == CheckAbout::Delivery && c.ro_number == deal.deal_id && c.status == CheckStatus::Scheduled
    };
    for c in state.checks.iter().filter(check) {
        record.touch(touch("delivery_check.cancelled", format!("{}: not asked, the deal was unwound", c.label())));
        record.checks.push(c.ended("the deal was unwound"));
    }
    // The vehicle went back: no service due or maturity work on it.
    if let Some(v) = state
        .vehicles
        .iter()
        .find(|v| v.vehicle.vin == deal.vehicle.vin && v.maturity.as_ref().is_none_or(|m| m.deal_id == deal.deal_id))
    {
        let mut v = v.clone();
        v.gone(at, format!("deal {} unwound", deal.deal_id));
        record.vehicles.push(v);
    }
    record.profile = Some((profile, state.version));
    decided.record(record)
}

/// The first-service task of a deal.
fn first_service_task_id(deal_id: &str) -> String {
    format!("first-service-{deal_id}")
}

#[cfg(test)]
mod tests;
