//! The recipient's rules for marketing texts: the hours and limits of the
//! state a number belongs to, in the recipient's time zone.
//!
//! A number's state and zone come from its area code (the usual proxy: a
//! number keeps its area code when its owner moves, so it is a proxy, not a
//! fact). An area code not in [`AREA_CODES`], or a number outside the US, gets
//! the federal window in the store's zone. The outbound path applies the
//! stricter of the store's window and the recipient's ([`opens`]), and the
//! state's 24-hour limit ([`StateRule::max_per_24_hours`]).

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::phone::Phone;

/// One state's rules for telephone solicitations by text, with where they
/// come from. Hours are recipient-local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRule {
    pub state: &'static str,
    /// Monday to Saturday.
    pub weekdays: (NaiveTime, NaiveTime),
    /// Sunday, when it differs.
    pub sunday: Option<(NaiveTime, NaiveTime)>,
    /// Solicitations per 24 hours on the same subject (custops counts every
    /// marketing text, which is stricter).
    pub max_per_24_hours: Option<usize>,
    pub source: &'static str,
    /// When the rule took effect.
    pub since: &'static str,
}

const fn hm(h: u32, m: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(h, m, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    }
}

/// The federal rule: 47 CFR 64.1200(c)(1), no solicitation before 08:00 or
/// after 21:00 at the called party's location.
pub const FEDERAL: StateRule = StateRule {
    state: "US",
    weekdays: (hm(8, 0), hm(21, 0)),
    sunday: None,
    max_per_24_hours: None,
    source: "47 CFR 64.1200(c)(1) (TCPA)",
    since: "1992-12-20",
};

/// The states whose rules are stricter than the federal one.
pub const STATE_RULES: &[StateRule] = &[
    StateRule {
        state: "FL",
        weekdays: (hm(8, 0), hm(20, 0)),
        sunday: None,
        max_per_24_hours: Some(3),
        source: "Fla. Stat. 501.059(4), (8)(a) (Florida Telephone Solicitation Act, as amended by SB 1120)",
        since: "2021-07-01",
    },
    StateRule {
        state: "OK",
        weekdays: (hm(8, 0), hm(20, 0)),
        sunday: None,
        max_per_24_hours: Some(3),
        source: "Okla. Stat. tit. 15, 775C.4 (Oklahoma Telephone Solicitation Act of 2022)",
        since: "2022-11-01",
    },
    StateRule {
        state: "MD",
        weekdays: (hm(8, 0), hm(20, 0)),
        sunday: None,
        max_per_24_hours: Some(3),
        source: "Md. Code, Com. Law 14-4503 (Stop the Spam Calls Act of 2023)",
        since: "2024-01-01",
    },
    StateRule {
        state: "TX",
        weekdays: (hm(9, 0), hm(21, 0)),
        sunday: Some((hm(12, 0), hm(21, 0))),
        max_per_24_hours: None,
        source: "Tex. Bus. & Com. Code 301.051 (texts are telephone solicitations: SB 140, 89th Leg.)",
        since: "2025-09-01",
    },
];

use chrono_tz::America::{Chicago, Denver, Los_Angeles, New_York, Phoenix};
use chrono_tz::Pacific::Honolulu;

/// Area codes custops knows: (area code, state, zone). For an area code that
/// spans two zones, the zone of most of its numbers.
pub const AREA_CODES: &[(u16, &str, Tz)] = &[
    // Florida (850, the panhandle west of the Apalachicola, is Central).
    (239, "FL", New_York),
    (305, "FL", New_York),
    (321, "FL", New_York),
    (352, "FL", New_York),
    (386, "FL", New_York),
    (407, "FL", New_York),
    (448, "FL", Chicago),
    (561, "FL", New_York),
    (656, "FL", New_York),
    (689, "FL", New_York),
    (727, "FL", New_York),
    (754, "FL", New_York),
    (772, "FL", New_York),
    (786, "FL", New_York),
    (813, "FL", New_York),
    (850, "FL", Chicago),
    (863, "FL", New_York),
    (904, "FL", New_York),
    (941, "FL", New_York),
    (954, "FL", New_York),
    // Oklahoma.
    (405, "OK", Chicago),
    (539, "OK", Chicago),
    (572, "OK", Chicago),
    (580, "OK", Chicago),
    (918, "OK", Chicago),
    // Maryland.
    (227, "MD", New_York),
    (240, "MD", New_York),
    (301, "MD", New_York),
    (410, "MD", New_York),
    (443, "MD", New_York),
    (667, "MD", New_York),
    // Texas (915, El Paso, is Mountain).
    (210, "TX", Chicago),
    (214, "TX", Chicago),
    (254, "TX", Chicago),
    (281, "TX", Chicago),
    (325, "TX", Chicago),
    (346, "TX", Chicago),
    (361, "TX", Chicago),
    (409, "TX", Chicago),
    (430, "TX", Chicago),
    (432, "TX", Chicago),
    (469, "TX", Chicago),
    (512, "TX", Chicago),
    (682, "TX", Chicago),
    (713, "TX", Chicago),
    (726, "TX", Chicago),
    (737, "TX", Chicago),
    (806, "TX", Chicago),
    (817, "TX", Chicago),
    (830, "TX", Chicago),
    (832, "TX", Chicago),
    (903, "TX", Chicago),
    (915, "TX", Denver),
    (936, "TX", Chicago),
    (940, "TX", Chicago),
    (945, "TX", Chicago),
    (956, "TX", Chicago),
    (972, "TX", Chicago),
    (979, "TX", Chicago),
    // Elsewhere: the federal rule, in the number's zone.
    (212, "NY", New_York),
    (646, "NY", New_York),
    (718, "NY", New_York),
    (917, "NY", New_York),
    (312, "IL", Chicago),
    (773, "IL", Chicago),
    (872, "IL", Chicago),
    (303, "CO", Denver),
    (720, "CO", Denver),
    (602, "AZ", Phoenix),
    (480, "AZ", Phoenix),
    (520, "AZ", Phoenix),
    (213, "CA", Los_Angeles),
    (310, "CA", Los_Angeles),
    (323, "CA", Los_Angeles),
    (415, "CA", Los_Angeles),
    (619, "CA", Los_Angeles),
    (206, "WA", Los_Angeles),
    (503, "OR", Los_Angeles),
    (702, "NV", Los_Angeles),
    (808, "HI", Honolulu),
    (404, "GA", New_York),
    (617, "MA", New_York),
    (215, "PA", New_York),
    (313, "MI", New_York),
];

