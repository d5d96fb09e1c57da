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

fn decided(at_: &str) -> (ses::Notification, Change) {
    let mail =
        ses::Notification::parse(&notification("o3rpl8", &["leads@northside.example"], &plain_mail(OEM))).unwrap();
    let lead = adf::from_mime(mail.content()).unwrap();
    let phone = lead.phones.iter().find_map(|p| Phone::parse(p).ok()).unwrap();
    let who = CustomerId::new("northside-chevy", phone);
    let change = decide(&northside(), &mail, &lead, &who, &CustomerState::default(), at(at_));
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
    let change = decide(&northside(), &mail, &lead, &who, &CustomerState::default(), at("2026-11-24T15:13:05Z"));
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
