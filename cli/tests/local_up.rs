//! The `custops` binary as an operator uses it: `local up` in the foreground,
//! the other commands against its endpoint, SIGTERM to stop.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn local_up_serves_the_operator_commands_and_stops_on_sigterm() {
    let (mut up, endpoint) = local_up("2026-11-23T16:05:30Z");

    // A carrier publishes a missed call; the pollers pick it up within a few
    // seconds. The outbox row is written before the publish and marked sent after it.
    publish(&endpoint, "carrier/030-call-missed-unknown-caller.json");
    let texts = texts_once_all(&endpoint, "sent");
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

/// Given a status text deferred by quiet hours (Monday 21:30 in Chicago), when
/// an operator runs `custops local tick --at` a time inside the window, then
/// the scheduler fires and the text goes out; a tick before 08:00 sends nothing.
#[test]
fn local_tick_fires_the_scheduler_and_a_deferred_text_goes_out_inside_the_window() {
    let (_up, endpoint) = local_up("2026-11-24T03:30:00Z");
    publish(&endpoint, "dms/070-ro-status-ready-for-pickup.json");
    let deferred = texts_once_all(&endpoint, "deferred");
    assert_eq!(deferred.as_array().unwrap().len(), 1, "{deferred}");

    let early = custops(&endpoint, &["local", "tick", "--at", "2026-11-24T13:55:00Z"]);
    assert!(early.contains("scheduler") && early.contains(r#""due":0"#), "{early}");
    assert_eq!(custops(&endpoint, &["texts", "--json"]).matches(r#""state": "deferred""#).count(), 1);

    let fired = custops(&endpoint, &["local", "tick", "--at", "2026-11-24T14:00:00Z"]);
    assert!(fired.contains("scheduler") && fired.contains(r#""sent":1"#), "{fired}");
    let texts: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["texts", "--json"])).unwrap();
    assert_eq!(texts[0]["state"], "sent", "{texts}");
    assert_eq!(texts[0]["phone"], "+15125550142");
}

/// More dead letters than one receive returns (10): `custops dlq` lists every
/// one, and leaves them in place for the next listing.
#[test]
fn dlq_lists_every_dead_letter_however_many_there_are() {
    let (_up, endpoint) = local_up("2026-11-23T16:05:30Z");
    let dlq = format!("{endpoint}/123456789012/custops-vehicle-ready-dlq");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let sqs = aws_sdk_sqs::Client::new(&custops::aws::local(&endpoint).await);
        for i in 0..16 {
            let body = serde_json::json!({"event_id": format!("dead-{i}")}).to_string();
            sqs.send_message().queue_url(&dlq).message_body(body).send().await.unwrap();
        }
    });
    for _ in 0..2 {
        let listed: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["dlq", "--json"])).unwrap();
        let mut ids: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|l| l["event_id"].as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 16, "every dead letter, once, and still there the second time: {listed}");
    }
}

/// The service lane through the binary: an RO closes with declined work, the
/// day-3 follow-up goes out at `local tick`, the advisor's task is listed by
/// `custops tasks`, and closing it as booked (`custops task done`) stops the
/// rest of the cadence.
#[test]
fn tasks_and_task_done_work_the_declined_follow_ups() {
    let (_up, endpoint) = local_up("2026-11-23T23:20:30Z");
    publish(&endpoint, "dms/090-ro-closed.json");
    let started = Instant::now();
    while !custops(&endpoint, &["timeline", "+15125550142", "--store", "northside-chevy"]).contains("ro.closed") {
        assert!(started.elapsed() < Duration::from_secs(20), "the close was not recorded");
        std::thread::sleep(Duration::from_millis(200));
    }

    let timeline = custops(&endpoint, &["timeline", "+15125550142", "--store", "northside-chevy"]);
    assert!(
        timeline.contains("declined on RO-48213: Front brake pads & rotors (BRK-FRT-PR), $620.00: open"),
        "{timeline}"
    );
    assert!(timeline.contains("follow-up RO-48213 step 1 (day 3)"), "{timeline}");

    let fired = custops(&endpoint, &["local", "tick", "--at", "2026-11-26T16:00:00Z"]);
    assert!(fired.contains(r#""follow_ups":1"#), "{fired}");
    let texts: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["texts", "--json"])).unwrap();
    assert_eq!(texts.as_array().unwrap().len(), 1, "{texts}");
    assert_eq!(texts[0]["class"], "marketing");

    let tasks: serde_json::Value = serde_json::from_str(&custops(
        &endpoint,
        &["tasks", "--store", "northside-chevy", "--owner", "adv-7", "--json"],
    ))
    .unwrap();
    let task = &tasks.as_array().unwrap()[0];
    assert_eq!((task["kind"].as_str(), task["phone"].as_str()), (Some("declined_followup"), Some("+15125550142")));
    for field in ["task_id", "store_id", "owner", "due_at", "status"] {
        assert!(!task[field].is_null(), "{field}: {task}");
    }
    let id = task["task_id"].as_str().unwrap();
    let done = custops(
        &endpoint,
        &["task", "done", id, "--store", "northside-chevy", "--phone", "(512) 555-0142", "--outcome", "booked"],
    );
    assert!(done.contains("done (booked)"), "{done}");
    let open = custops(&endpoint, &["tasks", "--owner", "adv-7", "--json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&open).unwrap(), serde_json::json!([]), "{open}");

    custops(&endpoint, &["local", "tick", "--at", "2026-12-03T16:00:00Z"]);
    let texts: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["texts", "--json"])).unwrap();
    assert_eq!(texts.as_array().unwrap().len(), 1, "booked: no day-10 text");
}

