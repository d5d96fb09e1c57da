//! The DMS feed (CONTRACT.md section 13) through the local stack: a
//! connector's snapshots signed to `POST /hooks/{store}/dms`, compared with
//! the last of each thing by `dms-feed`, and what changed published to
//! `dms-events`, where the triggers text the customer once.

use custops::{Clock, CustomerId, Phone};
use custops_tests::Harness;
use serde_json::{json, Value};

const NOW: &str = "2026-11-24T15:30:00Z";
const MARIA: &str = "+15125550142";

async fn with_secret(h: &Harness) {
    let file = std::env::temp_dir().join(format!("custops-feed-secret-{}.json", std::process::id()));
    std::fs::write(&file, json!({"signing_secret": "connector-secret"}).to_string()).unwrap();
    custops_cli::commands::secrets_put(&h.target, "northside-chevy", &file).await.unwrap();
    std::fs::remove_file(&file).ok();
}

fn ro(status: &str, as_of: &str, eta: Option<&str>) -> Value {
    json!({"kind": "repair_order", "store_id": "northside-chevy", "as_of": as_of, "ro_number": "R-48213",
           "status": status, "eta": eta, "opened_at": "2026-11-23T14:10:00Z", "mileage": 40100,
           "customer": {"dms_id": "C-77", "first_name": "Maria", "last_name": "Lopez", "phone": "(512) 555-0142"},
           "vehicle": {"vin": "1GNSKCKD5MR000001", "year": 2021, "make": "Chevrolet", "model": "Tahoe"},
           "advisor": {"id": "A-12", "name": "Dave"},
           "lines": [{"line_id": "1", "op_code": "BRK01", "description": "Front brake pads", "estimate_cents": 38950, "status": "approved"}]})
}

struct Connector {
    client: reqwest::Client,
    url: String,
    now: i64,
}

impl Connector {
    /// The store's connector, posting to the local HTTP API at `base` at the harness's now.
    fn to(h: &Harness, base: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            url: format!("{base}/hooks/northside-chevy/dms"),
            now: h.clock.now().timestamp(),
        }
    }

    async fn send(&self, body: String) -> (u16, Value) {
        let bytes = body.into_bytes();
        let mut request = self.client.post(&self.url);
        for (name, value) in front_door::signed::headers("connector-secret", self.now, &bytes) {
            request = request.header(name, value);
        }
        let answer = request.body(bytes).send().await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap_or(Value::Null))
    }
}

fn lines(snapshots: &[Value]) -> String {
    snapshots.iter().map(Value::to_string).collect::<Vec<_>>().join("\r\n")
}

async fn texts_to_maria(h: &Harness) -> Vec<String> {
    h.sms().await.into_iter().filter(|s| s.phone_number == MARIA).map(|s| s.message).collect()
}

async fn status_events(h: &Harness) -> usize {
    let maria = CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap());
    let timeline = h.table().timeline(&maria).await.unwrap();
    timeline.touchpoints.iter().filter(|t| t.kind == "ro.status_changed").count()
}

