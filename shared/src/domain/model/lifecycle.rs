//! Between the sale and the next sale (section 14): each vehicle's service
//! clock and, for a vehicle bought here on a lease or a loan, its maturity.
//! One item per vehicle on the customer's record, on the store's due-day
//! feed (gsi2, sparse) on the next day something of it falls due, so the
//! daily sweep reads only what falls due, whatever the store's history.
//! Plain data and pure rules: every writer (a repair order closed, a deal
//! delivered or unwound, a task closed, the sweep's worker) refreshes the
//! item with [`VehicleLife::refresh`].

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::entity::{CustomerId, Entity};
use crate::event::{PurchaseType, Vehicle};
use crate::keys::{self, Keys};
use crate::phone::Phone;
use crate::store::StoreConfig;

/// How many odometer readings a vehicle keeps (the latest).
pub const READINGS: usize = 10;
/// Two readings at least this many days apart give a vehicle its own miles a day.
pub const READING_SPAN_DAYS: i64 = 30;
/// Days after its day that something due is still taken up (a sweep that
/// could not run); later, it is passed over (the feed moves the vehicle to
/// what it owes next), never sent late.
pub const GRACE_DAYS: i64 = 3;
/// How many vehicles a record follows (the most recently seen): a fleet's
/// record stays a bounded read.
pub const VEHICLES_FOLLOWED: usize = 50;

/// One odometer reading: a repair order's or a deal's `mileage`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub at: DateTime<Utc>,
    pub miles: u32,
}

/// How the mileage of a due service was estimated (the task says it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum Estimate {
    /// Its own miles a day, from two of its readings at least 30 days apart.
    OwnReadings { miles_per_day: f64, first: NaiveDate, last: NaiveDate },
    /// The store's `miles_per_day` from its one reading.
    StoreRate { miles_per_day: u32, reading: NaiveDate },
    /// No reading: the interval in months alone.
    TimeAlone,
}

impl Estimate {
    /// For the task: "its own 41 miles a day, from readings on 2026-03-12 and 2026-09-03".
    pub fn describe(&self) -> String {
        match self {
            Estimate::OwnReadings { miles_per_day, first, last } => {
                format!("its own {miles_per_day:.0} miles a day, from readings on {first} and {last}")
            }
            Estimate::StoreRate { miles_per_day, reading } => {
                format!("the store's {miles_per_day} miles a day from its one reading, on {reading}")
            }
            Estimate::TimeAlone => "no odometer reading: by time alone".into(),
        }
    }
}

/// A vehicle's next service due: the day, the estimated odometer then, how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDue {
    pub on: NaiveDate,
    /// Whether the mileage (not the months) made it due on that day.
    pub by_miles: bool,
    /// The estimated odometer on that day (none: no reading to estimate from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miles: Option<u32>,
    pub estimate: Estimate,
}

/// A lease or a loan of a deal delivered here, and the maturity work on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maturity {
    pub deal_id: String,
    pub purchase_type: PurchaseType,
    pub delivered_at: DateTime<Utc>,
    /// The day of the last payment: `first_payment_on` + `term_months` - 1 month.
    pub matures_on: NaiveDate,
    /// Who sold it.
    pub salesperson: String,
    /// Its steps, days before `matures_on`: the store's `maturity_task_days`
    /// when it was delivered (a later change of them plans later deals).
    pub steps: Vec<u32>,
    /// The steps (days before `matures_on`) already taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps_done: Vec<u32>,
    /// Why the work ended (bought again, unwound, a task closed declined or sold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
}

impl Maturity {
    /// The maturity of a deal, when it has one: a lease or a loan with a term
    /// and a first payment.
    pub fn of(
        store: &StoreConfig,
        deal_id: &str,
        purchase_type: Option<PurchaseType>,
        term_months: Option<u16>,
        first_payment_on: Option<NaiveDate>,
        delivered_at: DateTime<Utc>,
        salesperson: &str,
    ) -> Option<Self> {
        let purchase_type = purchase_type.filter(|t| *t != PurchaseType::Cash)?;
        let term = u32::from(term_months.filter(|t| *t > 0)?);
        let matures_on = first_payment_on?.checked_add_months(Months::new(term - 1))?;
        Some(Self {
            deal_id: deal_id.to_owned(),
            purchase_type,
            delivered_at,
            matures_on,
            salesperson: salesperson.to_owned(),
            steps: store.maturity_task_days.clone(),
            steps_done: Vec::new(),
            ended: None,
        })
    }