/// Given `local up --conflicts 20` (DynamoDB's transaction conflicts, as on
/// AWS), when 20 events for one customer are published at once, then every
/// one lands and none is dead-lettered: a commit that loses the race for the
/// customer's record is decided again inside the function.
#[test]
fn under_conflicts_twenty_events_for_one_customer_at_once_all_land() {
    let (_up, endpoint) = local_up_with("2026-11-23T16:05:30Z", &["--conflicts", "20"]);
    let template = std::fs::read_to_string(events().join("dms/010-ro-status-checked-in.json")).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let config = custops::aws::local(&endpoint).await;
        let sns = aws_sdk_sns::Client::new(&config);
        let bodies: Vec<String> = (0..20)
            .map(|i| {
                let mut event: serde_json::Value = serde_json::from_str(&template).unwrap();
                event["event_id"] = format!("burst-{i}").into();
                event["data"]["ro_number"] = format!("RO-FLEET-{i}").into();
                event.to_string()
            })
            .collect();
        let arn = |t: &str| format!("arn:aws:sns:us-east-1:123456789012:{t}");
        futures::future::join_all(bodies.iter().map(|b| custops_cli::commands::publish_event(&sns, arn, b))).await;
    });
    let started = Instant::now();
    loop {
        let timeline = custops(&endpoint, &["timeline", "+15125550142", "--store", "northside-chevy", "--json"]);
        let parsed: serde_json::Value = serde_json::from_str(&timeline).unwrap();
        let ros = parsed[0]["repair_orders"].as_array().map_or(0, Vec::len);
        if ros == 20 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{ros} of 20 landed: {timeline:.2000}");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(custops(&endpoint, &["dlq"]).contains("empty"), "nothing dead-lettered");
}

/// `custops store put` refuses a `lapse_months` below 1 (every customer
/// would lapse at once) and says why.
#[test]
fn store_put_refuses_lapse_months_below_one() {
    let (_up, endpoint) = local_up("2026-11-23T16:05:30Z");
    let mut store: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(events().join("stores/northside-chevy.json")).unwrap()).unwrap();
    store["lapse_months"] = 0.into();
    let file = std::env::temp_dir().join(format!("custops-lapse-{}.json", std::process::id()));
    std::fs::write(&file, store.to_string()).unwrap();
    let out = Command::new(BIN)
        .args(["store", "put", file.to_str().unwrap()])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lapse_months 0 is below 1"), "{err}");
}

