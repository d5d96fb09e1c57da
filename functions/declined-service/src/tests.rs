//! The rules of the RO close and of its follow-up steps, on `decide` and
//! `decide_step` (no AWS).

use custops::entity::Entity;
use custops::fixtures::{at, customer, envelope, northside};
use custops::model::{Consent, MarketingConsent, SendEntry, SendLedger, TaskStatus};
use serde_json::json;

use super::*;

const MARIA: &str = "+15125550142";

/// RO-48213 closed Monday 17:20 Chicago: oil, tires, MPI done; brakes ($620)
/// and the cabin filter ($89) declined.
fn closed(
    event_id: &str,
    ro: &str,
    closed_at: &str,
    performed: &[&str],
    declined: serde_json::Value,
) -> (Envelope, RoClosed) {
    let e = envelope(
        "ro.closed",
        event_id,
        closed_at,
        json!({
            "ro_number": ro, "closed_at": closed_at,
            "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": MARIA,
                         "marketing_consent": true},
            "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
            "advisor": {"id": "adv-7", "name": "Dana Whitfield"},
            "mileage": 38412, "performed": performed, "declined": declined
        }),
    );
    let data = e.data().unwrap();
    (e, data)
}

fn brakes_and_filter() -> serde_json::Value {
    json!([
        {"line_id": "L4", "op_code": "BRK-FRT-PR", "description": "Front brake pads & rotors", "estimate_cents": 62000},
        {"line_id": "L5", "op_code": "CAF-REPL", "description": "Cabin air filter", "estimate_cents": 8900}
    ])
}

fn first_close() -> Change {
    let (e, c) =
        closed("d-1", "RO-48213", "2026-11-23T23:20:00Z", &["LOF-SYN", "TIRE-ROT", "MPI"], brakes_and_filter());
    decide(&northside(), &e, &c, &customer(MARIA), &CustomerState::default(), at("2026-11-23T23:20:05Z"))
}

/// The state a committed change leaves (for the next event).
fn after(change: &Change) -> CustomerState {
    custops::fixtures::state_after(change)
}

fn kinds(change: &Change) -> Vec<(FactKind, Option<i64>)> {
    change.facts.iter().map(|f| (f.kind, f.cents)).collect()
}

#[test]
fn the_close_records_the_visit_the_declined_lines_and_three_follow_up_steps() {
    let change = first_close();
    let r = &change.records[0];
    let ro = &r.repair_orders[0];
    assert_eq!((ro.closed_at, ro.mileage), (Some(at("2026-11-23T23:20:00Z")), Some(38412)));
    assert_eq!(ro.performed, ["LOF-SYN", "TIRE-ROT", "MPI"]);
    assert_eq!(r.profile.as_ref().unwrap().0.last_visit_at, Some(at("2026-11-23T23:20:00Z")), "the lapse clock");
    assert_eq!(r.declined.len(), 2);
    assert!(r.declined.iter().all(|l| l.is_open() && l.advisor.id == "adv-7"));
    assert_eq!(kinds(&change), [(FactKind::RoClosed, None), (FactKind::LineDeclined, Some(62000 + 8900))]);
    // Days 3, 10 and 30 after Monday 23 November, at 10:00 Chicago (CST, UTC-6).
    let due: Vec<_> = r.follow_ups.iter().map(|s| (s.step, s.days, s.due_at)).collect();
    assert_eq!(
        due,
        [(1, 3, at("2026-11-26T16:00:00Z")), (2, 10, at("2026-12-03T16:00:00Z")), (3, 30, at("2026-12-23T16:00:00Z"))]
    );
    assert_eq!(
        change.lasting_keys,
        ["ro.closed#northside-chevy#RO-48213"],
        "a resend under a new id, however late, is a duplicate"
    );
}

/// One transaction may write an item once: every touchpoint of a change has its own key.
fn assert_unique_items(change: &Change) {
    use custops::entity::Entity;
    let r = &change.records[0];
    let mut keys: Vec<String> = r.touchpoints.iter().map(|t| t.keys(&r.customer).sk).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "{:?}", r.touchpoints);
}

