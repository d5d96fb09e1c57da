//! Hostile input: every parser and every function fed random JSON, wrong
//! types, huge strings, control characters, invalid and foreign phone
//! numbers, out-of-range dates, negative and huge amounts. Nothing panics;
//! each message is processed, or ends in its DLQ with a reason.

use custops::event::{
    AppointmentBooked, AppointmentMissed, CallMissed, DealDelivered, Envelope, InboundSms, RoClosed, RoStatusChanged,
};
use custops_dev::faults::Rng;
use custops_tests::Harness;
use serde_json::{json, Value};

const NASTY_STRINGS: &[&str] = &[
    "",
    " ",
    "\u{0}\u{1}\u{7}\u{1b}[31m",
    "Ω≈ç√∫˜µ≤≥÷ 田中さんにあげて下さい 🚗🔧",
    "\u{202e}reversed\u{202c}",
    "<script>alert(1)</script>",
    "'; DROP TABLE customers; --",
    "+999",
    "12",
    "+44 20 7946 0958",
    "+1 (512) 555-01",
    "anonymous",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-13-45T99:99:99Z",
    "NaN",
];

fn nasty_value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 2 { 7 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(-1),
        3 => json!(9_223_372_036_854_775_807_i64),
        4 => json!(1e300),
        5 => json!(rng.pick(NASTY_STRINGS)),
        6 => json!("x".repeat(200_000)),
        7 => Value::Array((0..rng.below(4)).map(|_| nasty_value(rng, depth + 1)).collect()),
        _ => {
            let mut o = serde_json::Map::new();
            for i in 0..rng.below(4) {
                o.insert(format!("k{i}"), nasty_value(rng, depth + 1));
            }
            Value::Object(o)
        }
    }
}

