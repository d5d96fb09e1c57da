//! What a snapshot becomes (CONTRACT.md section 13's table), against what
//! the feed remembers of the same thing. Pure: the table's conditional
//! writes decide which snapshot is taken when two race (`crate::table`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::snapshot::{AppointmentStatus, DealStatus, RoStatus, Snapshot, Thing};

/// What the feed remembers of one repair order, appointment or deal: only
/// what it compares (a few dozen bytes), never the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// The `as_of` of the last snapshot taken.
    pub as_of: DateTime<Utc>,
    /// What it said, as far as any event depends on it ([`state_of`]).
    pub state: String,
    /// Written with `version = last + 1`, on the condition that the last is
    /// still there: two snapshots racing cannot both be taken against it.
    pub version: u64,
    /// Events taken but not yet published (section 3 envelopes): the write
    /// that takes a change carries them, the publish clears them, and a
    /// retry after a failure between the two publishes them again (their
    /// ids are their content's, so a trigger takes each once).
    pub pending: Vec<String>,
}

/// What one snapshot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Older than the last snapshot taken: changes nothing.
    Stale,
    /// Says what the last one said.
    Unchanged,
    /// Taken, with this many events.
    Changed(usize),
}

/// The state a snapshot is compared on: a repair order's status (`closed`
/// once closed; `waiting_parts` with its ETA), an appointment's status and
/// time, a deal's status.
pub fn state_of(snapshot: &Snapshot) -> String {
    match &snapshot.thing {
        Thing::RepairOrder(ro) if ro.is_closed() => RoStatus::Closed.as_str().to_owned(),
        Thing::RepairOrder(ro) => match (ro.status, ro.eta) {
            (RoStatus::WaitingParts, Some(eta)) => format!("waiting_parts|{eta}"),
            (status, _) => status.as_str().to_owned(),
        },
        Thing::Appointment(a) => match a.status {
            AppointmentStatus::Booked => {
                format!("booked|{}", a.appointment.at.to_rfc3339_opts(SecondsFormat::Secs, true))
            }
            AppointmentStatus::Cancelled => "cancelled".into(),
            AppointmentStatus::NoShow => "no_show".into(),
            AppointmentStatus::Completed => "completed".into(),
        },
        Thing::Deal(d) => match d.status {
            DealStatus::Pending => "pending".into(),
            DealStatus::Delivered => "delivered".into(),
            DealStatus::Unwound => "unwound".into(),
        },
    }
}

/// The events of a snapshot whose state changed (section 13's table). A
/// repair order's close, an appointment's booking, a deal's delivery are
/// the event however the thing was first seen; `completed` appointments and
/// `pending` deals are remembered and publish nothing; an `unwound` deal
/// publishes `deal.unwound` (the purchase leaves the open work).
pub fn events_of(snapshot: &Snapshot, as_of: DateTime<Utc>, state: &str) -> Vec<Value> {
    let event = |event_type: &str, data: Value| {
        json!({
            "event_id": event_id(&snapshot.store_id, &snapshot.key(), state, as_of),
            "event_type": event_type,
            "occurred_at": as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
            "store_id": snapshot.store_id,
            "data": data,
        })
    };
    match &snapshot.thing {
        Thing::RepairOrder(ro) if ro.is_closed() => {
            let performed: Vec<&str> = ro
                .lines
                .iter()
                .filter(|l| l.status == super::snapshot::LineStatus::Completed)
                .map(|l| l.op_code.as_str())
                .collect();
            let declined: Vec<Value> = ro
                .lines
                .iter()
                .filter(|l| l.status == super::snapshot::LineStatus::Declined)
                .map(|l| {
                    json!({"line_id": l.line_id, "op_code": l.op_code, "description": l.description,
                           "estimate_cents": l.estimate_cents.unwrap_or(0)})
                })
                .collect();
            let mut data = json!({
                "ro_number": ro.ro_number, "closed_at": ro.closed_at.unwrap_or(as_of),
                "customer": ro.customer, "vehicle": ro.vehicle, "advisor": ro.advisor,
                "performed": performed, "declined": declined,
            });
            if let Some(m) = ro.mileage {
                data["mileage"] = json!(m);
            }
            vec![event("ro.closed", data)]
        }
        Thing::RepairOrder(ro) => {
            let mut data = json!({
                "ro_number": ro.ro_number, "status": ro.status.as_str(),
                "customer": ro.customer, "vehicle": ro.vehicle, "advisor": ro.advisor,
            });
            if let (RoStatus::WaitingParts, Some(eta)) = (ro.status, ro.eta) {
                data["eta"] = json!(eta.to_string());
            }
            if let Some(c) = ro.amount_due_cents {
                data["amount_due_cents"] = json!(c);
            }
            vec![event("ro.status_changed", data)]
        }
        Thing::Appointment(snapshot) => {
            let (status, a) = (snapshot.status, &snapshot.appointment);
            let full = || {
                let mut data = json!({"appointment_id": a.appointment_id, "at": a.at, "customer": a.customer});
                for (k, v) in [
                    ("vehicle", a.vehicle.as_ref().map(|v| json!(v))),
                    ("op_codes", a.op_codes.as_ref().map(|o| json!(o))),
                    ("advisor", a.advisor.as_ref().map(|p| json!(p))),
                ] {
                    if let Some(v) = v {
                        data[k] = v;
                    }
                }
                data
            };
            match status {
                AppointmentStatus::Booked => vec![event("appointment.booked", full())],
                AppointmentStatus::NoShow => vec![event("appointment.missed", full())],
                AppointmentStatus::Cancelled => vec![event(
                    "appointment.cancelled",
                    json!({"appointment_id": a.appointment_id, "customer": a.customer}),
                )],
                AppointmentStatus::Completed => Vec::new(),
            }
        }
        Thing::Deal(d) if d.status == DealStatus::Delivered => {
            let mut data = json!({
                "deal_id": d.deal_id, "delivered_at": d.delivered_at.unwrap_or(as_of),
                "customer": d.customer, "vehicle": d.vehicle, "salesperson": d.salesperson,
            });
            if let (Some(data), Value::Object(terms)) = (data.as_object_mut(), json!(d.terms)) {
                data.extend(terms);
            }
            vec![event("deal.delivered", data)]
        }
        Thing::Deal(d) if d.status == DealStatus::Unwound => {
            let mut data = json!({
                "deal_id": d.deal_id, "customer": d.customer, "vehicle": d.vehicle, "salesperson": d.salesperson,
            });
            if let Some(at) = d.delivered_at {
                data["delivered_at"] = json!(at);
            }
            vec![event("deal.unwound", data)]
        }
        Thing::Deal(_) => Vec::new(),
    }
}

