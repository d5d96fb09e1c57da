//! Every number of the report, on `build` (no AWS).

use super::*;
use crate::entity::CustomerId;
use crate::fixtures::{at, customer, northside};
use crate::model::TaskRef;
use crate::outbound::{plan, Plan, TextRequest};
use crate::text::MessageClass;

const DAY: &str = "2026-11-23";

fn day() -> NaiveDate {
    DAY.parse().unwrap()
}

fn fact(kind: FactKind, event_id: &str, at_: &str) -> Fact {
    Fact::new(&northside(), kind, event_id, at(at_))
}

/// A text of `trigger` for `event_id`, created at `created`; sent `after` seconds later (None: not sent).
fn text(trigger: &'static str, event_id: &str, phone: &str, created: &str, after: Option<i64>) -> OutboundText {
    let store = northside();
    let to = customer(phone).phone;
    let class = if trigger == "win-back" { MessageClass::Marketing } else { MessageClass::Transactional };
    let request =
        TextRequest::new(&store, &to, class, "Northside Chevrolet: hello".into(), event_id.into(), trigger, event_id);
    let consent = crate::model::Consent {
        marketing: Some(crate::model::MarketingConsent { granted: true, source: "dms".into(), at: at(created) }),
        ..Default::default()
    };
    let (Plan::Send(mut t) | Plan::Defer(mut t)) = plan(request, &consent, &Default::default(), at(created)) else {
        panic!("a text")
    };
    if let Some(s) = after {
        t.state = TextState::Sent;
        t.sent_at = Some(at(created) + Duration::seconds(s));
    }
    t
}

fn task(of: &CustomerId, kind: TaskKind, id: &str, owner: &str, due: &str) -> Task {
    Task::open(of, kind, id, (owner.into(), Department::Service), at(due), at("2026-11-23T15:00:00Z"))
}

fn done(t: Task, when: &str, outcome: TaskOutcome) -> Task {
    Task { outcome: Some(outcome), done_at: Some(at(when)), ..t.closed() }
}

fn with_task(f: Fact, t: &Task) -> Fact {
    Fact { task: Some(TaskRef { phone: t.phone.clone(), task_id: t.task_id.clone() }), ..f }
}