/// Every leaf path of a JSON value.
fn paths(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| paths(v, format!("{at}/{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| paths(v, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

/// `valid` with one leaf replaced by something hostile, or removed, or the
/// whole body replaced by random JSON or bytes.
fn mutate(rng: &mut Rng, valid: &Value, id_key: &str, n: usize) -> String {
    let mut v = valid.clone();
    // Fresh ids, so each message is its own event (and its own natural key).
    for key in [id_key, "/data/call_id", "/data/ro_number", "/data/deal_id", "/data/appointment_id"] {
        if let Some(slot) = v.pointer_mut(key) {
            *slot = json!(format!("hostile-{n}"));
        }
    }
    match rng.below(10) {
        0 => return (0..rng.below(300)).map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?')).collect(),
        1 => return nasty_value(rng, 0).to_string(),
        _ => {}
    }
    let mut leaves = Vec::new();
    paths(&v, String::new(), &mut leaves);
    let leaf = rng.pick(&leaves).clone();
    if leaf == id_key || leaf == "/event_id" {
        return v.to_string();
    }
    if rng.below(5) == 0 {
        // Remove the field.
        let (parent, key) = leaf.rsplit_once('/').unwrap();
        if let Some(Value::Object(m)) = v.pointer_mut(parent) {
            m.remove(key);
        }
    } else if let Some(slot) = v.pointer_mut(&leaf) {
        *slot = nasty_value(rng, 0);
    }
    v.to_string()
}

fn customer() -> Value {
    json!({"dms_id": "C1", "first_name": "Ana", "last_name": "Ruiz", "phone": "+15125550142", "marketing_consent": true})
}

fn vehicle() -> Value {
    json!({"vin": "1FTEW1EP5MFA00001", "year": 2021, "make": "Ford", "model": "F-150"})
}

fn envelope(event_type: &str, data: Value) -> Value {
    json!({"event_id": "x", "event_type": event_type, "occurred_at": "2026-11-23T16:05:00Z",
           "store_id": "northside-chevy", "data": data})
}

/// Each function with valid examples of its input and where their id is.
fn functions() -> Vec<(&'static str, &'static str, Vec<Value>)> {
    let advisor = json!({"id": "a", "name": "Dana"});
    vec![
        (
            "missed-call",
            "/event_id",
            vec![envelope(
                "call.missed",
                json!({"call_id": "k", "from": "+15125550142", "to": "+15125550100", "department": "service"}),
            )],
        ),
        (
            "vehicle-ready",
            "/event_id",
            vec![envelope(
                "ro.status_changed",
                json!({"ro_number": "RO-1", "status": "ready_for_pickup", "customer": customer(), "vehicle": vehicle(),
                       "advisor": advisor, "amount_due_cents": 48735}),
            )],
        ),
        (
            "declined-service",
            "/event_id",
            vec![envelope(
                "ro.closed",
                json!({"ro_number": "RO-2", "closed_at": "2026-11-23T16:00:00Z", "customer": customer(), "vehicle": vehicle(),
                       "advisor": advisor, "mileage": 1000, "performed": ["A"],
                       "declined": [{"line_id": "L", "op_code": "B", "description": "Brakes", "estimate_cents": 42000}]}),
            )],
        ),
        (
            "deal-delivered",
            "/event_id",
            vec![envelope(
                "deal.delivered",
                json!({"deal_id": "D", "delivered_at": "2026-11-23T16:00:00Z", "customer": customer(), "vehicle": vehicle(),
                       "salesperson": advisor}),
            )],
        ),
        (
            "appointments",
            "/event_id",
            vec![
                envelope(
                    "appointment.missed",
                    json!({"appointment_id": "A", "at": "2026-11-23T16:00:00Z", "customer": customer()}),
                ),
                envelope(
                    "appointment.booked",
                    json!({"appointment_id": "B", "at": "2026-11-30T16:00:00Z", "customer": customer(), "op_codes": ["B"]}),
                ),
            ],
        ),
        (
            "inbound-sms",
            "/inboundMessageId",
            vec![json!({"originationNumber": "+15125550142", "destinationNumber": "+15125550100",
                        "messageKeyword": "JOIN", "messageBody": "Is my car ready?", "inboundMessageId": "m",
                        "previousPublishedMessageId": "p"})],
        ),
        (
            "win-back",
            "/store_id",
            vec![json!({"store_id": "northside-chevy", "phone": "+15125550142",
                        "last_visit_at": "2025-01-01T00:00:00Z", "lapse_months": 13})],
        ),
    ]
}

/// The parsers alone, many times: never a panic.
#[test]
fn no_parser_panics_on_hostile_input() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut n = 0;
    for (_, id, examples) in functions() {
        for example in &examples {
            for _ in 0..1500 {
                n += 1;
                let body = mutate(&mut rng, example, id, n);
                if let Ok(env) = Envelope::parse(&body) {
                    let _ = env.data::<CallMissed>();
                    let _ = env.data::<RoStatusChanged>();
                    let _ = env.data::<RoClosed>();
                    let _ = env.data::<DealDelivered>();
                    let _ = env.data::<AppointmentBooked>();
                    let _ = env.data::<AppointmentMissed>();
                }
                let _ = InboundSms::parse(&body);
                let _ = custops::StoreConfig::from_json(&body).map(|s| s.check_templates());
                let _ = serde_json::from_str::<win_back::Lapsed>(&body);
            }
        }
    }
    assert!(n > 10_000);
}

/// What each message became: processed (its claim exists) or dead-lettered
/// with a reason; never a panic, never a transient failure, never lost.
#[tokio::test]
async fn every_function_dead_letters_hostile_messages_with_a_reason_and_processes_the_rest() {
    let h = Harness::start("2026-11-23T16:05:05Z").await;
    let mut rng = Rng(0xDEAD_BEEF_0000_0016);
    let mut n = 0;
    let mut sent: Vec<(&str, String)> = Vec::new();
    for (function, id, examples) in functions() {
        let bodies: Vec<String> = (0..30)
            .map(|i| {
                n += 1;
                mutate(&mut rng, &examples[i % examples.len()], id, n)
            })
            .collect();
        for batch in bodies.chunks(10) {
            // Valid messages about one customer may conflict in a batch and be
            // retried, as SQS would redeliver them; hostile ones never are.
            let mut pending: Vec<String> = batch.to_vec();
            for _ in 0..5 {
                let response = h.stack.invoke(function, &pending).await.expect("invoked");
                pending = response
                    .batch_item_failures
                    .iter()
                    .filter_map(|f| f.item_identifier.trim_start_matches("invoke-").parse::<usize>().ok())
                    .map(|i| pending[i].clone())
                    .collect();
                if pending.is_empty() {
                    break;
                }
            }
            let shown: Vec<String> = pending.iter().map(|b| b.chars().take(300).collect()).collect();
            assert!(pending.is_empty(), "{function}: still failing after 5 deliveries: {shown:?}");
        }
        sent.extend(bodies.into_iter().map(|b| (function, b)));
    }
    let letters = h.dlq().await;
    let (mut dead, mut processed) = (0, 0);
    for (function, body) in &sent {
        if let Some(letter) = letters.iter().find(|l| &l.body == body) {
            assert!(!letter.reason.is_empty() && letter.kind == "permanent", "{function}: {letter:?}");
            assert!(
                !letter.reason.contains("5125550142") && !letter.reason.contains("79460958"),
                "no number: {letter:?}"
            );
            dead += 1;
            continue;
        }
        let v: Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{function}: not JSON, not dead-lettered: {e}"));
        let key = match *function {
            "inbound-sms" => format!("sms#{}", v["inboundMessageId"].as_str().unwrap()),
            "win-back" => serde_json::from_value::<win_back::Lapsed>(v.clone()).expect("a lapsed customer").key(),
            _ => v["event_id"].as_str().unwrap().to_owned(),
        };
        assert!(
            h.table().is_claimed("northside-chevy", &key).await.unwrap(),
            "{function}: {body:.300} was neither processed nor dead-lettered"
        );
        processed += 1;
    }
    assert!(dead > 100 && processed > 10, "dead {dead}, processed {processed}");
}