#[test]
fn recovering_two_lines_at_once_writes_each_touchpoint_once() {
    let state = after(&first_close());
    let (e, c) = closed("d-2", "RO-49001", "2026-12-01T18:00:00Z", &["BRK-FRT-PR", "CAF-REPL"], brakes_and_filter());
    let change = decide(&northside(), &e, &c, &customer(MARIA), &state, at("2026-12-01T18:00:05Z"));
    assert_eq!(change.records[0].declined.iter().filter(|l| l.status == LineStatus::Recovered).count(), 2);
    assert_unique_items(&change);
}

#[test]
fn a_later_ro_that_performs_a_declined_op_code_recovers_that_line_and_only_that_line() {
    let state = after(&first_close());
    let (e, c) = closed("d-2", "RO-49001", "2026-12-01T18:00:00Z", &["BRK-FRT-PR"], json!([]));
    let change = decide(&northside(), &e, &c, &customer(MARIA), &state, at("2026-12-01T18:00:05Z"));
    assert_unique_items(&change);
    let r = &change.records[0];
    assert_eq!(r.declined.len(), 1, "only the brakes");
    let brakes = &r.declined[0];
    assert_eq!((brakes.status, brakes.recovered_by.as_deref()), (LineStatus::Recovered, Some("RO-49001")));
    assert!(kinds(&change).contains(&(FactKind::LineRecovered, Some(62000))));
    assert!(r.follow_ups.is_empty(), "nothing declined on the new RO");
    assert!(r.touchpoints.iter().any(|t| t.kind == "declined.recovered" && t.summary.contains("$620.00")));
}

#[test]
fn work_booked_and_then_done_is_recovered_but_work_the_customer_refused_is_not() {
    let mut state = after(&first_close());
    state.declined[0].status = LineStatus::Booked; // the brakes, booked
    state.declined[1].status = LineStatus::Declined; // the filter, refused for good
    let (e, c) = closed("d-2", "RO-49001", "2026-12-01T18:00:00Z", &["BRK-FRT-PR", "CAF-REPL"], json!([]));
    let change = decide(&northside(), &e, &c, &customer(MARIA), &state, at("2026-12-01T18:00:05Z"));
    let recovered: Vec<&str> = change.records[0].declined.iter().map(|l| l.op_code.as_str()).collect();
    assert_eq!(recovered, ["BRK-FRT-PR"]);
    assert!(kinds(&change).contains(&(FactKind::LineRecovered, Some(62000))));
}

#[test]
fn a_visit_after_a_win_back_is_a_return() {
    let mut state = after(&first_close());
    let visit = at("2026-11-23T23:20:00Z");
    state.profile.as_mut().unwrap().lapse_contacted =
        Some(custops::model::LapseContact { visit_at: visit, at: at("2027-12-24T16:00:00Z") });
    let (e, c) = closed("d-3", "RO-50000", "2028-01-05T18:00:00Z", &["LOF-SYN"], json!([]));
    let change = decide(&northside(), &e, &c, &customer(MARIA), &state, at("2028-01-05T18:00:05Z"));
    assert!(kinds(&change).contains(&(FactKind::WinBackReturned, None)));
    let profile = &change.records[0].profile.as_ref().unwrap().0;
    assert_eq!(profile.uncontacted_visit(), Some(at("2028-01-05T18:00:00Z")), "a new lapse clock");
    // A first visit is not a return.
    assert!(!kinds(&first_close()).iter().any(|(k, _)| *k == FactKind::WinBackReturned));
}

fn step(change: &Change, n: usize) -> FollowUp {
    change.records[0].follow_ups[n].clone()
}

