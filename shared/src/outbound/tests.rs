use super::*;
use crate::model::MarketingConsent;
use chrono::NaiveTime;

fn store() -> StoreConfig {
    StoreConfig::from_json(
        r#"{"store_id":"s","name":"Northside","timezone":"America/Chicago","sms_number":"+15125550100"}"#,
    )
    .unwrap()
}

fn req<'a>(store: &'a StoreConfig, to: &'a Phone, class: MessageClass) -> TextRequest<'a> {
    TextRequest::new(store, to, class, "Northside: hi".into(), "k".into(), "test", "e")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn opted_out_numbers_are_never_planned_in_any_class() {
    let (s, p) = (store(), Phone::parse("+15125550142").unwrap());
    let consent = Consent { opted_out_at: Some(at("2026-11-01T00:00:00Z")), ..Default::default() };
    for class in [MessageClass::Reply, MessageClass::Transactional, MessageClass::Marketing] {
        assert!(matches!(
            plan(req(&s, &p, class), &consent, &SendLedger::default(), at("2026-11-23T16:00:00Z")),
            Plan::Suppress(Suppressed::OptedOut)
        ));
    }
}

#[test]
fn marketing_needs_consent_and_records_its_basis() {
    let (s, p) = (store(), Phone::parse("+15125550142").unwrap());
    let none = Consent::default();
    assert!(matches!(
        plan(req(&s, &p, MessageClass::Marketing), &none, &SendLedger::default(), at("2026-11-23T16:00:00Z")),
        Plan::Suppress(Suppressed::NoMarketingConsent)
    ));
    let yes = Consent {
        marketing: Some(MarketingConsent { granted: true, source: "dms".into(), at: at("2026-01-01T00:00:00Z") }),
        ..Default::default()
    };
    let Plan::Send(t) =
        plan(req(&s, &p, MessageClass::Marketing), &yes, &SendLedger::default(), at("2026-11-23T16:00:00Z"))
    else {
        panic!()
    };
    assert_eq!(t.consent_basis, "marketing_opt_in:dms (2026-01-01T00:00:00+00:00)", "the grant it relied on");
    assert_eq!((t.segments, t.est_price_micro_usd), (1, US_PRICE_PER_SEGMENT_MICRO_USD));
}

#[test]
fn replies_go_at_any_hour_transactional_waits_for_the_window() {
    let (s, p) = (store(), Phone::parse("+15125550142").unwrap());
    // 21:30 CST on Monday.
    let late = at("2026-11-24T03:30:00Z");
    assert!(matches!(
        plan(req(&s, &p, MessageClass::Reply), &Consent::default(), &SendLedger::default(), late),
        Plan::Send(_)
    ));
    let Plan::Defer(t) =
        plan(req(&s, &p, MessageClass::Transactional), &Consent::default(), &SendLedger::default(), late)
    else {
        panic!()
    };
    assert_eq!(t.due_at, Some(at("2026-11-24T14:00:00Z")));
    assert_eq!(t.state, TextState::Deferred);
}

/// Property: for every instant (every 13 minutes over two years, both DST
/// changes included) in every US zone, a marketing or transactional text is
/// never due outside 08:00-21:00 local, never before it was asked for, and
/// not delayed when asked for inside the window.
#[test]
fn no_window_bound_text_is_ever_due_outside_0800_2100_local() {
    let zones = US_ZONES;
    let opens = NaiveTime::from_hms_opt(8, 0, 0).unwrap();
    let closes = NaiveTime::from_hms_opt(21, 0, 0).unwrap();
    for zone in zones {
        let s = StoreConfig::from_json(&format!(
            r#"{{"store_id":"s","name":"S","timezone":"{zone}","sms_number":"+15125550100"}}"#
        ))
        .unwrap();
        let mut t = at("2026-01-01T00:00:00Z");
        let end = at("2028-01-01T00:00:00Z");
        while t < end {
            for class in [MessageClass::Marketing, MessageClass::Transactional] {
                let due = next_allowed(class, &s, t);
                let local = due.with_timezone(&s.timezone).time();
                assert!(local >= opens && local < closes, "{zone} {t}: due {due} ({local} local)");
                assert!(due >= t, "{zone} {t}: due {due} is in the past");
                assert!(due - t < Duration::hours(14), "{zone} {t}: due {due} is too late");
                let asked = t.with_timezone(&s.timezone).time();
                if asked >= opens && asked < closes {
                    assert_eq!(due, t, "{zone} {t}: inside the window it goes at once");
                }
            }
            t += Duration::minutes(13);
        }
    }
}

#[test]
fn deferral_across_both_dst_changes_lands_on_0800_local() {
    let s = store();
    // Saturday 2027-03-13 22:00 CST -> Sunday 08:00 CDT (after spring forward) = 13:00Z.
    assert_eq!(next_allowed(MessageClass::Marketing, &s, at("2027-03-14T04:00:00Z")), at("2027-03-14T13:00:00Z"));
    // Saturday 2026-10-31 22:00 CDT -> Sunday 08:00 CST (after fall back) = 14:00Z.
    assert_eq!(next_allowed(MessageClass::Marketing, &s, at("2026-11-01T03:00:00Z")), at("2026-11-01T14:00:00Z"));
}

fn ledger(entries: &[(&str, MessageClass)]) -> SendLedger {
    SendLedger {
        entries: entries.iter().map(|(t, class)| SendEntry { at: at(t), class: *class, cadence: None }).collect(),
        version: 1,
    }
}

#[test]
fn replies_are_never_capped_but_count() {
    let s = store();
    let busy = ledger(&[
        ("2026-11-23T15:00:00Z", MessageClass::Transactional),
        ("2026-11-23T15:10:00Z", MessageClass::Transactional),
        ("2026-11-23T15:20:00Z", MessageClass::Transactional),
    ]);
    let now = at("2026-11-23T16:00:00Z");
    assert_eq!(apply_caps(MessageClass::Reply, &s, &busy, now, None), Ok(now));
    assert!(apply_caps(MessageClass::Marketing, &s, &busy, now, None).unwrap_err().contains("24 hours"));
    // The fourth transactional waits until 24 h after the latest one, inside the window.
    let due = apply_caps(MessageClass::Transactional, &s, &busy, now, None).unwrap();
    assert_eq!(due, at("2026-11-24T15:20:00Z"));
}

#[test]
fn a_capped_transactional_text_still_respects_quiet_hours() {
    let s = store();
    // Three texts late on Monday evening (CST): the next may go 24 h after the
    // latest, 20:50 Tuesday, inside the window.
    let busy = ledger(&[
        ("2026-11-24T02:30:00Z", MessageClass::Reply),
        ("2026-11-24T02:40:00Z", MessageClass::Reply),
        ("2026-11-24T02:50:00Z", MessageClass::Reply),
    ]);
    let due = apply_caps(MessageClass::Transactional, &s, &busy, at("2026-11-24T02:55:00Z"), None).unwrap();
    let local = due.with_timezone(&s.timezone).time();
    assert!(local >= NaiveTime::from_hms_opt(8, 0, 0).unwrap() && local < NaiveTime::from_hms_opt(21, 0, 0).unwrap());
    assert!(due >= at("2026-11-25T02:50:00Z"));
}

#[test]
fn a_store_can_keep_marketing_off_its_closed_days_and_narrow_its_texting_window() {
    let mut s = store();
    s.no_marketing_on_closed_days = true;
    s.texting_window = Some((NaiveTime::from_hms_opt(9, 0, 0).unwrap(), NaiveTime::from_hms_opt(18, 0, 0).unwrap()));
    // Saturday 22:00 CST: Sunday is closed (default hours), so Monday 08:00 CST.
    assert_eq!(next_allowed(MessageClass::Marketing, &s, at("2026-11-29T04:00:00Z")), at("2026-11-30T14:00:00Z"));
    // Sunday 10:00 CST, closed: Monday 08:00.
    assert_eq!(next_allowed(MessageClass::Marketing, &s, at("2026-11-29T16:00:00Z")), at("2026-11-30T14:00:00Z"));
    // Transactional keeps to the store's 09:00-18:00 window, any day.
    assert_eq!(next_allowed(MessageClass::Transactional, &s, at("2026-11-29T14:30:00Z")), at("2026-11-29T15:00:00Z"));
    assert_eq!(next_allowed(MessageClass::Transactional, &s, at("2026-11-30T00:30:00Z")), at("2026-11-30T15:00:00Z"));
}

/// A window stored before `store put` checked it, or written by hand,
/// never sends outside the legal hours.
#[test]
fn a_store_window_outside_the_legal_hours_or_a_week_of_closed_days_never_leaves_the_legal_window() {
    let mut s = store();
    s.texting_window = Some((NaiveTime::from_hms_opt(22, 0, 0).unwrap(), NaiveTime::from_hms_opt(23, 0, 0).unwrap()));
    // Monday 22:00 CST: not "due at 22:00" but Tuesday 08:00.
    assert_eq!(next_allowed(MessageClass::Transactional, &s, at("2026-11-24T04:00:00Z")), at("2026-11-24T14:00:00Z"));
    let mut closed = store();
    closed.no_marketing_on_closed_days = true;
    closed.hours =
        serde_json::from_str(r#"{"mon":null,"tue":null,"wed":null,"thu":null,"fri":null,"sat":null,"sun":null}"#)
            .unwrap();
    // Monday 22:00 CST: not "now", but the next legal opening.
    assert_eq!(next_allowed(MessageClass::Marketing, &closed, at("2026-11-24T04:00:00Z")), at("2026-11-24T14:00:00Z"));
}

#[test]
fn toll_free_numbers_are_suppressed() {
    let (s, p) = (store(), Phone::parse("+18005550100").unwrap());
    assert!(matches!(
        plan(req(&s, &p, MessageClass::Reply), &Consent::default(), &SendLedger::default(), at("2026-11-23T16:00:00Z")),
        Plan::Suppress(Suppressed::NotMobile)
    ));
}

/// Every US zone a store may be in.
const US_ZONES: [&str; 7] = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
];

fn store_in(tz: &str, sms: &str) -> StoreConfig {
    StoreConfig::from_json(&format!(r#"{{"store_id":"s","name":"Store","timezone":"{tz}","sms_number":"{sms}"}}"#))
        .unwrap()
}

fn consented() -> Consent {
    Consent {
        marketing: Some(MarketingConsent { granted: true, source: "dms".into(), at: at("2026-01-01T00:00:00Z") }),
        ..Default::default()
    }
}

#[test]
fn a_florida_customers_marketing_text_at_half_past_eight_waits_for_the_morning() {
    // A Miami store at 20:30 (store window open until 21:00; Florida's closes at 20:00).
    let s = store_in("America/New_York", "+13055550100");
    let to = Phone::parse("+13055550123").unwrap();
    let now = at("2026-11-25T01:30:00Z");
    let Plan::Defer(t) = plan(req(&s, &to, MessageClass::Marketing), &consented(), &SendLedger::default(), now) else {
        panic!("deferred")
    };
    assert_eq!(t.due_at, Some(at("2026-11-25T13:00:00Z")), "08:00 in Miami");
    // A transactional text is not a solicitation: the store's window applies.
    assert!(matches!(
        plan(req(&s, &to, MessageClass::Transactional), &consented(), &SendLedger::default(), now),
        Plan::Send(_)
    ));
}

#[test]
fn a_texas_number_gets_no_marketing_before_noon_on_sunday_whatever_the_stores_zone() {
    // A Chicago store, Sunday 10:00, a Texas (512) number.
    let s = store();
    let to = Phone::parse("+15125550142").unwrap();
    let Plan::Defer(t) =
        plan(req(&s, &to, MessageClass::Marketing), &consented(), &SendLedger::default(), at("2026-11-29T16:00:00Z"))
    else {
        panic!("deferred")
    };
    assert_eq!(t.due_at, Some(at("2026-11-29T18:00:00Z")));
}

#[test]
fn the_recipients_state_limits_solicitations_to_three_a_day() {
    let mut s = store_in("America/New_York", "+13055550100");
    s.caps.marketing_per_7_days = 10;
    s.caps.texts_per_24_hours = 10;
    let to = Phone::parse("+13055550123").unwrap();
    let now = at("2026-11-24T15:00:00Z");
    let entry = |h: i64| SendEntry { at: now - Duration::hours(h), class: MessageClass::Marketing, cadence: None };
    let sends = SendLedger { entries: vec![entry(1), entry(2), entry(3)], version: 3 };
    let Plan::Suppress(Suppressed::Capped(cap)) =
        plan(req(&s, &to, MessageClass::Marketing), &consented(), &sends, now)
    else {
        panic!("capped")
    };
    assert!(cap.starts_with("FL: 3 solicitations per 24 hours"), "{cap}");
}

#[test]
fn paused_marketing_is_never_planned() {
    let s = store();
    let to = Phone::parse("+15125550142").unwrap();
    let mut paused = consented();
    paused.marketing_paused = Some(crate::model::MarketingPause {
        at: at("2026-11-23T16:00:00Z"),
        task_id: "reply-1".into(),
        why: "may mean stop".into(),
    });
    assert!(matches!(
        plan(req(&s, &to, MessageClass::Marketing), &paused, &SendLedger::default(), at("2026-11-24T16:00:00Z")),
        Plan::Suppress(Suppressed::MarketingPaused)
    ));
}

/// Every marketing text planned at any instant of two years, by stores in
/// every US zone to recipients of every rule, goes (or waits until) an
/// instant both the store's window and the recipient's allow, and the
/// earliest such instant.
#[test]
fn every_window_holds_in_every_us_zone_over_two_years() {
    let zones = US_ZONES;
    // Florida (Eastern), the panhandle (Central), Oklahoma, Maryland,
    // Texas, El Paso (Mountain), California (federal) and unknown.
    let recipients = [
        "+13055550123",
        "+18505550123",
        "+14055550123",
        "+14105550123",
        "+15125550123",
        "+19155550123",
        "+14155550123",
        "+16055550123",
    ];
    let start = at("2026-01-01T00:00:00Z");
    let mut checked = 0;
    for zone in zones {
        let s = store_in(zone, "+15125550100");
        for r in recipients {
            let to = Phone::parse(r).unwrap();
            let who = crate::recipient::recipient(&to);
            let allowed = |t: DateTime<Utc>| {
                next_allowed(MessageClass::Marketing, &s, t) == t && crate::recipient::allows(&who, s.timezone, t)
            };
            // Every 7 h 13 min for two years: every hour of every weekday, both DST changes.
            let mut t = start;
            while t < start + Duration::days(731) {
                let opens = window_opens(MessageClass::Marketing, &s, &to, t);
                assert!(opens >= t && allowed(opens), "{zone} to {r} at {t}: {opens}");
                if allowed(t) {
                    assert_eq!(opens, t, "{zone} to {r} at {t}");
                } else {
                    // Nothing earlier was allowed (checked at the minute).
                    let before = opens - Duration::minutes(1);
                    assert!(before < t || !allowed(before), "{zone} to {r}: {before} was allowed");
                }
                checked += 1;
                t += Duration::minutes(433);
            }
        }
    }
    assert!(checked > 100_000, "{checked}");
}