    /// "lease" or "loan".
    pub fn kind(&self) -> &'static str {
        match self.purchase_type {
            PurchaseType::Lease => "lease",
            _ => "loan",
        }
    }

    /// The steps still to take, as (days before, the day), earliest day first.
    pub fn pending(&self) -> Vec<(u32, NaiveDate)> {
        if self.ended.is_some() {
            return Vec::new();
        }
        let mut steps: Vec<(u32, NaiveDate)> = self
            .steps
            .iter()
            .filter(|d| !self.steps_done.contains(d))
            .map(|d| (*d, self.matures_on - Duration::days(i64::from(*d))))
            .collect();
        steps.sort_by_key(|(_, day)| *day);
        steps
    }
}

/// The ids of a deal's maturity tasks begin so (`maturity-{deal}-{days}`).
pub fn maturity_task_prefix(deal_id: &str) -> String {
    format!("maturity-{deal_id}-")
}

/// Why a vehicle is no longer followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gone {
    pub at: DateTime<Utc>,
    pub why: String,
}

/// One vehicle of a customer, as section 14 follows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleLife {
    pub store_id: String,
    pub phone: Phone,
    pub vehicle: Vehicle,
    /// Its last service here (its last `ro.closed`), else its delivery: the
    /// interval counts from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_service_at: Option<DateTime<Utc>>,
    /// The odometer at that service or delivery, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_service_miles: Option<u32>,
    /// Its odometer readings, oldest first (the latest [`READINGS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
    /// Its next service due (none: nothing to count from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_due: Option<ServiceDue>,
    /// The due day already taken up (a task, or why not): each once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_on: Option<NaiveDate>,
    /// Its service due waits until this day: the store already speaks to
    /// the customer (a booking, an open RO, running follow-ups, a win-back)
    /// or they visited lately; looked at again then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<NaiveDate>,
    /// The `service_due` task it was given on that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// When a service-due text last named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub texted_at: Option<DateTime<Utc>>,
    /// Serviced elsewhere (a `service_due` task closed `done_elsewhere`): no
    /// reminder until its next visit here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_elsewhere_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maturity: Option<Maturity>,
    /// No longer the customer's (sold, its deal unwound): forgotten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone: Option<Gone>,
    /// The day something of it next falls due (its place on the due-day
    /// feed), as [`VehicleLife::refresh`] last found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

impl VehicleLife {
    pub fn new(customer: &CustomerId, vehicle: &Vehicle, now: DateTime<Utc>) -> Self {
        Self {
            store_id: customer.store_id.clone(),
            phone: customer.phone.clone(),
            vehicle: vehicle.clone(),
            last_service_at: None,
            last_service_miles: None,
            readings: Vec::new(),
            service_due: None,
            reminded_on: None,
            held_until: None,
            task_id: None,
            texted_at: None,
            done_elsewhere_at: None,
            maturity: None,
            gone: None,
            next_on: None,
            updated_at: now,
        }
    }

    pub fn customer(&self) -> CustomerId {
        CustomerId::new(&self.store_id, self.phone.clone())
    }

    /// A visit here at `at` (a repair order closed, a delivery) with the
    /// odometer it read: the interval counts from it, the vehicle is the
    /// customer's, and a service done elsewhere before it no longer matters.
    pub fn serviced(&mut self, at: DateTime<Utc>, miles: Option<u32>) {
        if self.last_service_at.is_none_or(|last| last <= at) {
            self.last_service_at = Some(at);
            self.last_service_miles = miles;
            self.done_elsewhere_at = None;
            self.gone = None;
            self.held_until = None;
        }
        if let Some(miles) = miles {
            self.read(at, miles);
        }
    }

