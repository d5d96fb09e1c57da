//! What the binary's tests share: `custops local up` in the foreground, the
//! other commands against its endpoint, an event published as a carrier would.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_custops");

pub struct Up(pub Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn custops(endpoint: &str, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).env("AWS_ENDPOINT_URL", endpoint).output().expect("custops runs");
    assert!(out.status.success(), "custops {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

pub fn events() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// `custops local up --now NOW` in the foreground, with Northside stored; its endpoint.
pub fn local_up(now: &str) -> (Up, String) {
    local_up_with(now, &[])
}

/// [`local_up`] with more of `local up`'s flags.
pub fn local_up_with(now: &str, flags: &[&str]) -> (Up, String) {
    let (up, endpoint, _) = local_up_http(now, flags);
    (up, endpoint)
}

/// [`local_up_with`], and the HTTP API's URL (the word after `http` on the ready line).
pub fn local_up_http(now: &str, flags: &[&str]) -> (Up, String, String) {
    let mut child = Command::new(BIN)
        .args(["local", "up", "--now", now])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("local up starts");
    let stdout = child.stdout.take().unwrap();
    let up = Up(child);
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.next().expect("a ready line").unwrap();
    assert!(ready.contains("ready"), "{ready}");
    let endpoint = ready.split_whitespace().find(|w| w.starts_with("http://")).expect("the endpoint").to_owned();
    let words: Vec<&str> = ready.split_whitespace().collect();
    let http = words.windows(2).find(|w| w[0] == "http").map(|w| w[1].to_owned()).expect("the http URL");
    assert!(http.starts_with("http://127.0.0.1:"), "{ready}");

    let stored = custops(&endpoint, &["store", "put", events().join("stores/northside-chevy.json").to_str().unwrap()]);
    assert!(stored.contains("northside-chevy"), "{stored}");
    (up, endpoint, http)
}

/// Publishes a sample event file to its topic, as a carrier or the DMS would.
pub fn publish(endpoint: &str, sample: &str) {
    let body = std::fs::read_to_string(events().join(sample)).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let config = custops::aws::local(endpoint).await;
        let sns = aws_sdk_sns::Client::new(&config);
        custops_cli::commands::publish_event(&sns, |t| format!("arn:aws:sns:us-east-1:123456789012:{t}"), &body)
            .await
            .unwrap();
    });
}

/// `custops texts --json` once every text is in `state` (or after 20 s).
pub fn texts_once_all(endpoint: &str, state: &str) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let parsed: serde_json::Value = serde_json::from_str(&custops(endpoint, &["texts", "--json"])).unwrap();
        let all = parsed.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(|t| t["state"] == state));
        if all || started.elapsed() > Duration::from_secs(20) {
            return parsed;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `custops staff add --store S --email E --teams T` and `more` flags; what it printed.
pub fn staff_add(endpoint: &str, store: &str, email: &str, teams: &str, more: &[&str]) -> String {
    let mut args = vec!["staff", "add", "--store", store, "--email", email, "--teams", teams];
    args.extend_from_slice(more);
    custops(endpoint, &args)
}

/// `custops store put` of a sample store with `fields` set over its own.
pub fn store_put_with(endpoint: &str, sample: &str, fields: serde_json::Value) -> String {
    let mut store: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(events().join(sample)).unwrap()).unwrap();
    for (k, v) in fields.as_object().unwrap() {
        store[k] = v.clone();
    }
    let file = std::env::temp_dir().join(format!("custops-store-{}-{}.json", std::process::id(), store["store_id"]));
    std::fs::write(&file, store.to_string()).unwrap();
    custops(endpoint, &["store", "put", file.to_str().unwrap()])
}
