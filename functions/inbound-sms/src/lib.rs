//! `inbound-sms`: what customers text the store.
//!
//! Trigger: AWS End User Messaging two-way SMS payloads on the `inbound-sms`
//! topic, through the function's SQS queue.
//! Reads: the store by its texting number (`destinationNumber`, cached), the
//! customer's current state (one Query).
//! Decides ([`decide`], pure), reading the text as [`revocation::read`] does:
//! - an opt-out keyword (STOP, UNSUBSCRIBE, ...): the consent ledger (opted
//!   out, when, on what authority); End User Messaging answers it itself;
//! - an opt-out in the customer's own words ("please stop texting me",
//!   "wrong number", "no me envíen más mensajes"; FCC 24-24): the same, and
//!   one `reply` confirmation naming the store, no marketing, sent at once
//!   (within the 5 minutes the rule allows, or never);
//! - a reply that may mean it ("not interested", "I sold that car"):
//!   marketing to the customer paused on the consent ledger, and the text a
//!   reply task flagged for a person (closing it lifts the pause);
//! - an opt-in keyword (START, UNSTOP): the opt-out cleared;
//! - a rating 1-5 ([`revocation::score`]) within three days of a post-visit
//!   check: the answer on the check and the day's facts; 1 or 2 a
//!   `heat_case` task for the store's `service` owner, due at once (and
//!   alerted), no text; 4 or 5 one `reply` thanking them, with the store's
//!   `review_url` when it has one; 3 recorded;
//! - anything else: on the timeline, with a reply task for the store's main
//!   owner (a lead record for an unknown number).
//!
//! Applies it in one transaction, claimed on `inboundMessageId`.

use chrono::{DateTime, Duration, Utc};
use tracing::info;

pub mod revocation;

use custops::batch::Message;
use custops::event::InboundSms;
use custops::function::SqsFunction;
use custops::model::{
    CheckAbout, CheckStatus, Customer, CustomerState, Fact, FactKind, LastKeyword, MarketingPause, Task, TaskKind,
    Touchpoint, VisitCheck, OPTED_IN, OPTED_OUT,
};
use custops::outbound::{plan, TextRequest};
use custops::store::{Department, StoreConfig};
use custops::templates;
use custops::text::MessageClass;
use custops::{Applied, Change, CustomerId, Deps, Phone, ProcessError, RecordChange};
use revocation::Reading;

/// Keywords that opt a number out (the End User Messaging defaults).
pub const OPT_OUT: &[&str] = revocation::OPT_OUT_KEYWORDS;
/// Keywords that opt a number back in.
pub const OPT_IN: &[&str] = &["START", "UNSTOP", "SUBSCRIBE"];
pub const HELP: &[&str] = &["HELP", "INFO"];
/// How soon a reply to a customer's text is due.
pub const REPLY_DUE_MINUTES: i64 = 15;

/// What a message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// An opt-out keyword.
    OptOut,
    /// An opt-out in the customer's own words.
    OptOutInWords,
    /// A reply that may mean "stop".
    MayOptOut,
    OptIn,
    Help,
    Message,
}

/// What the customer typed, as a keyword: the body, without case or
/// surrounding space and punctuation. Never `messageKeyword`: AWS documents it
/// as the keyword registered for the receiving number (their example is
/// `"JOIN"` for a body of `"EXAMPLE"`), not what the customer sent.
pub fn keyword(sms: &InboundSms) -> String {
    sms.message_body.trim().trim_end_matches(['.', '!']).to_uppercase()
}

/// The intent of a text, from its body.
pub fn intent(sms: &InboundSms) -> Intent {
    let word = keyword(sms);
    match revocation::read(&sms.message_body) {
        Reading::Keyword => Intent::OptOut,
        Reading::Revokes => Intent::OptOutInWords,
        Reading::MayRevoke => Intent::MayOptOut,
        Reading::Other if OPT_IN.contains(&word.as_str()) => Intent::OptIn,
        Reading::Other if HELP.contains(&word.as_str()) => Intent::Help,
        Reading::Other => Intent::Message,
    }
}

