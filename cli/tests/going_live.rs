//! What a store needs before it works, through the binary against `local up`
//! (CONTRACT.md sections 8, 10 and 15): alerts a person can read, the
//! report by mail, `custops doctor`.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// An SQS queue subscribed to `topic` with `filter` (as a person's SMS or
/// mail subscription would be: SQS gets the `default` of a JSON message).
async fn listen(endpoint: &str, topic: &str, filter: Option<&str>) -> (aws_sdk_sqs::Client, String) {
    let config = custops::aws::local(endpoint).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let sns = aws_sdk_sns::Client::new(&config);
    let name = format!("listen-{topic}");
    let url = sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    let mut sub = sns
        .subscribe()
        .topic_arn(format!("arn:aws:sns:us-east-1:123456789012:{topic}"))
        .protocol("sqs")
        .endpoint(format!("arn:aws:sqs:us-east-1:123456789012:{name}"));
    if let Some(f) = filter {
        sub = sub.attributes("FilterPolicy", f);
    }
    sub.send().await.unwrap();
    (sqs, url)
}

/// The SNS notifications the queue got within `wait` (at least one, or none after it).
async fn notifications(sqs: &aws_sdk_sqs::Client, url: &str, wait: Duration) -> Vec<serde_json::Value> {
    let started = Instant::now();
    let mut out = Vec::new();
    while started.elapsed() < wait {
        let got = sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1).send().await;
        for m in got.unwrap().messages.unwrap_or_default() {
            out.push(serde_json::from_str(m.body.as_deref().unwrap_or("{}")).unwrap());
        }
        if !out.is_empty() {
            break;
        }
    }
    out
}