/// `custops local up --http-port` serves the front door at the ready line's
/// `http` URL; `custops secrets put` gives the store its webhook secrets; a
/// Twilio callback signed as Twilio signs it is texted back.
#[test]
fn the_http_url_takes_a_signed_twilio_callback_after_secrets_put() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (_up, endpoint, http) = local_up_http("2026-11-23T16:05:30Z", &["--http-port", &port.to_string()]);
    assert_eq!(http, format!("http://127.0.0.1:{port}"));
    let secrets = events().join("secrets/northside-chevy.json");
    let stored = custops(&endpoint, &["secrets", "put", "--store", "northside-chevy", secrets.to_str().unwrap()]);
    assert!(stored.contains("custops/northside-chevy/webhooks") && !stored.contains("demo-twilio"), "{stored}");

    let url = format!("{http}/hooks/northside-chevy/twilio/voice");
    let params: Vec<(String, String)> = [
        ("CallSid", "CA0local0up0test"),
        ("Direction", "inbound"),
        ("CallStatus", "no-answer"),
        ("From", "+15125550177"),
        ("To", "+15125550100"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let (signature, body) = front_door::twilio::signed_form("demo-twilio-auth-token", &url, &params);
    let (status, answer) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let answer = reqwest::Client::new()
            .post(&url)
            .header("x-twilio-signature", signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    });
    assert_eq!((status, answer.as_str()), (200, front_door::twilio::EMPTY_TWIML));
    let texts = texts_once_all(&endpoint, "sent");
    assert_eq!(texts.as_array().unwrap().len(), 1, "{texts}");
    assert_eq!(texts[0]["phone"], "+15125550177");
}

