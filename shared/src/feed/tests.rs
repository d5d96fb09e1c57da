//! Section 13's table, row by row, on the pure feed.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::derive::{events_of, state_of};
use super::*;
use crate::event::Envelope;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn customer() -> Value {
    json!({"dms_id": "C-77", "first_name": "Maria", "last_name": "Lopez", "phone": "(512) 555-0142"})
}

fn ro(status: &str, as_of: &str) -> Value {
    json!({"kind": "repair_order", "store_id": "northside-chevy", "as_of": as_of, "ro_number": "R-48213",
           "status": status, "opened_at": "2026-11-23T14:10:00Z", "closed_at": null, "mileage": 40100,
           "customer": customer(), "vehicle": {"vin": "1GNSKCKD5MR000001", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
           "advisor": {"id": "A-12", "name": "Dave"},
           "lines": [{"line_id": "1", "op_code": "OIL01", "description": "Oil and filter", "estimate_cents": 8900, "status": "completed"},
                     {"line_id": "2", "op_code": "BRK01", "description": "Front brake pads", "estimate_cents": 38950, "status": "deferred"}]})
}

fn appointment(status: &str, at: &str, as_of: &str) -> Value {
    json!({"kind": "appointment", "store_id": "northside-chevy", "as_of": as_of, "appointment_id": "A-311",
           "at": at, "status": status, "customer": customer(), "op_codes": ["OIL01"]})
}

fn deal(status: &str, as_of: &str) -> Value {
    json!({"kind": "deal", "store_id": "northside-chevy", "as_of": as_of, "deal_id": "D-9001", "status": status,
           "delivered_at": "2026-11-20T22:00:00Z", "customer": customer(),
           "co_buyer": {"dms_id": "C-78", "first_name": "Luis", "last_name": "Lopez", "phone": "512-555-0143"},
           "vehicle": {"vin": "1GNSKCKD5MR000002", "year": 2027, "make": "Chevrolet", "model": "Equinox"},
           "salesperson": {"id": "S-4", "name": "Ana"}, "mileage": 12, "purchase_type": "lease",
           "term_months": 36, "first_payment_on": "2026-12-20"})
}

/// Takes `values` one after another, as separate deliveries; the events each published.
fn run(values: &[Value]) -> Vec<Vec<Envelope>> {
    let mut memory: Option<Memory> = None;
    let mut out = Vec::new();
    for v in values {
        let s = Snapshot::from_value(v).unwrap();
        let as_of = s.as_of.unwrap();
        let (write, outcomes) = take(memory.as_ref(), &[(&s, as_of)]);
        let mut published = Vec::new();
        if let Some(mut m) = write {
            published = m.pending.iter().map(|e| Envelope::parse(e).unwrap()).collect();
            m.pending.clear();
            memory = Some(m);
        }
        assert!(matches!(outcomes[0], Outcome::Changed(n) if n == published.len()) || published.is_empty());
        for e in &published {
            e.check().unwrap_or_else(|err| panic!("{} is not a section 3 event: {err}", e.event_type));
        }
        out.push(published);
    }
    out
}

fn types(events: &[Envelope]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

#[test]
fn a_repair_order_seen_first_or_with_another_status_is_a_status_change() {
    let out = run(&[
        ro("checked_in", "2026-11-23T14:10:00Z"),
        ro("in_progress", "2026-11-23T15:00:00Z"),
        ro("in_progress", "2026-11-23T15:05:00Z"),
        ro("parts_arrived", "2026-11-24T15:00:00Z"),
    ]);
    assert_eq!(
        out.iter().map(|e| types(e)).collect::<Vec<_>>(),
        vec![vec!["ro.status_changed"], vec!["ro.status_changed"], vec![], vec!["ro.status_changed"]]
    );
    assert_eq!(out[0][0].data["status"], "checked_in");
    assert_eq!(out[3][0].data["status"], "parts_arrived");
    assert_eq!(out[3][0].occurred_at, t("2026-11-24T15:00:00Z"), "the event is as of the snapshot");
}

#[test]
fn waiting_parts_with_a_new_eta_is_a_change_and_the_same_eta_is_not() {
    let mut a = ro("waiting_parts", "2026-11-24T15:00:00Z");
    a["eta"] = json!("2026-11-27");
    let mut b = a.clone();
    b["as_of"] = json!("2026-11-24T15:05:00Z");
    let mut c = a.clone();
    c["as_of"] = json!("2026-11-25T09:00:00Z");
    c["eta"] = json!("2026-12-01");
    let out = run(&[ro("waiting_parts", "2026-11-24T14:00:00Z"), a, b, c]);
    assert_eq!(out[0][0].data.get("eta"), None, "waiting for parts without an ETA texts nobody");
    assert_eq!(out[1][0].data["eta"], "2026-11-27");
    assert!(out[2].is_empty(), "the same ETA again");
    assert_eq!(out[3][0].data["eta"], "2026-12-01");
    assert_eq!(out[3][0].data["status"], "waiting_parts");
}

#[test]
fn a_close_is_ro_closed_with_performed_and_declined_lines_even_when_first_seen_closed() {
    let mut closed = ro("closed", "2026-11-25T18:00:00Z");
    closed["closed_at"] = json!("2026-11-25T17:45:00Z");
    for first in [vec![closed.clone()], vec![ro("in_progress", "2026-11-25T10:00:00Z"), closed.clone()]] {
        let out = run(&first);
        let last = out.last().unwrap();
        assert_eq!(types(last), vec!["ro.closed"]);
        let data = &last[0].data;
        assert_eq!(data["closed_at"], "2026-11-25T17:45:00Z");
        assert_eq!(data["mileage"], 40100);
        assert_eq!(data["performed"], json!(["OIL01"]));
        assert_eq!(data["declined"][0]["op_code"], "BRK01", "deferred reads as declined");
        assert_eq!(data["declined"][0]["estimate_cents"], 38950);
    }
    // A closed_at alone (the status not yet moved) is the close too; once closed, closed again is nothing.
    let mut by_date = ro("ready_for_pickup", "2026-11-25T18:00:00Z");
    by_date["closed_at"] = json!("2026-11-25T17:45:00Z");
    let out = run(&[by_date, ro("closed", "2026-11-25T19:00:00Z")]);
    assert_eq!(types(&out[0]), vec!["ro.closed"]);
    assert!(out[1].is_empty());
}

#[test]
fn a_voided_repair_order_is_a_status_change_that_texts_nobody() {
    let out = run(&[ro("in_progress", "2026-11-25T10:00:00Z"), ro("voided", "2026-11-25T11:00:00Z")]);
    assert_eq!(out[1][0].data["status"], "voided");
}

#[test]
fn appointments_book_reschedule_cancel_and_miss() {
    let out = run(&[
        appointment("booked", "2026-11-27T15:00:00Z", "2026-11-24T10:00:00Z"),
        appointment("booked", "2026-11-27T15:00:00Z", "2026-11-24T10:05:00Z"),
        appointment("booked", "2026-11-28T16:00:00Z", "2026-11-25T10:00:00Z"),
        appointment("no_show", "2026-11-28T16:00:00Z", "2026-11-28T18:00:00Z"),
    ]);
    assert_eq!(
        out.iter().map(|e| types(e)).collect::<Vec<_>>(),
        vec![vec!["appointment.booked"], vec![], vec!["appointment.booked"], vec!["appointment.missed"]]
    );
    assert_eq!(out[2][0].data["at"], "2026-11-28T16:00:00Z", "another at is a reschedule");
    let out = run(&[
        appointment("booked", "2026-11-27T15:00:00Z", "2026-11-24T10:00:00Z"),
        appointment("cancelled", "2026-11-27T15:00:00Z", "2026-11-25T10:00:00Z"),
        appointment("completed", "2026-11-27T15:00:00Z", "2026-11-27T17:00:00Z"),
    ]);
    assert_eq!(types(&out[1]), vec!["appointment.cancelled"]);
    assert!(out[2].is_empty(), "a completed visit comes as its repair order");
}

#[test]
fn a_delivery_carries_the_co_buyer_and_the_terms_and_an_unwind_is_its_own_event() {
    let out = run(&[deal("pending", "2026-11-19T10:00:00Z"), deal("delivered", "2026-11-20T22:30:00Z")]);
    assert!(out[0].is_empty());
    let d = &out[1][0];
    assert_eq!(d.event_type, "deal.delivered");
    assert_eq!(d.data["co_buyer"]["dms_id"], "C-78");
    assert_eq!(
        (&d.data["purchase_type"], &d.data["term_months"], &d.data["first_payment_on"], &d.data["mileage"]),
        (&json!("lease"), &json!(36), &json!("2026-12-20"), &json!(12))
    );
    assert_eq!(d.data["delivered_at"], "2026-11-20T22:00:00Z");
    let out = run(&[deal("delivered", "2026-11-20T22:30:00Z"), deal("unwound", "2026-11-23T10:00:00Z")]);
    assert_eq!(types(&out[0]), vec!["deal.delivered"]);
    assert_eq!(types(&out[1]), vec!["deal.unwound"]);
    assert_eq!(out[1][0].data["deal_id"], "D-9001");
    assert_eq!(out[1][0].data["delivered_at"], "2026-11-20T22:00:00Z");
    let out = run(&[deal("unwound", "2026-11-23T10:00:00Z"), deal("unwound", "2026-11-24T10:00:00Z")]);
    assert_eq!(types(&out[0]), vec!["deal.unwound"], "an unwind first seen is still the unwind");
    assert!(out[1].is_empty(), "and changes nothing when said again");
}

#[test]
fn a_stale_snapshot_changes_nothing_whatever_it_says() {
    let newer = Snapshot::from_value(&ro("ready_for_pickup", "2026-11-25T10:00:00Z")).unwrap();
    let older = Snapshot::from_value(&ro("waiting_parts", "2026-11-24T10:00:00Z")).unwrap();
    let (m, _) = take(None, &[(&newer, newer.as_of.unwrap())]);
    let (write, outcomes) = take(m.as_ref(), &[(&older, older.as_of.unwrap())]);
    assert_eq!((write, outcomes), (None, vec![Outcome::Stale]));
    // Out of order within one delivery: taken oldest first, both published.
    let (write, outcomes) = take(None, &[(&newer, newer.as_of.unwrap()), (&older, older.as_of.unwrap())]);
    let m = write.unwrap();
    assert_eq!(outcomes, vec![Outcome::Changed(1), Outcome::Changed(1)]);
    assert_eq!(m.state, "ready_for_pickup");
    assert_eq!(m.pending.len(), 2);
}

#[test]
fn the_same_snapshot_is_the_same_event_and_a_return_to_a_state_later_is_another() {
    let s = Snapshot::from_value(&ro("parts_arrived", "2026-11-24T15:00:00Z")).unwrap();
    let a = events_of(&s, s.as_of.unwrap(), &state_of(&s));
    let b = events_of(&s, s.as_of.unwrap(), &state_of(&s));
    assert_eq!(a[0]["event_id"], b[0]["event_id"]);
    let later = events_of(&s, t("2026-11-26T15:00:00Z"), &state_of(&s));
    assert_ne!(a[0]["event_id"], later[0]["event_id"]);
    let id = a[0]["event_id"].as_str().unwrap();
    assert!(id.starts_with("feed-") && id.len() == 29 && !id.contains("0142"));
}

#[test]
fn a_write_carries_the_unpublished_events_of_the_memory_it_replaces() {
    let first = Snapshot::from_value(&ro("checked_in", "2026-11-23T14:10:00Z")).unwrap();
    let second = Snapshot::from_value(&ro("in_progress", "2026-11-23T15:00:00Z")).unwrap();
    let (m, _) = take(None, &[(&first, first.as_of.unwrap())]);
    let m = m.unwrap();
    assert_eq!(m.version, 1);
    let (m2, _) = take(Some(&m), &[(&second, second.as_of.unwrap())]);
    let m2 = m2.unwrap();
    assert_eq!((m2.version, m2.pending.len()), (2, 2), "the first's event was never published: it goes too");
}

#[test]
fn what_the_feed_cannot_use_is_a_reason_without_the_phone_number() {
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = ro("in_progress", "2026-11-25T10:00:00Z");
        f(&mut v);
        Snapshot::from_value(&v).unwrap_err()
    };
    for (reason, says) in [
        (with(&|v| v["customer"]["phone"] = json!("555-CALL-NOW 123")), "no usable phone"),
        (with(&|v| v["kind"] = json!("invoice")), "unknown kind"),
        (with(&|v| v["status"] = json!("on_hold")), "on_hold"),
        (with(&|v| v["ro_number"] = json!("")), "no ro_number"),
        (with(&|v| v["as_of"] = json!("yesterday")), "as_of"),
        (with(&|v| v["eta"] = json!("11/27/2026")), "YYYY-MM-DD"),
        (with(&|v| v["store_id"] = json!(null)), "store_id"),
        (with(&|v| v["lines"][0]["status"] = json!("maybe")), "maybe"),
    ] {
        assert!(reason.contains(says), "{reason:?} should say {says:?}");
        assert!(!reason.contains("555"), "{reason:?}");
    }
}

#[test]
fn a_body_is_taken_whole_or_refused_with_each_bad_snapshots_position() {
    let good = ro("in_progress", "2026-11-25T10:00:00Z");
    let lines = format!("{good}\n\n{}\n", deal("delivered", "2026-11-25T10:00:00Z"));
    assert_eq!(read_body("northside-chevy", &lines).unwrap().len(), 2);
    let array = json!([good, appointment("booked", "2026-11-27T15:00:00Z", "2026-11-24T10:00:00Z")]).to_string();
    assert_eq!(read_body("northside-chevy", &array).unwrap().len(), 2);
    let mut other_store = good.clone();
    other_store["store_id"] = json!("southside-ford");
    let bad = format!("{good}\n{{oops\n{other_store}\n");
    let refused = read_body("northside-chevy", &bad).unwrap_err();
    assert_eq!(refused.iter().map(|r| r.position).collect::<Vec<_>>(), vec![2, 3]);
    assert!(refused[1].reason.contains("store"), "{:?}", refused[1]);
    let array = json!([good, {"kind": "deal"}]).to_string();
    assert_eq!(read_body("northside-chevy", &array).unwrap_err()[0].position, 2);
    assert!(read_body("northside-chevy", "  \n").is_err());
}

#[test]
fn a_csv_export_is_the_same_snapshots_with_each_bad_row_at_its_line() {
    let store = crate::fixtures::northside();
    let csv = "Kind,ID,Status,As_Of,At,DMS_ID,First_Name,Last_Name,Phone,VIN,Year,Make,Model,Advisor_ID,Advisor_Name,ETA,Mileage,Performed,Declined,Op_Codes,Purchase_Type,Term_Months,First_Payment_On,Co_Buyer_First_Name,Co_Buyer_Phone\r\n\
        repair_order,R-1,waiting_parts,2026-11-24T15:00:00Z,,C-77,Maria,Lopez,(512) 555-0142,1G,2021,Chevrolet,Tahoe,A-12,Dave,2026-11-27,,,,,,,,,\r\n\
        repair_order,R-2,closed,2026-11-24T18:00:00Z,2026-11-24,C-78,Luis,Lopez,5125550143,1G2,2019,Chevrolet,Malibu,A-12,Dave,,52000,OIL01|ROT01,BRK01:Front brake pads:38950,,,,,,\r\n\
        appointment,A-311,booked,,2026-11-27T15:00:00Z,C-77,Maria,Lopez,5125550142,,,,,,,,,,,OIL01|ROT01,,,,,\r\n\
        deal,D-9001,delivered,,2026-11-20T22:00:00Z,C-79,Ana,Diaz,5125550144,1G3,2027,Chevrolet,Equinox,S-4,Ana,,12,,,,Lease,36,2026-12-20,Luis,5125550145\r\n\
        repair_order,R-3,on_hold,,,C-80,Bo,Li,5125550146,,,,,,,,,,,,,,,,\r\n\
        deal,D-2,delivered,,someday,C-81,Cy,Ro,5125550147,,,,,,,,,,,,,,,,\r\n";
    let rows: Vec<(usize, Result<Value, String>)> =
        csv::rows(std::io::Cursor::new(csv.as_bytes().to_vec()), csv::FEED_COLUMNS, csv::FEED_REQUIRED)
            .unwrap()
            .map(|(line, cells)| {
                let snapshot = cells.and_then(|c| c.snapshot(&store)).and_then(|v| Snapshot::from_value(&v).map(|_| v));
                (line, snapshot)
            })
            .collect();
    let bad: Vec<usize> = rows.iter().filter(|(_, r)| r.is_err()).map(|(l, _)| *l).collect();
    assert_eq!(bad, vec![6, 7], "the header is line 1, CRLF or not: {rows:?}");
    let good: Vec<Snapshot> =
        rows.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|v| Snapshot::from_value(v).unwrap()).collect();
    let arrived = t("2026-11-25T06:00:00Z");
    let events: Vec<Value> = good.iter().flat_map(|s| events_of(s, s.as_of.unwrap_or(arrived), &state_of(s))).collect();
    let types: Vec<&str> = events.iter().map(|e| e["event_type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["ro.status_changed", "ro.closed", "appointment.booked", "deal.delivered"]);
    assert_eq!(events[0]["data"]["eta"], "2026-11-27");
    assert_eq!(events[1]["data"]["performed"], json!(["OIL01", "ROT01"]));
    assert_eq!(events[1]["data"]["declined"][0]["estimate_cents"], 38950);
    assert_eq!(events[1]["data"]["closed_at"], "2026-11-24T18:00:00Z", "a day is noon at the store");
    assert_eq!(events[2]["data"]["op_codes"], json!(["OIL01", "ROT01"]));
    assert_eq!(events[3]["data"]["purchase_type"], "lease");
    assert_eq!(events[3]["data"]["co_buyer"]["first_name"], "Luis");
    assert_eq!(events[2]["occurred_at"], "2026-11-25T06:00:00Z", "without as_of: as of its arrival");
    for e in &events {
        Envelope::parse(&e.to_string()).unwrap().check().unwrap();
    }
}

/// `events/feed/`: a store's morning as a CSV export and as a connector's
/// JSON Lines; through either door, the same snapshots are the same events.
#[test]
fn the_sample_mornings_csv_and_json_lines_are_the_same_events() {
    let store = crate::fixtures::northside();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/feed");
    let arrived = t("2026-11-24T13:06:00Z");
    let ids = |snapshots: Vec<Value>| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = snapshots
            .iter()
            .map(|v| Snapshot::from_value(v).unwrap())
            .flat_map(|s| events_of(&s, s.as_of.unwrap_or(arrived), &state_of(&s)))
            .map(|e| (e["event_id"].as_str().unwrap().to_owned(), e["event_type"].as_str().unwrap().to_owned()))
            .collect();
        out.sort();
        out
    };
    let file = std::fs::File::open(dir.join("northside-morning.csv")).unwrap();
    let from_csv: Vec<Value> = csv::rows(file, csv::FEED_COLUMNS, csv::FEED_REQUIRED)
        .unwrap()
        .map(|(line, cells)| cells.and_then(|c| c.snapshot(&store)).unwrap_or_else(|e| panic!("line {line}: {e}")))
        .collect();
    let lines = std::fs::read_to_string(dir.join("northside-morning.jsonl")).unwrap();
    let from_lines = read_body("northside-chevy", &lines).unwrap();
    let (a, b) = (ids(from_csv), ids(from_lines));
    assert_eq!(a, b);
    let types: Vec<&str> = a.iter().map(|(_, t)| t.as_str()).collect();
    for t in ["ro.status_changed", "ro.closed", "appointment.booked", "deal.delivered"] {
        assert!(types.contains(&t), "{types:?}");
    }
}