#[tokio::test]
async fn snapshots_become_each_change_once_through_the_front_door() {
    let h = Harness::start(NOW).await;
    with_secret(&h).await;
    let http = h.stack.serve_http(0).await.unwrap();
    let dms = Connector::to(&h, &http.url);

    // The morning's open repair orders, JSON Lines with CRLF: the first
    // snapshot of R-48213 is waiting for parts with an ETA (a text).
    let waiting = ro("waiting_parts", "2026-11-24T15:00:00Z", Some("2026-11-27"));
    let (status, body) = dms.send(lines(&[ro("checked_in", "2026-11-24T14:00:00Z", None), waiting.clone()])).await;
    assert_eq!((status, &body), (202, &json!({"accepted": 2})));
    h.settle().await;
    let texts = texts_to_maria(&h).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("Friday, November 27"), "{}", texts[0]);
    assert_eq!(status_events(&h).await, 2, "checked in, then waiting for parts");

    // Five minutes later the connector sends the same again, as an array:
    // nothing changed, nothing is published.
    let (status, _) = dms.send(json!([waiting]).to_string()).await;
    assert_eq!(status, 202);
    h.settle().await;
    assert_eq!((texts_to_maria(&h).await.len(), status_events(&h).await), (1, 2));

    // A body with one bad snapshot is refused whole, with its position.
    let mut bad = ro("parts_arrived", "2026-11-24T16:00:00Z", None);
    bad["customer"]["phone"] = json!("not a phone 555");
    let (status, body) = dms.send(lines(&[ro("parts_arrived", "2026-11-24T16:00:00Z", None), bad])).await;
    assert_eq!(status, 400);
    assert_eq!(body["refused"][0]["position"], 2, "{body}");
    assert!(!body.to_string().contains("555"), "{body}");
    h.settle().await;
    assert_eq!(texts_to_maria(&h).await.len(), 1, "none of a refused body is taken");

    // The part arrives (one text); a stale snapshot from before changes nothing.
    let (status, _) = dms.send(lines(&[ro("parts_arrived", "2026-11-24T16:00:00Z", None)])).await;
    assert_eq!(status, 202);
    let (status, _) = dms.send(lines(&[ro("in_progress", "2026-11-24T14:30:00Z", None)])).await;
    assert_eq!(status, 202);
    h.settle().await;
    let texts = texts_to_maria(&h).await;
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert_eq!(status_events(&h).await, 3, "the stale snapshot published nothing");

    // Unsigned, or another store's snapshot on this store's path: refused.
    let unsigned = dms.client.post(&dms.url).body(lines(std::slice::from_ref(&waiting))).send().await.unwrap();
    assert_eq!(unsigned.status(), 403);
    let mut other = waiting.clone();
    other["store_id"] = json!("lakeside-ford");
    assert_eq!(dms.send(lines(&[other])).await.0, 400);
    assert!(h.dlq().await.is_empty());

    // The DMS voids the repair order: it leaves Maria's open work, texting nobody.
    let (status, _) = dms.send(lines(&[ro("voided", "2026-11-24T17:00:00Z", None)])).await;
    assert_eq!(status, 202);
    h.settle().await;
    let maria = CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap());
    let state = h.table().customer_state(&maria).await.unwrap();
    assert!(state.repair_orders.iter().all(|r| r.ro_number != "R-48213"), "{:?}", state.repair_orders);
    assert_eq!(texts_to_maria(&h).await.len(), 2);
}