#[test]
fn an_alert_is_one_segment_with_an_absolute_link_that_opens_the_task_after_sign_in() {
    let (_up, endpoint, http) = local_up_http("2026-11-23T16:05:30Z", &[]);
    staff_add(
        &endpoint,
        "northside-chevy",
        "ana@northside.example",
        "bdc-service",
        &["--password", "Correct-horse-42", "--alerts", "sms:+15125550901"],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // What Ana's subscription takes (its filter: her store and teams).
    let (sqs, queue) = runtime.block_on(listen(
        &endpoint,
        "staff-alerts",
        Some(r#"{"store_id":["northside-chevy"],"owner":["bdc-service"]}"#),
    ));
    publish(&endpoint, "carrier/020-call-missed-known-customer.json");
    let got = runtime.block_on(notifications(&sqs, &queue, Duration::from_secs(20)));
    assert_eq!(got.len(), 1, "{got:?}");
    let alert: serde_json::Value = serde_json::from_str(got[0]["Message"].as_str().unwrap()).unwrap();
    assert!(!got[0].to_string().contains("5125550142"), "the whole number is nowhere in it: {}", got[0]);
    let link = alert["link"].as_str().unwrap();
    assert!(link.starts_with(&format!("{http}/app/t/")), "{link}");
    let sms = alert["sms"].as_str().unwrap();
    assert!(sms.starts_with("New callback: ") && sms.contains("..0142") && sms.ends_with(link), "{sms}");
    assert_eq!(custops::text::segments(sms), (custops::text::Encoding::Gsm7, 1), "{sms}");

    // The link, not signed in: the sign-in page, which then goes on to it.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_owned();
    runtime.block_on(async {
        let first = client.get(link).send().await.unwrap();
        assert_eq!(first.status().as_u16(), 303);
        let path = link.trim_start_matches(&http);
        assert_eq!(location(&first), format!("/app/signin?next={path}"));
        let form = client.get(format!("{http}{}", location(&first))).send().await.unwrap().text().await.unwrap();
        assert!(form.contains(&format!(r#"name="next" value="{path}""#)), "{form}");
        let signed_in = client
            .post(format!("{http}/app/signin"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("email=ana%40northside.example&password=Correct-horse-42&next={path}"))
            .send()
            .await
            .unwrap();
        assert_eq!((signed_in.status().as_u16(), location(&signed_in)), (303, path.to_owned()));
        let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let opened = client.get(link).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(location(&opened), "/app/customers/+15125550142?store=northside-chevy");
        let page = client
            .get(format!("{http}{}", location(&opened)))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("callback-call-7f3a1c20"), "the task is on the page it opens");
        // Elsewhere the sign-in goes nowhere but the inbox.
        let elsewhere = client
            .post(format!("{http}/app/signin"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=ana%40northside.example&password=Correct-horse-42&next=https%3A%2F%2Fevil.example%2F")
            .send()
            .await
            .unwrap();
        assert_eq!(location(&elsewhere), "/app/tasks");
    });
}

#[test]
fn the_morning_report_is_mailed_to_report_to_with_its_page_and_the_group_page_by_mail() {
    let (_up, endpoint, _) = local_up_http("2026-11-23T16:05:30Z", &[]);
    store_put_with(
        &endpoint,
        "stores/northside-chevy.json",
        serde_json::json!({"report_to": ["gm@northside.example"]}),
    );
    custops(&endpoint, &["store", "put", events().join("stores/lakeside-ford.json").to_str().unwrap()]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A GM's subscription to gm-reports takes their store's alone.
    let (sqs, queue) = runtime.block_on(listen(&endpoint, "gm-reports", Some(r#"{"store_id":["northside-chevy"]}"#)));
    publish(&endpoint, "carrier/020-call-missed-known-customer.json");
    texts_once_all(&endpoint, "sent");
    // 06:30 in Chicago the next morning.
    let ticked = custops(&endpoint, &["local", "tick", "--at", "2026-11-24T12:30:00Z"]);
    assert!(ticked.contains(r#"daily-report: {"failed":0,"not_due":0,"published":2,"stores":2}"#), "{ticked}");

    let mail = runtime.block_on(custops_local::emulator::sent_mail(&endpoint)).unwrap();
    assert_eq!(mail.len(), 1, "Northside has report_to, Lakeside none: {mail:?}");
    let m = &mail[0];
    assert_eq!(m.source, custops_local::local::LOCAL_REPORT_SENDER);
    assert_eq!(m.destinations["ToAddresses"], ["gm@northside.example"]);
    assert!(m.subject.starts_with("Northside Chevrolet: $") && m.subject.contains("1 missed calls (Mon 23 Nov)"));
    assert!(m.body.starts_with("<!doctype html>") && m.body.contains("<svg"), "the page with its chart");
    let published = runtime.block_on(notifications(&sqs, &queue, Duration::from_secs(10)));
    assert_eq!(published.len(), 1, "one store's report: {published:?}");
    assert_eq!(published[0]["MessageAttributes"]["store_id"]["Value"], "northside-chevy");

    // Again: the day is claimed, nothing goes twice.
    custops(&endpoint, &["local", "tick", "--at", "2026-11-24T13:30:00Z"]);
    assert_eq!(runtime.block_on(custops_local::emulator::sent_mail(&endpoint)).unwrap().len(), 1);

    // The group's page, by hand.
    custops(
        &endpoint,
        &["report", "--group", "--date", "2026-11-23", "--mail", "owner@group.example,cfo@group.example"],
    );
    let mail = runtime.block_on(custops_local::emulator::sent_mail(&endpoint)).unwrap();
    assert_eq!(mail.len(), 2);
    assert_eq!(mail[1].destinations["ToAddresses"], ["owner@group.example", "cfo@group.example"]);
    assert!(mail[1].body.contains("lakeside-ford") && mail[1].body.contains("northside-chevy"));
}

/// `custops doctor` against `endpoint`: its exit status and its lines.
fn doctor(endpoint: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(BIN)
        .arg("doctor")
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .output()
        .expect("custops doctor runs");
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn doctor_names_what_a_store_lacks_and_passes_once_it_is_there() {
    let (_up, endpoint, _) = local_up_http("2026-11-23T16:05:30Z", &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(custops::aws::local(&endpoint));
    let ses = aws_sdk_sesv2::Client::new(&config);
    let sender = custops_local::local::LOCAL_REPORT_SENDER;
    // As on a fresh deploy: the sender not yet verified.
    runtime.block_on(ses.delete_email_identity().email_identity(sender).send()).unwrap();

    let (healthy, lines) = doctor(&endpoint, &["--store", "northside-chevy"]);
    assert!(!healthy, "{lines}");
    for missing in [
        "MISSING   northside-chevy: webhook secret: no custops/northside-chevy/webhooks",
        "MISSING   northside-chevy: staff: nobody signs in",
        "MISSING   report sender: reports@custops.local is not verified",
        "MISSING   northside-chevy: report_to: none",
        "MISSING   sms spend limit: not set",
        "MISSING   sms delivery logging",
    ] {
        assert!(lines.contains(missing), "{missing}:\n{lines}");
    }
    assert!(lines.contains("-> custops secrets put --store northside-chevy webhooks.json"), "the fix: {lines}");
    assert!(lines.contains("ok        stack: topics: 7 topics"), "{lines}");
    assert!(lines.contains("ok        northside-chevy: lead_senders"), "{lines}");

    // What the runbook's steps do.
    store_put_with(
        &endpoint,
        "stores/northside-chevy.json",
        serde_json::json!({"report_to": ["gm@northside.example"]}),
    );
    custops(
        &endpoint,
        &[
            "secrets",
            "put",
            "--store",
            "northside-chevy",
            events().join("secrets/northside-chevy.json").to_str().unwrap(),
        ],
    );
    staff_add(
        &endpoint,
        "northside-chevy",
        "gm@northside.example",
        "bdc",
        &["--manager", "--alerts", "email:gm@northside.example"],
    );
    runtime.block_on(ses.create_email_identity().email_identity(sender).send()).unwrap();
    let sns = aws_sdk_sns::Client::new(&config);
    runtime
        .block_on(
            sns.set_sms_attributes()
                .attributes("MonthlySpendLimit", "100")
                .attributes("DeliveryStatusIAMRole", "arn:aws:iam::123456789012:role/custops-sms-delivery-status")
                .attributes("DeliveryStatusSuccessSamplingRate", "100")
                .send(),
        )
        .unwrap();

    let (healthy, lines) = doctor(&endpoint, &["--store", "northside-chevy"]);
    assert!(healthy, "{lines}");
    assert!(!lines.contains("MISSING"), "{lines}");
    assert!(lines.contains("ok        report sender: reports@custops.local"), "{lines}");
    assert!(lines.contains("ok        northside-chevy: report_to: gm@northside.example"), "{lines}");
    // What it cannot see locally, it names.
    assert!(lines.contains("unchecked northside-chevy: two-way SMS"), "{lines}");
    assert!(lines.contains("unchecked sms log subscription filters"), "{lines}");
    let (_, json) = doctor(&endpoint, &["--store", "northside-chevy", "--json"]);
    let checks: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(checks.iter().all(|c| c["status"] != "missing") && checks.len() == lines.lines().count());
}
