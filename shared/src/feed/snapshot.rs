//! A DMS snapshot (CONTRACT.md section 13): how a repair order, an
//! appointment or a deal stands now, as the DMS said it `as_of`. Unknown
//! fields are ignored; what the feed cannot use (no usable phone, an unknown
//! `kind` or `status`, a missing id, a bad date) is a reason, never a phone
//! number.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{check_id, check_time, check_value, day, DealTerms, DmsCustomer, Person, Vehicle};
use crate::phone::{redact_digits, Phone};

/// A repair order's status in the DMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoStatus {
    Open,
    CheckedIn,
    InProgress,
    WaitingParts,
    PartsArrived,
    ReadyForPickup,
    Closed,
    Voided,
}

impl RoStatus {
    pub const ALL: [RoStatus; 8] = [
        Self::Open,
        Self::CheckedIn,
        Self::InProgress,
        Self::WaitingParts,
        Self::PartsArrived,
        Self::ReadyForPickup,
        Self::Closed,
        Self::Voided,
    ];

    /// Its name, as section 3's `ro.status_changed` carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::CheckedIn => "checked_in",
            Self::InProgress => "in_progress",
            Self::WaitingParts => "waiting_parts",
            Self::PartsArrived => "parts_arrived",
            Self::ReadyForPickup => "ready_for_pickup",
            Self::Closed => "closed",
            Self::Voided => "voided",
        }
    }
}

/// A repair order line's status; `deferred` reads as `declined`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    Pending,
    Approved,
    Completed,
    #[serde(alias = "deferred")]
    Declined,
}

/// One line of a repair order.
#[derive(Debug, Clone, Deserialize)]
pub struct RoLine {
    pub line_id: String,
    pub op_code: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub estimate_cents: Option<i64>,
    pub status: LineStatus,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RepairOrder {
    pub ro_number: String,
    pub status: RoStatus,
    /// When the part is expected (`waiting_parts`): the store-local day.
    #[serde(default, deserialize_with = "day")]
    pub eta: Option<NaiveDate>,
    #[serde(default)]
    pub opened_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub mileage: Option<u32>,
    pub customer: DmsCustomer,
    pub vehicle: Vehicle,
    pub advisor: Person,
    #[serde(default)]
    pub lines: Vec<RoLine>,
    #[serde(default)]
    pub amount_due_cents: Option<i64>,
}

impl RepairOrder {
    /// Closed: its status says so, or it has a `closed_at` (and is not voided).
    pub fn is_closed(&self) -> bool {
        self.status == RoStatus::Closed || (self.closed_at.is_some() && self.status != RoStatus::Voided)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    Cancelled,
    NoShow,
    Completed,
}

/// An appointment: its status, and the rest as section 3's `appointment.*` carry it.
#[derive(Debug, Clone, Deserialize)]
pub struct Appointment {
    pub status: AppointmentStatus,
    #[serde(flatten)]
    pub appointment: crate::event::Appointment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    Pending,
    Delivered,
    Unwound,
}

pub use crate::event::PurchaseType;

#[derive(Debug, Clone, Deserialize)]
pub struct Deal {
    pub deal_id: String,
    pub status: DealStatus,
    #[serde(default)]
    pub delivered_at: Option<DateTime<Utc>>,
    pub customer: DmsCustomer,
    pub vehicle: Vehicle,
    pub salesperson: Person,
    #[serde(flatten)]
    pub terms: DealTerms,
}

/// What a snapshot is of.
#[derive(Debug, Clone)]
pub enum Thing {
    RepairOrder(RepairOrder),
    Appointment(Appointment),
    Deal(Deal),
}

/// One snapshot: a store's thing as the DMS said it `as_of` (none: as of
/// its arrival).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub store_id: String,
    pub as_of: Option<DateTime<Utc>>,
    pub thing: Thing,
}

#[derive(Deserialize)]
struct Head {
    kind: Option<String>,
    store_id: Option<String>,
    #[serde(default)]
    as_of: Option<String>,
}

fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    T::deserialize(value).map_err(|e| redact_digits(&e.to_string()))
}

impl Snapshot {
    /// One snapshot from its JSON text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {}", redact_digits(&e.to_string())))?;
        Self::from_value(&value)
    }

    /// One snapshot from its JSON, checked as the feed needs it.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        if !value.is_object() {
            return Err("a snapshot is a JSON object".into());
        }
        let head: Head = typed(value)?;
        let kind = head.kind.ok_or("no kind")?;
        let store_id = head.store_id.filter(|s| !s.trim().is_empty()).ok_or("no store_id")?;
        check_id("store_id", &store_id)?;
        let as_of = match head.as_of {
            Some(text) => {
                let t = text
                    .parse::<DateTime<Utc>>()
                    .map_err(|_| "as_of is not an RFC 3339 time (2026-11-24T15:04:05Z)".to_owned())?;
                check_time("as_of", t)?;
                Some(t)
            }
            None => None,
        };
        check_value("snapshot", value)?;
        let thing = match kind.as_str() {
            "repair_order" => Thing::RepairOrder(typed(value)?),
            "appointment" => Thing::Appointment(typed(value)?),
            "deal" => Thing::Deal(typed(value)?),
            other => {
                return Err(format!(
                    "unknown kind {:?} (repair_order, appointment or deal)",
                    redact_digits(&other.chars().take(40).collect::<String>())
                ))
            }
        };
        let snapshot = Snapshot { store_id, as_of, thing };
        snapshot.check()?;
        Ok(snapshot)
    }

    fn check(&self) -> Result<(), String> {
        let (field, id) = self.id();
        if id.trim().is_empty() {
            return Err(format!("no {field}"));
        }
        check_id(field, id)?;
        usable("customer", self.customer())?;
        if let Some(co) = match &self.thing {
            Thing::Deal(d) => d.terms.co_buyer.as_ref(),
            _ => None,
        } {
            usable("co_buyer", co)?;
        }
        Ok(())
    }

    /// The name and value of the thing's id (`ro_number`, `appointment_id`, `deal_id`).
    pub fn id(&self) -> (&'static str, &str) {
        match &self.thing {
            Thing::RepairOrder(ro) => ("ro_number", &ro.ro_number),
            Thing::Appointment(a) => ("appointment_id", &a.appointment.appointment_id),
            Thing::Deal(d) => ("deal_id", &d.deal_id),
        }
    }

    /// What the feed remembers it under within its store: `ro#R-48213`,
    /// `appointment#A-311`, `deal#D-9001`.
    pub fn key(&self) -> String {
        let kind = match self.thing {
            Thing::RepairOrder(_) => "ro",
            Thing::Appointment(_) => "appointment",
            Thing::Deal(_) => "deal",
        };
        format!("{kind}#{}", self.id().1)
    }

    pub fn customer(&self) -> &DmsCustomer {
        match &self.thing {
            Thing::RepairOrder(ro) => &ro.customer,
            Thing::Appointment(a) => &a.appointment.customer,
            Thing::Deal(d) => &d.customer,
        }
    }
}

/// A customer the feed can use: a DMS id and a phone number that parses.
fn usable(field: &str, customer: &DmsCustomer) -> Result<(), String> {
    if customer.dms_id.trim().is_empty() {
        return Err(format!("{field} has no dms_id"));
    }
    check_id(&format!("{field}.dms_id"), &customer.dms_id)?;
    Phone::parse(&customer.phone).map(drop).map_err(|_| format!("{field} has no usable phone"))
}
