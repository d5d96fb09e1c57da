//! The `custops` binary as an operator uses it: `local up` in the foreground,
//! the other commands against its endpoint, SIGTERM to stop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_custops");

struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn custops(endpoint: &str, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).env("AWS_ENDPOINT_URL", endpoint).output().expect("custops runs");
    assert!(out.status.success(), "custops {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn events() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

#[test]
fn local_up_serves_the_operator_commands_and_stops_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["local", "up", "--now", "2026-11-23T16:05:30Z"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("local up starts");
    let stdout = child.stdout.take().unwrap();
    let mut up = Up(child);
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines.next().expect("a ready line").unwrap();
    assert!(ready.contains("ready"), "{ready}");
    let endpoint = ready.split_whitespace().find(|w| w.starts_with("http://")).expect("the endpoint").to_owned();

    let stored = custops(&endpoint, &["store", "put", events().join("stores/northside-chevy.json").to_str().unwrap()]);
    assert!(stored.contains("northside-chevy"), "{stored}");

    // A carrier publishes a missed call to the topic.
    let body = std::fs::read_to_string(events().join("carrier/030-call-missed-unknown-caller.json")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = custops::aws::local(&endpoint).await;
        let sns = aws_sdk_sns::Client::new(&config);
        custops_cli::commands::publish_event(&sns, |t| format!("arn:aws:sns:us-east-1:123456789012:{t}"), &body)
            .await
            .unwrap();
    });

    // The pollers pick it up within a few seconds.
    let started = Instant::now();
    let texts = loop {
        let texts = custops(&endpoint, &["texts", "--json"]);
        let parsed: serde_json::Value = serde_json::from_str(&texts).unwrap();
        // The outbox row is written before the publish and marked sent after it.
        let sent = parsed.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(|t| t["state"] == "sent"));
        if sent || started.elapsed() > Duration::from_secs(20) {
            break parsed;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(texts.as_array().unwrap().len(), 1, "{texts}");
    assert_eq!(texts[0]["phone"], "+15125550177");
    assert_eq!(texts[0]["state"], "sent");

    let timeline = custops(&endpoint, &["timeline", "(512) 555-0177", "--store", "northside-chevy"]);
    assert!(timeline.contains("call.missed") && timeline.contains("callback"), "{timeline}");
    assert!(custops(&endpoint, &["dlq"]).contains("empty"));

    // SIGTERM stops the stack and the emulator with it.
    let pid = up.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let started = Instant::now();
    while up.0.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(10), "local up did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(std::net::TcpStream::connect(endpoint.trim_start_matches("http://")).is_err(), "the emulator stopped too");
}
