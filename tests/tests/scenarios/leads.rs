//! New leads by mail against the emulator (section 7): an SES receipt
//! notification on `lead-email` becomes the lead on the customer's record, a
//! reply text at once and a lead task for sales due in 15 minutes; the same
//! lead twice is one lead; a mail to no store's lead address ends in the DLQ
//! with the reason; one store's address is never another's; and what a
//! stranger can do with the public lead address (section 3's trust, section
//! 4's lead caps) fails, with SES's notification as SES sends it, verdicts
//! included.

use custops::model::TaskKind;
use custops::{CustomerId, Phone};
use custops_tests::{at, northside, Harness};
use serde_json::{json, Value};

const LEAD: &str = include_str!("../../../events/lead-email/125-adf-lead-new-equinox.json");

fn with_leads() -> Value {
    let mut store = northside();
    store["lead_addresses"] = json!(["Leads@Northside.example"]);
    store["lead_senders"] = json!(["gm-leads.example"]);
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

/// The sample lead as SES would deliver it with `spf` and `dmarc` verdicts,
/// its message id `id`, the ADF id `adf_id`, the mobile `phone` and the
/// first name `first`.
fn lead_mail(id: &str, spf: &str, dmarc: &str, adf_id: &str, phone: &str, first: &str) -> String {
    let mut n: Value = serde_json::from_str(LEAD).unwrap();
    n["mail"]["messageId"] = json!(id);
    n["receipt"]["spfVerdict"] = json!({"status": spf});
    n["receipt"]["dmarcVerdict"] = json!({"status": dmarc});
    let content = n["content"]
        .as_str()
        .unwrap()
        .replace("CHV-2026-448812", adf_id)
        .replace("512-555-0156", phone)
        .replace(">Priya<", &format!(">{first}<"));
    n["content"] = json!(content);
    n.to_string()
}

#[tokio::test]
async fn a_strangers_mail_to_the_lead_address_texts_nothing_and_cannot_claim_the_real_lead() {
    let h = Harness::start("2026-11-24T15:13:05Z").await;
    h.put_store(with_leads()).await;
    // The forged copy: the OEM's From header and its real lead id, a
    // phishing "name" and a link, but neither SPF nor DMARC passes.
    let phish = "Your payment failed pay at https://evil.example/p ".repeat(20);
    h.publish_raw(&lead_mail("forged-1", "FAIL", "FAIL", "CHV-2026-448812", "512-555-0156", &phish)).await;
    h.settle().await;
    assert!(h.sms().await.is_empty(), "a stranger's mail is never texted");
    let t = h.table().timeline(&priya()).await.unwrap();
    assert!(t.state.open_task(TaskKind::Lead).is_some(), "sales still gets the lead as a task");
    assert!(t.touchpoints.iter().any(|p| p.kind == "text.withheld" && p.summary.contains("not authenticated")));
    assert_eq!(t.state.profile.as_ref().unwrap().first_name, None, "no such name on the record");

    // The provider's real lead, with the same ADF id, comes after it.
    h.publish_raw(LEAD).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 1, "the real lead is not a duplicate of the forged one: {:?}", h.dlq().await);
    assert!(!sms[0].message.contains("evil") && !sms[0].message.contains("payment"), "{}", sms[0].message);
    assert!(h.dlq().await.is_empty());
}

#[tokio::test]
async fn lead_texts_are_one_per_number_a_day_and_the_stores_hourly_count_even_when_leads_race() {
    let h = Harness::start_with_conflicts("2026-11-24T15:13:05Z", std::time::Duration::from_millis(40)).await;
    let mut store = with_leads();
    store["lead_texts_per_hour"] = json!(3);
    h.put_store(store).await;
    // Six real leads of six numbers at once, and a second lead of the first number.
    for i in 0..6 {
        let phone = format!("512-555-02{i:02}");
        h.publish_raw(&lead_mail(&format!("m-{i}"), "PASS", "PASS", &format!("L-{i}"), &phone, "Ana")).await;
    }
    h.publish_raw(&lead_mail("m-again", "PASS", "PASS", "L-again", "512-555-0200", "Ana")).await;
    // A number abroad (the same country code's Caribbean plan) is never texted.
    h.publish_raw(&lead_mail("m-abroad", "PASS", "PASS", "L-abroad", "+1 876 927 1234", "Ana")).await;
    h.settle().await;
    let sms = h.sms().await;
    assert_eq!(sms.len(), 3, "the store's lead texts of the hour: {sms:?} {:?}", h.dlq().await);
    let mut numbers: Vec<&str> = sms.iter().map(|s| s.phone_number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "never two lead texts to one number: {numbers:?}");
    assert!(!numbers.contains(&"+18769271234"));
    let tasks = h.table().open_tasks("northside-chevy").await.unwrap();
    assert_eq!(tasks.iter().filter(|t| t.kind == TaskKind::Lead).count(), 8, "every lead has its task");
    assert!(h.dlq().await.is_empty());
}

/// XML's attacks through the lead mailbox, from a listed, authenticated
/// sender even: a document type declaring entities (billion laughs) is
/// never read; the mail is dead-lettered with the reason, nothing is texted
/// or written for the lead, and the real lead after it is texted.
#[tokio::test]
async fn a_lead_whose_document_type_declares_entities_is_dead_lettered_and_nothing_else_happens() {
    let h = Harness::start("2026-11-24T15:13:05Z").await;
    h.put_store(with_leads()).await;
    let mut hostile: Value =
        serde_json::from_str(&lead_mail("m-dtd", "PASS", "PASS", "DTD-1", "512-555-0156", "Priya")).unwrap();
    let entities = r#"<!DOCTYPE adf [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>"#;
    let content = hostile["content"]
        .as_str()
        .unwrap()
        .replacen("<adf>", &format!("{entities}\r\n<adf>"), 1)
        .replace(">Priya<", ">&c;<");
    hostile["content"] = json!(content);
    h.publish_raw(&hostile.to_string()).await;
    h.settle().await;
    assert!(h.sms().await.is_empty(), "nothing texted");
    let dead = h.dlq().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].reason.contains("event lead#m-dtd: the ADF document"), "{}", dead[0].reason);
    assert!(!dead[0].reason.contains("lol"), "no entity was expanded: {}", dead[0].reason);
    let timeline = h.table().timeline(&priya()).await.unwrap();
    assert!(timeline.state.profile.is_none() && timeline.state.tasks.is_empty(), "no record, no task");

    h.publish_raw(&lead_mail("m-real", "PASS", "PASS", "CHV-2026-448812", "512-555-0156", "Priya")).await;
    h.settle().await;
    assert_eq!(h.sms().await.len(), 1, "the real lead is texted");
}
