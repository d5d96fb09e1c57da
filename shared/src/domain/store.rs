//! Store configuration (CONTRACT §4): one item in the table per store, cached per
//! cold start. Only `store_id`, `name`, `timezone` and `sms_number` are required.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::entity::Entity;
use crate::keys::{self, Keys};
use crate::phone::Phone;

/// The most addresses a store's report is mailed to (one SES message: 50 at most).
pub const REPORT_TO_MAX: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreConfig {
    pub store_id: String,
    pub name: String,
    #[serde(with = "tz_serde")]
    pub timezone: Tz,
    pub sms_number: Phone,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_url: Option<String>,
    #[serde(default)]
    pub hours: WeekHours,
    #[serde(default)]
    pub owners: Owners,
    #[serde(default = "defaults::lapse_months")]
    pub lapse_months: u32,
    #[serde(default = "defaults::declined_cadence_days")]
    pub declined_cadence_days: Vec<u32>,
    #[serde(default = "defaults::avg_ro_cents")]
    pub avg_ro_cents: u64,
    /// `live` (default) or `shadow`: everything runs but the SNS publish.
    #[serde(default)]
    pub mode: StoreMode,
    /// Frequency caps per customer.
    #[serde(default)]
    pub caps: Caps,
    /// When transactional texts may go, store-local (`["08:00","21:00"]` by
    /// default; never wider than that).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "window_serde")]
    pub texting_window: Option<(NaiveTime, NaiveTime)>,
    /// Never send marketing texts on days the store is closed.
    #[serde(default)]
    pub no_marketing_on_closed_days: bool,
    /// Wording overrides by template key (see `templates.rs`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub templates: BTreeMap<String, String>,
    /// The store's phone lines and the department each rings (a line not
    /// listed is `main`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lines: BTreeMap<Phone, Department>,
    /// How long a customer's text may wait for a person, in minutes of the
    /// store's open hours, before it is escalated (section 10).
    #[serde(default = "defaults::reply_sla_minutes")]
    pub reply_sla_minutes: u32,
    /// The mail addresses whose ADF leads are the store's (section 7, new lead).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_addresses: Vec<String>,
    /// Offered to a customer who rated a visit 4 or 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_url: Option<String>,
    /// The post-visit check: the day after a close, one question answered 1-5 (default off).
    #[serde(default)]
    pub post_visit_check: bool,
    /// Appointment confirmations and day-before reminders (default off: many
    /// DMS schedulers confirm already, and a promise is never sent twice).
    #[serde(default)]
    pub appointment_texts: bool,
    /// Who may have a lead texted at once (section 3): domains (a domain
    /// covers its subdomains) or whole addresses of authenticated senders.
    /// None (the default): every lead is a task and none is texted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lead_senders: Vec<String>,
    /// Who gets the 06:00 report by mail (section 8): at most
    /// [`REPORT_TO_MAX`] addresses; none (the default): no mail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub report_to: Vec<String>,
    /// At most this many lead texts per store per hour (default 20); a lead
    /// past it gets its task alone.
    #[serde(default = "defaults::lead_texts_per_hour")]
    pub lead_texts_per_hour: u32,
    /// Service due (section 14): months after the last service (default 6)
    /// and miles after its odometer reading (default 5000).
    #[serde(default = "defaults::service_interval_months")]
    pub service_interval_months: u32,
    #[serde(default = "defaults::service_interval_miles")]
    pub service_interval_miles: u32,
    /// Miles a day for a vehicle with too few odometer readings of its own
    /// (default 37).
    #[serde(default = "defaults::miles_per_day")]
    pub miles_per_day: u32,
    /// The check after a delivery (section 14, default off) and on which
    /// day after it (default 42).
    #[serde(default)]
    pub delivery_check: bool,
    #[serde(default = "defaults::delivery_check_days")]
    pub delivery_check_days: u32,
    /// Days before a lease or loan's last payment a `maturity` task is made
    /// (default [180, 90]).
    #[serde(default = "defaults::maturity_task_days")]
    pub maturity_task_days: Vec<u32>,
    /// A marketing text at the last maturity step (default off).
    #[serde(default)]
    pub maturity_texts: bool,
}