/// Where a number's rules come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipient {
    pub rule: StateRule,
    /// The recipient's zone; `None`: unknown, the store's is used.
    pub zone: Option<Tz>,
}

/// The rules for texting `to`: its state's (or the federal rule), in its zone.
pub fn recipient(to: &Phone) -> Recipient {
    let e164 = to.e164();
    let npa = e164.strip_prefix("+1").filter(|n| n.len() == 10).and_then(|n| n[..3].parse::<u16>().ok());
    let known = npa.and_then(|npa| AREA_CODES.iter().find(|(code, _, _)| *code == npa));
    match known {
        Some((_, state, zone)) => Recipient {
            rule: STATE_RULES.iter().find(|r| r.state == *state).copied().unwrap_or(FEDERAL),
            zone: Some(*zone),
        },
        None => Recipient { rule: FEDERAL, zone: None },
    }
}

impl StateRule {
    /// The window on a recipient-local weekday.
    pub fn window(&self, day: Weekday) -> (NaiveTime, NaiveTime) {
        match (day, self.sunday) {
            (Weekday::Sun, Some(sunday)) => sunday,
            _ => self.weekdays,
        }
    }
}

/// The earliest instant at or after `now` the recipient's rule allows a
/// marketing text, in their zone (`fallback`: the store's, when unknown).
pub fn opens(recipient: &Recipient, fallback: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = recipient.zone.unwrap_or(fallback);
    let local = now.with_timezone(&tz);
    for offset in 0..=7 {
        let date = local.date_naive() + Duration::days(offset);
        let (open, close) = recipient.rule.window(date.weekday());
        if offset == 0 && local.time() >= open && local.time() < close {
            return now;
        }
        let at = tz
            .from_local_datetime(&date.and_time(open))
            .earliest()
            .or_else(|| tz.from_local_datetime(&(date.and_time(open) + Duration::hours(1))).earliest())
            .map(|t| t.with_timezone(&Utc));
        if let Some(at) = at.filter(|t| *t >= now) {
            return at;
        }
    }
    now
}

/// Whether the recipient's rule allows a marketing text at `t`.
pub fn allows(recipient: &Recipient, fallback: Tz, t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&recipient.zone.unwrap_or(fallback));
    let (open, close) = recipient.rule.window(local.weekday());
    local.time() >= open && local.time() < close
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn phone(s: &str) -> Phone {
        Phone::parse(s).unwrap()
    }

    #[test]
    fn the_area_code_gives_the_state_and_zone() {
        let miami = recipient(&phone("+13055550123"));
        assert_eq!((miami.rule.state, miami.zone), ("FL", Some(New_York)));
        assert_eq!(recipient(&phone("+18505550123")).zone, Some(Chicago), "the panhandle");
        assert_eq!(recipient(&phone("+15125550142")).rule.state, "TX");
        assert_eq!(recipient(&phone("+19155550142")).zone, Some(Denver), "El Paso");
        let unknown = recipient(&phone("+16055550142"));
        assert_eq!((unknown.rule, unknown.zone), (FEDERAL, None), "South Dakota: not in the table");
        assert_eq!(recipient(&phone("+14155550123")).rule, FEDERAL, "California: the federal rule");
    }

    #[test]
    fn florida_closes_at_eight_and_texas_opens_at_noon_on_sunday() {
        let fl = recipient(&phone("+13055550123"));
        // Monday 20:30 in Miami: the next morning at 08:00.
        assert_eq!(opens(&fl, Chicago, at("2026-11-24T01:30:00Z")), at("2026-11-24T13:00:00Z"));
        let tx = recipient(&phone("+15125550142"));
        // Sunday 10:00 in Austin: noon.
        assert_eq!(opens(&tx, Chicago, at("2026-11-29T16:00:00Z")), at("2026-11-29T18:00:00Z"));
        // Saturday 08:30: 09:00.
        assert_eq!(opens(&tx, Chicago, at("2026-11-28T14:30:00Z")), at("2026-11-28T15:00:00Z"));
        assert!(allows(&tx, Chicago, at("2026-11-29T18:00:00Z")));
        assert!(!allows(&tx, Chicago, at("2026-11-29T17:59:00Z")));
    }

    #[test]
    fn every_rule_names_its_source_and_date() {
        for r in STATE_RULES.iter().chain([&FEDERAL]) {
            assert!(!r.source.is_empty() && r.since.parse::<chrono::NaiveDate>().is_ok(), "{r:?}");
            assert!(r.weekdays.0 >= FEDERAL.weekdays.0 && r.weekdays.1 <= FEDERAL.weekdays.1, "never wider");
        }
        for (code, state, _) in AREA_CODES {
            assert_eq!(AREA_CODES.iter().filter(|(c, _, _)| c == code).count(), 1, "{code} once ({state})");
        }
    }
}