/// The confirmation of an opt-out in the customer's words: names the store,
/// nothing to buy (FCC 24-24 allows one, within 5 minutes, with no marketing),
/// in the language the customer wrote in (English or Spanish).
pub fn confirmation(store: &StoreConfig, customer_wrote: &str) -> String {
    if revocation::spanish(customer_wrote) {
        format!("{}: no le enviaremos más mensajes. Responda START para volver a recibirlos.", store.name)
    } else {
        format!("{}: you're opted out and won't get more texts from us. Reply START to opt back in.", store.name)
    }
}

/// The function (its code is [`decide`]; see [`SqsFunction`]).
pub struct InboundSmsHandler;

impl SqsFunction for InboundSmsHandler {
    const NAME: &'static str = "inbound-sms";

    async fn process(deps: &Deps, message: Message) -> Result<(), ProcessError> {
        if message.event_type.as_deref() == Some(REPLY_DUE.as_str()) {
            return escalate_due(deps, &message).await;
        }
        let sms = InboundSms::parse(&message.body)
            .map_err(|reason| ProcessError::Invalid { event_id: message.message_id.clone(), reason })?;
        let event_id = event_id(&sms);
        tracing::Span::current().record("event_id", event_id.as_str());
        let number = |what: &str, raw: &str| {
            Phone::parse(raw)
                .map_err(|e| ProcessError::Invalid { event_id: event_id.clone(), reason: format!("{what}: {e}") })
        };
        let from = number("originationNumber", &sms.origination_number)?;
        let store = deps.store_by_number(&number("destinationNumber", &sms.destination_number)?, &event_id).await?;
        let customer = CustomerId::new(&store.store_id, from);
        let state = deps.table.customer_state(&customer).await?;
        let now = deps.clock.now();
        let change = decide(&store, &sms, &customer, &state, message.sent_at.unwrap_or(now), now);
        if deps.apply(&store, change).await? != Applied::Duplicate {
            info!(intent = ?intent(&sms), "inbound text recorded");
        }
        Ok(())
    }
}

/// The `event_type` of a reply task whose wait ran out, as the scheduler
/// hands it over (`task.due`).
pub static REPLY_DUE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| custops::handoff::due_event_type(<Task as custops::entity::Entity>::KIND));

/// A reply task whose `escalate_at` came, handed over by the scheduler:
/// decided as of then, from the record as it is now.
async fn escalate_due(deps: &Deps, message: &Message) -> Result<(), ProcessError> {
    let customer_of = |t: &Task| CustomerId::new(&t.store_id, t.phone.clone());
    let due =
        deps.load_due(message, "task", |t: &Task| escalation_key(&customer_of(t), &t.task_id), customer_of).await?;
    let task_id = &due.work.task_id;
    match decide_escalation(&due.store, &due.customer, &due.state, task_id, due.at) {
        Some(change) => {
            if deps.as_of(due.at).apply(&due.store, change).await? != Applied::Duplicate {
                info!(task_id = %task_id, "a customer's text waited past the store's reply time: escalated");
            }
        }
        None => info!(task_id = %task_id, "answered or closed in time: nothing to escalate"),
    }
    Ok(())
}

/// The idempotency key of escalating a reply task (once).
pub fn escalation_key(customer: &CustomerId, task_id: &str) -> String {
    format!("escalate#{}#{task_id}", customer.token())
}