/// `custops staff add` makes sign-ins (one person, two stores); at the ready
/// line's `http` URL they sign in and see their own stores' tasks only.
#[test]
fn staff_added_with_the_binary_sign_in_at_the_http_url_and_see_their_stores_tasks() {
    let (_up, endpoint, http) = local_up_http("2026-11-23T16:05:30Z", &[]);
    custops(&endpoint, &["store", "put", events().join("stores/lakeside-ford.json").to_str().unwrap()]);
    let added = custops(
        &endpoint,
        &[
            "staff",
            "add",
            "--store",
            "northside-chevy",
            "--email",
            "ana@northside.example",
            "--teams",
            "bdc-service,bdc",
            "--password",
            "Correct-horse-42",
        ],
    );
    assert!(added.contains("ana@northside.example added") && added.contains("northside-chevy"), "{added}");
    let again = custops(
        &endpoint,
        &[
            "staff",
            "add",
            "--store",
            "lakeside-ford",
            "--email",
            "ana@northside.example",
            "--teams",
            "bdc",
            "--manager",
            "--password",
            "Correct-horse-42",
            "--alerts",
            "sms:+15125550901",
        ],
    );
    assert!(again.contains("alerts sms:+15125550901"), "{again}");
    assert!(
        again.contains("updated") && again.contains("northside-chevy,lakeside-ford") && again.contains("manager"),
        "{again}"
    );
    let refused = Command::new(BIN)
        .args(["staff", "add", "--store", "nowhere", "--email", "x@y.example", "--teams", "bdc"])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .output()
        .unwrap();
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("unknown store"));

    publish(&endpoint, "carrier/020-call-missed-known-customer.json");
    texts_once_all(&endpoint, "sent");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let sign_in = || {
        runtime.block_on(async {
            client
                .post(format!("{http}/app/signin"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("email=ana%40northside.example&password=Correct-horse-42")
                .send()
                .await
                .unwrap()
        })
    };
    let tasks = |cookie: &str| {
        runtime.block_on(async {
            let answer = client.get(format!("{http}/app/tasks")).header("cookie", cookie).send().await.unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        })
    };
    let signed_in = sign_in();
    assert_eq!(signed_in.status().as_u16(), 303);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (status, page) = tasks(&cookie);
    assert_eq!(status, 200);
    assert!(page.contains("callback-call-7f3a1c20") && page.contains("+15125550142"), "{page}");

    // `staff list`: who signs in for a store, their teams, manager there or not.
    let listed = custops(&endpoint, &["staff", "list", "--store", "northside-chevy"]);
    assert!(
        listed.contains("ana@northside.example\tteams bdc-service,bdc\tstaff\tmfa off\tenabled\talerts none"),
        "{listed}"
    );
    let json = custops(&endpoint, &["staff", "list", "--store", "lakeside-ford", "--json"]);
    let lee: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(
        (lee["email"].as_str(), lee["manager"].as_bool(), &lee["teams"], lee["alerts"].as_str()),
        (Some("ana@northside.example"), Some(true), &serde_json::json!(["bdc"]), Some("sms:+15125550901")),
        "{json}"
    );

    // `staff remove` takes a store: the cookie she holds (or a copy of it) is
    // worth nothing from that moment.
    let removed =
        custops(&endpoint, &["staff", "remove", "--store", "northside-chevy", "--email", "ana@northside.example"]);
    assert!(
        removed.contains("removed from northside-chevy")
            && removed.contains("sessions ended 1")
            && removed.contains("stores left lakeside-ford"),
        "{removed}"
    );
    assert_eq!(tasks(&cookie).0, 303, "the session ended at once");
    assert!(!custops(&endpoint, &["staff", "list", "--store", "northside-chevy"]).contains("ana@"));
    // Signed in again, she works at Lakeside only; her last store taken, she signs in nowhere.
    let again = sign_in();
    let cookie = again.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let (status, page) = tasks(&cookie);
    assert!(status == 200 && !page.contains("callback-call-7f3a1c20"), "{page}");
    let last = custops(&endpoint, &["staff", "remove", "--store", "lakeside-ford", "--email", "ana@northside.example"]);
    assert!(last.contains("stores left none (disabled); alerts ended"), "{last}");
    assert_eq!(tasks(&cookie).0, 303);
    assert_eq!(sign_in().status().as_u16(), 401, "a disabled user signs in nowhere");
}

/// The emulator ends with the process that started it, however that ends
/// (a killed test run, a closed terminal): `custops local up` killed with
/// SIGKILL, which it cannot catch, leaves no emulator behind on its port.
#[test]
fn the_emulator_ends_when_the_process_that_started_it_is_killed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BIN)
        .args(["local", "up", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("local up starts");
    let ready = BufReader::new(child.stdout.take().unwrap()).lines().next().expect("a ready line").unwrap();
    assert!(ready.contains(&format!("127.0.0.1:{port}")), "{ready}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(), "the emulator listens");
    child.kill().unwrap();
    child.wait().unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(started.elapsed() < Duration::from_secs(15), "the emulator outlived local up on port {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `custops local receipt` writes the record SNS would for a sent text and
/// the stack delivers it: the text shows `failed`, a `text_failed` task is
/// open, the report counts it.
#[test]
fn local_receipt_marks_a_text_and_a_failure_becomes_a_task() {
    let (_up, endpoint) = local_up("2026-11-23T16:05:30Z");
    publish(&endpoint, "carrier/020-call-missed-known-customer.json");
    let texts = texts_once_all(&endpoint, "sent");
    let id = texts[0]["message_id"].as_str().expect("the text's message id").to_owned();
    let out = custops(
        &endpoint,
        &["local", "receipt", &id, "--status", "FAILURE", "--response", "Phone is currently unreachable/unavailable"],
    );
    assert!(out.contains("\"recorded\":1"), "{out}");
    let texts: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["texts", "--json"])).unwrap();
    assert_eq!(texts[0]["delivery"], "failed");
    assert_eq!(texts[0]["receipt"]["provider_response"], "Phone is currently unreachable/unavailable");
    let tasks: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["tasks", "--json"])).unwrap();
    let failed: Vec<&serde_json::Value> =
        tasks.as_array().unwrap().iter().filter(|t| t["kind"] == "text_failed").collect();
    assert_eq!(failed.len(), 1, "{tasks}");
    assert_eq!(failed[0]["phone"], "+15125550142");
    let report: serde_json::Value = serde_json::from_str(&custops(
        &endpoint,
        &["report", "--store", "northside-chevy", "--date", "2026-11-23", "--json"],
    ))
    .unwrap();
    assert_eq!((report["texts"]["sent"].as_u64(), report["texts"]["failed"].as_u64()), (Some(1), Some(1)), "{report}");
}