    /// Records an odometer reading (one per moment; the latest [`READINGS`]).
    pub fn read(&mut self, at: DateTime<Utc>, miles: u32) {
        self.readings.retain(|r| r.at != at);
        self.readings.push(Reading { at, miles });
        self.readings.sort_by_key(|r| r.at);
        let over = self.readings.len().saturating_sub(READINGS);
        self.readings.drain(..over);
    }

    /// How many miles a day it is driven, and how that is known: its own two
    /// latest readings at least [`READING_SPAN_DAYS`] apart; else the
    /// store's rate from its latest reading; with none, nothing (time alone).
    fn rate(&self, store: &StoreConfig) -> Option<(f64, Reading, Estimate)> {
        let last = *self.readings.last()?;
        let first = self
            .readings
            .iter()
            .rev()
            .find(|r| last.at - r.at >= Duration::days(READING_SPAN_DAYS) && r.miles < last.miles);
        Some(match first {
            Some(first) => {
                let days = (last.at - first.at).num_seconds() as f64 / 86_400.0;
                let rate = f64::from(last.miles - first.miles) / days;
                let estimate = Estimate::OwnReadings {
                    miles_per_day: (rate * 10.0).round() / 10.0,
                    first: store.local(first.at).date_naive(),
                    last: store.local(last.at).date_naive(),
                };
                (rate, last, estimate)
            }
            None => {
                let rate = store.miles_per_day;
                let estimate = Estimate::StoreRate { miles_per_day: rate, reading: store.local(last.at).date_naive() };
                (f64::from(rate), last, estimate)
            }
        })
    }

    /// Its next service due (section 14): the earlier of its last service
    /// plus `service_interval_months` and the day its estimated odometer
    /// reaches that service's mileage plus `service_interval_miles`.
    pub fn next_service(&self, store: &StoreConfig) -> Option<ServiceDue> {
        let since = self.last_service_at?;
        let since_day = store.local(since).date_naive();
        let by_time = since_day.checked_add_months(Months::new(store.service_interval_months))?;
        let rate = self.rate(store);
        let miles_on = |day: NaiveDate| {
            rate.as_ref().map(|(rate, last, _)| {
                let days = (day - store.local(last.at).date_naive()).num_days() as f64;
                (f64::from(last.miles) + rate * days).round().max(0.0) as u32
            })
        };
        let by_miles = match (&rate, self.last_service_miles) {
            (Some((rate, last, _)), Some(service_miles)) if *rate > 0.0 => {
                let target = f64::from(service_miles) + f64::from(store.service_interval_miles);
                let days = ((target - f64::from(last.miles)) / rate).ceil().max(0.0) as i64;
                Some(store.local(last.at).date_naive() + Duration::days(days))
            }
            _ => None,
        };
        let estimate = rate.as_ref().map_or(Estimate::TimeAlone, |(_, _, e)| e.clone());
        let (on, by_miles) = match by_miles {
            Some(day) if day < by_time => (day, true),
            _ => (by_time, false),
        };
        Some(ServiceDue { on, by_miles, miles: miles_on(on), estimate })
    }

    /// Whether its service due on its day is still to be taken up.
    fn service_owed(&self) -> Option<&ServiceDue> {
        let due = self.service_due.as_ref()?;
        let owed = self.gone.is_none() && self.done_elsewhere_at.is_none() && self.reminded_on != Some(due.on);
        owed.then_some(due)
    }

    /// The day its service due is taken up: its day, or the day it was held until.
    fn service_day(&self, due: &ServiceDue) -> NaiveDate {
        self.held_until.map_or(due.on, |held| held.max(due.on))
    }

    /// The service due to take up on `today` (its day, or the day it was
    /// held until, or up to [`GRACE_DAYS`] after), if any.
    pub fn service_due_on(&self, today: NaiveDate) -> Option<&ServiceDue> {
        self.service_owed().filter(|d| falls_due(self.service_day(d), today))
    }

    /// The maturity steps to take up on `today`, as (days before, the day).
    pub fn maturity_due_on(&self, today: NaiveDate) -> Vec<(u32, NaiveDate)> {
        if self.gone.is_some() {
            return Vec::new();
        }
        let Some(m) = &self.maturity else { return Vec::new() };
        m.pending().into_iter().filter(|(_, day)| falls_due(*day, today)).collect()
    }

