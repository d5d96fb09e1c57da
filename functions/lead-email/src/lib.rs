//! `lead-email`: a fresh lead answered in minutes. Internet leads reach
//! every store as ADF mail from OEM sites and lead providers; an SES receipt
//! rule puts the mail to a store's lead address on the `lead-email` topic.
//!
//! Trigger: SES receipt notifications (the SNS action, `UTF-8`: the raw MIME
//! message in `content`) on `lead-email`, through the function's SQS queue.
//! Reads: the store whose `lead_addresses` holds one of the notification's
//! `receipt.recipients` (the envelope addresses: a forwarded or BCC'd lead
//! still matches; cached), the customer's current state (one Query).
//! Decides ([`decide`], pure), from the lead ([`adf::from_mime`]):
//! - the lead on the customer's one record (a new record for a new number):
//!   the name when the record has none, the email, and the lead (vehicle of
//!   interest, provider, comments) on the profile and the timeline;
//! - a `reply` text at once thanking them for asking about the vehicle and
//!   saying when sales will be in touch;
//! - a `lead` task for the store's `sales` owner, due 15 minutes of open
//!   hours later (alerted like every new task), and the day's fact.
//!
//! Claimed on the SES `messageId` and on the ADF `id` and `source`: the
//! same lead twice (a resend, a second provider copy) is one lead. A lead
//! without a phone number gets the task alone, on a record keyed by its mail
//! address ([`Phone::of_email`]). A mail to no store's lead address, one
//! without an ADF document, or one whose contact has neither a number nor an
//! address is bad input (the DLQ, with the reason; never the address or number).

use chrono::{DateTime, Utc};
use tracing::info;

pub mod adf;
pub mod ses;

use custops::batch::Message;
use custops::function::SqsFunction;
use custops::model::{Customer, CustomerState, Fact, FactKind, LeadInterest, LeadSlot, Task, TaskKind, Touchpoint};
use custops::outbound::{plan, TextRequest};
use custops::store::{Department, StoreConfig};
use custops::templates;
use custops::text::MessageClass;
use custops::{Applied, Change, CustomerId, Deps, Phone, ProcessError, RecordChange};

/// How soon a person must reach a new lead, in minutes of open hours.
pub const LEAD_DUE_MINUTES: u32 = 15;

/// The function (its code is [`decide`]; see [`SqsFunction`]).
pub struct LeadEmail;

impl SqsFunction for LeadEmail {
    const NAME: &'static str = "lead-email";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        let invalid = |event_id: &str, reason: String| ProcessError::Invalid { event_id: event_id.to_owned(), reason };
        let mail = ses::Notification::parse(&message.body).map_err(|r| invalid(&message.message_id, r))?;
        let event_id = event_id(&mail);
        tracing::Span::current().record("event_id", event_id.as_str());
        let mut store = None;
        for address in &mail.receipt.recipients {
            if let Some(s) = deps.store_by_lead_address(address).await? {
                store = Some(s);
                break;
            }
        }
        let store = store.ok_or_else(|| {
            invalid(&event_id, format!("no store takes leads at the {} recipient(s)", mail.receipt.recipients.len()))
        })?;
        let lead = adf::from_mime(mail.content()).map_err(|e| invalid(&event_id, e.to_string()))?;
        // A lead without a number is keyed by its mail address (the task alone).
        let phone = lead
            .phones
            .iter()
            .find_map(|p| Phone::parse(p).ok())
            .or_else(|| lead.email.as_deref().and_then(Phone::of_email))
            .ok_or_else(|| {
                invalid(&event_id, "the lead's contact has neither a phone number nor a mail address".into())
            })?;
        if store.owns_number(&phone) {
            return Err(ProcessError::Ignored {
                event_id,
                reason: "the lead's number is one of the store's own: not a customer".into(),
            });
        }
        let customer = CustomerId::new(&store.store_id, phone);
        let state = deps.table.customer_state(&customer).await?;
        let now = deps.clock.now();
        // The hour's lead texts are read only for a lead that could be texted.
        let taken = match mail.trust(|s| store.trusts_lead_sender(s)) {
            ses::Trust::Trusted if customer.phone.email().is_none() => {
                deps.table.lead_slots_taken(&store.store_id, &LeadSlot::hour_of(now)).await?
            }
            _ => 0,
        };
        let change = decide(&store, &mail, &lead, &customer, &state, taken, now);
        if deps.apply(&store, change).await? != Applied::Duplicate {
            info!(provider = lead.provider.as_deref().unwrap_or("unknown"), "lead recorded");
        }
        Ok(())
    }
}

