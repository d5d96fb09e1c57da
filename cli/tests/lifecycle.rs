//! Between the sale and the next sale (CONTRACT.md section 14) through
//! `custops local up` and the binary, with the story's own sample events
//! (`events/`): Grace Liu takes delivery of an Equinox with her husband
//! Daniel as co-buyer and is asked about it six weeks later; Daniel's
//! Silverado falls due for service by its own mileage, his leased Traverse
//! comes 180 days from maturity on the sales list; a vehicle with one
//! reading falls due by the store's miles a day and one with none by time
//! alone; a booked appointment holds the reminder; `done_elsewhere` and
//! `sold` end the reminders; the report and `custops value` count it.

mod common;

use std::time::{Duration, Instant};

use common::{custops, local_up, publish};
use serde_json::{json, Value};

const STORE: &str = "northside-chevy";
const DANIEL: &str = "+15125550173";
const GRACE: &str = "+15125550172";

fn tasks(endpoint: &str) -> Vec<Value> {
    let out = custops(endpoint, &["tasks", "--store", STORE, "--json"]);
    serde_json::from_str::<Value>(&out).unwrap().as_array().cloned().unwrap_or_default()
}

/// The open tasks of `kind` for `phone`, once there are `n` (or after 20 s).
fn tasks_of(endpoint: &str, kind: &str, phone: &str, n: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let found: Vec<Value> =
            tasks(endpoint).into_iter().filter(|t| t["kind"] == kind && t["phone"] == phone).collect();
        if found.len() >= n || started.elapsed() > Duration::from_secs(20) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn texts_to(endpoint: &str, phone: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(&custops(endpoint, &["texts", "--json"])).unwrap();
    all.as_array().unwrap().iter().filter(|t| t["phone"] == phone).cloned().collect()
}

/// `custops local tick --at AT`, then a moment for the work it handed to
/// the stack's queues (what must not happen is looked for after it).
fn tick(endpoint: &str, at: &str) {
    custops(endpoint, &["local", "tick", "--at", at]);
    std::thread::sleep(Duration::from_secs(2));
}

fn timeline(endpoint: &str, phone: &str) -> String {
    custops(endpoint, &["timeline", phone, "--store", STORE])
}

/// The timeline of `phone` once it has `what` (or after 20 s).
fn wait_for(endpoint: &str, phone: &str, what: &str) -> String {
    let started = Instant::now();
    loop {
        let t = timeline(endpoint, phone);
        if t.contains(what) || started.elapsed() > Duration::from_secs(20) {
            return t;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn publish_json(endpoint: &str, name: &str, event: &Value) {
    let file = std::env::temp_dir().join(format!("custops-lifecycle-{name}-{}.json", std::process::id()));
    std::fs::write(&file, event.to_string()).unwrap();
    publish(endpoint, file.to_str().unwrap());
    std::fs::remove_file(&file).ok();
}

#[test]
fn the_third_failure_a_buyer_asked_a_spouses_car_due_and_a_lease_on_the_sales_list() {
    let (_up, endpoint) = local_up("2026-10-13T20:00:05Z");
    // One at a time, as the DMS sent them years apart.
    for (sample, phone, seen) in [
        ("dms/001d-deal-delivered-lease-2024.json", DANIEL, "D-61022"),
        ("dms/001b-ro-closed-silverado-march.json", DANIEL, "RO-46010"),
        ("dms/001a-ro-closed-silverado-july.json", DANIEL, "RO-46620"),
        ("dms/002-deal-delivered-equinox-co-buyer.json", GRACE, "D-77031"),
    ] {
        publish(&endpoint, sample);
        wait_for(&endpoint, phone, seen);
    }
    assert_eq!(tasks_of(&endpoint, "first_service", GRACE, 1).len(), 1, "the delivery is recorded");
    assert!(timeline(&endpoint, GRACE).contains("household: Daniel Liu +15125550173 (co-buyer, deal D-77031)"));
    let daniel = timeline(&endpoint, DANIEL);
    assert!(daniel.contains("due: 2024 Chevrolet Traverse: lease matures 2027-06-05 (deal D-61022)"), "{daniel}");
    assert!(
        daniel.contains("due: 2019 Chevrolet Silverado 1500: service")
            && daniel.contains("2026-12-01, about 35521 miles")
    );

    // Six weeks after the delivery, Tuesday 24 November at 10:00: asked, once.
    tick(&endpoint, "2026-11-23T16:00:00Z");
    assert!(texts_to(&endpoint, GRACE).is_empty(), "not before its day");
    tick(&endpoint, "2026-11-24T16:00:00Z");
    tick(&endpoint, "2026-11-24T16:30:00Z");
    let asked = texts_to(&endpoint, GRACE);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(asked[0]["body"].as_str().unwrap().contains("2027 Chevrolet Equinox"), "{asked:?}");
    assert!(asked[0]["dedupe_key"].as_str().unwrap().starts_with("delivery-check#D-77031"), "{asked:?}");

    // Daniel's Silverado: 26,000 on 10 March, 30,510 on 14 July, 35.8 miles a
    // day of its own: 35,510 on Tuesday 1 December.
    tick(&endpoint, "2026-11-30T16:00:00Z");
    assert!(tasks_of(&endpoint, "service_due", DANIEL, 0).is_empty(), "not before its day");
    tick(&endpoint, "2026-12-01T16:00:00Z");
    let due = tasks_of(&endpoint, "service_due", DANIEL, 1);
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["owner"], "bdc-service");
    let note = due[0]["note"].as_str().unwrap();
    assert!(note.contains("2019 Chevrolet Silverado 1500") && note.contains("about 35521 miles"), "{note}");
    assert!(note.contains("its own 36 miles a day, from readings on 2026-03-10 and 2026-07-14"), "{note}");
    let texted = texts_to(&endpoint, DANIEL);
    assert_eq!(texted.len(), 1, "one service-due text: {texted:?}");
    let body = texted[0]["body"].as_str().unwrap();
    assert!(body.contains("Silverado 1500") && body.contains("https://northside.example/service"), "{body}");
    assert!(!body.contains("Equinox"), "nobody is texted about another person's vehicle: {body}");
    assert_eq!(texted[0]["class"], "marketing");
    tick(&endpoint, "2026-12-01T17:00:00Z");
    assert_eq!(texts_to(&endpoint, DANIEL).len(), 1, "taken up once, however often the sweep runs");

    // His leased Traverse matures on 5 June 2027: 180 days out, Monday 7 December.
    tick(&endpoint, "2026-12-07T16:00:00Z");
    let lease = tasks_of(&endpoint, "maturity", DANIEL, 1);
    assert_eq!(lease.len(), 1, "{lease:?}");
    assert_eq!(
        (lease[0]["owner"].as_str(), lease[0]["task_id"].as_str()),
        (Some("bdc-sales"), Some("maturity-D-61022-180"))
    );
    let note = lease[0]["note"].as_str().unwrap();
    assert!(note.contains("lease") && note.contains("2027-06-05") && note.contains("Rico Alvarez"), "{note}");
    assert_eq!(texts_to(&endpoint, DANIEL).len(), 1, "no maturity text: the store has maturity_texts off");

    // The GM's report of each day, and `custops value` of the season.
    let report = |day: &str| -> Value {
        serde_json::from_str(&custops(&endpoint, &["report", "--store", STORE, "--date", day, "--json"])).unwrap()
    };
    assert_eq!(report("2026-11-24")["lifecycle"]["delivery_checks_asked"], 1);
    let dec1 = report("2026-12-01");
    assert_eq!(
        (dec1["lifecycle"]["service_due_tasks"].as_u64(), dec1["lifecycle"]["service_due_texts"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(report("2026-12-07")["lifecycle"]["maturity_tasks"], 1);
    let value: Value = serde_json::from_str(&custops(
        &endpoint,
        &["value", "--store", STORE, "--from", "2026-11-01", "--to", "2026-12-31", "--json"],
    ))
    .unwrap();
    let l = &value["lifecycle"];
    assert_eq!(
        [&l["delivery_checks_asked"], &l["service_due_texts"], &l["service_due_tasks"], &l["maturity_tasks"]],
        [&json!(1), &json!(1), &json!(1), &json!(1)],
        "{value}"
    );

    // Sold: the Silverado leaves Daniel's vehicles, and nothing is due for it again.
    let id = due[0]["task_id"].as_str().unwrap();
    custops(&endpoint, &["task", "done", id, "--store", STORE, "--phone", DANIEL, "--outcome", "sold"]);
    let line = timeline(&endpoint, DANIEL);
    assert!(line.contains("service due and maturity forget it"), "{line}");
    tick(&endpoint, "2027-06-01T16:00:00Z");
    assert!(tasks_of(&endpoint, "service_due", DANIEL, 0).is_empty());
}

#[test]
fn the_store_rate_and_time_alone_a_booking_holds_it_and_done_elsewhere_ends_it() {
    let (_up, endpoint) = local_up("2026-06-30T16:00:05Z");
    let ro = |phone: &str, vin: &str, model: &str, mileage: Option<u32>| {
        let mut data = json!({
            "ro_number": format!("RO-{}", &vin[..6]), "closed_at": "2026-06-30T16:00:00Z",
            "customer": {"dms_id": format!("C-{vin}"), "first_name": "Sam", "last_name": model, "phone": phone,
                         "marketing_consent": true},
            "vehicle": {"vin": vin, "year": 2022, "make": "Chevrolet", "model": model},
            "advisor": {"id": "adv-4", "name": "Sam Ortiz"}, "performed": ["LOF-SYN"], "declined": []
        });
        if let Some(m) = mileage {
            data["mileage"] = json!(m);
        }
        json!({"event_id": format!("dms-{vin}"), "event_type": "ro.closed", "occurred_at": "2026-06-30T16:00:00Z",
               "store_id": STORE, "data": data})
    };
    // One reading: the store's 37 miles a day reach 15,000 on 13 November.
    publish_json(&endpoint, "rate", &ro("+15125550181", "RATE01AAAAA000001", "Malibu", Some(10_000)));
    // No reading: six months, 30 December.
    publish_json(&endpoint, "time", &ro("+15125550182", "TIME01AAAAA000002", "Blazer", None));
    // One reading, and an appointment booked for the week it falls due.
    publish_json(&endpoint, "held", &ro("+15125550183", "HELD01AAAAA000003", "Colorado", Some(10_000)));
    for phone in ["+15125550181", "+15125550182", "+15125550183"] {
        wait_for(&endpoint, phone, "ro.closed");
    }
    publish_json(
        &endpoint,
        "booked",
        &json!({"event_id": "dms-appt-held", "event_type": "appointment.booked", "occurred_at": "2026-11-10T15:00:00Z",
                "store_id": STORE,
                "data": {"appointment_id": "A-HELD", "at": "2026-11-17T15:00:00Z",
                         "customer": {"dms_id": "C-HELD01AAAAA000003", "first_name": "Sam", "last_name": "Colorado",
                                      "phone": "+15125550183"},
                         "vehicle": {"vin": "HELD01AAAAA000003", "year": 2022, "make": "Chevrolet", "model": "Colorado"}}}),
    );
    wait_for(&endpoint, "+15125550183", "appointment.booked");

    tick(&endpoint, "2026-11-13T16:00:00Z");
    let rate = tasks_of(&endpoint, "service_due", "+15125550181", 1);
    assert_eq!(rate.len(), 1, "{rate:?}");
    let note = rate[0]["note"].as_str().unwrap();
    assert!(
        note.contains("about 15032 miles") && note.contains("the store's 37 miles a day from its one reading"),
        "{note}"
    );
    assert!(tasks_of(&endpoint, "service_due", "+15125550183", 0).is_empty(), "an appointment is booked");
    let held = wait_for(&endpoint, "+15125550183", "service_due.held");
    assert!(held.contains("no task or text, an appointment is booked"), "{held}");
    assert!(texts_to(&endpoint, "+15125550183")
        .iter()
        .all(|t| !t["dedupe_key"].as_str().unwrap().starts_with("service-due#")));
    // The appointment came and went with no visit: the day after it, the
    // reminder is looked at again and goes.
    tick(&endpoint, "2026-11-18T16:00:00Z");
    let after = tasks_of(&endpoint, "service_due", "+15125550183", 1);
    assert_eq!(after.len(), 1, "held until the day after the appointment: {after:?}");

    tick(&endpoint, "2026-12-30T16:00:00Z");
    let time = tasks_of(&endpoint, "service_due", "+15125550182", 1);
    assert_eq!(time.len(), 1, "{time:?}");
    assert!(time[0]["note"].as_str().unwrap().contains("no odometer reading: by time alone"), "{time:?}");

    // Serviced elsewhere: no reminder until its next visit here.
    let id = time[0]["task_id"].as_str().unwrap();
    custops(
        &endpoint,
        &["task", "done", id, "--store", STORE, "--phone", "+15125550182", "--outcome", "done_elsewhere"],
    );
    assert!(timeline(&endpoint, "+15125550182").contains("serviced elsewhere"));
    tick(&endpoint, "2027-06-30T16:00:00Z");
    assert!(tasks_of(&endpoint, "service_due", "+15125550182", 0).is_empty(), "no reminder after done elsewhere");
}