#[test]
fn a_due_step_texts_the_open_work_largest_first_with_the_booking_link_and_gives_the_advisor_a_task() {
    let close = first_close();
    let state = after(&close);
    let now = at("2026-11-26T16:00:00Z");
    let change = decide_step(&northside(), &step(&close, 0), &state, now);
    let Some(Plan::Send(text)) = change.plan() else { panic!("a text now: {:?}", change.plan()) };
    assert_eq!(text.class, MessageClass::Marketing);
    assert!(text.body.contains("front brake pads & rotors, cabin air filter"), "{}", text.body);
    assert!(text.body.contains("Northside Chevrolet") && text.body.contains("https://northside.example/service"));
    assert!(text.body.contains("Reply STOP"));
    assert_eq!(text.cadence.as_deref(), Some("declined#RO-48213"));
    let r = &change.records[0];
    let task = &r.tasks[0];
    assert_eq!((task.kind, task.owner.as_str(), task.status), (TaskKind::DeclinedFollowup, "adv-7", TaskStatus::Open));
    assert_eq!(task.due_at, at("2026-11-26T22:00:00Z"), "16:00 that day");
    assert_eq!(r.follow_ups[0].status, StepStatus::Done);
    assert_eq!(kinds(&change), [(FactKind::FollowUpTexted, None)]);
    assert_eq!(
        change.event_id,
        format!("follow-up#northside-chevy#{}#RO-48213#1", customer(MARIA).token()),
        "once per step"
    );
}

#[test]
fn without_marketing_consent_a_step_is_a_task_and_no_text() {
    let mut state = after(&first_close());
    state.consent = Consent::default();
    let change = decide_step(&northside(), &step(&first_close(), 0), &state, at("2026-11-26T16:00:00Z"));
    assert!(matches!(change.plan(), Some(Plan::Suppress(Suppressed::NoMarketingConsent))));
    assert_eq!(change.records[0].tasks.len(), 1);
    assert_eq!(kinds(&change), [(FactKind::FollowUpTaskOnly, None)]);
}

#[test]
fn a_step_is_cancelled_with_its_reason_when_nothing_is_open_the_customer_opted_out_or_replied() {
    let close = first_close();
    let now = at("2026-11-26T16:00:00Z");
    let mut ended = after(&close);
    for l in &mut ended.declined {
        l.status = LineStatus::Booked;
    }
    let mut opted_out = after(&close);
    opted_out.consent.opted_out_at = Some(at("2026-11-24T00:00:00Z"));
    let mut replied = after(&close);
    replied.tasks.push(Task::open(
        &customer(MARIA),
        TaskKind::ReplySms,
        "reply-m-1",
        ("bdc".into(), Department::Main),
        now,
        now,
    ));
    for (state, why) in [(ended, "still open"), (opted_out, "opted out"), (replied, "replied")] {
        let change = decide_step(&northside(), &step(&close, 0), &state, now);
        assert!(change.plan().is_none(), "{why}");
        let r = &change.records[0];
        assert!(r.tasks.is_empty(), "{why}");
        assert_eq!(r.follow_ups[0].status, StepStatus::Cancelled, "{why}");
        assert!(r.follow_ups[0].outcome.as_deref().unwrap().contains(why), "{:?}", r.follow_ups[0].outcome);
        assert!(r.touchpoints.iter().any(|t| t.kind == "follow_up.cancelled"));
    }
}

#[test]
fn the_steps_of_one_cadence_never_cap_each_other_but_other_marketing_does() {
    let close = first_close();
    let mut state = after(&close);
    state.consent.marketing =
        Some(MarketingConsent { granted: true, source: "dms".into(), at: at("2026-01-01T00:00:00Z") });
    // Step 1 went out six days and 23 hours before step 2 (a DST change would do that).
    let step_1 = SendEntry {
        at: at("2026-11-26T17:00:00Z"),
        class: MessageClass::Marketing,
        cadence: Some("declined#RO-48213".into()),
    };
    state.sends = SendLedger { entries: vec![step_1], version: 1 };
    let change = decide_step(&northside(), &step(&close, 1), &state, at("2026-12-03T16:00:00Z"));
    assert!(matches!(change.plan(), Some(Plan::Send(_))), "{:?}", change.plan());

    let other = SendEntry { at: at("2026-12-01T17:00:00Z"), class: MessageClass::Marketing, cadence: None };
    state.sends.entries.push(other);
    let change = decide_step(&northside(), &step(&close, 1), &state, at("2026-12-03T16:00:00Z"));
    assert!(matches!(change.plan(), Some(Plan::Suppress(Suppressed::Capped(_)))), "{:?}", change.plan());
}