/// The idempotency key of a lead mail: its SES message id.
pub fn event_id(mail: &ses::Notification) -> String {
    format!("lead#{}", mail.mail.message_id)
}

/// The claim on the lead itself: its ADF `id` and `source` (the same lead
/// mailed twice, under two message ids, is one lead).
pub fn natural_key(store: &StoreConfig, lead: &adf::Lead) -> Option<String> {
    let id = lead.id.as_deref()?;
    Some(format!("lead#{}#{}#{id}", store.store_id, lead.source.as_deref().unwrap_or("")))
}

/// When sales will be in touch, as the customer reads it: "in the next few
/// minutes" while the store is open, else when it opens ("when we open at
/// 7:00 AM", "when we open Monday at 7:00 AM").
fn when(store: &StoreConfig, now: DateTime<Utc>) -> String {
    match store.next_opening(now) {
        _ if store.is_open(now) => "in the next few minutes".into(),
        Some(opens) if opens.date_naive() == store.local(now).date_naive() => {
            format!("when we open at {}", opens.format("%-I:%M %p"))
        }
        Some(opens) => format!("when we open {}", opens.format("%A at %-I:%M %p")),
        None => "soon".into(),
    }
}

/// The longest first name a lead may put in a text.
pub const MAX_NAME: usize = 30;
/// The longest vehicle a lead may put in a text.
pub const MAX_VEHICLE: usize = 40;

/// A lead's name as a text may carry it (CONTRACT section 4): letters, with
/// spaces, hyphens and apostrophes within, at most [`MAX_NAME`]
/// characters; none otherwise (the text says "there").
pub fn textable_name(raw: Option<&str>) -> Option<String> {
    let name = raw?.split_whitespace().collect::<Vec<_>>().join(" ");
    let inner = |c: char| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '\u{2019}');
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name.chars().all(inner)
        && name.chars().next().is_some_and(char::is_alphabetic)
        && name.chars().last().is_some_and(char::is_alphabetic);
    ok.then_some(name)
}

/// A lead's vehicle as a text may carry it: year, make and model, at most
/// [`MAX_VEHICLE`] characters of letters, digits, spaces and `-&+'`, and
/// nothing like a link; none otherwise ("the vehicle you asked about").
pub fn textable_vehicle(interest: &adf::Interest) -> Option<String> {
    let words = interest.describe()?;
    let lower = words.to_lowercase();
    let ok = words.chars().count() <= MAX_VEHICLE
        && words.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '&' | '+' | '\''))
        && !lower.contains("www")
        && !lower.contains("http");
    ok.then_some(words)
}

/// Why a lead gets no text, or none: trust first (a stranger's mail is
/// never texted), then where the number is, then the lead caps.
fn withheld(
    store: &StoreConfig,
    trust: &ses::Trust,
    customer: &CustomerId,
    state: &CustomerState,
    taken: u32,
    now: DateTime<Utc>,
) -> Option<String> {
    if let Some(why) = trust.reason() {
        return Some(why.to_owned());
    }
    if !customer.phone.same_country(&store.sms_number) {
        return Some("the number is not of the store's own country".into());
    }
    let day = chrono::Duration::hours(24);
    let leads = state.profile.as_ref().map(|p| p.leads.as_slice()).unwrap_or_default();
    if leads.iter().any(|l| l.texted && l.at <= now && now - l.at < day) {
        return Some("a lead text went to this number in the last 24 hours".into());
    }
    if taken >= store.lead_texts_per_hour {
        return Some(format!("the store's {} lead texts of this hour are spent", store.lead_texts_per_hour));
    }
    None
}