/// `custops report --group`: every store side by side for a day, ranked by
/// revenue at risk, with a total row; `--stores` picks some; `--html` the page.
#[test]
fn the_group_report_puts_every_store_side_by_side_with_a_total() {
    let (_up, endpoint) = local_up("2026-11-23T16:05:30Z");
    custops(&endpoint, &["store", "put", events().join("stores/lakeside-ford.json").to_str().unwrap()]);
    publish(&endpoint, "carrier/020-call-missed-known-customer.json");
    publish(&endpoint, "carrier/030-call-missed-unknown-caller.json");
    let started = Instant::now();
    while texts_once_all(&endpoint, "sent").as_array().unwrap().len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "both calls texted back");
        std::thread::sleep(Duration::from_millis(200));
    }
    let at = "2026-11-23T23:00:00Z";
    let group: serde_json::Value =
        serde_json::from_str(&custops(&endpoint, &["report", "--group", "--date", "2026-11-23", "--json", "--at", at]))
            .unwrap();
    assert_eq!(group["date"], "2026-11-23");
    let stores = group["stores"].as_array().unwrap();
    assert_eq!(stores.len(), 2, "{group}");
    assert_eq!(stores[0]["store_id"], "northside-chevy", "most at risk first");
    let risk: Vec<i64> = stores.iter().map(|s| s["revenue_at_risk_cents"].as_i64().unwrap()).collect();
    assert!(risk[0] > 0 && risk[0] >= risk[1], "{risk:?}");
    let total = &group["total"];
    assert_eq!(total["revenue_at_risk_cents"].as_i64().unwrap(), risk.iter().sum::<i64>());
    assert_eq!(total["missed_calls"]["total"], 2);
    assert!(total["missed_calls"]["median_seconds_to_text"].is_null(), "a median does not add up");
    let one: serde_json::Value = serde_json::from_str(&custops(
        &endpoint,
        &["report", "--group", "--stores", "lakeside-ford", "--date", "2026-11-23", "--json", "--at", at],
    ))
    .unwrap();
    assert_eq!(one["stores"].as_array().unwrap().len(), 1);
    assert_eq!(one["total"]["missed_calls"]["total"], 0);
    let page = std::env::temp_dir().join(format!("custops-group-{}.html", std::process::id()));
    custops(&endpoint, &["report", "--group", "--date", "2026-11-23", "--at", at, "--html", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Northside Chevrolet") && html.contains("Lakeside Ford") && html.contains("All 2 stores"));
    assert!(html.find("Northside").unwrap() < html.find("Lakeside").unwrap(), "ranked by revenue at risk");
    std::fs::remove_file(&page).ok();
}

/// `custops import`: a DMS history as CSV (and JSON Lines), records only:
/// nothing texted, no task; a bad row reported by line and skipped; a second
/// run changes nothing; then the sweep finds exactly the lapsed customer and
/// the report's open declined work is the imported open lines.
#[test]
fn import_loads_a_history_that_the_sweep_and_the_report_then_read() {
    let (_up, endpoint) = local_up("2026-11-23T16:05:30Z");
    let dir = std::env::temp_dir().join(format!("custops-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("history.csv");
    std::fs::write(
        &csv,
        "Kind,ID,At,DMS_ID,First_Name,Last_Name,Phone,Email,Marketing_Consent,VIN,Year,Make,Model,Advisor_ID,Advisor_Name,Performed,Declined\n\
         ro_closed,RO-100,2025-08-01,C1,Ana,Lapsed,(512) 555-0161,,yes,1GA,2017,Chevrolet,Malibu,adv-1,Dana Whitfield,OIL,\n\
         deal_delivered,D-9,2026-06-01T15:00:00Z,C2,Bo,Buyer,512-555-0162,,no,1GB,2026,Chevrolet,Tahoe,sp-1,Sam Seller,,\n\
         ro_closed,RO-101,2026-10-01,C3,Cy,Declined,5125550163,,1,1GC,2019,Chevrolet,Equinox,adv-1,Dana Whitfield,OIL,BRK:Front brake pads:38000|WIP:Wiper blades:4500\n\
         ro_closed,RO-102,2026-10-02,C4,Di,Bad,hello,,yes,1GD,2019,Chevrolet,Trax,adv-1,Dana Whitfield,OIL,\n",
    )
    .unwrap();
    let run = |file: &std::path::Path| {
        let out = Command::new(BIN)
            .args(["import", "--store", "northside-chevy", file.to_str().unwrap()])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (out, err) = run(&csv);
    assert!(out.contains("imported 3, unchanged 0, skipped 1"), "{out}");
    assert!(err.contains("line 5: customer phone"), "{err}");
    let (again, _) = run(&csv);
    assert!(again.contains("imported 0, unchanged 3, skipped 1"), "resumable: {again}");

    // JSON Lines of section 3 envelopes too.
    let jsonl = dir.join("history.jsonl");
    let envelope = serde_json::json!({"event_id": "hist-1", "event_type": "deal.delivered", "occurred_at": "2024-01-10T16:00:00Z",
        "store_id": "northside-chevy", "data": {"deal_id": "D-1", "delivered_at": "2024-01-10T16:00:00Z",
        "customer": {"dms_id": "C5", "first_name": "Ed", "last_name": "Old", "phone": "+15125550165", "marketing_consent": true},
        "vehicle": {"vin": "1GE", "year": 2024, "make": "Chevrolet", "model": "Blazer"}, "salesperson": {"id": "sp-1", "name": "Sam Seller"}}});
    std::fs::write(&jsonl, format!("{envelope}\n\n{{\"not\": \"an envelope\"}}\n")).unwrap();
    let (out, err) = run(&jsonl);
    assert!(out.contains("imported 1, unchanged 0, skipped 1") && err.contains("line 3:"), "{out} {err}");

    // Nothing texted, no task.
    let texts: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["texts", "--json"])).unwrap();
    assert_eq!(texts.as_array().unwrap().len(), 0, "{texts}");
    let tasks: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["tasks", "--json"])).unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 0, "{tasks}");
    let report: serde_json::Value = serde_json::from_str(&custops(
        &endpoint,
        &["report", "--store", "northside-chevy", "--date", "2026-11-23", "--json", "--at", "2026-11-23T16:06:00Z"],
    ))
    .unwrap();
    assert_eq!(report["declined"]["open_cents"], 42500, "the imported open lines: {report}");

    // The sweep: Ana (last here August 2025) and Ed (January 2024) lapsed; Bo and Cy did not.
    custops(&endpoint, &["local", "tick", "--at", "2026-11-23T16:10:00Z"]);
    let tasks: serde_json::Value = serde_json::from_str(&custops(&endpoint, &["tasks", "--json"])).unwrap();
    let mut lapsed: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "win_back")
        .map(|t| t["phone"].as_str().unwrap())
        .collect();
    lapsed.sort();
    assert_eq!(lapsed, ["+15125550161", "+15125550165"], "{tasks}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `custops value`: what custops did over some days, and for a store in
/// shadow mode what it would have done (recorded, never published); JSON,
/// text and one page.
#[test]
fn value_says_what_custops_did_and_in_shadow_mode_what_it_would_have_done() {
    let (_up, endpoint) = local_up("2026-11-23T16:05:30Z");
    publish(&endpoint, "carrier/020-call-missed-known-customer.json");
    texts_once_all(&endpoint, "sent");
    let live: serde_json::Value = serde_json::from_str(&custops(
        &endpoint,
        &[
            "value",
            "--store",
            "northside-chevy",
            "--from",
            "2026-11-17",
            "--to",
            "2026-11-23",
            "--json",
            "--at",
            "2026-11-23T23:00:00Z",
        ],
    ))
    .unwrap();
    assert_eq!(live["mode"], "live");
    assert_eq!(
        (live["missed_calls"]["total"].as_u64(), live["missed_calls"]["texted_back"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(live["texts"]["by_trigger"]["missed-call"]["reply"], 1, "{live}");
    assert!(live["revenue_at_risk_cents"].as_i64().unwrap() > 0);

    // The same store in shadow mode: the next caller's text is recorded, never published.
    let mut store: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(events().join("stores/northside-chevy.json")).unwrap()).unwrap();
    store["mode"] = "shadow".into();
    let file = std::env::temp_dir().join(format!("custops-shadow-{}.json", std::process::id()));
    std::fs::write(&file, store.to_string()).unwrap();
    custops(&endpoint, &["store", "put", file.to_str().unwrap()]);
    publish(&endpoint, "carrier/030-call-missed-unknown-caller.json");
    let started = Instant::now();
    while texts_once_all(&endpoint, "sent").as_array().unwrap().len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "the shadow text is recorded");
        std::thread::sleep(Duration::from_millis(200));
    }
    let shadow: serde_json::Value = serde_json::from_str(&custops(
        &endpoint,
        &[
            "value",
            "--store",
            "northside-chevy",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
            "--json",
            "--at",
            "2026-11-23T23:00:00Z",
        ],
    ))
    .unwrap();
    assert_eq!(shadow["mode"], "shadow");
    assert_eq!(shadow["texts"]["total"], 2, "one sent, one it would have sent: {shadow}");
    let text =
        custops(&endpoint, &["value", "--store", "northside-chevy", "--from", "2026-11-23", "--to", "2026-11-23"]);
    assert!(text.contains("would have done") && text.contains("Texts it would have sent"), "{text}");
    let page = std::env::temp_dir().join(format!("custops-value-{}.html", std::process::id()));
    custops(
        &endpoint,
        &[
            "value",
            "--store",
            "northside-chevy",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
            "--html",
            page.to_str().unwrap(),
        ],
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Shadow mode") && html.contains("Revenue at risk it surfaced") && !html.contains("<script"));
    std::fs::remove_file(&page).ok();
    std::fs::remove_file(&file).ok();
}

/// Given `local up` and a store with a lead address, when SES's
/// notification of an ADF lead mail is published to `lead-email` (one with a
/// phone, one without), then the first is texted at once and both give
/// sales a `lead` task; the phone-less one is listed with `phone` null and
/// its `email`, and `task done --email` closes it; the report counts both.
#[test]
fn a_lead_by_mail_is_texted_and_tasked_and_one_without_a_phone_is_closed_by_email() {
    let (_up, endpoint) = local_up("2026-11-24T15:13:05Z");
    publish(&endpoint, "lead-email/125-adf-lead-new-equinox.json");
    // The same provider's next lead: no phone at all.
    let mut bare: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(events().join("lead-email/125-adf-lead-new-equinox.json")).unwrap(),
    )
    .unwrap();
    let content = bare["content"].as_str().unwrap().to_owned();
    let without: String = content
        .lines()
        .filter(|l| !l.contains("<phone"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("CHV-2026-448812", "CHV-2026-448813")
        .replace("Priya.Raman@example.com", "sam.lee@example.com");
    bare["content"] = without.into();
    bare["mail"]["messageId"] = "o3rpl8-no-phone".into();
    let file = std::env::temp_dir().join(format!("custops-lead-{}.json", std::process::id()));
    std::fs::write(&file, bare.to_string()).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let config = custops::aws::local(&endpoint).await;
        let sns = aws_sdk_sns::Client::new(&config);
        custops_cli::commands::publish_event(
            &sns,
            |t| format!("arn:aws:sns:us-east-1:123456789012:{t}"),
            &bare.to_string(),
        )
        .await
        .unwrap();
    });
    std::fs::remove_file(&file).ok();

    let texts = texts_once_all(&endpoint, "sent");
    assert_eq!(texts.as_array().unwrap().len(), 1, "{texts}");
    assert_eq!(texts[0]["phone"], "+15125550156");
    let started = Instant::now();
    let tasks = loop {
        let tasks: serde_json::Value =
            serde_json::from_str(&custops(&endpoint, &["tasks", "--owner", "bdc-sales", "--json"])).unwrap();
        if tasks.as_array().unwrap().len() == 2 || started.elapsed() > Duration::from_secs(20) {
            break tasks;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 2, "{tasks:?} {}", custops(&endpoint, &["dlq"]));
    assert!(tasks.iter().all(|t| t["kind"] == "lead"));
    let mailed = tasks.iter().find(|t| t["phone"].is_null()).expect("the phone-less lead's task");
    assert_eq!(mailed["email"], "sam.lee@example.com");
    let id = mailed["task_id"].as_str().unwrap();
    let done =
        custops(&endpoint, &["task", "done", id, "--store", "northside-chevy", "--email", "Sam.Lee@example.com"]);
    assert!(done.contains("done (reached)"), "{done}");
    let open: serde_json::Value =
        serde_json::from_str(&custops(&endpoint, &["tasks", "--owner", "bdc-sales", "--json"])).unwrap();
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");

    let report: serde_json::Value = serde_json::from_str(&custops(
        &endpoint,
        &["report", "--store", "northside-chevy", "--date", "2026-11-24", "--json", "--at", "2026-11-25T12:00:00Z"],
    ))
    .unwrap();
    assert_eq!(
        (report["leads"]["received"].as_u64(), report["leads"]["texted"].as_u64()),
        (Some(2), Some(1)),
        "{}",
        report["leads"]
    );
    assert!(report["leads"]["median_minutes_to_first_contact"].is_number(), "{}", report["leads"]);
}
