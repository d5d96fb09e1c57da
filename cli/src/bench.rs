//! `custops bench`: numbers anyone can reproduce. Today: AWS API calls per
//! event, counted at the emulator (moto's request recorder) while the real
//! function code handles one event, in the steady state (warm store cache,
//! existing customer) unless the scenario says otherwise.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use custops::PinnedClock;
use serde::Serialize;
use serde_json::{json, Value};

use crate::emulator::{AwsCall, CallRecorder, Emulator};
use crate::local::{BoxError, LocalOptions, LocalStack};

#[derive(Debug, Clone, Serialize)]
pub struct CallsRow {
    pub function: String,
    pub scenario: String,
    pub calls: usize,
    pub target: Option<usize>,
    pub operations: Vec<String>,
}

const STORE: &str = r#"{"store_id":"northside-chevy","name":"Northside Chevrolet","timezone":"America/Chicago",
  "sms_number":"+15125550100","booking_url":"https://northside.example/service",
  "hours":{"mon":["07:00","19:00"],"tue":["07:00","19:00"],"wed":["07:00","19:00"],"thu":["07:00","19:00"],
           "fri":["07:00","19:00"],"sat":["08:00","17:00"],"sun":null}}"#;

fn call(event_id: &str, call_id: &str, from: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "call.missed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"call_id": call_id, "from": from, "to": "+15125550100", "department": "service"}})
    .to_string()
}

fn ro(event_id: &str, status: &str, at: DateTime<Utc>) -> String {
    json!({"event_id": event_id, "event_type": "ro.status_changed", "occurred_at": at, "store_id": "northside-chevy",
           "data": {"ro_number": "RO-48213", "status": status,
                    "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": "+15125550142"},
                    "vehicle": {"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
                    "advisor": {"id": "adv-7", "name": "Dana Whitfield"}, "amount_due_cents": 48735}})
    .to_string()
}

/// Runs every scenario on a private emulator and returns one row each.
pub async fn aws_calls() -> Result<Vec<CallsRow>, BoxError> {
    let emulator = Emulator::start(0).await?;
    let monday: DateTime<Utc> = "2026-11-23T16:00:00Z".parse()?;
    let clock = PinnedClock::at(monday);
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default()).await?;
    stack.table().put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    let mut rows = Vec::new();
    let t = |minutes: i64| monday + Duration::minutes(minutes);

    // Warm-up: each function's cold start loads the store once; Maria is a DMS customer.
    stack.invoke("vehicle-ready", &[ro("warm-ro", "checked_in", t(0))]).await?;
    stack.invoke("missed-call", &[call("warm-call", "warm", "+15125550170", t(0))]).await?;

    let scenarios: Vec<(&str, &str, String, Option<usize>, i64)> = vec![
        (
            "missed-call",
            "known customer with an open RO (text-back)",
            call("c-1", "k-1", "+15125550142", t(1)),
            Some(4),
            1,
        ),
        ("missed-call", "unknown caller (new lead, text-back)", call("c-2", "k-2", "+15125550177", t(2)), Some(4), 2),
        ("missed-call", "the same event delivered again", call("c-1", "k-1", "+15125550142", t(1)), None, 3),
        ("missed-call", "repeat call within 24 h (no text)", call("c-3", "k-3", "+15125550142", t(4)), None, 4),
        ("vehicle-ready", "parts_arrived (text + task)", ro("d-1", "parts_arrived", t(5)), Some(4), 5),
        ("vehicle-ready", "ready_for_pickup (text, task closed)", ro("d-2", "ready_for_pickup", t(6)), Some(4), 6),
        ("vehicle-ready", "DMS resend under a new event id", ro("d-2b", "ready_for_pickup", t(6)), None, 7),
        ("vehicle-ready", "other status (recorded, no text)", ro("d-3", "in_progress", t(8)), None, 8),
    ];
    for (function, scenario, body, target, minute) in scenarios {
        clock.set(t(minute) + Duration::seconds(2));
        let recorder = CallRecorder::start(&emulator.endpoint).await?;
        let response = stack.invoke(function, &[body]).await?;
        let calls = recorder.calls().await?;
        if !response.batch_item_failures.is_empty() {
            return Err(format!("{function}: {scenario}: the event failed").into());
        }
        rows.push(row(function, scenario, target, calls));
    }

    // A transactional text at 22:00 is deferred; the scheduler's 08:00 run releases it.
    clock.set("2026-11-24T04:00:02Z".parse()?);
    let late = ro("d-4", "parts_arrived", "2026-11-24T04:00:00Z".parse()?).replace("RO-48213", "RO-50000");
    stack.invoke("vehicle-ready", &[late]).await?;
    clock.set("2026-11-24T14:00:00Z".parse()?);
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    let fired = stack.tick().await?;
    let calls = recorder.calls().await?;
    let released = fired.first().map(|(_, r)| r["sent"].clone()).unwrap_or(Value::Null);
    rows.push(row("scheduler", &format!("one run, {} due text(s) released, cold store cache", released), None, calls));
    emulator.stop().await;
    Ok(rows)
}

fn row(function: &str, scenario: &str, target: Option<usize>, calls: Vec<AwsCall>) -> CallsRow {
    CallsRow {
        function: function.into(),
        scenario: scenario.into(),
        calls: calls.len(),
        target,
        operations: calls.iter().map(ToString::to_string).collect(),
    }
}

/// The rows as a Markdown table.
pub fn calls_table(rows: &[CallsRow]) -> String {
    let mut out =
        String::from("| function | scenario | AWS calls | target | calls, in order |\n|---|---|---:|---:|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.function,
            r.scenario,
            r.calls,
            r.target.map(|t| format!("<= {t}")).unwrap_or_default(),
            r.operations.join(", ")
        ));
    }
    out
}