/// What one lead changes, decided from the customer's record and the
/// store's lead texts taken this hour (`taken`). Pure.
pub fn decide(
    store: &StoreConfig,
    mail: &ses::Notification,
    lead: &adf::Lead,
    customer: &CustomerId,
    state: &CustomerState,
    taken: u32,
    now: DateTime<Utc>,
) -> Change {
    let event_id = event_id(mail);
    let trust = mail.trust(|s| store.trusts_lead_sender(s));
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let mut record = RecordChange::new(customer.clone());
    let mut profile =
        state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, customer.phone.clone(), now));
    if profile.first_name.is_none() {
        // Only a name a text may carry goes on the record (every text uses it).
        profile.first_name = textable_name(lead.first_name.as_deref());
        profile.last_name = profile.first_name.as_ref().and(textable_name(lead.last_name.as_deref()));
    }
    if profile.email.is_none() {
        profile.email = lead.email.clone();
    }
    let vehicle = lead.vehicle.as_ref().and_then(adf::Interest::describe);
    let interest = lead.vehicle.as_ref().and_then(|v| {
        let words: Vec<&str> = [&v.status, &v.interest].into_iter().filter_map(|w| w.as_deref()).collect();
        (!words.is_empty()).then(|| words.join(", "))
    });
    let no_text = match customer.phone.email() {
        Some(_) => None,
        None => withheld(store, &trust, customer, state, taken, now),
    };
    let texts = customer.phone.email().is_none() && no_text.is_none();
    let first_name = profile.first_name.clone().unwrap_or_else(|| "there".into());
    let name =
        [lead.first_name.as_deref(), lead.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    profile.asked(LeadInterest {
        at: now,
        vehicle: vehicle.clone(),
        vin: lead.vehicle.as_ref().and_then(|v| v.vin.clone()),
        interest: interest.clone(),
        provider: lead.provider.clone(),
        comments: lead.comments.clone(),
        texted: texts,
    });
    profile.updated_at = now;
    record.profile = Some((profile, state.version));

    let about = vehicle.clone().unwrap_or_else(|| "a vehicle".into());
    let how = interest.map(|i| format!(" ({i})")).unwrap_or_default();
    let via = lead.provider.as_deref().map(|p| format!(" via {p}")).unwrap_or_default();
    let said = lead.comments.as_deref().map(|c| format!(": {c:?}")).unwrap_or_default();
    record.touch(touch("lead.received", format!("new lead{via} about {about}{how}{said}")));

    let due = store.after_open_minutes(now, LEAD_DUE_MINUTES);
    let task = Task::open(
        customer,
        TaskKind::Lead,
        format!("lead-{}", mail.mail.message_id),
        (store.owners.sales.clone(), Department::Sales),
        due,
        now,
    )
    .note(format!(
        "new lead{via}: {} about {about}{how}{}.{} Reach them while it is fresh",
        if name.is_empty() { "a customer".to_owned() } else { name },
        lead.comments.as_deref().map(|c| format!("; they wrote {c:?}")).unwrap_or_default(),
        if trust == ses::Trust::Trusted { "" } else { " Not from a listed, authenticated sender: check it is real." }
    ));
    record.touch(touch("task.created", format!("lead for {} due {}", store.owners.sales, due.to_rfc3339())));

    record.tasks.push(task.clone());
    let fact = Fact::new(store, FactKind::LeadReceived, &event_id, now).department(Department::Sales).task(&task);
    let mut change = Change::new(&event_id).fact(fact);
    // Only a trusted lead's ADF id is its identity: a stranger's mail never
    // makes a provider's real lead a duplicate.
    if let (ses::Trust::Trusted, Some(key)) = (&trust, natural_key(store, lead)) {
        change = change.natural_key(key);
    }
    if customer.phone.email().is_some() {
        record.touch(touch("lead.no_phone", "no phone number in the lead: sales reaches them by mail".into()));
        return change.record(record);
    }
    if let Some(why) = no_text {
        record.touch(touch("text.withheld", format!("no lead thank-you: {why}; the task alone")));
        return change.record(record);
    }
    let vehicle = lead.vehicle.as_ref().and_then(textable_vehicle);
    let text = plan(
        TextRequest::new(
            store,
            &customer.phone,
            MessageClass::Reply,
            store.render(
                &templates::LEAD_THANKS,
                &[
                    ("first_name", &first_name),
                    ("vehicle", vehicle.as_deref().unwrap_or("vehicle you asked about")),
                    ("when", &when(store, now)),
                ],
            ),
            format!("lead#{}", mail.mail.message_id),
            LeadEmail::NAME,
            &event_id,
        ),
        &state.consent,
        &state.sends,
        now,
    );
    let (kind, summary) = text.summary("lead thank-you");
    record.touch(touch(kind, summary));
    if text.text().is_none() {
        // Suppressed (an opt-out): no lead text went.
        if let Some(asked) = record.profile.as_mut().and_then(|(p, _)| p.leads.last_mut()) {
            asked.texted = false;
        }
    } else {
        // The hour's next slot: two leads that saw it free cannot both take it.
        change.lead_slot = LeadSlot::next(&store.store_id, now, taken, store.lead_texts_per_hour, &event_id);
    }
    record.text = Some((text, state.sends.clone()));
    change.record(record)
}

#[cfg(test)]
mod tests;
