//! The rules of an inbound text, on `decide` (no AWS).

use custops::fixtures::{at, customer, northside};
use custops::model::Consent;
use custops::outbound::Plan;
use serde_json::json;

use super::*;

const SENDER: &str = "+15125550188";

fn sms(keyword: Option<&str>, body: &str) -> InboundSms {
    serde_json::from_value(json!({
        "originationNumber": SENDER, "destinationNumber": "+15125550100",
        "messageKeyword": keyword, "messageBody": body, "inboundMessageId": "m-1"
    }))
    .unwrap()
}

fn decided(message: &InboundSms, state: &CustomerState) -> Change {
    let now = at("2026-11-23T16:05:00Z");
    decide(&northside(), message, &customer(SENDER), state, now, now)
}

/// Decides `body`, sent at `sent_at`, on `state`; returns the ledger after it.
fn keyword_sent_at(body: &str, sent_at: &str, state: &CustomerState) -> (Change, Consent) {
    let change =
        decide(&northside(), &sms(None, body), &customer(SENDER), state, at(sent_at), at("2026-11-23T16:10:00Z"));
    let consent = change.records[0].consent.clone().map(|(c, _)| c).unwrap_or_else(|| state.consent.clone());
    (change, consent)
}

/// STOP and START apply in the order the customer sent them (their
/// `SentTimestamp` at SQS, the same on every retry), not the order they are
/// processed in: a retried START never undoes a later STOP.
#[test]
fn a_start_sent_before_a_stop_that_was_processed_first_changes_nothing() {
    let (_, stopped) = keyword_sent_at("STOP", "2026-11-23T16:02:00Z", &CustomerState::default());
    assert_eq!(stopped.opted_out_at, Some(at("2026-11-23T16:02:00Z")), "opted out when they sent it");
    let state = CustomerState { consent: stopped, ..Default::default() };
    // The START was sent a minute before the STOP; SQS retried it.
    let (late, after) = keyword_sent_at("START", "2026-11-23T16:01:00Z", &state);
    assert!(after.opted_out(), "still opted out");
    assert!(late.records[0].consent.is_none(), "the ledger is not written");
    assert!(late.records[0].touchpoints.iter().any(|t| t.kind == "consent.late"));

    // And the other way round: a STOP sent before a START processed first.
    let (_, started) = keyword_sent_at("START", "2026-11-23T16:03:00Z", &state);
    assert!(!started.opted_out());
    let state = CustomerState { consent: started, ..Default::default() };
    let (_, after) = keyword_sent_at("STOP", "2026-11-23T16:02:30Z", &state);
    assert!(!after.opted_out(), "the customer's last word was START");
}

/// A START that found the number opted in changes nothing then; a STOP the
/// customer sent before it, committed after it (a retry, a lost race),
/// leaves the number opted in and puts both on the history in the
/// customer's order.
#[test]
fn a_stop_committed_after_a_later_start_puts_both_on_the_history_in_order() {
    let (_, started) = keyword_sent_at("START", "2026-11-23T16:03:00Z", &CustomerState::default());
    assert!(started.history.is_empty(), "nothing changed yet");
    let state = CustomerState { consent: started, consent_version: Some(1), ..Default::default() };
    let (late, after) = keyword_sent_at("STOP", "2026-11-23T16:02:00Z", &state);
    assert!(!after.opted_out(), "the customer's last word was START");
    assert_eq!(late.records[0].consent.as_ref().map(|(_, v)| *v), Some(Some(1)), "against the ledger it read");
    assert!(late.facts.is_empty(), "not an opt-out of the day: the number never stopped getting texts");
    let history: Vec<(&str, DateTime<Utc>)> = after.history.iter().map(|c| (c.change.as_str(), c.at)).collect();
    assert_eq!(history, [("opted_out", at("2026-11-23T16:02:00Z")), ("opted_in", at("2026-11-23T16:03:00Z"))]);

    // The same STOP once more (SQS again) adds nothing.
    let state = CustomerState { consent: after.clone(), consent_version: Some(2), ..Default::default() };
    let (again, _) = keyword_sent_at("STOP", "2026-11-23T16:02:00Z", &state);
    assert!(again.records[0].consent.is_none());
    // A START sent between them is on the history already (16:03 opted in).
    let (between, _) = keyword_sent_at("START", "2026-11-23T16:02:30Z", &state);
    let consent = between.records[0].consent.clone().map(|(c, _)| c).unwrap();
    assert_eq!(consent.history.len(), 3, "opted in at 16:02:30, then again at 16:03");
    assert!(!consent.opted_out());
}