#[test]
fn a_step_already_ended_does_nothing_more() {
    let close = first_close();
    let mut state = after(&close);
    state.follow_ups[0] = state.follow_ups[0].ended(StepStatus::Done, "texted");
    let change = decide_step(&northside(), &step(&close, 0), &state, at("2026-11-26T16:05:00Z"));
    assert!(change.plan().is_none() && change.records[0].tasks.is_empty() && change.records[0].follow_ups.is_empty());
}

/// Sixty declined lines: the close is one transaction of DynamoDB's at most
/// 100 actions (a line is one item; the facts and the timeline sum them up),
/// with its cadence.
#[test]
fn a_close_with_sixty_declined_lines_fits_one_transaction_with_its_cadence() {
    let lines: Vec<serde_json::Value> = (1..=60)
        .map(|i| {
            json!({"line_id": format!("L{i}"), "op_code": format!("OP-{i}"), "description": format!("Work {i}"),
                        "estimate_cents": 1000 + i})
        })
        .collect();
    let (e, c) = closed("d-60", "RO-60", "2026-11-23T23:20:00Z", &["LOF-SYN"], json!(lines));
    let change = decide(&northside(), &e, &c, &customer(MARIA), &CustomerState::default(), at("2026-11-23T23:20:05Z"));
    let r = &change.records[0];
    assert_eq!(r.declined.len(), 60);
    assert_eq!(r.follow_ups.len(), 3);
    let items = 1
        + change.lasting_keys.len()
        + change.facts.len()
        + 1
        + r.consent.iter().count()
        + r.repair_orders.len()
        + r.declined.len()
        + r.follow_ups.len()
        + r.touchpoints.len();
    assert!(items <= 100, "{items} actions");
    let total: i64 = (1..=60).map(|i| 1000 + i).sum();
    assert_eq!(kinds(&change)[1], (FactKind::LineDeclined, Some(total)));
}

/// A DMS that restarts line ids on every RO (L1, L2, ...): a close that
/// recovers two earlier lines both called L1 writes each once.
#[test]
fn lines_are_keyed_by_their_repair_order_so_two_l1s_recover_together() {
    let one = |ro: &str, op: &str, when: &str| {
        closed(
            &format!("d-{ro}"),
            ro,
            when,
            &["LOF"],
            json!([{"line_id": "L1", "op_code": op, "description": op, "estimate_cents": 100}]),
        )
    };
    let (e1, c1) = one("RO-1", "BRK", "2026-10-01T15:00:00Z");
    let first = decide(&northside(), &e1, &c1, &customer(MARIA), &CustomerState::default(), at("2026-10-01T15:00:05Z"));
    let (e2, c2) = one("RO-2", "CAF", "2026-10-08T15:00:00Z");
    let second = decide(&northside(), &e2, &c2, &customer(MARIA), &after(&first), at("2026-10-08T15:00:05Z"));
    let mut state = after(&first);
    state.declined.extend(after(&second).declined.into_iter().filter(|l| l.ro_number == "RO-2"));
    state.repair_orders.extend(after(&second).repair_orders.into_iter().filter(|r| r.ro_number == "RO-2"));
    let (e3, c3) = closed("d-3", "RO-3", "2026-11-01T15:00:00Z", &["BRK", "CAF"], json!([]));
    let change = decide(&northside(), &e3, &c3, &customer(MARIA), &state, at("2026-11-01T15:00:05Z"));
    let r = &change.records[0];
    let mut keys: Vec<String> = r.declined.iter().map(|l| custops::entity::Entity::keys(l, &r.customer).sk).collect();
    keys.sort();
    assert_eq!(keys, ["H#DECL#RO-1#L1", "H#DECL#RO-2#L1"], "recovered: moved to the history");
    assert!(r.declined.iter().all(|l| l.status == LineStatus::Recovered));
    assert_unique_items(&change);
}