/// A reply task whose wait ran out at `at`: still open and unanswered, it is
/// escalated (marked, on the timeline, counted, and the owner and the
/// store's managers told); answered, closed or escalated already, nothing. Pure.
pub fn decide_escalation(
    store: &StoreConfig,
    customer: &CustomerId,
    state: &CustomerState,
    task_id: &str,
    at: DateTime<Utc>,
) -> Option<Change> {
    let task = state.tasks.iter().find(|t| t.task_id == task_id && t.awaits_escalation())?;
    if task.escalate_at.is_some_and(|due| due > at) {
        // Moved later by a newer text: the scheduler finds it again then.
        return None;
    }
    let key = escalation_key(customer, task_id);
    let escalated = Task { escalated_at: Some(at), ..task.clone() };
    let mut record = RecordChange::new(customer.clone());
    record.rests_on = Some(state.version);
    record.touch(Touchpoint::of_event(
        at,
        &key,
        "task.escalated",
        format!(
            "{task_id}: the customer's text waited {} open minutes with no answer; {} and the managers were told",
            store.reply_sla_minutes, task.owner
        ),
    ));
    record.tasks.push(escalated.clone());
    Some(
        Change::new(&key)
            .fact(Fact::new(store, FactKind::ReplyEscalated, &key, at).task(&escalated))
            .alerts(custops::alerts::Alert::escalated(
                &escalated,
                store,
                state.profile.as_ref().and_then(|c| c.first_name.as_deref()),
            ))
            .record(record),
    )
}

/// The idempotency key of an inbound text: its message id.
pub fn event_id(sms: &InboundSms) -> String {
    format!("sms#{}", sms.inbound_message_id)
}