#[test]
fn keywords_are_matched_without_case_or_punctuation() {
    assert_eq!(intent(&sms(None, "STOP")), Intent::OptOut);
    assert_eq!(intent(&sms(None, " stop. ")), Intent::OptOut);
    assert_eq!(intent(&sms(None, "Unsubscribe")), Intent::OptOut);
    assert_eq!(intent(&sms(None, "start")), Intent::OptIn);
    assert_eq!(intent(&sms(None, "HELP")), Intent::Help);
    assert_eq!(intent(&sms(None, "Can you stop by at 3?")), Intent::Message);
}

/// AWS's documented two-way payload: `messageKeyword` is the number's
/// registered keyword ("JOIN"), not what the customer typed.
#[test]
fn intent_comes_from_the_body_not_the_registered_keyword() {
    assert_eq!(intent(&sms(Some("JOIN"), "STOP")), Intent::OptOut);
    assert_eq!(intent(&sms(Some("JOIN"), "EXAMPLE")), Intent::Message);
    assert_eq!(intent(&sms(Some("STOP"), "When is my car ready?")), Intent::Message);
}

#[test]
fn stop_opts_the_number_out_with_when_and_how_against_the_ledger_as_read() {
    let change = decided(&sms(Some("JOIN"), "Stop"), &CustomerState::default());
    let (consent, read) = change.records[0].consent.clone().unwrap();
    assert_eq!(consent.opted_out_at, Some(at("2026-11-23T16:05:00Z")));
    assert_eq!(consent.opt_out_source.as_deref(), Some("sms keyword STOP (message m-1)"));
    assert_eq!(read, None, "guarded by the ledger as read: none yet");
    assert_eq!(change.facts[0].kind, FactKind::SmsOptOut);
    assert!(change.records[0].tasks.is_empty() && change.records[0].profile.is_none());
}

#[test]
fn a_second_stop_keeps_the_first_opt_out_time() {
    let first = at("2026-11-01T00:00:00Z");
    let state = CustomerState {
        consent: Consent { opted_out_at: Some(first), opt_out_source: Some("sms:STOP".into()), ..Default::default() },
        consent_version: Some(4),
        ..Default::default()
    };
    let (consent, read) = decided(&sms(None, "QUIT"), &state).records[0].consent.clone().unwrap();
    assert_eq!(consent.opted_out_at, Some(first));
    assert_eq!(read, Some(4), "guarded by the version of the ledger it read");
}

#[test]
fn start_clears_the_opt_out_and_help_is_only_recorded() {
    let state = CustomerState {
        consent: Consent { opted_out_at: Some(at("2026-11-01T00:00:00Z")), ..Default::default() },
        ..Default::default()
    };
    let (consent, _) = decided(&sms(None, "START"), &state).records[0].consent.clone().unwrap();
    assert!(!consent.opted_out());
    let help = decided(&sms(None, "help"), &CustomerState::default());
    assert!(help.records[0].consent.is_none() && help.records[0].tasks.is_empty());
    assert_eq!(help.records[0].touchpoints[0].kind, "sms.help");
}