    /// Recomputes its service due and its place on the due-day feed as of
    /// `today` (store-local): the earliest of its service due and its
    /// maturity steps still to take that is not past [`GRACE_DAYS`].
    pub fn refresh(&mut self, store: &StoreConfig, today: NaiveDate, now: DateTime<Utc>) {
        self.service_due = self.next_service(store);
        self.reindex(today, now);
    }

    /// Its place on the due-day feed as of `today`, from its service due as
    /// last computed (what a person's close of a task changes).
    pub fn reindex(&mut self, today: NaiveDate, now: DateTime<Utc>) {
        let floor = today - Duration::days(GRACE_DAYS);
        let service = self.service_owed().map(|d| self.service_day(d));
        let maturity = self.maturity.as_ref().map(Maturity::pending).unwrap_or_default();
        self.next_on = if self.gone.is_some() {
            None
        } else {
            service.into_iter().chain(maturity.into_iter().map(|(_, day)| day)).filter(|day| *day >= floor).min()
        };
        self.updated_at = now;
    }

    /// What is due on it, as a person reads it (the inbox, `custops
    /// timeline`): its next service ("overdue since" once `today` is past
    /// it) with the estimated odometer, and a lease or loan's maturity.
    pub fn what_is_due(&self, today: NaiveDate) -> Vec<String> {
        if self.gone.is_some() {
            return Vec::new();
        }
        let what = self.vehicle.describe();
        let mut out = Vec::new();
        if let Some(d) = self.service_due.as_ref().filter(|_| self.done_elsewhere_at.is_none()) {
            let miles = d.miles.map(|m| format!(", about {m} miles")).unwrap_or_default();
            let when = if d.on < today { "overdue since" } else { "due" };
            out.push(format!("{what}: service {when} {}{miles}", d.on));
        }
        if let Some(m) = self.maturity.as_ref().filter(|m| m.ended.is_none()) {
            out.push(format!("{what}: {} matures {} (deal {})", m.kind(), m.matures_on, m.deal_id));
        }
        out
    }

    /// Marks it no longer the customer's.
    pub fn gone(&mut self, at: DateTime<Utc>, why: impl Into<String>) {
        self.gone = Some(Gone { at, why: why.into() });
        self.next_on = None;
    }
}

/// Whether something due on `day` is taken up on `today`.
pub fn falls_due(day: NaiveDate, today: NaiveDate) -> bool {
    day <= today && today - day <= Duration::days(GRACE_DAYS)
}

/// A vehicle is followed until it is gone: then it moves to the record's
/// history (`H#VEH#...`) and leaves the state's read. While something of it
/// falls due, it is on the store's due-day feed (gsi2), by that day.
impl Entity for VehicleLife {
    const KIND: &'static str = "vehicle";
    type Scope = ();

    fn keys(&self, _: &()) -> Keys {
        let pk = keys::customer_pk(&self.store_id, &self.phone);
        let sk = format!("#VEH#{}", self.vehicle.vin);
        if self.gone.is_some() {
            return Keys::new(pk, keys::history(&sk));
        }
        let mut k = Keys::new(pk.clone(), sk);
        k.gsi2 =
            self.next_on.map(|day| (keys::due_day_feed(&self.store_id), format!("{day}#{pk}#{}", self.vehicle.vin)));
        k
    }
}

/// The due-day feed's sort keys up to the end of `day`.
pub fn feed_upto(day: NaiveDate) -> String {
    format!("{day}~")
}

impl super::CustomerState {
    /// The customer's vehicle `vehicle` as the record follows it (its
    /// details as last reported), or a new one to follow.
    pub fn vehicle_life(&self, customer: &CustomerId, vehicle: &Vehicle, now: DateTime<Utc>) -> VehicleLife {
        match self.vehicles.iter().find(|v| v.vehicle.vin == vehicle.vin) {
            Some(v) => VehicleLife { vehicle: vehicle.clone(), ..v.clone() },
            None => VehicleLife::new(customer, vehicle, now),
        }
    }

