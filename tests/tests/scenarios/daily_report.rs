//! `daily-report` against the emulator: at 06:00 store time (`local tick`)
//! yesterday's report goes to the `gm-reports` topic, once.

use custops_tests::{at, call_missed, Harness};

/// A queue subscribed to `gm-reports`, as an operator's email would be.
async fn subscribe(h: &Harness) -> String {
    subscribe_as(h, "gm-inbox", None).await
}

/// A queue `name` subscribed to `gm-reports`, with `filter` as its filter policy.
async fn subscribe_as(h: &Harness, name: &str, filter: Option<&str>) -> String {
    let sqs = &h.stack.clients.sqs;
    let url = sqs.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap();
    let mut subscribe = h
        .stack
        .clients
        .sns
        .subscribe()
        .topic_arn(h.stack.topic_arn("gm-reports"))
        .protocol("sqs")
        .endpoint(format!("arn:aws:sqs:us-east-1:123456789012:{name}"));
    if let Some(filter) = filter {
        subscribe = subscribe.attributes("FilterPolicy", filter);
    }
    subscribe.send().await.unwrap();
    url
}

async fn received(h: &Harness, url: &str) -> Vec<serde_json::Value> {
    let out = h.stack.clients.sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
    out.messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| serde_json::from_str(&m.body.unwrap_or_default()).unwrap())
        .collect()
}

#[tokio::test]
async fn yesterdays_report_goes_to_the_gm_at_six_store_time_once() {
    let h = Harness::start("2026-11-23T16:05:05Z").await;
    let inbox = subscribe(&h).await;
    // Lakeside's GM takes Lakeside's reports alone.
    let other_store = subscribe_as(&h, "lakeside-gm", Some(r#"{"store_id":["lakeside-ford"]}"#)).await;
    h.publish(&call_missed("c-1", "call-1", "+15125550166", "2026-11-23T16:05:00Z")).await;
    h.settle().await;

    // 05:00 in Chicago: not yet.
    h.clock.set(at("2026-11-24T11:00:00Z"));
    let fired = h.stack.fire("daily-report").await.unwrap().unwrap();
    assert_eq!(fired["published"], 0, "{fired}");
    // 06:00: Monday's report.
    h.clock.set(at("2026-11-24T12:00:00Z"));
    let fired = h.stack.fire("daily-report").await.unwrap().unwrap();
    assert_eq!(fired["published"], 1, "{fired}");
    let got = received(&h, &inbox).await;
    assert_eq!(got.len(), 1);
    let subject = got[0]["Subject"].as_str().unwrap();
    assert_eq!(subject, "Northside Chevrolet: $337.50 at risk, 1 missed calls (Mon 23 Nov)");
    let body = got[0]["Message"].as_str().unwrap();
    assert!(body.contains("Missed calls: 1 (1 texted back") && body.contains("Revenue at risk: $337.50"), "{body}");
    assert_eq!(
        got[0]["MessageAttributes"]["store_id"]["Value"], "northside-chevy",
        "a store's subscription filters on it"
    );
    assert!(received(&h, &other_store).await.is_empty(), "another store's GM, subscribed with a filter, gets nothing");

    // Later runs that day publish nothing more.
    h.clock.set(at("2026-11-24T13:00:00Z"));
    h.stack.tick().await.unwrap();
    assert_eq!(h.stack.fire("daily-report").await.unwrap().unwrap()["published"], 0);
    assert!(received(&h, &inbox).await.is_empty());
}

/// Given a Monday whose every report run failed (the function was down all
/// Tuesday), when the first run on Wednesday comes, then Monday's report is
/// made up along with Tuesday's, oldest first, each once.
#[tokio::test]
async fn a_day_whose_every_run_failed_is_made_up_by_the_next_days_run() {
    let h = Harness::start("2026-11-23T16:05:05Z").await;
    let inbox = subscribe(&h).await;
    h.publish(&call_missed("c-1", "call-1", "+15125550166", "2026-11-23T16:05:00Z")).await;
    h.settle().await;
    h.clock.set(at("2026-11-24T16:05:05Z"));
    h.publish(&call_missed("c-2", "call-2", "+15125550167", "2026-11-24T16:05:00Z")).await;
    h.settle().await;

    // No run on Tuesday at all; Wednesday 06:00 in Chicago.
    h.clock.set(at("2026-11-25T12:00:00Z"));
    let fired = h.stack.fire("daily-report").await.unwrap().unwrap();
    assert_eq!(fired["published"], 2, "{fired}");
    let got = received(&h, &inbox).await;
    let mut subjects: Vec<String> = got.iter().map(|m| m["Subject"].as_str().unwrap().to_owned()).collect();
    subjects.sort();
    assert!(subjects[0].ends_with("(Mon 23 Nov)") && subjects[1].ends_with("(Tue 24 Nov)"), "{subjects:?}");
    h.clock.set(at("2026-11-25T13:00:00Z"));
    assert_eq!(h.stack.fire("daily-report").await.unwrap().unwrap()["published"], 0, "each once");
}