/// A Monday at Northside: three missed calls (service, sales, one from the
/// store's own line) with two callbacks, a status text sent and one
/// deferred, a no-show that rebooked, declined and recovered work, a
/// win-back, an opt-out.
fn monday() -> DayData {
    let (a, b) = (customer("+15125550142"), customer("+15125550177"));
    let cb_a = task(&a, TaskKind::Callback, "callback-1", "bdc-service", "2026-11-23T16:20:00Z");
    let cb_b = task(&b, TaskKind::Callback, "callback-2", "bdc-sales", "2026-11-23T17:35:00Z");
    let no_show = task(&a, TaskKind::NoShow, "no-show-A-1", "bdc-service", "2026-11-24T01:00:00Z");
    let facts = vec![
        fact(FactKind::MissedCall, "c-1", "2026-11-23T16:05:00Z").department(Department::Service),
        with_task(
            fact(FactKind::CallbackCreated, "c-1", "2026-11-23T16:05:00Z").department(Department::Service),
            &cb_a,
        ),
        fact(FactKind::MissedCall, "c-2", "2026-11-23T17:20:00Z").department(Department::Sales),
        with_task(fact(FactKind::CallbackCreated, "c-2", "2026-11-23T17:20:00Z").department(Department::Sales), &cb_b),
        fact(FactKind::MissedCallOwnLine, "c-3", "2026-11-23T18:00:00Z").department(Department::Service),
        fact(FactKind::RoStatusChanged, "d-1", "2026-11-23T18:30:00Z"),
        fact(FactKind::LineDeclined, "d-5#L4", "2026-11-23T23:20:00Z").cents(62000),
        fact(FactKind::LineDeclined, "d-5#L5", "2026-11-23T23:20:00Z").cents(8900),
        fact(FactKind::LineRecovered, "d-6#L1", "2026-11-23T20:00:00Z").cents(15000),
        fact(FactKind::FollowUpTexted, "f-1", "2026-11-23T16:00:00Z"),
        fact(FactKind::FollowUpTaskOnly, "f-2", "2026-11-23T16:00:00Z"),
        with_task(fact(FactKind::NoShow, "n-1", "2026-11-23T22:45:00Z"), &no_show),
        fact(FactKind::WinBackTexted, "w-1", "2026-11-23T15:00:00Z"),
        fact(FactKind::WinBackTaskOnly, "w-2", "2026-11-23T15:00:00Z"),
        fact(FactKind::WinBackReturned, "d-6", "2026-11-23T20:00:00Z"),
        fact(FactKind::SmsOptOut, "s-1", "2026-11-24T03:40:00Z"),
        fact(FactKind::TextFailed, "text:win-back#w-9", "2026-11-23T21:00:00Z"),
    ];
    let texts = vec![
        text("missed-call", "c-1", "+15125550142", "2026-11-23T16:05:04Z", Some(2)), // 6 s after the call
        text("missed-call", "c-2", "+15125550177", "2026-11-23T17:20:10Z", Some(4)), // 14 s
        text("vehicle-ready", "d-1", "+15125550142", "2026-11-23T18:30:03Z", Some(1)),
        TextState::Deferred.pipe(|s| {
            let mut t = text("vehicle-ready", "d-2", "+15125550142", "2026-11-24T03:00:00Z", None);
            t.state = s;
            t.defer_reason = Some("quiet hours".into());
            t
        }),
        text("win-back", "w-1", "+15125550121", "2026-11-23T15:00:01Z", Some(1)),
    ];
    let open_tasks = vec![
        cb_b.clone(),
        task(&b, TaskKind::ReplySms, "reply-1", "bdc", "2026-11-22T15:00:00Z"),
        task(&a, TaskKind::WinBack, "win-back-1", "bdc-service", "2026-11-25T15:00:00Z"),
    ];
    DayData {
        facts,
        texts,
        tasks: vec![
            done(cb_a, "2026-11-23T16:40:00Z", TaskOutcome::Reached), // due 16:20: late
            cb_b,
            done(no_show, "2026-11-24T15:00:00Z", TaskOutcome::Booked),
        ],
        open_tasks,
        open_declined_cents: 62000 + 8900,
        dead_letters: 2,
    }
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

#[test]
fn every_number_of_a_known_day() {
    let now = at("2026-11-24T12:00:00Z");
    let r = build(&northside(), day(), now, &monday());
    let m = &r.missed_calls;
    assert_eq!((m.total, m.texted_back), (3, 2), "the own-line call is counted, not texted");
    assert_eq!(m.median_seconds_to_text, Some(10.0), "median of 6 s and 14 s");
    assert_eq!((m.callbacks_open, m.callbacks_done, m.callbacks_done_on_time, m.callbacks_done_late), (1, 1, 0, 1));
    let service = m.by_department.iter().find(|d| d.department == "service").unwrap();
    assert_eq!((service.total, service.texted_back, service.callbacks_open, service.callbacks_done_late), (2, 1, 0, 1));
    let sales = m.by_department.iter().find(|d| d.department == "sales").unwrap();
    assert_eq!((sales.total, sales.texted_back, sales.callbacks_open), (1, 1, 1));
    assert_eq!((r.status_texts.sent, r.status_texts.deferred), (1, 1));
    assert_eq!((r.no_shows.total, r.no_shows.rebooked), (1, 1));
    let d = &r.declined;
    assert_eq!((d.new_cents, d.open_cents, d.recovered_cents), (70900, 70900, 15000));
    assert_eq!((d.follow_ups_sent, d.follow_ups_task_only), (1, 1));
    assert_eq!((r.win_back.texted, r.win_back.tasks, r.win_back.came_back), (1, 2, 1));
    assert_eq!(r.opt_outs, 1);
    assert_eq!(r.texts.sent, 4);
    assert_eq!(r.texts.segments, 4);
    assert_eq!(r.texts.failed, 1, "the text whose release attempts ran out");
    assert_eq!(r.dead_letters, 2);
    // 1 open callback x 0.75 x $450.00 = $337.50, plus $709.00 open declined work.
    assert_eq!(r.revenue_at_risk_cents, 33750 + 70900);
    assert!(r.revenue_at_risk_formula.contains("1 open callbacks x 0.75 x $450.00"), "{}", r.revenue_at_risk_formula);
    // Overdue at noon on Tuesday: the sales callback (due Monday) and the reply (due Sunday); not the win-back.
    let owners: Vec<(&str, u64)> = r.overdue_tasks.iter().map(|o| (o.owner.as_str(), o.count)).collect();
    assert_eq!(owners, [("bdc", 1), ("bdc-sales", 1)]);
    assert_eq!(r.overdue_tasks[0].kinds.get("reply"), Some(&1));
}

#[test]
fn the_json_has_the_contracts_fields() {
    let r = build(&northside(), day(), at("2026-11-24T12:00:00Z"), &monday());
    let v = serde_json::to_value(&r).unwrap();
    for path in [
        "/store_id",
        "/date",
        "/missed_calls/total",
        "/missed_calls/texted_back",
        "/missed_calls/callbacks_open",
        "/missed_calls/callbacks_done",
        "/status_texts/sent",
        "/status_texts/deferred",
        "/declined/new_cents",
        "/declined/open_cents",
        "/declined/recovered_cents",
        "/win_back/texted",
        "/win_back/tasks",
        "/opt_outs",
        "/texts/sent",
        "/texts/segments",
        "/texts/failed",
        "/dead_letters",
        "/revenue_at_risk_cents",
    ] {
        assert!(v.pointer(path).is_some_and(|x| !x.is_null()), "{path} in {v}");
    }
    assert_eq!(v["date"], DAY);
}

#[test]
fn an_empty_day_is_all_zeros_and_the_risk_is_the_open_work() {
    let data = DayData { open_declined_cents: 8900, ..Default::default() };
    let r = build(&northside(), day(), at("2026-11-24T12:00:00Z"), &data);
    assert_eq!(r.missed_calls, MissedCalls::default());
    assert_eq!(r.revenue_at_risk_cents, 8900);
    let text = r.to_string();
    assert!(text.contains("Revenue at risk: $89.00") && text.contains("Missed calls: 0"), "{text}");
}

#[test]
fn the_risk_rounds_to_a_cent_and_the_day_is_the_stores_local_day() {
    let mut store = northside();
    store.avg_ro_cents = 45001;
    let mut data = monday();
    data.open_declined_cents = 0;
    let r = build(&store, day(), at("2026-11-24T12:00:00Z"), &data);
    assert_eq!(r.revenue_at_risk_cents, 33751, "0.75 x 45001 = 33750.75");
    let (start, end) = day_bounds(&store, day());
    assert_eq!((start, end), (at("2026-11-23T06:00:00Z"), at("2026-11-24T06:00:00Z")), "Chicago's Monday");
}

/// A text written at 21:30 on Sunday and sent at 08:00 on Monday counts on
/// Monday, the day it went; one written on Monday evening and sent on
/// Tuesday counts on Tuesday, and as deferred on Monday (written then, it waited).
#[test]
fn texts_count_on_the_day_they_were_sent() {
    // Sunday 21:30 in Chicago, sent Monday 08:00 (10.5 h later).
    let mut overnight = text("vehicle-ready", "d-sun", "+15125550142", "2026-11-23T03:30:00Z", Some(37_800));
    overnight.defer_reason = Some("quiet hours".into());
    // Monday 21:30, sent Tuesday 08:00.
    let mut next_day = text("vehicle-ready", "d-mon", "+15125550177", "2026-11-24T03:30:00Z", Some(37_800));
    next_day.defer_reason = Some("quiet hours".into());
    let data = DayData { texts: vec![overnight, next_day], ..Default::default() };
    let r = build(&northside(), day(), at("2026-11-24T12:00:00Z"), &data);
    assert_eq!(r.texts.sent, 1, "the one that went on Monday");
    assert_eq!(r.status_texts.sent, 1);
    assert_eq!(r.status_texts.deferred, 1, "the one written on Monday that waited");
}

/// A dead letter counts for the store its body names: an event's
/// `store_id`, a hand-over's, or the store's number an inbound text went to.
#[test]
fn a_dead_letter_belongs_to_the_store_its_body_names() {
    let store = northside();
    assert!(belongs_to(r#"{"event_id":"e","store_id":"northside-chevy"}"#, &store));
    assert!(!belongs_to(r#"{"event_id":"e","store_id":"lakeside-ford"}"#, &store));
    assert!(belongs_to(r#"{"at":"2026-11-23T16:00:00Z","work":{"store_id":"northside-chevy"}}"#, &store));
    assert!(belongs_to(r#"{"originationNumber":"+15125550142","destinationNumber":"+15125550100"}"#, &store));
    assert!(!belongs_to(r#"{"originationNumber":"+15125550142","destinationNumber":"+13055550100"}"#, &store));
    assert!(!belongs_to("not json", &store), "an unreadable body names no store");
}

/// A GM in Austin reads Central time: the overdue tasks' due times are in
/// the store's zone, never UTC.
#[test]
fn every_time_a_person_reads_is_in_the_stores_zone() {
    let r = build(&northside(), day(), at("2026-11-24T12:00:00Z"), &monday());
    let text = r.to_string();
    assert!(text.contains("oldest due 2026-11-22 09:00 CST"), "{text}");
    assert!(!text.contains("UTC"), "{text}");
    assert_eq!(r.timezone, "America/Chicago");
}

#[test]
fn leads_appointments_and_post_visit_checks_are_counted_on_the_day_they_happened() {
    let (a, b) = (customer("+15125550142"), customer("+15125550177"));
    let lead_a = task(&a, TaskKind::Lead, "lead-1", "bdc-sales", "2026-11-23T16:15:00Z");
    let lead_b = task(&b, TaskKind::Lead, "lead-2", "bdc-sales", "2026-11-23T17:15:00Z");
    let heat = task(&a, TaskKind::HeatCase, "heat-case-RO-1", "bdc-service", "2026-11-23T15:00:00Z");
    let facts = vec![
        // Lead 1 arrived 10:00, its task closed at 10:12; lead 2 at 11:00, a staff text at 11:30.
        with_task(fact(FactKind::LeadReceived, "lead#m-1", "2026-11-23T16:00:00Z"), &lead_a),
        with_task(fact(FactKind::LeadReceived, "lead#m-2", "2026-11-23T17:00:00Z"), &lead_b),
        fact(FactKind::VisitAnswered, "sms#1", "2026-11-23T15:00:00Z").score(2),
        with_task(fact(FactKind::HeatCase, "sms#1", "2026-11-23T15:00:00Z"), &heat),
        fact(FactKind::VisitAnswered, "sms#2", "2026-11-23T16:00:00Z").score(5),
        fact(FactKind::VisitAnswered, "sms#3", "2026-11-23T16:30:00Z").score(4),
    ];
    let mut staff = text("staff-inbox", "inbox#1", "+15125550177", "2026-11-23T17:30:00Z", Some(1));
    staff.sent_by = Some("dana@northside.example".into());
    let texts = vec![
        text("lead-email", "lead#m-1", "+15125550142", "2026-11-23T16:00:02Z", Some(1)),
        staff,
        text("appointments", "appt-confirm#A-1#1", "+15125550142", "2026-11-23T15:00:00Z", Some(1)),
        text("appointments", "appt-confirm#A-2#1", "+15125550177", "2026-11-23T16:00:00Z", Some(1)),
        text("appointments", "appt-remind#A-3#1", "+15125550177", "2026-11-23T14:00:00Z", Some(1)),
        // Written at 22:30, not sent: not counted.
        text("appointments", "appt-confirm#A-4#1", "+15125550177", "2026-11-24T04:30:00Z", None),
        text("declined-service", "visit-check#RO-1", "+15125550142", "2026-11-23T14:00:00Z", Some(1)),
    ];
    let tasks = vec![done(lead_a, "2026-11-23T16:12:00Z", TaskOutcome::Reached), lead_b, heat];
    let data = DayData { facts, texts, tasks, ..Default::default() };
    let r = build(&northside(), day(), at("2026-11-24T13:00:00Z"), &data);
    assert_eq!((r.leads.received, r.leads.texted), (2, 1));
    assert_eq!(r.leads.median_minutes_to_first_contact, Some(21.0), "12 and 30 minutes");
    assert_eq!((r.appointments.confirmed, r.appointments.reminded), (2, 1));
    assert_eq!((r.post_visit.asked, r.post_visit.answered, r.post_visit.heat_cases), (1, 3, 1));
    assert_eq!(r.post_visit.average, Some(3.67));
    let json = serde_json::to_value(&r).unwrap();
    for field in ["leads", "appointments", "post_visit"] {
        assert!(json[field].is_object(), "{field} in the JSON");
    }
    assert!(r.to_string().contains("Leads: 2 received, 1 texted"), "{r}");
}
