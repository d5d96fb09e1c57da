//! The DMS feed through `custops local up` and the binary (CONTRACT.md
//! section 13): a store's morning as a CSV export (`custops feed put`) and
//! the same snapshots from a connector (`POST /hooks/{store}/dms`), each
//! change taken once whichever door it came through; `custops feed status`;
//! and `custops import` reporting a spreadsheet's bad row at its own line.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{custops, events, local_up_http, BIN};
use serde_json::Value;

fn status(endpoint: &str) -> Value {
    serde_json::from_str(&custops(endpoint, &["feed", "status", "--store", "northside-chevy", "--json"])).unwrap()
}

/// `custops feed status --json` once `files` files are taken (or after 30 s).
fn taken(endpoint: &str, files: usize) -> Value {
    let started = Instant::now();
    loop {
        let s = status(endpoint);
        let done = s.as_array().map_or(0, |a| a.iter().filter(|f| f["taken"] == true).count());
        if done >= files || started.elapsed() > Duration::from_secs(30) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn texts_to(endpoint: &str, phone: &str) -> usize {
    let texts: Value = serde_json::from_str(&custops(endpoint, &["texts", "--json"])).unwrap();
    texts.as_array().unwrap().iter().filter(|t| t["phone"] == phone).count()
}

#[test]
fn a_stores_morning_through_both_doors_is_each_change_once() {
    let (_up, endpoint, http) = local_up_http("2026-11-24T13:10:00Z", &[]);
    let secrets = events().join("secrets/northside-chevy.json");
    custops(&endpoint, &["secrets", "put", "--store", "northside-chevy", secrets.to_str().unwrap()]);

    // The file door: the CSV export (CRLF, as spreadsheets write it).
    let csv = events().join("feed/northside-morning.csv");
    let put = custops(&endpoint, &["feed", "put", "--store", "northside-chevy", csv.to_str().unwrap()]);
    assert!(put.contains("northside-chevy/northside-morning.csv"), "{put}");
    let s = taken(&endpoint, 1);
    let file = &s[0];
    assert_eq!(
        (file["rows"].as_u64(), file["events"].as_u64(), file["skipped"].as_u64()),
        (Some(5), Some(5), Some(0)),
        "{s}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let maria = texts_to(&endpoint, "+15125550142");
    assert!(maria >= 1, "the ETA text");

    // The connector door: the same snapshots, signed; every one unchanged.
    let secret: Value = serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap();
    let secret = secret["signing_secret"].as_str().unwrap();
    let body = std::fs::read(events().join("feed/northside-morning.jsonl")).unwrap();
    let now: i64 = "2026-11-24T13:10:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp();
    let answer = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut request = reqwest::Client::new().post(format!("{http}/hooks/northside-chevy/dms"));
        for (name, value) in front_door::signed::headers(secret, now, &body) {
            request = request.header(name, value);
        }
        let answer = request.body(body.clone()).send().await.unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    });
    assert_eq!(answer, (202, r#"{"accepted":5}"#.to_owned()));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(texts_to(&endpoint, "+15125550142"), maria, "nothing texted twice");
    let listed = custops(&endpoint, &["feed", "status", "--store", "northside-chevy"]);
    assert!(listed.contains("northside-chevy/northside-morning.csv  taken  rows 5  events 5"), "{listed}");
}

#[test]
fn import_reports_a_spreadsheets_bad_row_at_its_own_line() {
    let (_up, endpoint, _) = local_up_http("2026-11-24T13:10:00Z", &[]);
    let file = std::env::temp_dir().join(format!("custops-import-crlf-{}.csv", std::process::id()));
    std::fs::write(
        &file,
        "kind,id,at,dms_id,first_name,last_name,phone\r\n\
         ro_closed,RO-1,2025-10-01,C1,Ann,Lee,5125550111\r\n\
         ro_closed,RO-2,2025-10-02,C2,Bo,Li,5125550112\r\n\
         ro_closed,RO-3,last spring,C3,Cy,Ro,5125550113\r\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["import", "--store", "northside-chevy", file.to_str().unwrap()])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .output()
        .unwrap();
    std::fs::remove_file(&file).ok();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("line 4: at \"last spring\""), "the header is line 1: {stderr}");
    assert!(stdout.contains("imported 2, unchanged 0, skipped 1"), "{stdout}");
}