/// A close resent after its claims expired, an older close delivered late,
/// and work on another vehicle recover nothing and reopen nothing.
#[test]
fn resends_late_closes_and_other_vehicles_never_reopen_or_recover() {
    let state = after(&first_close());
    // The same RO again, months later: its lasting claim makes it a
    // duplicate (an emulator test); even decided again, no line or step is
    // written again.
    let (e, c) = closed("d-1-again", "RO-48213", "2026-11-23T23:20:00Z", &["LOF-SYN"], brakes_and_filter());
    let change = decide(&northside(), &e, &c, &customer(MARIA), &state, at("2027-03-01T12:00:00Z"));
    assert_eq!(change.lasting_keys, ["ro.closed#northside-chevy#RO-48213"]);
    assert!(change.records[0].declined.is_empty() && change.records[0].follow_ups.is_empty(), "{change:?}");

    // A close from before the brakes were declined, delivered late.
    let (e, c) = closed("d-old", "RO-40000", "2026-11-01T15:00:00Z", &["BRK-FRT-PR"], json!([]));
    let change = decide(&northside(), &e, &c, &customer(MARIA), &state, at("2026-12-01T18:00:05Z"));
    assert!(change.records[0].declined.is_empty(), "an older close recovers nothing newer");

    // The brakes done on another vehicle of the same customer.
    let (e, mut c) = closed("d-van", "RO-50000", "2026-12-01T18:00:00Z", &["BRK-FRT-PR"], json!([]));
    c.vehicle.vin = "1FTBR1C80MKA00001".into();
    let change = decide(&northside(), &e, &c, &customer(MARIA), &state, at("2026-12-01T18:00:05Z"));
    assert!(change.records[0].declined.is_empty(), "van B's brakes do not recover the Tahoe's");
}

/// The three steps of a cadence are worded for where they stand: a
/// reminder, a check-in, a last note (each naming the store and the work),
/// never the same text three times.
#[test]
fn each_step_of_the_cadence_has_its_own_wording() {
    let close = first_close();
    let state = after(&close);
    let bodies: Vec<String> = [("2026-11-26T16:00:00Z", 0), ("2026-12-03T16:00:00Z", 1), ("2026-12-23T16:00:00Z", 2)]
        .iter()
        .map(|(when, i)| {
            let change = decide_step(&northside(), &step(&close, *i), &state, at(when));
            let Some(Plan::Send(text) | Plan::Defer(text)) = change.plan() else {
                panic!("step {i}: {:?}", change.plan())
            };
            text.body.clone()
        })
        .collect();
    assert!(bodies[0].contains("At your last visit"), "{}", bodies[0]);
    assert!(bodies[1].contains("checking in"), "{}", bodies[1]);
    assert!(bodies[2].contains("a last note"), "{}", bodies[2]);
    for b in &bodies {
        assert!(
            b.contains("Northside Chevrolet") && b.contains("front brake pads & rotors") && b.contains("Reply STOP")
        );
    }
    assert_eq!(templates::declined_step(1, 1).key, "declined_followup", "a one-step cadence: the reminder");
    assert_eq!(templates::declined_step(4, 4).key, "declined_followup_last");
}

/// Northside with the post-visit check on.
fn checking() -> StoreConfig {
    let mut json = custops::fixtures::northside_json();
    json["post_visit_check"] = json!(true);
    StoreConfig::from_json(&json.to_string()).unwrap()
}

/// RO-48213 closed Monday 17:20 Chicago, nothing declined, handled at `now`.
fn close_checked(state: &CustomerState, ro: &str, now: &str) -> Change {
    let (e, c) = closed("d-1", ro, "2026-11-23T23:20:00Z", &["LOF-SYN"], json!([]));
    decide(&checking(), &e, &c, &customer(MARIA), state, at(now))
}