#[test]
fn any_other_text_from_an_unknown_number_makes_a_lead_and_a_reply_task_for_the_main_owner() {
    let change = decided(&sms(None, "Is my Tahoe ready?"), &CustomerState::default());
    let r = &change.records[0];
    assert_eq!(r.profile.as_ref().unwrap().0.origin, custops::model::Origin::Lead);
    let task = &r.tasks[0];
    assert_eq!((task.kind, task.owner.as_str()), (TaskKind::ReplySms, "bdc"));
    assert_eq!(task.due_at, at("2026-11-23T16:20:00Z"));
    assert_eq!(r.touchpoints[0].summary, "Is my Tahoe ready?");
    assert_eq!(change.facts[0].kind, FactKind::SmsReceived);
    assert_eq!(change.event_id, "sms#m-1");
}

#[test]
fn a_second_text_adds_to_the_open_reply_task() {
    let first = decided(&sms(None, "Is my Tahoe ready?"), &CustomerState::default());
    let state = CustomerState { tasks: first.records[0].tasks.clone(), ..Default::default() };
    let mut second = sms(None, "Hello?");
    second.inbound_message_id = "m-2".into();
    let again = decided(&second, &state);
    assert_eq!(again.records[0].tasks[0].task_id, "reply-m-1", "the open task, not a new one");
}

#[test]
fn an_opt_out_in_words_opts_out_records_why_and_plans_one_confirmation() {
    let change = decided(&sms(Some("JOIN"), "Please stop texting me"), &CustomerState::default());
    let r = &change.records[0];
    let (consent, read) = r.consent.clone().unwrap();
    assert!(consent.opted_out() && read.is_none());
    assert_eq!(consent.opt_out_source.as_deref(), Some("sms free text (message m-1)"));
    assert_eq!(consent.history.len(), 1);
    assert_eq!(
        (consent.history[0].change.as_str(), consent.history[0].source.as_str()),
        ("opted_out", "sms free text (message m-1)")
    );
    let Some(Plan::Send(text)) = change.plan() else { panic!("a confirmation: {:?}", change.plan()) };
    assert_eq!(text.class, MessageClass::Reply);
    assert!(text.confirms_opt_out);
    assert!(text.body.starts_with("Northside Chevrolet:") && text.body.contains("opted out"), "{}", text.body);
    assert!(!text.body.contains("http"), "nothing to buy: {}", text.body);
    assert_eq!(text.dedupe_key, "opt-out-confirmation#m-1", "once per message");
    assert!(change.facts.iter().any(|f| f.kind == FactKind::SmsOptOut));
}

#[test]
fn an_opt_out_written_in_spanish_is_confirmed_in_spanish() {
    let change = decided(&sms(Some("JOIN"), "No me envíen más mensajes por favor"), &CustomerState::default());
    let Some(Plan::Send(text)) = change.plan() else { panic!("a confirmation: {:?}", change.plan()) };
    assert_eq!(
        text.body,
        "Northside Chevrolet: no le enviaremos más mensajes. Responda START para volver a recibirlos."
    );
    assert!(text.confirms_opt_out);
}

#[test]
fn a_keyword_gets_no_confirmation_from_the_store_and_neither_does_a_number_opted_out_already() {
    // End User Messaging answers the keywords itself.
    let keyword = decided(&sms(None, "STOP"), &CustomerState::default());
    assert!(keyword.plan().is_none());
    assert_eq!(keyword.records[0].consent.as_ref().unwrap().0.history[0].source, "sms keyword STOP (message m-1)");
    let opted_out = CustomerState {
        consent: Consent { opted_out_at: Some(at("2026-11-01T00:00:00Z")), ..Default::default() },
        ..Default::default()
    };
    assert!(decided(&sms(None, "stop texting me"), &opted_out).plan().is_none());
}