    /// When following `vin` would make more than [`VEHICLES_FOLLOWED`]: the
    /// one seen least recently, no longer followed.
    pub fn unfollowed_for(&self, vin: &str, now: DateTime<Utc>) -> Option<VehicleLife> {
        if self.vehicles.len() < VEHICLES_FOLLOWED || self.vehicles.iter().any(|v| v.vehicle.vin == vin) {
            return None;
        }
        let oldest = self.vehicles.iter().min_by_key(|v| v.last_service_at.unwrap_or(v.updated_at))?;
        let mut gone = oldest.clone();
        gone.gone(now, format!("more than {VEHICLES_FOLLOWED} vehicles on one record: the least recently seen"));
        Some(gone)
    }
}

/// What a visit of `vehicle` here at `at` (a repair order closed, a
/// delivery), with the odometer it read, writes: the vehicle, serviced then
/// and refreshed (`with` changes it first: a deal's maturity), and, when the
/// record follows [`VEHICLES_FOLLOWED`] already, the one seen least recently,
/// no longer followed. Nothing for a vehicle without a VIN.
pub fn visited(
    store: &StoreConfig,
    state: &super::CustomerState,
    customer: &CustomerId,
    (vehicle, at, miles): (&Vehicle, DateTime<Utc>, Option<u32>),
    now: DateTime<Utc>,
    with: impl FnOnce(&mut VehicleLife),
) -> Vec<VehicleLife> {
    if vehicle.vin.trim().is_empty() {
        return Vec::new();
    }
    let mut v = state.vehicle_life(customer, vehicle, now);
    v.serviced(at, miles);
    with(&mut v);
    v.refresh(store, store.local(now).date_naive(), now);
    std::iter::once(v).chain(state.unfollowed_for(&vehicle.vin, now)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{at, customer, northside};

    fn tahoe() -> Vehicle {
        Vehicle { vin: "1GNSKCKD5MR100001".into(), year: 2021, make: "Chevrolet".into(), model: "Tahoe".into() }
    }

    fn serviced(visits: &[(&str, Option<u32>)]) -> VehicleLife {
        let mut v = VehicleLife::new(&customer("+15125550142"), &tahoe(), at("2026-01-01T00:00:00Z"));
        for (when, miles) in visits {
            v.serviced(at(when), *miles);
        }
        v
    }

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn two_readings_a_month_apart_give_the_vehicle_its_own_miles_a_day() {
        // 40,000 on 2 March, 46,000 on 30 June (120 days): 50 a day. The
        // last service read 46,000: 51,000 is 100 days later, 8 October,
        // before the six months (30 December).
        let v = serviced(&[("2026-03-02T16:00:00Z", Some(40_000)), ("2026-06-30T16:00:00Z", Some(46_000))]);
        let due = v.next_service(&northside()).unwrap();
        assert_eq!((due.on, due.by_miles, due.miles), (day("2026-10-08"), true, Some(51_000)));
        assert_eq!(
            due.estimate,
            Estimate::OwnReadings { miles_per_day: 50.0, first: day("2026-03-02"), last: day("2026-06-30") }
        );
        assert!(due.estimate.describe().contains("its own 50 miles a day"), "{}", due.estimate.describe());
    }

    #[test]
    fn one_reading_uses_the_stores_miles_a_day_and_none_is_time_alone() {
        // One reading (10,000 on 30 June): the store's 37 a day reach 15,000 in
        // 136 days, 13 November, before the six months (30 December).
        let v = serviced(&[("2026-06-30T16:00:00Z", Some(10_000))]);
        let due = v.next_service(&northside()).unwrap();
        assert_eq!((due.on, due.by_miles), (day("2026-11-13"), true));
        assert_eq!(due.estimate, Estimate::StoreRate { miles_per_day: 37, reading: day("2026-06-30") });
        // Two readings less than 30 days apart are one reading's worth.
        let close = serviced(&[("2026-06-10T16:00:00Z", Some(9_000)), ("2026-06-30T16:00:00Z", Some(10_000))]);
        assert!(matches!(close.next_service(&northside()).unwrap().estimate, Estimate::StoreRate { .. }));
        // No reading: six months after the last service, by time alone.
        let none = serviced(&[("2026-06-30T16:00:00Z", None)]);
        let due = none.next_service(&northside()).unwrap();
        assert_eq!(
            (due.on, due.by_miles, due.miles, due.estimate),
            (day("2026-12-30"), false, None, Estimate::TimeAlone)
        );
        // A vehicle driven little falls due by time.
        let mut slow = northside();
        slow.miles_per_day = 5;
        let due = serviced(&[("2026-06-30T16:00:00Z", Some(10_000))]).next_service(&slow).unwrap();
        assert_eq!((due.on, due.by_miles, due.miles), (day("2026-12-30"), false, Some(10_915)));
    }

    #[test]
    fn the_due_day_feed_holds_what_is_owed_and_leaves_it_once_taken_up_done_elsewhere_or_gone() {
        let mut v = serviced(&[("2026-06-30T16:00:00Z", None)]);
        v.refresh(&northside(), day("2026-07-01"), at("2026-07-01T00:00:00Z"));
        assert_eq!(v.next_on, Some(day("2026-12-30")));
        let k = v.keys(&());
        assert_eq!(
            k.gsi2,
            Some((
                "DUEON#northside-chevy".into(),
                "2026-12-30#CUST#northside-chevy#+15125550142#1GNSKCKD5MR100001".into()
            ))
        );
        assert!(v.service_due_on(day("2026-12-29")).is_none());
        assert!(v.service_due_on(day("2026-12-30")).is_some() && v.service_due_on(day("2027-01-02")).is_some());
        assert!(v.service_due_on(day("2027-01-03")).is_none(), "past its grace: not taken up");
        v.reminded_on = Some(day("2026-12-30"));
        v.refresh(&northside(), day("2026-12-30"), at("2026-12-30T15:00:00Z"));
        assert_eq!(v.next_on, None, "taken up: off the feed");
        let mut elsewhere = serviced(&[("2026-06-30T16:00:00Z", None)]);
        elsewhere.done_elsewhere_at = Some(at("2026-12-01T00:00:00Z"));
        elsewhere.refresh(&northside(), day("2026-12-01"), at("2026-12-01T00:00:00Z"));
        assert_eq!(elsewhere.next_on, None);
        elsewhere.serviced(at("2027-01-10T16:00:00Z"), None);
        elsewhere.refresh(&northside(), day("2027-01-10"), at("2027-01-10T16:00:00Z"));
        assert_eq!(elsewhere.next_on, Some(day("2027-07-10")), "its next visit here starts the reminders again");
        let mut sold = serviced(&[("2026-06-30T16:00:00Z", None)]);
        sold.gone(at("2026-08-01T00:00:00Z"), "sold");
        assert!(sold.keys(&()).sk.starts_with("H#VEH#") && sold.keys(&()).gsi2.is_none());
    }

    #[test]
    fn a_lease_matures_on_its_last_payment_and_its_steps_fall_due_180_and_90_days_before() {
        let m = Maturity::of(
            &northside(),
            "D-1",
            Some(PurchaseType::Lease),
            Some(36),
            Some(day("2026-12-20")),
            at("2026-11-20T22:00:00Z"),
            "Jordan Lee",
        )
        .unwrap();
        assert_eq!(m.matures_on, day("2029-11-20"));
        assert_eq!(m.pending(), [(180, day("2029-05-24")), (90, day("2029-08-22"))]);
        assert_eq!(m.kind(), "lease");
        assert!(Maturity::of(
            &northside(),
            "D-2",
            Some(PurchaseType::Cash),
            Some(36),
            Some(day("2026-12-20")),
            at("2026-11-20T22:00:00Z"),
            "x"
        )
        .is_none());
        assert!(Maturity::of(
            &northside(),
            "D-3",
            Some(PurchaseType::Finance),
            None,
            Some(day("2026-12-20")),
            at("2026-11-20T22:00:00Z"),
            "x"
        )
        .is_none());
        let mut v = VehicleLife::new(&customer("+15125550142"), &tahoe(), at("2026-11-20T22:00:00Z"));
        v.maturity = Some(m);
        v.refresh(&northside(), day("2026-11-20"), at("2026-11-20T22:00:00Z"));
        assert_eq!(v.next_on, Some(day("2029-05-24")), "the first step; no service clock without a visit");
        assert_eq!(v.maturity_due_on(day("2029-05-25")), [(180, day("2029-05-24"))]);
    }
}