/// What one inbound text changes, decided from the sender's record. Pure.
/// `sent_at`: when the text entered custops (its SQS `SentTimestamp`, the
/// same on every retry); STOP and START take effect in that order.
pub fn decide(
    store: &StoreConfig,
    sms: &InboundSms,
    sender: &CustomerId,
    state: &CustomerState,
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Change {
    let event_id = event_id(sms);
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, &event_id, kind, summary);
    let word = keyword(sms);
    let mut record = RecordChange::new(sender.clone());
    let mut change = Change::new(&event_id);
    let intent = intent(sms);
    let superseded = state.consent.keyword.as_ref().is_some_and(|last| sent_at < last.at);
    let message = &sms.inbound_message_id;
    let source = match intent {
        Intent::OptOutInWords => format!("sms free text (message {message})"),
        _ => format!("sms keyword {word} (message {message})"),
    };
    let keyword = |opted_out: bool| Some(LastKeyword { at: sent_at, opted_out, source: source.clone() });
    // A rating of a visit just asked about is its answer, not a reply.
    if let (Intent::Message, Some((check, score))) = (intent, answers_check(sms, state, sent_at.min(now))) {
        return answer(store, sms, check, score, state, &event_id, now, change, &mut record).record(record);
    }
    match intent {
        Intent::OptOut | Intent::OptOutInWords | Intent::OptIn if superseded => {
            // Processed late (a retry, a redrive, a race): the customer's
            // later keyword stands; the history gets this one in its place.
            if let Some(consent) = state.consent.with_late_keyword(sent_at, intent != Intent::OptIn, &source) {
                record.consent = Some((consent, state.consent_version));
            }
            let summary =
                format!("texted {word} at {}, before the keyword the ledger follows: no change", sent_at.to_rfc3339());
            record.touch(touch("consent.late", summary));
        }
        Intent::OptOut | Intent::OptOutInWords => {
            let how = if intent == Intent::OptOut {
                format!("texting {word}")
            } else {
                format!("writing {:?}", sms.message_body)
            };
            let mut consent = state.consent.clone();
            let newly = !consent.opted_out();
            if newly {
                consent.opted_out_at = Some(sent_at);
                consent.opt_out_source = Some(source.clone());
                consent.record(sent_at, OPTED_OUT, source.clone());
            }
            consent.keyword = keyword(true);
            record.consent = Some((consent, state.consent_version));
            record.touch(touch("consent.opted_out", format!("opted out by {how}")));
            if newly {
                // The day counts numbers newly opted out, not every STOP.
                change = change.fact(Fact::new(store, FactKind::SmsOptOut, &event_id, now));
            }
            // End User Messaging answers the keywords itself; an opt-out in
            // words gets one confirmation from the store, at once.
            if newly && intent == Intent::OptOutInWords {
                let text = plan(
                    TextRequest {
                        confirms_opt_out: true,
                        ..TextRequest::new(
                            store,
                            &sender.phone,
                            MessageClass::Reply,
                            confirmation(store, &sms.message_body),
                            format!("opt-out-confirmation#{message}"),
                            InboundSmsHandler::NAME,
                            &event_id,
                        )
                    },
                    &state.consent,
                    &state.sends,
                    now,
                );
                let (kind, summary) = text.summary("opt-out confirmation");
                record.touch(touch(kind, summary));
                record.text = Some((text, state.sends.clone()));
            }
        }
        Intent::OptIn => {
            let mut consent = state.consent.clone();
            if consent.opted_out() {
                // Only a change goes on the ledger's history.
                consent.record(sent_at, OPTED_IN, source.clone());
            }
            consent.opted_out_at = None;
            consent.opt_out_source = None;
            consent.keyword = keyword(false);
            record.consent = Some((consent, state.consent_version));
            record.touch(touch("consent.opted_in", format!("opted back in by texting {word}")));
        }
        Intent::Help => record.touch(touch("sms.help", "asked for help".into())),
        Intent::Message | Intent::MayOptOut => {
            let mut customer =
                state.profile.clone().unwrap_or_else(|| Customer::lead(&store.store_id, sender.phone.clone(), now));
            customer.updated_at = now;
            // A marketing text still waiting for its window is withdrawn.
            customer.replied_at = Some(sent_at.min(now));
            record.profile = Some((customer, state.version));
            let task = state.open_task(TaskKind::ReplySms).cloned().unwrap_or_else(|| {
                Task::open(
                    sender,
                    TaskKind::ReplySms,
                    format!("reply-{}", sms.inbound_message_id),
                    (store.owners.main.clone(), Department::Main),
                    now + Duration::minutes(REPLY_DUE_MINUTES),
                    now,
                )
                .note("answer the customer's text")
            });
            // A new text waits `reply_sla_minutes` of open hours for a person
            // from now, on an open task whose clock has not run yet.
            let task = if task.escalated_at.is_none() && task.escalate_at.is_none_or(|at| at < now) {
                task.escalate_at(store.after_open_minutes(now, store.reply_sla_minutes))
            } else {
                task
            };
            let task = if intent == Intent::MayOptOut {
                // Marketing waits for a person: this may be a revocation.
                if !state.consent.marketing_paused() {
                    let mut consent = state.consent.clone();
                    consent.marketing_paused = Some(MarketingPause {
                        at: now,
                        task_id: task.task_id.clone(),
                        why: "the customer's reply may mean stop".into(),
                    });
                    consent.record(now, "marketing_paused", format!("sms free text (message {message})"));
                    record.consent = Some((consent, state.consent_version));
                }
                record.touch(touch(
                    "consent.marketing_paused",
                    format!("marketing paused until a person closes {}: the reply may mean stop", task.task_id),
                ));
                task.note(format!(
                    "FLAGGED: the customer may be asking for no more texts ({:?}). Read it, answer, and close this task; marketing to them is paused until then",
                    sms.message_body
                ))
            } else {
                task
            };
            change = change.fact(Fact::new(store, FactKind::SmsReceived, &event_id, now).task(&task));
            record.tasks.push(task);
            record.touch(touch("sms.received", sms.message_body.clone()));
        }
    }
    change.record(record)
}

/// The check (post-visit or delivery) a text answers, and its rating: a 1-5 within
/// three days of the question.
pub fn answers_check<'a>(
    sms: &InboundSms,
    state: &'a CustomerState,
    sent_at: DateTime<Utc>,
) -> Option<(&'a VisitCheck, u8)> {
    let score = revocation::score(&sms.message_body)?;
    let check = state.checks.iter().filter(|c| c.takes_answer_at(sent_at)).max_by_key(|c| c.asked_at)?;
    Some((check, score))
}