#[tokio::test]
async fn a_file_in_the_feed_bucket_is_taken_once_and_the_feed_uses_exactly_its_grants() {
    use custops_cli::emulator::CallRecorder;
    use custops_cli::template::{Placement, Template, TEMPLATE};
    let h = Harness::start(NOW).await;
    let recorder = CallRecorder::start(&h.emulator.endpoint).await.unwrap();
    let dir = std::env::temp_dir().join(format!("custops-feed-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A spreadsheet's export (CRLF), its name with a space (S3 sends the key URL-encoded).
    let csv = dir.join("morning export.csv");
    std::fs::write(
        &csv,
        "Kind,ID,Status,As_Of,At,DMS_ID,First_Name,Last_Name,Phone,VIN,Year,Make,Model,Advisor_ID,Advisor_Name,ETA\r\n\
         repair_order,R-48213,waiting_parts,2026-11-24T15:00:00Z,,C-77,Maria,Lopez,(512) 555-0142,1GNSKCKD5MR000001,2021,Chevrolet,Tahoe,A-12,Dave,2026-11-27\r\n\
         repair_order,R-9,in_progress,,,C-90,Bo,Li,call me 555,,,,,,,\r\n\
         appointment,A-311,booked,2026-11-24T15:00:00Z,2026-11-27T15:00:00Z,C-77,Maria,Lopez,5125550142,,,,,,,\r\n",
    )
    .unwrap();
    let key = custops_cli::feed::put(&h.target, "northside-chevy", &csv).await.unwrap();
    assert_eq!(key, "northside-chevy/morning export.csv");
    h.settle().await;
    let files = custops_cli::feed::status(&h.target, "northside-chevy").await.unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    let f = &files[0];
    assert!(f.taken);
    assert_eq!((f.key.as_str(), f.rows, f.events, f.skipped), (key.as_str(), 3, 2, 1));
    assert_eq!(f.bad[0].line, 3, "the header is line 1");
    assert!(f.bad[0].reason.contains("phone") && !f.bad[0].reason.contains("555"), "{:?}", f.bad[0]);
    let eta = texts_to_maria(&h).await;
    assert!(eta.iter().any(|t| t.contains("Friday, November 27")), "{eta:?}");

    // The same file again: taken once.
    custops_cli::feed::put(&h.target, "northside-chevy", &csv).await.unwrap();
    // Its twin through the other kind of file: the same snapshot is unchanged.
    let jsonl = dir.join("morning.jsonl");
    std::fs::write(&jsonl, format!("{}\n", ro("waiting_parts", "2026-11-24T15:00:00Z", Some("2026-11-27")))).unwrap();
    custops_cli::feed::put(&h.target, "northside-chevy", &jsonl).await.unwrap();
    // And a message no door sends: to the DLQ, with its reason.
    let queue = h.target.template.name_of("DmsFeedQueue").unwrap();
    let url = h.target.sqs.get_queue_url().queue_name(queue).send().await.unwrap().queue_url.unwrap();
    h.target.sqs.send_message().queue_url(url).message_body(r#"{"not": "a delivery"}"#).send().await.unwrap();
    h.settle().await;
    let files = custops_cli::feed::status(&h.target, "northside-chevy").await.unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    let twin = files.iter().find(|f| f.key.ends_with(".jsonl")).unwrap();
    assert_eq!((twin.rows, twin.events, twin.unchanged), (1, 0, 1));
    assert_eq!(texts_to_maria(&h).await.len(), eta.len(), "nothing texted twice");
    assert_eq!(h.dlq().await.len(), 1);
    let rendered = custops_cli::feed::render(&files);
    assert!(rendered.contains("line 3:"), "{rendered}");

    // Least privilege: what dms-feed did is what its policy grants, no more.
    let template = Template::parse(TEMPLATE, &Placement::local("http://127.0.0.1:1")).unwrap();
    let policy = &template.resources["DmsFeedFunction"].properties;
    let granted: std::collections::BTreeSet<String> = custops_dev::iam::granted(policy)
        .into_iter()
        .filter(|g| !g.action.starts_with("kms:"))
        .map(|g| g.action)
        .collect();
    let used: std::collections::BTreeSet<String> = recorder
        .signed_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.principal.as_deref() == Some(dms_feed::NAME))
        .flat_map(|r| custops_dev::iam::actions_of(&r.call, &r.body))
        .map(|n| n.action)
        .collect();
    assert_eq!(used, granted);
}

#[tokio::test]
async fn an_appointment_booked_moved_and_missed_through_the_hook_is_each_change_once() {
    let h = Harness::start(NOW).await;
    with_secret(&h).await;
    let http = h.stack.serve_http(0).await.unwrap();
    let dms = Connector::to(&h, &http.url);
    let appointment = |status: &str, at: &str, as_of: &str| {
        json!({"kind": "appointment", "store_id": "northside-chevy", "as_of": as_of, "appointment_id": "A-311",
               "at": at, "status": status, "op_codes": ["OIL01"],
               "customer": {"dms_id": "C-77", "first_name": "Maria", "last_name": "Lopez", "phone": "(512) 555-0142"}})
    };
    let kinds = |h: &Harness| {
        let h = h.table();
        async move {
            let maria = CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap());
            let timeline = h.timeline(&maria).await.unwrap();
            timeline
                .touchpoints
                .iter()
                .filter(|t| t.kind.starts_with("appointment."))
                .map(|t| t.kind.clone())
                .collect::<Vec<_>>()
        }
    };
    // Booked, the same again, then moved a day: two bookings (the second a reschedule).
    for (status, at, as_of) in [
        ("booked", "2026-11-27T15:00:00Z", "2026-11-24T15:00:00Z"),
        ("booked", "2026-11-27T15:00:00Z", "2026-11-24T15:05:00Z"),
        ("booked", "2026-11-28T15:00:00Z", "2026-11-24T15:10:00Z"),
    ] {
        assert_eq!(dms.send(appointment(status, at, as_of).to_string()).await.0, 202);
        h.settle().await;
    }
    assert_eq!(kinds(&h).await.iter().filter(|k| *k == "appointment.booked").count(), 2, "{:?}", kinds(&h).await);
    // Cancelled, then (another appointment id) a no-show.
    assert_eq!(
        dms.send(appointment("cancelled", "2026-11-28T15:00:00Z", "2026-11-25T09:00:00Z").to_string()).await.0,
        202
    );
    let mut missed = appointment("no_show", "2026-11-24T14:00:00Z", "2026-11-24T15:20:00Z");
    missed["appointment_id"] = json!("A-312");
    assert_eq!(dms.send(missed.to_string()).await.0, 202);
    h.settle().await;
    let seen = kinds(&h).await;
    assert_eq!(seen.iter().filter(|k| *k == "appointment.cancelled").count(), 1, "{seen:?}");
    assert_eq!(seen.iter().filter(|k| *k == "appointment.missed").count(), 1, "{seen:?}");
    assert!(h.dlq().await.is_empty());
}

#[tokio::test]
async fn a_deal_delivered_then_unwound_through_the_hook_leaves_no_first_service_work() {
    let h = Harness::start(NOW).await;
    with_secret(&h).await;
    let http = h.stack.serve_http(0).await.unwrap();
    let dms = Connector::to(&h, &http.url);
    let deal = |status: &str, as_of: &str| {
        json!({"kind": "deal", "store_id": "northside-chevy", "as_of": as_of, "deal_id": "D-9001", "status": status,
               "delivered_at": "2026-11-20T22:00:00Z",
               "customer": {"dms_id": "C-77", "first_name": "Maria", "last_name": "Lopez", "phone": "(512) 555-0142"},
               "vehicle": {"vin": "1GNSKCKD5MR000002", "year": 2027, "make": "Chevrolet", "model": "Equinox"},
               "salesperson": {"id": "S-4", "name": "Ana"}, "purchase_type": "lease", "term_months": 36,
               "first_payment_on": "2026-12-20"})
    };
    let maria = CustomerId::new("northside-chevy", Phone::parse(MARIA).unwrap());
    let open_first_service = |state: &custops::model::CustomerState| {
        state.tasks.iter().filter(|t| t.kind == custops::model::TaskKind::FirstService && t.is_open()).count()
    };

    assert_eq!(dms.send(deal("delivered", "2026-11-21T08:00:00Z").to_string()).await.0, 202);
    h.settle().await;
    let state = h.table().customer_state(&maria).await.unwrap();
    assert_eq!(open_first_service(&state), 1, "{:?}", state.tasks);

    // The deal is unwound, and the connector says so twice.
    for as_of in ["2026-11-23T10:00:00Z", "2026-11-23T10:05:00Z"] {
        assert_eq!(dms.send(deal("unwound", as_of).to_string()).await.0, 202);
        h.settle().await;
    }
    let state = h.table().customer_state(&maria).await.unwrap();
    assert_eq!(open_first_service(&state), 0, "{:?}", state.tasks);
    let purchases = &state.profile.as_ref().unwrap().purchases;
    assert_eq!(purchases.len(), 1);
    assert_eq!(purchases[0].unwound_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-11-23T10:00:00+00:00"));
    let timeline = h.table().timeline(&maria).await.unwrap();
    assert_eq!(timeline.touchpoints.iter().filter(|t| t.kind == "deal.unwound").count(), 1);
    assert!(h.sms().await.is_empty(), "a deal's delivery and unwind text nobody");
    assert!(h.dlq().await.is_empty());
}