/// Every store under one partition; found by its texting number too (gsi1).
impl Entity for StoreConfig {
    const KIND: &'static str = "store";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let mut k = Self::key(&self.store_id);
        k.gsi1 = Some((keys::store_number(&self.sms_number), "STORE".into()));
        k
    }
}

impl StoreConfig {
    /// Where the store with id `store_id` is kept.
    pub fn key(store_id: &str) -> Keys {
        Keys::new(keys::STORES_PK, format!("STORE#{store_id}"))
    }
}

/// How often one customer may be texted. Replies to the customer are never
/// held back, but they count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caps {
    /// Marketing texts per 7 days (default 1); more are dropped.
    #[serde(default = "caps_defaults::marketing_per_7_days")]
    pub marketing_per_7_days: u32,
    /// Texts of any class per 24 hours (default 3); more transactional texts
    /// wait until the window frees, more marketing texts are dropped.
    #[serde(default = "caps_defaults::texts_per_24_hours")]
    pub texts_per_24_hours: u32,
}

mod caps_defaults {
    pub fn marketing_per_7_days() -> u32 {
        1
    }
    pub fn texts_per_24_hours() -> u32 {
        3
    }
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            marketing_per_7_days: caps_defaults::marketing_per_7_days(),
            texts_per_24_hours: caps_defaults::texts_per_24_hours(),
        }
    }
}

mod defaults {
    pub fn lapse_months() -> u32 {
        13
    }
    pub fn declined_cadence_days() -> Vec<u32> {
        vec![3, 10, 30]
    }
    pub fn lead_texts_per_hour() -> u32 {
        20
    }
    pub fn reply_sla_minutes() -> u32 {
        15
    }
    pub fn avg_ro_cents() -> u64 {
        45_000
    }
    pub fn service_interval_months() -> u32 {
        6
    }
    pub fn service_interval_miles() -> u32 {
        5000
    }
    pub fn miles_per_day() -> u32 {
        37
    }
    pub fn delivery_check_days() -> u32 {
        42
    }
    pub fn maturity_task_days() -> Vec<u32> {
        vec![180, 90]
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreMode {
    #[default]
    Live,
    Shadow,
}

/// A department a call or a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Department {
    Service,
    Sales,
    Parts,
    Main,
}

impl Department {
    pub fn as_str(self) -> &'static str {
        match self {
            Department::Service => "service",
            Department::Sales => "sales",
            Department::Parts => "parts",
            Department::Main => "main",
        }
    }
}

/// Who owns follow-ups for each department (a queue or a person's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owners {
    #[serde(default = "owner_defaults::service")]
    pub service: String,
    #[serde(default = "owner_defaults::sales")]
    pub sales: String,
    #[serde(default = "owner_defaults::parts")]
    pub parts: String,
    #[serde(default = "owner_defaults::main")]
    pub main: String,
}

mod owner_defaults {
    pub fn service() -> String {
        "bdc-service".into()
    }
    pub fn sales() -> String {
        "bdc-sales".into()
    }
    pub fn parts() -> String {
        "parts-desk".into()
    }
    pub fn main() -> String {
        "bdc".into()
    }
}

impl Default for Owners {
    fn default() -> Self {
        Self {
            service: owner_defaults::service(),
            sales: owner_defaults::sales(),
            parts: owner_defaults::parts(),
            main: owner_defaults::main(),
        }
    }
}

impl Owners {
    pub fn for_department(&self, d: Department) -> &str {
        match d {
            Department::Service => &self.service,
            Department::Sales => &self.sales,
            Department::Parts => &self.parts,
            Department::Main => &self.main,
        }
    }
}

/// Opening hours per weekday in store-local time; `None` is closed.
/// Default: Monday-Friday 08:00-18:00, Saturday 08:00-13:00, Sunday closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekHours(pub BTreeMap<u8, Option<(NaiveTime, NaiveTime)>>);

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
}