/// An answer to a check: on the check, the timeline and the day's facts;
/// 1-2 a heat case (no text: a person calls), for service after a visit and
/// for sales after a delivery; 4-5 one thank-you (with the review link); 3
/// recorded.
#[allow(clippy::too_many_arguments)]
fn answer(
    store: &StoreConfig,
    sms: &InboundSms,
    check: &VisitCheck,
    score: u8,
    state: &CustomerState,
    event_id: &str,
    now: DateTime<Utc>,
    mut change: Change,
    record: &mut RecordChange,
) -> Change {
    let touch = |kind: &str, summary: String| Touchpoint::of_event(now, event_id, kind, summary);
    let customer = record.customer.clone();
    let of = &check.ro_number;
    let (answered, rated, fact, owner, thanks, thanks_key) = match check.about {
        CheckAbout::Visit => (
            "visit_check.answered",
            format!("rated the visit of {of} {score} of 5"),
            FactKind::VisitAnswered,
            (store.owners.service.clone(), Department::Service),
            &templates::VISIT_THANKS,
            format!("visit-thanks#{of}"),
        ),
        CheckAbout::Delivery => (
            "delivery_check.answered",
            format!("rated the delivery of deal {of} {score} of 5"),
            FactKind::DeliveryAnswered,
            (store.owners.sales.clone(), Department::Sales),
            &templates::DELIVERY_THANKS,
            format!("delivery-thanks#{of}"),
        ),
    };
    record.touch(touch(answered, rated));
    record.checks.push(VisitCheck {
        status: CheckStatus::Ended,
        answer: Some(score),
        outcome: Some(format!("answered {score}")),
        ..check.clone()
    });
    let answer_fact = Fact::new(store, fact, event_id, now).score(score);
    let first_name = state.profile.as_ref().and_then(|p| p.first_name.clone()).unwrap_or_else(|| "there".into());
    let vehicle = check.vehicle.as_deref().unwrap_or("vehicle");
    match score {
        1 | 2 => {
            let what = match check.about {
                CheckAbout::Visit => "the visit for the",
                CheckAbout::Delivery => "how their new",
            };
            let owner_name = owner.0.clone();
            let task = Task::open(&customer, TaskKind::HeatCase, format!("heat-case-{of}"), owner, now, now).note(
                format!("{first_name} rated {what} {vehicle} {score} of 5 ({:?}). Call them today.", sms.message_body),
            );
            let task = match check.about {
                CheckAbout::Visit => task.about_ro(Some(of)),
                CheckAbout::Delivery => task,
            };
            record.touch(touch("task.created", format!("heat case for {owner_name}: call today")));
            // The post-visit check's heat cases are the report's
            // `post_visit.heat_cases`; a delivery's is on its answer's fact.
            change = match check.about {
                CheckAbout::Visit => {
                    change.fact(answer_fact).fact(Fact::new(store, FactKind::HeatCase, event_id, now).task(&task))
                }
                CheckAbout::Delivery => change.fact(answer_fact.task(&task)),
            };
            record.tasks.push(task);
            return change;
        }
        4 | 5 => {
            let review =
                store.review_url.as_ref().map(|u| format!(" Would you share it in a review? {u}")).unwrap_or_default();
            let text = plan(
                TextRequest::new(
                    store,
                    &customer.phone,
                    MessageClass::Reply,
                    store.render(thanks, &[("first_name", &first_name), ("vehicle", vehicle), ("review", &review)]),
                    thanks_key,
                    InboundSmsHandler::NAME,
                    event_id,
                ),
                &state.consent,
                &state.sends,
                now,
            );
            let (kind, summary) = text.summary("thank-you");
            record.touch(touch(kind, summary));
            record.text = Some((text, state.sends.clone()));
        }
        _ => {}
    }
    change.fact(answer_fact)
}

#[cfg(test)]
mod tests;