#[test]
fn a_reply_that_may_mean_stop_pauses_marketing_and_flags_the_task_for_a_person() {
    let change = decided(&sms(None, "Not interested"), &CustomerState::default());
    let r = &change.records[0];
    let (consent, _) = r.consent.clone().unwrap();
    assert!(!consent.opted_out(), "not an opt-out");
    let pause = consent.marketing_paused.as_ref().expect("marketing paused");
    assert_eq!(pause.task_id, r.tasks[0].task_id);
    assert!(r.tasks[0].note.starts_with("FLAGGED"), "{}", r.tasks[0].note);
    assert_eq!(r.tasks[0].kind, TaskKind::ReplySms);
    assert!(change.plan().is_none());
    // An ordinary reply pauses nothing.
    let ordinary = decided(&sms(None, "I'll stop by at 3"), &CustomerState::default());
    assert!(ordinary.records[0].consent.is_none());
    assert!(!ordinary.records[0].tasks[0].note.starts_with("FLAGGED"));
}

/// A keyword that changes nothing (STOP when opted out, START when not) is
/// not appended to the ledger's history and is not a new opt-out for the
/// day; the history is capped, so a STOP can always be recorded.
#[test]
fn a_keyword_that_changes_nothing_adds_no_history_and_the_history_is_capped() {
    let (first, stopped) = keyword_sent_at("STOP", "2026-11-23T16:02:00Z", &CustomerState::default());
    assert_eq!(first.facts.len(), 1, "a new opt-out is counted");
    let state = CustomerState { consent: stopped.clone(), ..Default::default() };
    let (again, after) = keyword_sent_at("STOP", "2026-11-23T16:03:00Z", &state);
    assert!(again.facts.is_empty(), "a second STOP is not one more opt-out");
    assert_eq!(after.history, stopped.history, "nothing appended");

    let (_, never_out) = keyword_sent_at("START", "2026-11-23T16:02:00Z", &CustomerState::default());
    assert!(never_out.history.is_empty(), "START without an opt-out changes nothing");

    let mut full = Consent::default();
    for i in 0..(custops::model::CONSENT_HISTORY + 50) {
        full.record(at("2026-11-23T16:00:00Z"), "marketing_granted", format!("dms event {i}"));
    }
    assert_eq!(full.history.len(), custops::model::CONSENT_HISTORY);
    let state = CustomerState { consent: full, ..Default::default() };
    let (_, after) = keyword_sent_at("STOP", "2026-11-23T16:04:00Z", &state);
    assert!(after.opted_out());
    assert_eq!(after.history.last().unwrap().change, "opted_out");
    assert_eq!(after.history.len(), custops::model::CONSENT_HISTORY);
}

/// The sender, asked about RO-1 at `asked_at` (the post-visit check).
fn asked(asked_at: &str) -> CustomerState {
    let check = VisitCheck {
        about: CheckAbout::Visit,
        store_id: "northside-chevy".into(),
        phone: customer(SENDER).phone,
        ro_number: "RO-1".into(),
        closed_at: at("2026-11-22T23:00:00Z"),
        due_at: at("2026-11-23T14:00:00Z"),
        status: CheckStatus::Asked,
        asked_at: Some(at(asked_at)),
        answer: None,
        outcome: None,
        vehicle: Some("2021 Chevrolet Tahoe".into()),
    };
    CustomerState { checks: vec![check], ..Default::default() }
}

fn with_review() -> StoreConfig {
    let mut json = custops::fixtures::northside_json();
    json["review_url"] = json!("https://g.page/r/northside/review");
    StoreConfig::from_json(&json.to_string()).unwrap()
}

#[test]
fn a_two_after_a_post_visit_check_is_a_heat_case_for_service_and_no_text() {
    let state = asked("2026-11-23T14:00:00Z");
    let change = decided(&sms(None, "2"), &state);
    assert!(change.plan().is_none(), "a person calls: no automatic text");
    let task = &change.records[0].tasks[0];
    assert_eq!((task.kind, task.owner.as_str()), (TaskKind::HeatCase, "bdc-service"));
    assert_eq!(task.due_at, at("2026-11-23T16:05:00Z"), "due at once");
    assert!(task.fresh.0, "alerted like any new task");
    let kinds: Vec<FactKind> = change.facts.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FactKind::VisitAnswered, FactKind::HeatCase]);
    assert_eq!(change.facts[0].score, Some(2));
    assert_eq!(change.records[0].checks[0].answer, Some(2));
    assert!(change.records[0].profile.is_none(), "not a reply: marketing does not pause for it");
}