impl Default for WeekHours {
    fn default() -> Self {
        let mut map = BTreeMap::new();
        for (_, day) in DAYS {
            let hours = match day {
                Weekday::Sat => Some((hm(8, 0), hm(13, 0))),
                Weekday::Sun => None,
                _ => Some((hm(8, 0), hm(18, 0))),
            };
            map.insert(day.num_days_from_monday() as u8, hours);
        }
        WeekHours(map)
    }
}

impl WeekHours {
    pub fn on(&self, day: Weekday) -> Option<(NaiveTime, NaiveTime)> {
        self.0.get(&(day.num_days_from_monday() as u8)).copied().flatten()
    }
}

impl Serialize for WeekHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<&str, Option<[String; 2]>> = DAYS
            .iter()
            .map(|(name, day)| {
                let v = self.on(*day).map(|(o, c)| [o.format("%H:%M").to_string(), c.format("%H:%M").to_string()]);
                (*name, v)
            })
            .collect();
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for WeekHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw: BTreeMap<String, Option<[String; 2]>> = BTreeMap::deserialize(d)?;
        let mut hours = WeekHours::default();
        for (name, value) in raw {
            let day = DAYS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d)
                .ok_or_else(|| D::Error::custom(format!("unknown day {name:?} (use mon..sun)")))?;
            let parsed = match value {
                None => None,
                Some([open, close]) => {
                    let o = NaiveTime::parse_from_str(&open, "%H:%M")
                        .map_err(|e| D::Error::custom(format!("{name} opening {open:?}: {e}")))?;
                    let c = NaiveTime::parse_from_str(&close, "%H:%M")
                        .map_err(|e| D::Error::custom(format!("{name} closing {close:?}: {e}")))?;
                    if c <= o {
                        return Err(D::Error::custom(format!("{name}: closing {close} is not after opening {open}")));
                    }
                    Some((o, c))
                }
            };
            hours.0.insert(day.num_days_from_monday() as u8, parsed);
        }
        Ok(hours)
    }
}

/// The federal calling hours for texts that are not replies (TCPA, 47 CFR
/// 64.1200(c)(1): no solicitation before 08:00 or after 21:00 at the
/// recipient's location); a store's texting window may narrow it, never widen it.
pub const LEGAL_WINDOW: (NaiveTime, NaiveTime) = (
    match NaiveTime::from_hms_opt(8, 0, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    },
    match NaiveTime::from_hms_opt(21, 0, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    },
);

impl StoreConfig {
    /// When transactional texts may go, store-local: the store's texting
    /// window clamped to [`LEGAL_WINDOW`]; the legal window itself when the
    /// store's has nothing left inside it (`store put` refuses such a window;
    /// this keeps a stored one from ever sending outside the legal hours).
    pub fn transactional_window(&self) -> (NaiveTime, NaiveTime) {
        let (legal_opens, legal_closes) = LEGAL_WINDOW;
        match self.texting_window {
            Some((o, c)) if o.max(legal_opens) < c.min(legal_closes) => (o.max(legal_opens), c.min(legal_closes)),
            _ => LEGAL_WINDOW,
        }
    }

    /// When the store's texting window opens on the store-local day `date`
    /// (the time a timed promise of that day falls due: any run of the
    /// scheduler inside the window finds it).
    pub fn window_opens_on(&self, date: chrono::NaiveDate) -> DateTime<Utc> {
        self.local_time_on(date, self.transactional_window().0)
    }

    /// The store-local `time` of the store-local day `date`, as an instant
    /// (a time a clock change skips is read as UTC's: never an error).
    pub fn local_time_on(&self, date: chrono::NaiveDate, time: chrono::NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        self.timezone.from_local_datetime(&local).earliest().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
    }

    /// Whether marketing can ever go: with `no_marketing_on_closed_days`, the
    /// store must be open on some day.
    pub fn has_marketing_days(&self) -> bool {
        use Weekday::*;
        !self.no_marketing_on_closed_days
            || [Mon, Tue, Wed, Thu, Fri, Sat, Sun].into_iter().any(|d| self.hours.on(d).is_some())
    }

    /// Whether `phone` is one of the store's own numbers (its texting number
    /// or a line): an event with it as the customer's number is the store's
    /// own (an internal RO, a walk-in entered with the store's number), not a customer's.
    pub fn owns_number(&self, phone: &Phone) -> bool {
        *phone == self.sms_number || self.lines.contains_key(phone)
    }

