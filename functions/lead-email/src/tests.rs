//! The lead mail, on `adf`, `ses` and `decide` (no AWS): ADF documents
//! shaped like the ones OEM sites and lead providers send, in the MIME
//! shapes mail arrives in, inside SES's receipt notification.

use custops::fixtures::{at, customer, northside};
use custops::outbound::Plan;
use serde_json::json;

use super::*;

const OEM: &str = include_str!("../tests/leads/oem-site.xml");
const THIRD_PARTY: &str = include_str!("../tests/leads/third-party.xml");

/// A lead mail with `adf` as its text/plain body (the most common shape).
fn plain_mail(adf: &str) -> String {
    format!(
        "From: Chevrolet.com Leads <leads@gm-leads.example>\r\nTo: leads@northside.example\r\nSubject: New ADF lead\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{adf}\r\n"
    )
}

/// The ADF as a base64 `application/xml` attachment beside an HTML body.
fn attached_mail(adf: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(adf);
    let lines: Vec<&str> = b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!(
        "From: leads@provider.example\r\nTo: leads@northside.example\r\nSubject: Lead\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>You have a new lead.</p>\r\n--b1\r\nContent-Type: application/xml; name=\"lead.xml\"\r\nContent-Disposition: attachment; filename=\"lead.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        lines.join("\r\n")
    )
}

/// SES's notification of a mail to `recipients` (the SNS action's shape).
fn notification(message_id: &str, recipients: &[&str], content: &str) -> String {
    json!({
        "notificationType": "Received",
        "receipt": {
            "timestamp": "2026-11-24T15:13:01.112Z", "processingTimeMillis": 402, "recipients": recipients,
            "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "PASS"}, "dkimVerdict": {"status": "PASS"}, "dmarcVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": "arn:aws:sns:us-east-1:123456789012:lead-email", "encoding": "UTF8"}
        },
        "mail": {
            "timestamp": "2026-11-24T15:13:00.710Z", "source": "leads@gm-leads.example", "messageId": message_id,
            "destination": ["leads@northside.example"], "headersTruncated": false,
            "headers": [{"name": "Subject", "value": "New ADF lead"}],
            "commonHeaders": {"from": ["Chevrolet.com Leads <leads@gm-leads.example>"], "to": ["leads@northside.example"],
                              "messageId": "<lead-448812@gm-leads.example>", "subject": "New ADF lead"}
        },
        "content": content
    })
    .to_string()
}

#[test]
fn an_oem_lead_reads_names_by_part_the_mobile_first_the_cdata_comment_and_the_vehicle() {
    let lead = adf::from_mime(&plain_mail(OEM)).unwrap();
    assert_eq!((lead.id.as_deref(), lead.source.as_deref()), (Some("CHV-2026-448812"), Some("chevrolet.com")));
    assert_eq!((lead.first_name.as_deref(), lead.last_name.as_deref()), (Some("Priya"), Some("Raman")));
    assert_eq!(lead.phones, ["512-555-0156", "(512) 555-0155"], "the cell phone first, the fax never");
    assert_eq!(lead.email.as_deref(), Some("priya.raman@example.com"));
    assert!(lead.comments.as_deref().unwrap().contains("test drive Saturday & a quote <out the door>"));
    let v = lead.vehicle.clone().unwrap();
    assert_eq!(v.describe().as_deref(), Some("2026 Chevrolet Equinox"));
    assert_eq!(
        (v.interest.as_deref(), v.status.as_deref(), v.stock.as_deref()),
        (Some("buy"), Some("new"), Some("N26114"))
    );
    assert_eq!(lead.provider.as_deref(), Some("Chevrolet.com"));
    assert_eq!(lead.requested_at, Some(at("2026-11-24T15:12:45Z")));
    // The same lead as an attachment reads the same.
    assert_eq!(adf::from_mime(&attached_mail(OEM)).unwrap(), lead);
}

#[test]
fn a_third_party_lead_in_upper_case_with_a_full_name_and_missing_parts_reads() {
    let lead = adf::from_mime(&plain_mail(THIRD_PARTY)).unwrap();
    assert_eq!((lead.first_name.as_deref(), lead.last_name.as_deref()), (Some("Tom"), Some("Becker")));
    assert_eq!(lead.phones, ["5125550166"]);
    assert_eq!((lead.id, lead.email, lead.comments, lead.provider), (None, None, None, None));
    assert_eq!(lead.vehicle.unwrap().describe().as_deref(), Some("2021 Ford F-150"));
}

