//! The staff inbox in a real browser: headless Chromium (Debian's
//! `chromium` and `chromium-driver` packages), driven through chromedriver
//! by WebDriver, signs in, reads the task list on a phone-sized screen,
//! opens the customer's record, answers and closes the task at a desk-sized
//! one, then opens `custops value --html`'s page. The pages use no JavaScript;
//! the customer's `<script>` must not run.
//! Screenshots go to `target/screenshots/` (`docs/inbox-phone.png` and
//! `docs/inbox-desk.png` are copies).
//!
//! Without Chromium on the machine the test says so and passes, so `cargo
//! test` works on a machine with only Rust and Python; `.ci/run` installs
//! the packages and sets `CUSTOPS_BROWSER=required`, where a missing browser fails.

use std::process::Stdio;
use std::time::Duration;

use custops_cli::commands;
use custops_tests::Harness;
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

const NOW: &str = "2026-11-24T16:00:00Z";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free loopback port, stopped when dropped.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

impl Driver {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Self { child, url };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not listen on {port}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A headless Chromium session, with `options` merged into its `goog:chromeOptions`.
async fn chromium(driver: &Driver, options: serde_json::Value) -> fantoccini::Client {
    let mut chrome = json!({"binary": CHROMIUM, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,900"]});
    if let (Some(c), Some(o)) = (chrome.as_object_mut(), options.as_object()) {
        c.extend(o.clone());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), chrome);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// Deque's axe-core (`tests/axe`, pinned; `.ci/browser.sh` installs it).
fn axe_source() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e} (npm ci --prefix tests/axe)", path.display());
    })
}