#[test]
fn a_close_schedules_the_post_visit_check_for_the_next_day_when_the_window_opens() {
    let change = close_checked(&CustomerState::default(), "RO-48213", "2026-11-23T23:20:05Z");
    let check = &change.records[0].checks[0];
    assert_eq!(check.due_at, at("2026-11-24T14:00:00Z"), "Tuesday 08:00 Chicago");
    assert!(check.keys(&()).gsi3.is_some(), "on the due index");
    // Off by default.
    let (e, c) = closed("d-1", "RO-48213", "2026-11-23T23:20:00Z", &["LOF-SYN"], json!([]));
    let off = decide(&northside(), &e, &c, &customer(MARIA), &CustomerState::default(), at("2026-11-23T23:20:05Z"));
    assert!(off.records[0].checks.is_empty());
    // A close that arrives after its next day: no check.
    let late = close_checked(&CustomerState::default(), "RO-48213", "2026-11-25T15:00:00Z");
    assert!(late.records[0].checks.is_empty());
    // A second RO closed the same day is asked about once.
    let second = close_checked(&after(&change), "RO-48214", "2026-11-23T23:30:00Z");
    assert!(second.records[0].checks.is_empty());
}

#[test]
fn the_check_asks_once_on_its_day_and_not_after_an_opt_out_or_another_text_that_day() {
    let change = close_checked(&CustomerState::default(), "RO-48213", "2026-11-23T23:20:05Z");
    let check = change.records[0].checks[0].clone();
    let state = after(&change);
    let asked = decide_check(&checking(), &check, &state, at("2026-11-24T14:05:00Z"));
    let Some(Plan::Send(text)) = asked.plan() else { panic!("a question now: {:?}", asked.plan()) };
    assert_eq!(text.class, MessageClass::Transactional);
    assert!(text.body.contains("1 (poor) to 5 (great)") && text.body.contains("Northside Chevrolet"), "{}", text.body);
    let after_ask = after(&asked);
    assert_eq!(after_ask.checks[0].status, CheckStatus::Asked);
    assert!(after_ask.checks[0].keys(&()).gsi3.is_none());
    assert!(decide_check(&checking(), &check, &after_ask, at("2026-11-24T14:10:00Z")).plan().is_none(), "once");

    // Opted out since the close.
    let mut opted = state.clone();
    opted.consent = Consent { opted_out_at: Some(at("2026-11-24T01:00:00Z")), ..Default::default() };
    let c = decide_check(&checking(), &check, &opted, at("2026-11-24T14:05:00Z"));
    assert!(c.plan().is_none());
    assert_eq!(c.records[0].checks[0].outcome.as_deref(), Some("the customer opted out"));

    // The store texted them already that day (a status text at 08:01).
    let mut heard = state.clone();
    heard.sends = SendLedger {
        entries: vec![SendEntry { at: at("2026-11-24T14:01:00Z"), class: MessageClass::Transactional, cadence: None }],
        version: 1,
    };
    let c = decide_check(&checking(), &check, &heard, at("2026-11-24T14:05:00Z"));
    assert!(c.plan().is_none());
    assert_eq!(c.records[0].checks[0].status, CheckStatus::Ended);

    // Handed on two days late: its day has passed.
    let c = decide_check(&checking(), &check, &state, at("2026-11-26T15:00:00Z"));
    assert_eq!(c.records[0].checks[0].outcome.as_deref(), Some("its day has passed"));
}

#[test]
fn a_check_the_caps_would_hold_past_its_day_is_not_asked() {
    let change = close_checked(&CustomerState::default(), "RO-48213", "2026-11-23T23:20:05Z");
    let check = change.records[0].checks[0].clone();
    let mut state = after(&change);
    // Three texts late on Monday (21:00-22:00 Chicago, replies): the cap frees
    // Tuesday at 21:00, when the window has closed, so the check would wait
    // for Wednesday.
    let entry = |t: &str| SendEntry { at: at(t), class: MessageClass::Reply, cadence: None };
    state.sends = SendLedger {
        entries: vec![entry("2026-11-24T03:00:00Z"), entry("2026-11-24T03:30:00Z"), entry("2026-11-24T04:00:00Z")],
        version: 1,
    };
    let c = decide_check(&checking(), &check, &state, at("2026-11-24T14:05:00Z"));
    assert!(c.plan().is_none(), "{:?}", c.plan());
    let ended = &c.records[0].checks[0];
    assert_eq!(
        (ended.status, ended.outcome.as_deref()),
        (CheckStatus::Ended, Some("the store's caps would hold it past its day"))
    );
}