#[test]
fn mail_without_a_lead_is_refused_with_a_reason() {
    assert_eq!(adf::from_mime(&plain_mail("Hello, call me")), Err(adf::AdfError::NoAdf));
    assert!(matches!(adf::from_mime(&plain_mail("<adf><prospect><id>1</prospect></adf>")), Err(adf::AdfError::Xml(_))));
    assert_eq!(adf::from_mime(&plain_mail("<adf><note/></adf>")), Err(adf::AdfError::NoProspect));
    let err = ses::Notification::parse(r#"{"notificationType":"Bounce","mail":{"messageId":"x","timestamp":"2026-11-24T15:13:00Z"},"receipt":{"recipients":[]}}"#).unwrap_err();
    assert!(err.contains("Bounce"), "{err}");
    let no_content = notification("m-1", &["leads@northside.example"], "x").replace(r#""content":"x""#, r#""other":1"#);
    assert!(ses::Notification::parse(&no_content).unwrap_err().contains("SNS"));
}

/// XML's ways to make a parser read a file or grow without end: a document
/// type that declares entities (billion laughs, an external file) is never
/// read; a plain `<!DOCTYPE adf>` line, as some providers write, is passed
/// over; a document of more than [`adf::MAX_NODES`] nodes is refused.
#[test]
fn a_document_type_with_declarations_or_a_flood_of_nodes_is_never_read() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE adf [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<adf><prospect><customer><contact><name part="first">&b;</name><phone>512-555-0156</phone></contact></customer></prospect></adf>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE adf [<!ENTITY x SYSTEM "file:///etc/passwd">]><adf><prospect><id>&x;</id></prospect></adf>"#;
    for hostile in [laughs, external] {
        assert!(matches!(adf::from_mime(&plain_mail(hostile)), Err(adf::AdfError::Xml(_))), "{hostile}");
    }
    let plain = OEM.replacen("<adf>", "<!DOCTYPE adf SYSTEM \"adf.dtd\">\n<adf>", 1);
    assert!(plain.contains("<!DOCTYPE adf SYSTEM"));
    assert_eq!(adf::from_mime(&plain_mail(&plain)).unwrap(), adf::from_mime(&plain_mail(OEM)).unwrap());
    let flood = format!("<adf><prospect>{}</prospect></adf>", "<x/>".repeat(adf::MAX_NODES as usize));
    assert!(matches!(adf::parse(&flood), Err(adf::AdfError::Xml(_))));
}

/// Northside, taking leads from the OEM's lead domain.
fn listing() -> StoreConfig {
    let mut store = northside();
    store.lead_senders = vec!["gm-leads.example".into()];
    store
}

fn decided(at_: &str) -> (ses::Notification, Change) {
    let mail =
        ses::Notification::parse(&notification("o3rpl8", &["leads@northside.example"], &plain_mail(OEM))).unwrap();
    let lead = adf::from_mime(mail.content()).unwrap();
    let phone = lead.phones.iter().find_map(|p| Phone::parse(p).ok()).unwrap();
    let who = CustomerId::new("northside-chevy", phone);
    let change = decide(&listing(), &mail, &lead, &who, &CustomerState::default(), 0, at(at_));
    (mail, change)
}

#[test]
fn a_lead_is_texted_at_once_and_sales_gets_a_task_due_in_fifteen_minutes() {
    // Tuesday 09:13 Chicago: open.
    let (_, change) = decided("2026-11-24T15:13:05Z");
    let Some(Plan::Send(text)) = change.plan() else { panic!("a text now: {:?}", change.plan()) };
    assert_eq!(text.class, MessageClass::Reply);
    assert_eq!(text.phone, customer("+15125550156").phone);
    for part in ["Priya", "Northside Chevrolet", "2026 Chevrolet Equinox", "sales team", "next few minutes"] {
        assert!(text.body.contains(part), "{part:?} missing from {}", text.body);
    }
    let r = &change.records[0];
    let task = &r.tasks[0];
    assert_eq!((task.kind, task.owner.as_str()), (TaskKind::Lead, "bdc-sales"));
    assert_eq!(task.due_at, at("2026-11-24T15:28:05Z"));
    assert!(task.note.contains("test drive Saturday"), "{}", task.note);
    let profile = &r.profile.as_ref().unwrap().0;
    assert_eq!(profile.first_name.as_deref(), Some("Priya"));
    assert_eq!(profile.leads[0].provider.as_deref(), Some("Chevrolet.com"));
    assert_eq!(change.facts[0].kind, FactKind::LeadReceived);
    assert_eq!(change.natural_keys, ["lead#northside-chevy#chevrolet.com#CHV-2026-448812"]);
    assert_eq!(change.event_id, "lead#o3rpl8");
    let slot = change.lead_slot.as_ref().expect("the hour's first lead text slot");
    assert_eq!((slot.hour.as_str(), slot.slot), ("2026-11-24T15", 0));
}

#[test]
fn a_lead_at_night_says_when_sales_will_call_and_its_task_is_due_after_opening() {
    // Monday 22:00 Chicago: closed until Tuesday 07:00.
    let (_, change) = decided("2026-11-24T04:00:00Z");
    let Some(Plan::Send(text)) = change.plan() else { panic!("a reply goes at once: {:?}", change.plan()) };
    assert!(text.body.contains("when we open Tuesday at 7:00 AM"), "{}", text.body);
    assert_eq!(change.records[0].tasks[0].due_at, at("2026-11-24T13:15:00Z"), "07:15 Tuesday");
}

#[test]
fn a_lead_without_a_phone_gets_the_task_alone_on_a_record_keyed_by_its_email() {
    let adf = OEM.lines().filter(|l| !l.contains("<phone")).collect::<Vec<_>>().join("\n");
    let mail = ses::Notification::parse(&notification("m-2", &["leads@northside.example"], &plain_mail(&adf))).unwrap();
    let lead = adf::from_mime(mail.content()).unwrap();
    assert!(lead.phones.is_empty());
    let key = Phone::of_email(lead.email.as_deref().unwrap()).unwrap();
    assert_eq!(key.email(), Some("priya.raman@example.com"));
    assert_eq!(key.masked(), "p***@example.com", "never the address in a log");
    let who = CustomerId::new("northside-chevy", key);
    let change = decide(&listing(), &mail, &lead, &who, &CustomerState::default(), 0, at("2026-11-24T15:13:05Z"));
    assert!(change.plan().is_none(), "nothing to text");
    let r = &change.records[0];
    assert_eq!(r.tasks[0].kind, TaskKind::Lead);
    assert_eq!(r.profile.as_ref().unwrap().0.email.as_deref(), Some("priya.raman@example.com"));
    assert!(r.touchpoints.iter().any(|t| t.kind == "lead.no_phone"));
    assert_eq!(change.facts[0].kind, FactKind::LeadReceived);
}

#[test]
fn a_base64_notification_and_an_escaped_html_body_read_the_same_lead() {
    use base64::Engine;
    let expected = adf::from_mime(&plain_mail(OEM)).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(plain_mail(OEM));
    assert_eq!(adf::from_mime(&b64).unwrap(), expected, "the SNS action's Base64 encoding");
    let escaped = OEM.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!(
        "From: leads@provider.example\r\nTo: leads@northside.example\r\nSubject: Lead\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<html><body><pre>{escaped}</pre></body></html>\r\n"
    );
    let lead = adf::from_mime(&html).unwrap();
    assert_eq!((lead.first_name, lead.phones), (expected.first_name, expected.phones));
}

// What a stranger can do with a store's lead address (CONTRACT sections 3, 4).

/// A notification of `content` whose receipt says `verdicts` (spam, virus,
/// spf, dmarc), from `from` (the From header) by `source` (the envelope).
fn mail_with(verdicts: [&str; 4], from: &str, source: &str, content: &str) -> ses::Notification {
    let mut n: serde_json::Value =
        serde_json::from_str(&notification("evil-1", &["leads@northside.example"], content)).unwrap();
    for (name, status) in ["spamVerdict", "virusVerdict", "spfVerdict", "dmarcVerdict"].iter().zip(verdicts) {
        n["receipt"][name] = json!({ "status": status });
    }
    n["mail"]["commonHeaders"]["from"] = json!([from]);
    n["mail"]["source"] = json!(source);
    ses::Notification::parse(&n.to_string()).unwrap()
}

fn decide_mail(store: &StoreConfig, mail: &ses::Notification, state: &CustomerState, taken: u32) -> Change {
    let lead = adf::from_mime(mail.content()).unwrap();
    let phone = lead.phones.iter().find_map(|p| Phone::parse(p).ok()).unwrap();
    decide(store, mail, &lead, &CustomerId::new("northside-chevy", phone), state, taken, at("2026-11-24T15:13:05Z"))
}

const GM: &str = "Chevrolet.com Leads <leads@gm-leads.example>";
const PASS: [&str; 4] = ["PASS", "PASS", "PASS", "PASS"];

/// Nothing texted, the task kept, the reason on the timeline.
fn assert_task_alone(change: &Change, why: &str) {
    assert!(change.plan().is_none(), "no text: {:?}", change.plan());
    assert!(change.lead_slot.is_none());
    let r = &change.records[0];
    assert_eq!(r.tasks[0].kind, TaskKind::Lead, "every lead keeps its task");
    let withheld = r.touchpoints.iter().find(|t| t.kind == "text.withheld").expect("the reason on the timeline");
    assert!(withheld.summary.contains(why), "{}", withheld.summary);
    assert!(!r.profile.as_ref().unwrap().0.leads.last().unwrap().texted);
}

#[test]
fn only_a_clean_lead_from_an_authenticated_listed_sender_is_texted() {
    let content = plain_mail(OEM);
    // DMARC for the From domain, or SPF for the envelope sender's.
    assert!(decide_mail(&listing(), &mail_with(PASS, GM, "bounce@gm-leads.example", &content), &Default::default(), 0)
        .plan()
        .is_some());
    let spf_only =
        mail_with(["PASS", "PASS", "PASS", "FAIL"], "x@elsewhere.example", "b@mail.gm-leads.example", &content);
    assert!(decide_mail(&listing(), &spf_only, &Default::default(), 0).plan().is_some(), "a subdomain of a listed one");
    let dmarc_only = mail_with(["PASS", "PASS", "FAIL", "PASS"], GM, "bounce@esp.example", &content);
    assert!(decide_mail(&listing(), &dmarc_only, &Default::default(), 0).plan().is_some());

    for (verdicts, from, source, why) in [
        (["FAIL", "PASS", "PASS", "PASS"], GM, "leads@gm-leads.example", "spam or virus"),
        (["PASS", "FAIL", "PASS", "PASS"], GM, "leads@gm-leads.example", "spam or virus"),
        (["GRAY", "PASS", "PASS", "PASS"], GM, "leads@gm-leads.example", "spam or virus"),
        // The From header says the OEM, but nothing authenticates it.
        (["PASS", "PASS", "FAIL", "FAIL"], GM, "leads@gm-leads.example", "not authenticated"),
        // SPF passes for the stranger's own domain, which is not listed.
        (["PASS", "PASS", "PASS", "FAIL"], GM, "me@attacker.example", "not on the store's lead_senders"),
        (["PASS", "PASS", "PASS", "PASS"], "x@gm-leads.example.attacker.example", "a@attacker.example", "not on"),
    ] {
        let mail = mail_with(verdicts, from, source, &content);
        let change = decide_mail(&listing(), &mail, &Default::default(), 0);
        assert_task_alone(&change, why);
        assert!(change.natural_keys.is_empty(), "a stranger's mail never claims the provider's lead id");
    }
    // A store that lists no sender texts no lead.
    let change =
        decide_mail(&northside(), &mail_with(PASS, GM, "leads@gm-leads.example", &content), &Default::default(), 0);
    assert_task_alone(&change, "not on the store's lead_senders");
}

#[test]
fn a_forged_copy_of_a_providers_lead_cannot_make_the_real_one_a_duplicate() {
    let forged = mail_with(["PASS", "PASS", "FAIL", "FAIL"], GM, "x@attacker.example", &plain_mail(OEM));
    assert!(decide_mail(&listing(), &forged, &Default::default(), 0).natural_keys.is_empty());
    let real = decide_mail(
        &listing(),
        &mail_with(PASS, GM, "leads@gm-leads.example", &plain_mail(OEM)),
        &Default::default(),
        0,
    );
    assert_eq!(real.natural_keys, ["lead#northside-chevy#chevrolet.com#CHV-2026-448812"]);
}

#[test]
fn one_lead_text_per_number_a_day_and_the_stores_hourly_lead_texts() {
    let mail = mail_with(PASS, GM, "leads@gm-leads.example", &plain_mail(OEM));
    let first = decide_mail(&listing(), &mail, &Default::default(), 0);
    assert!(first.plan().is_some());
    // The next lead for that number within 24 hours: the task alone.
    let state = custops::fixtures::state_after(&first);
    let second = decide_mail(&listing(), &mail, &state, 1);
    assert_task_alone(&second, "last 24 hours");
    // A day later it is texted again.
    let lead = adf::from_mime(mail.content()).unwrap();
    let who = customer("+15125550156");
    let later = decide(&listing(), &mail, &lead, &who, &state, 1, at("2026-11-25T15:13:06Z"));
    assert!(later.plan().is_some(), "24 hours on");

    // The store's hour: 20 by default, then tasks alone.
    let full = decide_mail(&listing(), &mail, &Default::default(), 20);
    assert_task_alone(&full, "20 lead texts of this hour are spent");
    let mut store = listing();
    store.lead_texts_per_hour = 5;
    let slot = decide_mail(&store, &mail, &Default::default(), 4).lead_slot.expect("the hour's last slot");
    assert_eq!(slot.slot, 4);
    assert_task_alone(&decide_mail(&store, &mail, &Default::default(), 5), "5 lead texts");
}

#[test]
fn a_number_abroad_or_of_another_plan_is_never_texted() {
    for number in ["+44 7911 123456", "+1 876 927 1234"] {
        let adf = OEM.replace("512-555-0156", number);
        let mail = mail_with(PASS, GM, "leads@gm-leads.example", &plain_mail(&adf));
        assert_task_alone(&decide_mail(&listing(), &mail, &Default::default(), 0), "not of the store's own country");
    }
}

#[test]
fn a_leads_words_reach_a_text_only_as_a_short_name_and_a_plain_vehicle() {
    let phish = "Your payment failed, pay at https://evil.example/pay now or your order is cancelled".repeat(12);
    let adf = OEM.replace(">Priya<", &format!(">{phish}<")).replace(">Equinox<", ">Equinox see www.evil.example<");
    let mail = mail_with(PASS, GM, "leads@gm-leads.example", &plain_mail(&adf));
    let change = decide_mail(&listing(), &mail, &Default::default(), 0);
    let Some(Plan::Send(text)) = change.plan() else { panic!("a trusted lead is texted: {:?}", change.plan()) };
    assert!(text.body.starts_with("Hi there,"), "{}", text.body);
    assert!(text.body.contains("the vehicle you asked about"), "{}", text.body);
    for bad in ["http", "evil", "payment", "www"] {
        assert!(!text.body.contains(bad), "{bad:?} in {}", text.body);
    }
    assert_eq!(change.records[0].profile.as_ref().unwrap().0.first_name, None, "the record keeps no such name");

    assert_eq!(textable_name(Some("  Mary-Jo  O'Neil ")).as_deref(), Some("Mary-Jo O'Neil"));
    assert_eq!(textable_name(Some("José")).as_deref(), Some("José"));
    for bad in ["", "a".repeat(31).as_str(), "Bob2", "Bob.", "-Bob", "click evil.example", "Bob <b>"] {
        assert_eq!(textable_name(Some(bad)), None, "{bad:?}");
    }
    let v = |model: &str| adf::Interest {
        year: Some("2026".into()),
        make: Some("Chevrolet".into()),
        model: Some(model.into()),
        ..Default::default()
    };
    assert_eq!(textable_vehicle(&v("Silverado 1500 LT-Z71")).as_deref(), Some("2026 Chevrolet Silverado 1500 LT-Z71"));
    for bad in
        ["Equinox evil.example", "Equinox http://x", "Equinox www", "Equinox Equinox Equinox Equinox", "Bolt/EUV"]
    {
        assert_eq!(textable_vehicle(&v(bad)), None, "{bad:?}");
    }
}