    /// What `store put` refuses beyond the syntax: a texting window outside
    /// the legal hours, marketing kept off every day of the week, and a
    /// `lapse_months` below 1 (every customer would lapse at once).
    pub fn check_windows(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.lapse_months < 1 {
            errors.push(format!("lapse_months {} is below 1", self.lapse_months));
        }
        if self.reply_sla_minutes < 1 {
            errors.push("reply_sla_minutes is below 1 (every text would be escalated at once)".to_owned());
        }
        // Section 14: a service interval of nothing would make every vehicle
        // due every day; a check on the day of the delivery asks too soon.
        if self.service_interval_months < 1 || self.service_interval_miles < 1 {
            errors.push("service_interval_months and service_interval_miles must be at least 1".to_owned());
        }
        if !(1..=400).contains(&self.miles_per_day) {
            errors.push(format!("miles_per_day {} is not between 1 and 400", self.miles_per_day));
        }
        if !(1..=365).contains(&self.delivery_check_days) {
            errors.push(format!("delivery_check_days {} is not between 1 and 365", self.delivery_check_days));
        }
        if self.maturity_task_days.iter().any(|d| !(1..=730).contains(d)) || self.maturity_task_days.len() > 6 {
            errors.push("maturity_task_days: at most 6 days, each between 1 and 730".to_owned());
        }
        if let Some((o, c)) = self.texting_window {
            let (legal_opens, legal_closes) = LEGAL_WINDOW;
            if o < legal_opens || c > legal_closes {
                errors.push(format!(
                    "texting_window {}-{} is outside the legal hours {}-{} (recipient-local)",
                    o.format("%H:%M"),
                    c.format("%H:%M"),
                    legal_opens.format("%H:%M"),
                    legal_closes.format("%H:%M")
                ));
            }
        }
        if self.sms_number.email().is_some() || self.lines.keys().any(|l| l.email().is_some()) {
            errors.push("sms_number and lines must be phone numbers".to_owned());
        }
        for address in &self.lead_addresses {
            if !is_mail_address(address) {
                errors.push(format!("lead_addresses: {address:?} is not a mail address"));
            }
        }
        for address in &self.report_to {
            if !is_mail_address(address) {
                errors.push(format!("report_to: {address:?} is not a mail address"));
            }
        }
        if self.report_to.len() > REPORT_TO_MAX {
            errors.push(format!("report_to: at most {REPORT_TO_MAX} addresses"));
        }
        for sender in &self.lead_senders {
            if !is_mail_address(sender) && !is_domain(sender) {
                errors.push(format!("lead_senders: {sender:?} is neither a mail address nor a domain"));
            }
        }
        if !self.has_marketing_days() {
            errors.push("no_marketing_on_closed_days with every day closed: marketing texts could never go".into());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The store whose `lead_addresses` holds `address` (any case).
    pub fn takes_leads_at(&self, address: &str) -> bool {
        self.lead_addresses.iter().any(|a| a.eq_ignore_ascii_case(address.trim()))
    }

    /// Whether a lead from the authenticated `sender` (a mail address, or
    /// the domain SPF or DMARC authenticated) may be texted: it is one of
    /// `lead_senders`, or its domain is one of them or beneath one (any case).
    pub fn trusts_lead_sender(&self, sender: &str) -> bool {
        let sender = sender.trim().trim_end_matches('.').to_ascii_lowercase();
        let domain = sender.rsplit_once('@').map_or(sender.as_str(), |(_, d)| d);
        self.lead_senders.iter().any(|allowed| {
            let allowed = allowed.trim().trim_end_matches('.').to_ascii_lowercase();
            if allowed.contains('@') {
                allowed == sender
            } else {
                domain == allowed || domain.strip_suffix(allowed.as_str()).is_some_and(|sub| sub.ends_with('.'))
            }
        })
    }

    /// Parses and validates a store configuration document.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.timezone)
    }

    /// A customer whose last visit is before this is lapsed at `now`: more
    /// than `lapse_months` calendar months ago (a month-end clamps, as a
    /// calendar does: 31 March less one month is 28 or 29 February).
    pub fn lapse_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_months(chrono::Months::new(self.lapse_months)).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Whether the store is open at `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        let local = self.local(t);
        match self.hours.on(local.weekday()) {
            Some((open, close)) => local.time() >= open && local.time() < close,
            None => false,
        }
    }

    /// The next time the store opens strictly after `t` (or `t` itself if open),
    /// in store-local time. `None` if the store has no open day at all.
    pub fn next_opening(&self, t: DateTime<Utc>) -> Option<DateTime<Tz>> {
        if self.is_open(t) {
            return Some(self.local(t));
        }
        let local = self.local(t);
        for offset in 0..=7 {
            let date = local.date_naive() + Duration::days(offset);
            let Some((open, _)) = self.hours.on(date.weekday()) else { continue };
            // `earliest` picks the first instant when a DST gap or overlap makes
            // the wall time ambiguous; a gap moves opening to after the jump.
            let opening = self.timezone.from_local_datetime(&date.and_time(open)).earliest().or_else(|| {
                self.timezone.from_local_datetime(&(date.and_time(open) + Duration::hours(1))).earliest()
            })?;
            if opening > local {
                return Some(opening);
            }
        }
        None
    }

    /// The moment `minutes` of the store's open hours have passed since `t`
    /// (time the store is closed does not count: a text at 20:00 with 15
    /// minutes is escalated 15 minutes after the next opening). A store
    /// with no open day at all counts the clock.
    pub fn after_open_minutes(&self, t: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
        let mut left = Duration::minutes(i64::from(minutes));
        let mut at = t;
        // Bounded: one step per opening, at most a year of them.
        for _ in 0..400 {
            let Some(open) = self.next_opening(at) else { return t + left };
            let open = open.with_timezone(&Utc);
            let local = self.local(open);
            let Some((_, close)) = self.hours.on(local.weekday()) else { return t + left };
            let close = self
                .timezone
                .from_local_datetime(&local.date_naive().and_time(close))
                .earliest()
                .map(|c| c.with_timezone(&Utc))
                .unwrap_or(open);
            let start = open.max(at);
            if start + left <= close {
                return start + left;
            }
            left -= (close - start).max(Duration::zero());
            at = close.max(start + Duration::seconds(1));
        }
        t + left
    }

    /// Closing time of the first business day after the day of `t` (store-local).
    pub fn close_of_next_business_day(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = self.local(t).date_naive();
        (1..=7).find_map(|offset| {
            let date = local + Duration::days(offset);
            let (_, close) = self.hours.on(date.weekday())?;
            self.timezone.from_local_datetime(&date.and_time(close)).earliest().map(|c| c.with_timezone(&Utc))
        })
    }

    /// Today's hours as words for a text: "7:00 AM-7:00 PM" or "closed".
    pub fn hours_on(&self, t: DateTime<Utc>) -> String {
        match self.hours.on(self.local(t).weekday()) {
            Some((o, c)) => format!("{}-{}", clock_words(o), clock_words(c)),
            None => "closed".into(),
        }
    }
}

/// "7:00 AM", "12:30 PM".
pub fn clock_words(t: NaiveTime) -> String {
    t.format("%-I:%M %p").to_string()
}

mod window_serde {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(w: &Option<(NaiveTime, NaiveTime)>, s: S) -> Result<S::Ok, S::Error> {
        w.map(|(o, c)| [o.format("%H:%M").to_string(), c.format("%H:%M").to_string()]).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(NaiveTime, NaiveTime)>, D::Error> {
        use serde::de::Error;
        let Some([o, c]) = Option::<[String; 2]>::deserialize(d)? else { return Ok(None) };
        let parse = |t: &str| {
            NaiveTime::parse_from_str(t, "%H:%M").map_err(|e| D::Error::custom(format!("texting_window {t:?}: {e}")))
        };
        let (o, c) = (parse(&o)?, parse(&c)?);
        if c <= o {
            return Err(D::Error::custom("texting_window: the end is not after the start"));
        }
        Ok(Some((o, c)))
    }
}

mod tz_serde {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse::<Tz>()
            .map_err(|_| serde::de::Error::custom(format!("unknown time zone {name:?} (use an IANA name)")))
    }
}

/// A mail address as a store writes one: `local@domain.tld`, no spaces.
pub fn is_mail_address(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !address.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@')
        }
        None => false,
    }
}

/// Whether `name` is a domain name (`oem.example`, `leads.cars.example`):
/// labels of letters, digits and hyphens, at least two of them.
pub fn is_domain(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(json: &str) -> StoreConfig {
        StoreConfig::from_json(json).unwrap()
    }

    fn chicago() -> StoreConfig {
        store(
            r#"{"store_id":"s","name":"S","timezone":"America/Chicago","sms_number":"+15125550100",
                "hours":{"mon":["07:00","19:00"],"tue":["07:00","19:00"],"wed":["07:00","19:00"],
                         "thu":["07:00","19:00"],"fri":["07:00","19:00"],"sat":["08:00","17:00"],"sun":null}}"#,
        )
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_reply_waits_its_sla_in_open_minutes_only() {
        let s = chicago();
        assert_eq!(s.reply_sla_minutes, 15);
        // Tuesday 10:00 CST: open, 15 minutes later.
        assert_eq!(s.after_open_minutes(utc("2026-11-24T16:00:00Z"), 15), utc("2026-11-24T16:15:00Z"));
        // Tuesday 18:50 CST: 10 minutes today, 5 after Wednesday's 07:00.
        assert_eq!(s.after_open_minutes(utc("2026-11-25T00:50:00Z"), 15), utc("2026-11-25T13:05:00Z"));
        // Saturday 21:00 CST: closed Sunday, Monday 07:15.
        assert_eq!(s.after_open_minutes(utc("2026-11-29T03:00:00Z"), 15), utc("2026-11-30T13:15:00Z"));
        // A store never open counts the clock.
        let mut closed = chicago();
        closed.hours = WeekHours(BTreeMap::new());
        assert_eq!(closed.after_open_minutes(utc("2026-11-24T16:00:00Z"), 15), utc("2026-11-24T16:15:00Z"));
    }

    #[test]
    fn only_four_fields_are_required_and_the_rest_default() {
        let s = store(r#"{"store_id":"s","name":"S","timezone":"America/New_York","sms_number":"(305) 555-0100"}"#);
        assert_eq!(s.sms_number.e164(), "+13055550100");
        assert_eq!(s.lapse_months, 13);
        assert_eq!(s.declined_cadence_days, vec![3, 10, 30]);
        assert_eq!(s.owners.service, "bdc-service");
        assert_eq!(s.mode, StoreMode::Live);
        assert!(s.hours.on(Weekday::Sun).is_none());
        // Section 14's defaults.
        assert_eq!((s.service_interval_months, s.service_interval_miles, s.miles_per_day), (6, 5000, 37));
        assert_eq!((s.delivery_check, s.delivery_check_days), (false, 42));
        assert_eq!((s.maturity_task_days.clone(), s.maturity_texts), (vec![180, 90], false));
    }

    #[test]
    fn a_lifecycle_setting_that_would_fire_every_day_or_never_is_refused() {
        let base = r#"{"store_id":"s","name":"S","timezone":"America/New_York","sms_number":"(305) 555-0100""#;
        for (field, bad) in [
            ("service_interval_months", "0"),
            ("miles_per_day", "0"),
            ("delivery_check_days", "0"),
            ("maturity_task_days", "[180, 0]"),
        ] {
            let s = store(&format!("{base}, \"{field}\": {bad}}}"));
            let errors = s.check_windows().unwrap_err();
            assert!(errors.iter().any(|e| e.contains(field)), "{field}: {errors:?}");
        }
        let ok = store(&format!("{base}, \"delivery_check\": true, \"maturity_task_days\": [120]}}"));
        assert_eq!(ok.check_windows(), Ok(()));
    }

    #[test]
    fn bad_time_zone_hours_or_number_are_rejected_with_a_reason() {
        let e =
            StoreConfig::from_json(r#"{"store_id":"s","name":"S","timezone":"Mars/Base","sms_number":"+15125550100"}"#)
                .unwrap_err();
        assert!(e.to_string().contains("unknown time zone"), "{e}");
        let e = StoreConfig::from_json(
            r#"{"store_id":"s","name":"S","timezone":"UTC","sms_number":"+15125550100","hours":{"mon":["19:00","07:00"]}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("not after opening"), "{e}");
        assert!(StoreConfig::from_json(r#"{"store_id":"s","name":"S","timezone":"UTC","sms_number":"12"}"#).is_err());
        assert!(StoreConfig::from_json(r#"{"store_id":"s","timezone":"UTC","sms_number":"+15125550100"}"#).is_err());
    }

    #[test]
    fn open_and_next_opening_follow_store_local_time() {
        let s = chicago();
        // Monday 2026-11-23 10:05 CST.
        assert!(s.is_open(utc("2026-11-23T16:05:00Z")));
        // Monday 21:30 CST: closed; opens Tuesday 07:00 CST = 13:00Z.
        assert!(!s.is_open(utc("2026-11-24T03:30:00Z")));
        assert_eq!(
            s.next_opening(utc("2026-11-24T03:30:00Z")).unwrap().with_timezone(&Utc),
            utc("2026-11-24T13:00:00Z")
        );
        // Saturday 18:00 CST: Sunday closed, so Monday 07:00.
        let next = s.next_opening(utc("2026-11-29T00:00:00Z")).unwrap();
        assert_eq!(next.weekday(), Weekday::Mon);
        assert_eq!(next.with_timezone(&Utc), utc("2026-11-30T13:00:00Z"));
    }

    #[test]
    fn next_opening_across_the_spring_forward_change() {
        // Sunday 2027-03-14 clocks jump 02:00 -> 03:00 in Chicago; Monday opens 07:00 CDT = 12:00Z.
        let s = chicago();
        assert_eq!(
            s.next_opening(utc("2027-03-14T12:00:00Z")).unwrap().with_timezone(&Utc),
            utc("2027-03-15T12:00:00Z")
        );
    }

    #[test]
    fn the_next_business_day_skips_closed_days() {
        let s = chicago();
        // Friday 2026-11-27 -> Saturday closes 17:00 CST = 23:00Z.
        assert_eq!(s.close_of_next_business_day(utc("2026-11-27T16:00:00Z")), Some(utc("2026-11-28T23:00:00Z")));
        // Saturday -> Sunday closed -> Monday 19:00 CST = Tuesday 01:00Z.
        assert_eq!(s.close_of_next_business_day(utc("2026-11-28T16:00:00Z")), Some(utc("2026-12-01T01:00:00Z")));
    }

    #[test]
    fn hours_in_words() {
        assert_eq!(chicago().hours_on(utc("2026-11-23T16:05:00Z")), "7:00 AM-7:00 PM");
        assert_eq!(chicago().hours_on(utc("2026-11-29T18:00:00Z")), "closed");
    }

    #[test]
    fn a_lead_sender_is_a_whole_address_or_a_domain_with_its_subdomains() {
        let mut s = chicago();
        assert!(!s.trusts_lead_sender("leads@oem.example"), "no senders: no lead is texted");
        s.lead_senders = vec!["cars-marketplace.example".into(), "Leads@OEM.example".into()];
        assert!(s.trusts_lead_sender("cars-marketplace.example"));
        assert!(s.trusts_lead_sender("bounce@mail.cars-marketplace.example"));
        assert!(s.trusts_lead_sender("leads@oem.example"));
        assert!(!s.trusts_lead_sender("other@oem.example"), "an address allows that address only");
        assert!(!s.trusts_lead_sender("evilcars-marketplace.example"), "a suffix is not a subdomain");
        assert!(!s.trusts_lead_sender("cars-marketplace.example.evil.example"));
        assert!(s.check_windows().is_ok());
        s.lead_senders.push("not a domain".into());
        assert_eq!(s.check_windows().unwrap_err().len(), 1);
        assert_eq!(chicago().lead_texts_per_hour, 20);
    }
}