/// A delivery check as `deal-delivered` schedules it: deal D-9001, due 5
/// January 2027 at 08:00 Chicago.
fn delivery_check() -> VisitCheck {
    VisitCheck {
        store_id: "northside-chevy".into(),
        phone: custops::Phone::parse(MARIA).unwrap(),
        about: CheckAbout::Delivery,
        ro_number: "D-9001".into(),
        closed_at: at("2026-11-24T21:00:00Z"),
        due_at: at("2027-01-05T14:00:00Z"),
        status: CheckStatus::Scheduled,
        asked_at: None,
        answer: None,
        outcome: None,
        vehicle: Some("2025 Chevrolet Tahoe".into()),
    }
}

fn delivery_checking() -> StoreConfig {
    let mut json = custops::fixtures::northside_json();
    json["delivery_check"] = json!(true);
    StoreConfig::from_json(&json.to_string()).unwrap()
}

#[test]
fn the_delivery_check_asks_how_the_new_vehicle_is_going_once_and_not_with_an_open_ro_or_after_an_unwind() {
    let check = delivery_check();
    let state = CustomerState { checks: vec![check.clone()], version: Some(3), ..Default::default() };
    let now = at("2027-01-05T14:01:00Z");
    let asked = decide_check(&delivery_checking(), &check, &state, now);
    let Some(Plan::Send(text)) = asked.plan() else { panic!("a question now: {:?}", asked.plan()) };
    assert_eq!(text.class, MessageClass::Transactional);
    assert_eq!(text.dedupe_key, "delivery-check#D-9001", "the report counts it by this key");
    assert!(text.body.contains("2025 Chevrolet Tahoe") && text.body.contains("1 (poor) to 5 (great)"), "{}", text.body);
    assert!(asked.event_id.starts_with("delivery-check#northside-chevy#"));
    assert_eq!(asked.records[0].checks[0].status, CheckStatus::Asked);

    // The store's check turned off meanwhile.
    let off = decide_check(&northside(), &check, &state, now);
    assert_eq!(off.records[0].checks[0].outcome.as_deref(), Some("the store's delivery check is off"));
    // In the shop: an open repair order.
    let mut in_shop = state.clone();
    in_shop.repair_orders = vec![serde_json::from_value(json!({
        "ro_number": "RO-50001", "status": "in_progress", "status_at": "2027-01-04T15:00:00Z",
        "vehicle": {"vin": "1GNSKCKD5MR100001", "year": 2025, "make": "Chevrolet", "model": "Tahoe"},
        "advisor": {"id": "a-1", "name": "Dana"}
    }))
    .unwrap()];
    let c = decide_check(&delivery_checking(), &check, &in_shop, now);
    assert!(c.plan().is_none());
    assert_eq!(c.records[0].checks[0].outcome.as_deref(), Some("a repair order is open"));
    // The deal was unwound (the check's end raced the scheduler).
    let mut unwound = state.clone();
    let mut profile = Customer::lead("northside-chevy", custops::Phone::parse(MARIA).unwrap(), now);
    profile.purchased(
        serde_json::from_value(json!({
            "deal_id": "D-9001", "delivered_at": "2026-11-24T21:00:00Z", "unwound_at": "2026-11-30T15:00:00Z",
            "vehicle": {"vin": "1GNSKCKD5MR100001", "year": 2025, "make": "Chevrolet", "model": "Tahoe"},
            "salesperson": {"id": "sp-7", "name": "Jordan Lee"}
        }))
        .unwrap(),
    );
    unwound.profile = Some(profile);
    let c = decide_check(&delivery_checking(), &check, &unwound, now);
    assert_eq!(c.records[0].checks[0].outcome.as_deref(), Some("the deal was unwound"));
}
