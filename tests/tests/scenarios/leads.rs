//! New leads by mail against the emulator (section 7): an SES receipt
//! notification on `lead-email` becomes the lead on the customer's record, a
//! reply text at once and a lead task for sales due in 15 minutes; the same
//! lead twice is one lead; a mail to no store's lead address ends in the DLQ
//! with the reason; one store's address is never another's.

use custops::model::TaskKind;
use custops::{CustomerId, Phone};
use custops_tests::{at, northside, Harness};
use serde_json::{json, Value};

const LEAD: &str = include_str!("../../../events/lead-email/125-adf-lead-new-equinox.json");

fn with_leads() -> Value {
    let mut store = northside();
    store["lead_addresses"] = json!(["Leads@Northside.example"]);
    store
}

fn priya() -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse("+15125550156").unwrap())
}

#[tokio::test]
async fn a_lead_mail_is_texted_at_once_and_gives_sales_a_task_due_in_fifteen_minutes_once() {
    let h = Harness::start("2026-11-24T15:13:05Z").await;
    h.put_store(with_leads()).await;
    h.publish_raw(LEAD).await;
    h.publish_raw(LEAD).await; // SNS delivers it twice
                               // The provider mails the same lead again: a new SES message id, the same ADF id.
    let mut again: Value = serde_json::from_str(LEAD).unwrap();
    again["mail"]["messageId"] = json!("second-copy-1");
    h.publish_raw(&again.to_string()).await;
    h.settle().await;

    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "one text however often the lead came: {sms:?} {:?}", h.dlq().await);
    assert_eq!(sms[0].phone_number, "+15125550156", "the mobile number");
    assert!(sms[0].message.contains("2026 Chevrolet Equinox") && sms[0].message.contains("Northside Chevrolet"));
    let t = h.table().timeline(&priya()).await.unwrap();
    let task = t.state.open_task(TaskKind::Lead).expect("a lead task");
    assert_eq!(task.owner, "bdc-sales");
    assert_eq!(task.due_at, at("2026-11-24T15:28:05Z"));
    let profile = t.state.profile.expect("a record for the new number");
    assert_eq!(profile.email.as_deref(), Some("priya.raman@example.com"));
    assert_eq!(profile.leads.len(), 1);
    assert!(t.touchpoints.iter().any(|p| p.kind == "lead.received" && p.summary.contains("Chevrolet.com")));

    let day = at("2026-11-24T15:13:05Z").with_timezone(&chrono_tz::America::Chicago).date_naive();
    let (report, _) =
        custops_cli::commands::report(&h.target, "northside-chevy", day, at("2026-11-25T12:00:00Z")).await.unwrap();
    assert_eq!((report.leads.received, report.leads.texted), (1, 1), "{:?}", report.leads);
}

#[tokio::test]
async fn a_mail_to_no_stores_lead_address_is_dead_lettered_with_the_reason_and_addresses_are_one_stores() {
    let h = Harness::start("2026-11-24T15:13:05Z").await;
    // Northside has no lead address yet.
    h.publish_raw(LEAD).await;
    h.settle().await;
    assert!(h.sms().await.is_empty());
    let dead = h.dlq().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let why = format!("{dead:?}");
    assert!(why.contains("no store takes leads"), "{why}");
    assert!(!why.contains("5550156") && !why.contains("priya"), "no number or address of the customer: {why}");

    h.put_store(with_leads()).await;
    let mut other = custops_tests::northside();
    other["store_id"] = json!("lakeside-ford");
    other["sms_number"] = json!("+13055550100");
    other["lead_addresses"] = json!(["leads@northside.example"]);
    let store = custops::StoreConfig::from_json(&other.to_string()).unwrap();
    let err = h.table().put_store(&store).await.unwrap_err().to_string();
    assert!(err.contains("already belongs to another store"), "{err}");
}
