//! No log line, at info level or above, holds a full phone number or what a
//! customer wrote: the in-process functions' logs are captured raw (before
//! the production writer's masking, so the code itself is held to it) while
//! the sample events, replies with text in them and bad input run through
//! every function; the real binaries' logs are scanned too.

use std::io::Write;
use std::sync::{Arc, Mutex};

use custops::PinnedClock;
use custops_cli::commands::Target;
use custops_cli::emulator::Emulator;
use custops_cli::local::{LocalOptions, LocalStack};
use serde_json::json;

/// Everything this thread logged, unmasked.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's log lines go while it is captured (else nowhere).
    static CAPTURING: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// The writer of the binary's one global subscriber: it keeps the lines of
/// the thread being captured and drops every other thread's (the binary's
/// other scenarios run beside this one). A global subscriber, not a scoped
/// one: tracing caches each call site's interest across threads, and a
/// scoped subscriber misses call sites first hit on other threads.
#[derive(Clone, Copy, Default)]
struct ThreadCapture;

impl Write for ThreadCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURING.with(|c| {
            if let Some(captured) = c.borrow().as_ref() {
                captured.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ThreadCapture {
    type Writer = ThreadCapture;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Captures every line this thread logs at info or above from now on.
fn capture_this_thread() -> Captured {
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_current_span(true)
            .with_writer(ThreadCapture)
            .init();
    });
    let captured = Captured::default();
    CAPTURING.with(|c| *c.borrow_mut() = Some(captured.clone()));
    captured
}

/// What a customer wrote in the replies below.
const BODIES: &[&str] = &["Please stop texting me", "Is my truck ready yet", "I sold that car"];

/// A full phone number: ten or more digits in a row once separators are
/// dropped, not glued to letters (a UUID or a hex id is not a number).
fn full_numbers(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut run = String::new();
    let mut glued = false;
    let mut previous = ' ';
    for c in line.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            if run.is_empty() {
                glued = previous.is_ascii_alphabetic();
            }
            run.push(c);
        } else if matches!(c, '+' | '-' | ' ' | '(' | ')' | '.') && !run.is_empty() {
            previous = c;
            continue;
        } else {
            if run.len() >= 10 && !glued && !c.is_ascii_alphabetic() {
                found.push(run.clone());
            }
            run.clear();
        }
        previous = c;
    }
    found
}

/// A UUID (message ids): hex, not a number anybody owns.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

fn scan(source: &str, logs: &str) -> Vec<String> {
    let mut leaks = Vec::new();
    for line in logs.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["level"] == "DEBUG" || v["level"] == "TRACE" {
            continue;
        }
        // Timestamps, addresses and ids are not numbers a customer owns.
        let text: String = line
            .split('"')
            .filter(|part| !part.starts_with("http://") && !is_uuid(part))
            .collect::<Vec<_>>()
            .join("\"")
            .replace(['T', 'Z', ':'], " ");
        let numbers: Vec<String> =
            full_numbers(&text).into_iter().filter(|n| n.starts_with("1") || n.len() == 10).collect();
        if !numbers.is_empty() || BODIES.iter().any(|b| line.contains(b)) {
            leaks.push(format!("{source}: {line}"));
        }
    }
    leaks
}

const PASSWORD: &str = "Correct-horse-42";
/// What a person at the store wrote in the inbox.
const STAFF_WROTE: &str = "Your Tahoe is ready after three";

/// What one inbox session carried.
struct InboxSession {
    session: String,
    csrf: String,
}

