//! Fixtures for unit tests of the functions' `decide`: a store, events, times.
//! Compiled only with the `fixtures` feature (the functions' dev-dependencies).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::entity::CustomerId;
use crate::event::Envelope;
use crate::phone::Phone;
use crate::store::StoreConfig;

pub fn at(t: &str) -> DateTime<Utc> {
    t.parse().expect("an RFC 3339 time")
}

/// Northside Chevrolet's configuration document: Chicago, open Mon-Fri
/// 07:00-19:00, Sat 08:00-17:00, closed Sunday.
pub fn northside_json() -> Value {
    json!({
            "store_id": "northside-chevy",
            "name": "Northside Chevrolet",
            "timezone": "America/Chicago",
            "sms_number": "+15125550100",
            "booking_url": "https://northside.example/service",
            "hours": {"mon": ["07:00","19:00"], "tue": ["07:00","19:00"], "wed": ["07:00","19:00"],
                      "thu": ["07:00","19:00"], "fri": ["07:00","19:00"], "sat": ["08:00","17:00"], "sun": null},
            "owners": {"service": "bdc-service", "sales": "bdc-sales", "parts": "parts-desk", "main": "bdc"}
    })
}

/// Northside Chevrolet (see [`northside_json`]).
pub fn northside() -> StoreConfig {
    StoreConfig::from_json(&northside_json().to_string()).expect("a valid store")
}

/// A carrier or DMS event at Northside.
pub fn envelope(event_type: &str, event_id: &str, occurred_at: &str, data: Value) -> Envelope {
    Envelope::parse(
        &json!({
            "event_id": event_id, "event_type": event_type, "occurred_at": occurred_at,
            "store_id": "northside-chevy", "data": data
        })
        .to_string(),
    )
    .expect("a valid envelope")
}

/// A customer record at Northside.
pub fn customer(phone: &str) -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse(phone).expect("a valid phone number"))
}

/// The customer's state once `change` is committed (its last record), for
/// deciding the next event.
pub fn state_after(change: &crate::apply::Change) -> crate::model::CustomerState {
    let r = change.records.last().expect("a record");
    // What ended moved to the history: the state is what is still open.
    crate::model::CustomerState {
        profile: r.profile.clone().map(|(p, _)| p),
        version: Some(1),
        consent: r.consent.clone().map(|(c, _)| c).unwrap_or_default(),
        repair_orders: r.repair_orders.iter().filter(|o| o.is_open()).cloned().collect(),
        declined: r.declined.iter().filter(|l| !l.is_ended()).cloned().collect(),
        follow_ups: r.follow_ups.iter().filter(|s| s.status == crate::model::StepStatus::Scheduled).cloned().collect(),
        tasks: r.tasks.iter().filter(|t| t.is_open()).cloned().collect(),
        bookings: r.bookings.iter().filter(|b| b.status == crate::model::BookingStatus::Open).cloned().collect(),
        checks: r.checks.iter().filter(|c| c.status != crate::model::CheckStatus::Ended).cloned().collect(),
        vehicles: r.vehicles.iter().filter(|v| v.gone.is_none()).cloned().collect(),
        ..Default::default()
    }
}

/// Maria (+15125550142) with work declined on RO-1: brakes (`BRK-FRT-PR`,
/// $620) and a cabin filter (`CAF-REPL`, $89), open; step 2 of the cadence
/// scheduled for 3 December; the advisor's follow-up task `declined-RO-1-1` open.
pub fn declined_work() -> crate::model::CustomerState {
    use crate::model::{DeclinedLine, FollowUp, LineStatus, StepStatus, Task, TaskKind};
    let now = at("2026-11-26T16:00:00Z");
    let maria = customer("+15125550142");
    let line = |id: &str, op: &str, desc: &str, cents: i64| DeclinedLine {
        ro_number: "RO-1".into(),
        line_id: id.into(),
        op_code: op.into(),
        description: desc.into(),
        estimate_cents: cents,
        advisor: serde_json::from_value(json!({"id": "adv-7", "name": "Dana"})).expect("a person"),
        declined_at: now,
        status: LineStatus::Open,
        ended_at: None,
        recovered_by: None,
        vin: None,
    };
    let step = FollowUp {
        store_id: maria.store_id.clone(),
        phone: maria.phone.clone(),
        ro_number: "RO-1".into(),
        step: 2,
        days: 10,
        due_at: at("2026-12-03T16:00:00Z"),
        status: StepStatus::Scheduled,
        outcome: None,
        vehicle: Some("2021 Chevrolet Tahoe".into()),
    };
    let owner = ("adv-7".to_owned(), crate::store::Department::Service);
    let task =
        Task::open(&maria, TaskKind::DeclinedFollowup, "declined-RO-1-1", owner, now, now).about_ro(Some("RO-1"));
    crate::model::CustomerState {
        declined: vec![line("L4", "BRK-FRT-PR", "Front brakes", 62000), line("L5", "CAF-REPL", "Cabin filter", 8900)],
        follow_ups: vec![step],
        tasks: vec![task],
        ..Default::default()
    }
}
