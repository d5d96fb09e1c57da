//! Households through `custops local up` and the binary (CONTRACT.md
//! section 14): a deal's co-buyer and the buyer become one household, and
//! `custops household link` makes two records one; each record shows the
//! other, and nothing links a number without a record.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{custops, local_up, publish, BIN};
use serde_json::{json, Value};

fn household(endpoint: &str, phone: &str) -> Vec<Value> {
    let out = custops(endpoint, &["timeline", phone, "--store", "northside-chevy", "--json"]);
    let records: Value = serde_json::from_str(&out).unwrap();
    records
        .as_array()
        .and_then(|r| r.first())
        .map_or(Vec::new(), |r| r["household"].as_array().cloned().unwrap_or_default())
}

/// The household of `phone` once it has `n` members (or after 20 s).
fn household_of(endpoint: &str, phone: &str, n: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let h = household(endpoint, phone);
        if h.len() >= n || started.elapsed() > Duration::from_secs(20) {
            return h;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_co_buyer_and_a_link_each_make_one_household_that_both_records_show() {
    let (_up, endpoint) = local_up("2026-11-24T21:00:00Z");
    let deal = json!({
        "event_id": "dms-d-7001", "event_type": "deal.delivered", "occurred_at": "2026-11-24T20:30:00Z",
        "store_id": "northside-chevy",
        "data": {"deal_id": "D-7001", "delivered_at": "2026-11-24T20:30:00Z",
                 "customer": {"dms_id": "C1001", "first_name": "Maria", "last_name": "Gonzalez", "phone": "(512) 555-0142"},
                 "co_buyer": {"dms_id": "C1009", "first_name": "Luis", "last_name": "Gonzalez", "phone": "512-555-0149"},
                 "vehicle": {"vin": "1GNSKCKD5MR100001", "year": 2027, "make": "Chevrolet", "model": "Equinox"},
                 "salesperson": {"id": "sp-7", "name": "Jordan Lee"},
                 "purchase_type": "lease", "term_months": 36, "first_payment_on": "2026-12-20", "mileage": 12}
    });
    let file = std::env::temp_dir().join(format!("custops-household-deal-{}.json", std::process::id()));
    std::fs::write(&file, deal.to_string()).unwrap();
    publish(&endpoint, file.to_str().unwrap());
    std::fs::remove_file(&file).ok();

    let maria = household_of(&endpoint, "+15125550142", 1);
    assert_eq!(maria.len(), 1, "{maria:?}");
    assert_eq!(
        (maria[0]["member"].as_str(), maria[0]["linked"]["by"].as_str()),
        (Some("+15125550149"), Some("co_buyer"))
    );
    let luis = household_of(&endpoint, "+15125550149", 1);
    assert_eq!(luis[0]["member"], "+15125550142", "{luis:?}");
    let text = custops(&endpoint, &["timeline", "+15125550142", "--store", "northside-chevy"]);
    assert!(text.contains("household: Luis Gonzalez +15125550149 (co-buyer, deal D-7001)"), "{text}");

    // A caller with a record of their own (a missed call) linked by a person.
    publish(&endpoint, "carrier/030-call-missed-unknown-caller.json");
    let started = Instant::now();
    while !custops(&endpoint, &["timeline", "+15125550177", "--store", "northside-chevy"]).contains("customer:")
        && started.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(300));
    }
    let linked =
        custops(&endpoint, &["household", "link", "(512) 555-0142", "+15125550177", "--store", "northside-chevy"]);
    assert!(linked.contains("one household"), "{linked}");
    assert_eq!(household(&endpoint, "+15125550142").len(), 2);
    let other = household(&endpoint, "+15125550177");
    assert_eq!(
        (other[0]["member"].as_str(), other[0]["linked"]["who"].as_str()),
        (Some("+15125550142"), Some("operator"))
    );

    // A number with no record is not linked, and says why.
    let out = Command::new(BIN)
        .args(["household", "link", "+15125550142", "+15125550100", "--store", "northside-chevy"])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no record"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(household(&endpoint, "+15125550142").len(), 2);
}