/// A person signs in (once with a wrong password), reads the list and a
/// record, answers, and sends a form without its token and a forged session.
async fn staff_inbox_session(stack: &LocalStack, target: &Target) -> InboxSession {
    custops_cli::staff::add(target, "northside-chevy", "ana@northside.example", "bdc", false, Some(PASSWORD))
        .await
        .unwrap();
    let http = stack.serve_http(0).await.unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let post = |path: &str, body: String, cookie: Option<&str>| {
        let mut req = client
            .post(format!("{}{path}", http.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c.to_owned());
        }
        req.send()
    };
    let signin = |password: &str| format!("email=ana%40northside.example&password={password}");
    assert_eq!(post("/app/signin", signin("wrong-one"), None).await.unwrap().status(), 401);
    let answer = post("/app/signin", signin(PASSWORD), None).await.unwrap();
    let cookie = answer.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let get = |path: String| client.get(format!("{}{path}", http.url)).header("cookie", cookie.clone()).send();
    assert_eq!(get("/app/tasks".into()).await.unwrap().status(), 200);
    let record = get("/app/customers/+15125550177?store=northside-chevy".into()).await.unwrap().text().await.unwrap();
    let csrf = record.split(r#"name="csrf" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    let reply = format!("csrf={csrf}&store=northside-chevy&form_id=f-1&body={}", STAFF_WROTE.replace(' ', "+"));
    assert_eq!(post("/app/customers/+15125550177/reply", reply, Some(&cookie)).await.unwrap().status(), 303);
    let no_token = format!("store=northside-chevy&body={}", STAFF_WROTE.replace(' ', "+"));
    assert_eq!(post("/app/customers/+15125550177/reply", no_token, Some(&cookie)).await.unwrap().status(), 403);
    let forged = format!("{cookie}x");
    let status = client.get(format!("{}/app/tasks", http.url)).header("cookie", forged).send().await.unwrap().status();
    assert_eq!(status, 303);
    let session = cookie.split_once('=').unwrap().1.to_owned();
    InboxSession { session, csrf }
}

fn sms(id: &str, body: &str) -> serde_json::Value {
    json!({"originationNumber": "+15125550142", "destinationNumber": "+15125550100", "messageKeyword": "JOIN",
           "messageBody": body, "inboundMessageId": id, "previousPublishedMessageId": "p"})
}

// One thread: every task the stack runs is on it, and its lines are the ones
// captured (the binary's other scenarios run on threads of their own).
#[tokio::test(flavor = "current_thread")]
async fn no_log_line_holds_a_phone_number_or_a_customers_words() {
    let captured = capture_this_thread();

    // Every sample event (bad input included) through every function, in-process.
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let emulator = Emulator::start_forked().await.unwrap();
    let first = custops_cli::replay::first_event_time(&events).unwrap().unwrap();
    let clock = PinnedClock::at(first);
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default()).await.unwrap();
    let target = Target::new(Some(&emulator.endpoint), "custops").await.unwrap();
    let until = "2026-11-25T12:00:00Z".parse().unwrap();
    custops_cli::replay::replay(&stack, &clock, &target, &events, Some(until), |_| {}).await.unwrap();
    for (i, body) in BODIES.iter().enumerate() {
        custops_cli::commands::publish_event(
            &stack.clients.sns,
            |t| stack.topic_arn(t),
            &sms(&format!("r{i}"), body).to_string(),
        )
        .await
        .unwrap();
    }
    stack.run_until_idle(std::time::Duration::from_secs(60)).await.unwrap();
    let inbox = staff_inbox_session(&stack, &target).await;
    // The scan itself catches what it looks for.
    assert_eq!(scan("self-test", r#"{"level":"WARN","fields":{"phone":"+1 (512) 555-0142"}}"#).len(), 1);
    assert_eq!(scan("self-test", r#"{"level":"INFO","fields":{"body":"Is my truck ready yet"}}"#).len(), 1);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 50, "the functions logged: {}", logs.lines().count());
    let mut leaks = scan("in-process", &logs);
    for secret in [PASSWORD, STAFF_WROTE, inbox.session.as_str(), inbox.csrf.as_str()] {
        if let Some(line) = logs.lines().find(|l| l.contains(secret)) {
            leaks.push(format!("in-process (the inbox's password, session, form token or answer): {line}"));
        }
    }

    // The real binaries (against the same emulator), built in this test's own
    // profile with the features the workspace's tests unify, so nothing
    // `cargo test` (or CI's build of every target) made is built again.
    let (profile, dir) = custops_local::own_profile();
    let status = custops_local::cargo()
        .args(["build", "--quiet", "--workspace", "--bins", "--tests", "--profile", &profile])
        .status()
        .unwrap();
    assert!(status.success());
    let mut real = LocalStack::connect(&emulator.endpoint, Arc::new(clock.clone())).await.unwrap();
    for binary in ["missed-call", "inbound-sms", "vehicle-ready"] {
        real.run_bootstrap(binary, &dir.join(binary)).await.unwrap();
    }
    let call = json!({"event_id": "pii-call", "event_type": "call.missed", "occurred_at": "2026-11-25T16:00:00Z",
                      "store_id": "northside-chevy",
                      "data": {"call_id": "pii-call", "from": "(512) 555-0177", "to": "+15125550100", "department": "sales"}});
    real.invoke("missed-call", &[call.to_string(), "{\"not\": \"an event\", \"from\": \"+15125550199\"}".into()])
        .await
        .unwrap();
    real.invoke("inbound-sms", &[sms("real-1", BODIES[1]).to_string(), sms("real-2", BODIES[0]).to_string()])
        .await
        .unwrap();
    for f in &real.functions {
        if let custops_cli::local::Handler::Process(p) = &f.handler {
            let logs = p.process.logs().join("\n");
            assert!(!logs.is_empty(), "{} logged", f.def.binary);
            leaks.extend(scan(&f.def.binary, &logs));
        }
    }
    assert!(leaks.is_empty(), "{} leaking line(s):\n{}", leaks.len(), leaks.join("\n"));
    emulator.stop().await;
}