/// Runs axe-core on the page `browser` shows: its serious and critical
/// violations, each as `rule: help (nodes)`.
async fn accessibility(browser: &fantoccini::Client, axe: &str) -> Vec<String> {
    browser.execute(axe, vec![]).await.unwrap();
    let found = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))
               .catch(e => done(['axe did not run: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_reads_the_list_opens_the_record_answers_and_closes_in_chromium() {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        assert_ne!(
            std::env::var("CUSTOPS_BROWSER").as_deref(),
            Ok("required"),
            "no Chromium: apt-get install chromium chromium-driver"
        );
        eprintln!("skipped: no {CHROMIUM} / {CHROMEDRIVER} (apt-get install chromium chromium-driver)");
        return;
    }
    let h = Harness::start(NOW).await;
    custops_cli::staff::add(
        &h.target,
        "northside-chevy",
        "ana@northside.example",
        "bdc,bdc-service",
        false,
        Some("Correct-horse-42"),
    )
    .await
    .unwrap();
    h.publish(&json!({"originationNumber": "+15125550142", "destinationNumber": "+15125550100",
        "messageKeyword": "KEYWORD_123456789012", "messageBody": "<script>alert(1)</script> Is my Tahoe ready? I can come at 4.",
        "inboundMessageId": "m-1", "previousPublishedMessageId": ""}))
    .await;
    h.publish(&custops_tests::ro_status("dms-1", "in_progress", NOW)).await;
    h.publish(&custops_tests::call_missed("carrier-1", "call-1", "+15125550177", NOW)).await;
    h.settle().await;
    let http = h.stack.serve_http(0).await.unwrap();

    let driver = Driver::start().await;
    let axe = axe_source();
    let sign_in = |browser: fantoccini::Client| {
        let base = http.url.clone();
        let axe = axe.clone();
        async move {
            browser.goto(&format!("{base}/app/tasks")).await.unwrap();
            assert!(browser.current_url().await.unwrap().path().ends_with("/app/signin"), "a sign-in first");
            assert_eq!(accessibility(&browser, &axe).await, Vec::<String>::new(), "the sign-in page");
            browser
                .find(Locator::Css("input[name=email]"))
                .await
                .unwrap()
                .send_keys("ana@northside.example")
                .await
                .unwrap();
            browser
                .find(Locator::Css("input[name=password]"))
                .await
                .unwrap()
                .send_keys("Correct-horse-42")
                .await
                .unwrap();
            browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
            if browser.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(".task")).await.is_err() {
                let at = browser.current_url().await.unwrap();
                panic!("no task list after signing in; at {at}: {}", browser.source().await.unwrap());
            }
            assert!(browser.current_url().await.unwrap().path().ends_with("/app/tasks"));
            browser
        }
    };

    // A phone (390 px, as Chromium's device emulation makes it): the list, then the record.
    let phone = sign_in(
        chromium(
            &driver,
            json!({"mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2}}}),
        )
        .await,
    )
    .await;
    let list = phone.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(list.contains("+15125550142") && list.contains("answer the customer's text"), "{list}");
    assert!(list.contains("call back about the missed service call"), "{list}");
    let fits = |b: &fantoccini::Client| {
        let b = b.clone();
        async move {
            let width = |js: &'static str| {
                let b = b.clone();
                async move { b.execute(js, vec![]).await.unwrap().as_i64().unwrap() }
            };
            let (viewport, page) =
                (width("return window.innerWidth").await, width("return document.documentElement.scrollWidth").await);
            assert!(
                viewport <= 400 && page <= viewport,
                "fits the phone's {viewport}px without sideways scrolling: {page}px"
            );
        }
    };
    fits(&phone).await;
    assert_eq!(accessibility(&phone, &axe).await, Vec::<String>::new(), "the task list at a phone's width");
    std::fs::write(screenshots().join("inbox-phone.png"), phone.screenshot().await.unwrap()).unwrap();
    phone.find(Locator::LinkText("Maria Gonzalez")).await.unwrap().click().await.unwrap();
    phone.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("textarea[name=body]")).await.unwrap();
    fits(&phone).await;
    assert_eq!(accessibility(&phone, &axe).await, Vec::<String>::new(), "a record at a phone's width");
    std::fs::write(screenshots().join("inbox-phone-record.png"), phone.screenshot().await.unwrap()).unwrap();
    // The caller before hello (section 14), as a phone system opens it.
    phone.goto(&format!("{}/app/caller?number=(512)%20555-0142", http.url)).await.unwrap();
    phone.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(".glance")).await.unwrap();
    let glance = phone.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(glance.contains("Maria Gonzalez") && glance.contains("Next appointment"), "{glance}");
    assert!(glance.contains("in progress"), "the open repair order: {glance}");
    fits(&phone).await;
    assert_eq!(accessibility(&phone, &axe).await, Vec::<String>::new(), "the caller page at a phone's width");
    std::fs::write(screenshots().join("inbox-phone-caller.png"), phone.screenshot().await.unwrap()).unwrap();
    phone.close().await.unwrap();

    let browser = sign_in(chromium(&driver, json!({})).await).await;
    // A desk: the customer's record, the text shown as text, never run.
    browser.find(Locator::LinkText("Maria Gonzalez")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("textarea[name=body]")).await.unwrap();
    assert!(browser.get_alert_text().await.is_err(), "no alert: the customer's script did not run");
    let thread = browser.find(Locator::Css(".thread")).await.unwrap().text().await.unwrap();
    assert!(
        thread.contains("<script>alert(1)</script> Is my Tahoe ready?"),
        "shown as the customer wrote it: {thread}"
    );

    // Answer: the text goes, the page says so and shows it in the thread.
    let body = browser.find(Locator::Css("textarea[name=body]")).await.unwrap();
    body.send_keys("Yes! It's ready, see you at 4.").await.unwrap();
    browser.find(Locator::XPath("//button[text()='Send']")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(".notice")).await.unwrap();
    let page = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Sent.") && page.contains("Yes! It's ready, see you at 4."), "{page}");
    assert!(page.contains("ana@northside.example"), "who sent it: {page}");
    let to_maria: Vec<_> = h.sms().await.into_iter().filter(|s| s.phone_number == "+15125550142").collect();
    assert_eq!(to_maria.len(), 1);
    std::fs::write(screenshots().join("inbox-desk.png"), browser.screenshot().await.unwrap()).unwrap();

    // Close the caller's callback from the list.
    browser.goto(&format!("{}/app/tasks", http.url)).await.unwrap();
    let card = browser.find(Locator::Id("task-callback-call-1")).await.unwrap();
    card.find(Locator::Css("select[name=outcome]")).await.unwrap().select_by_value("booked").await.unwrap();
    card.find(Locator::XPath(".//button[text()='Done']")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(".notice")).await.unwrap();
    let list = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(list.contains("Task closed.") && !list.contains("callback-call-1"), "{list}");
    let open = commands::tasks(&h.target, Some("northside-chevy"), None).await.unwrap();
    assert!(open.iter().all(|t| t.task_id != "callback-call-1"));

    // An authenticator app: Ana enrols at /app/mfa (the secret as text and
    // as a QR code drawn on the server), signs out, and signs in again with
    // her password and the six digits the app shows. The emulator checks
    // the code (MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP).
    assert_eq!(custops_tests::totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59), "287082", "RFC 6238's own vector");
    browser.goto(&format!("{}/app/mfa", http.url)).await.unwrap();
    let secret = browser.find(Locator::Id("totp-secret")).await.unwrap().text().await.unwrap();
    browser.find(Locator::Css(".qr svg")).await.expect("the QR code, drawn as SVG");
    std::fs::write(screenshots().join("inbox-mfa.png"), browser.screenshot().await.unwrap()).unwrap();
    browser.find(Locator::Css("input[name=code]")).await.unwrap().send_keys(&fresh_totp(&secret).await).await.unwrap();
    browser.find(Locator::XPath("//button[text()='Confirm']")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(".notice")).await.unwrap();
    let notice = browser.find(Locator::Css(".notice")).await.unwrap().text().await.unwrap();
    assert!(notice.contains("Authenticator app set up"), "{notice}");
    browser.find(Locator::XPath("//button[text()='Sign out']")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("input[name=password]")).await.unwrap();
    browser.find(Locator::Css("input[name=email]")).await.unwrap().send_keys("ana@northside.example").await.unwrap();
    browser.find(Locator::Css("input[name=password]")).await.unwrap().send_keys("Correct-horse-42").await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let code = browser.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("input[name=code]")).await;
    let code = code.expect("the password alone no longer signs her in: a code is asked for");
    assert!(browser.find(Locator::Css(".task")).await.is_err(), "no task list before the code");
    code.send_keys(&fresh_totp(&secret).await).await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    browser.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css("header")).await.unwrap();
    assert!(browser.current_url().await.unwrap().path().ends_with("/app/tasks"), "signed in with the code");
    let listed = custops_cli::staff::list(&h.target, "northside-chevy").await.unwrap();
    assert!(listed.iter().any(|p| p.email == "ana@northside.example" && p.mfa), "{listed:?}");

    // `custops value --html`: the one page, as a GM opens it.
    let day = "2026-11-24".parse().unwrap();
    let value =
        custops_cli::value::value(&h.target, "northside-chevy", day, day, custops_tests::at("2026-11-24T23:00:00Z"))
            .await
            .unwrap();
    let page = screenshots().join("value.html");
    std::fs::write(&page, custops_cli::value::render(&value).unwrap()).unwrap();
    browser.goto(&format!("file://{}", page.canonicalize().unwrap().display())).await.unwrap();
    let shown = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(shown.contains("What custops did for Northside Chevrolet") && shown.contains("Missed calls"), "{shown}");
    std::fs::write(screenshots().join("value.png"), browser.screenshot().await.unwrap()).unwrap();
    browser.close().await.unwrap();
}

/// The code an authenticator app shows now for `secret`; a code about to
/// turn over waits for the next one, as a person would.
async fn fresh_totp(secret: &str) -> String {
    let unix = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if unix() % 30 >= 27 {
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    custops_tests::totp(secret, unix())
}