/// An event's id: the store, the thing, the state it changed to and the
/// snapshot's time, hashed. The same snapshot twice, or through both doors,
/// is the same event; a thing that returns to an earlier state later is
/// another.
pub fn event_id(store_id: &str, key: &str, state: &str, as_of: DateTime<Utc>) -> String {
    let mut h = Sha256::new();
    for part in [store_id, key, state, &as_of.timestamp_millis().to_string()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    format!("feed-{}", &hex::encode(h.finalize())[..24])
}

/// Takes `snapshots` of one thing (each with its effective `as_of`) against
/// `last`, oldest first: what each did, and the memory to write when any
/// changed it (its `pending` holds the last's unpublished events and the new
/// ones).
pub fn take(last: Option<&Memory>, snapshots: &[(&Snapshot, DateTime<Utc>)]) -> (Option<Memory>, Vec<Outcome>) {
    let mut order: Vec<usize> = (0..snapshots.len()).collect();
    order.sort_by_key(|&i| snapshots[i].1);
    let mut outcomes = vec![Outcome::Unchanged; snapshots.len()];
    let mut now: Option<Memory> = last.cloned();
    let mut changed = false;
    for i in order {
        let (snapshot, as_of) = snapshots[i];
        let state = state_of(snapshot);
        outcomes[i] = match &now {
            Some(m) if as_of < m.as_of => Outcome::Stale,
            Some(m) if m.state == state => Outcome::Unchanged,
            _ => {
                let events: Vec<String> = events_of(snapshot, as_of, &state).iter().map(Value::to_string).collect();
                let n = events.len();
                let (version, mut pending) = match &now {
                    Some(m) => (m.version, m.pending.clone()),
                    None => (0, Vec::new()),
                };
                pending.extend(events);
                now = Some(Memory { as_of, state, version, pending });
                changed = true;
                Outcome::Changed(n)
            }
        };
    }
    let write = now.filter(|_| changed).map(|m| Memory { version: last.map_or(1, |l| l.version + 1), ..m });
    (write, outcomes)
}

/// Whether a state is the end of its thing (a closed or voided repair
/// order, an appointment that is over, a delivered or unwound deal): its
/// memory may expire [`ENDED_KEPT_DAYS`] after (a snapshot of it after that
/// is its first again, and the triggers already hold its close or delivery).
pub fn has_ended(state: &str) -> bool {
    matches!(state, "closed" | "voided" | "cancelled" | "no_show" | "completed" | "delivered" | "unwound")
}

/// How long the memory of an ended thing is kept.
pub const ENDED_KEPT_DAYS: i64 = 400;