#[test]
fn a_five_is_thanked_once_with_the_review_link() {
    let state = asked("2026-11-23T14:00:00Z");
    let now = at("2026-11-23T16:05:00Z");
    let change = decide(&with_review(), &sms(None, "5 stars!"), &customer(SENDER), &state, now, now);
    let Some(Plan::Send(text)) = change.plan() else { panic!("a thank-you: {:?}", change.plan()) };
    assert_eq!(text.class, MessageClass::Reply);
    assert!(text.body.contains("https://g.page/r/northside/review"), "{}", text.body);
    assert!(change.records[0].tasks.is_empty());
    // Without a review link: thanks alone.
    let plain = decided(&sms(None, "4"), &state);
    let Some(Plan::Send(text)) = plain.plan() else { panic!("a thank-you") };
    assert!(!text.body.contains("http"), "{}", text.body);
}

#[test]
fn a_number_after_three_days_or_without_a_check_is_an_ordinary_reply_and_stop_is_never_a_score() {
    // Asked four days before: "2" is a reply, a task for a person.
    let change = decided(&sms(None, "2"), &asked("2026-11-19T14:00:00Z"));
    assert_eq!(change.records[0].tasks[0].kind, TaskKind::ReplySms);
    let change = decided(&sms(None, "5"), &CustomerState::default());
    assert_eq!(change.records[0].tasks[0].kind, TaskKind::ReplySms);
    // An opt-out with a number in it is an opt-out.
    let change = decided(&sms(None, "1 stop"), &asked("2026-11-23T14:00:00Z"));
    assert!(change.records[0].consent.as_ref().is_some_and(|(c, _)| c.opted_out()));
    assert!(change.records[0].checks.is_empty());
}

#[test]
fn scores_with_punctuation() {
    assert_eq!(revocation::score("5!"), Some(5));
}

/// The sender, asked how their new Tahoe is going (the delivery check of deal D-9001).
fn asked_about_delivery(asked_at: &str) -> CustomerState {
    let mut state = asked(asked_at);
    let check = &mut state.checks[0];
    check.about = CheckAbout::Delivery;
    check.ro_number = "D-9001".into();
    check.vehicle = Some("2025 Chevrolet Tahoe".into());
    state
}

#[test]
fn a_two_after_a_delivery_check_is_a_heat_case_for_sales_and_a_five_thanks_them_for_the_vehicle() {
    let state = asked_about_delivery("2026-11-23T14:00:00Z");
    let change = decided(&sms(None, "2"), &state);
    assert!(change.plan().is_none(), "a person calls: no automatic text");
    let task = &change.records[0].tasks[0];
    assert_eq!((task.kind, task.owner.as_str(), task.department), (TaskKind::HeatCase, "bdc-sales", Department::Sales));
    assert_eq!(task.task_id, "heat-case-D-9001");
    assert!(task.note.contains("2025 Chevrolet Tahoe 2 of 5"), "{}", task.note);
    let kinds: Vec<FactKind> = change.facts.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FactKind::DeliveryAnswered], "not counted as a post-visit answer or heat case");
    assert!(change.facts[0].task.is_some(), "the heat case is on the answer's fact");
    assert!(change.records[0].touchpoints.iter().any(|t| t.kind == "delivery_check.answered"));

    let now = at("2026-11-23T16:05:00Z");
    let change = decide(&with_review(), &sms(None, "5"), &customer(SENDER), &state, now, now);
    let Some(Plan::Send(text)) = change.plan() else { panic!("a thank-you: {:?}", change.plan()) };
    assert_eq!(text.dedupe_key, "delivery-thanks#D-9001");
    assert!(text.body.contains("enjoying your 2025 Chevrolet Tahoe"), "{}", text.body);
    assert!(text.body.contains("https://g.page/r/northside/review"), "{}", text.body);
}
