//! The pages, rendered from records as the table holds them: what a person
//! sees, and that nothing a customer wrote becomes markup.

use super::*;
use crate::views::{CustomerPage, CustomerView, TaskView, TasksPage};
use chrono::{DateTime, Utc};
use custops::model::{Customer, Task, TaskKind, Touchpoint};
use custops::store::Department;
use custops::CustomerId;

fn at(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

fn nav() -> Nav {
    Nav { email: "ana@northside.example".into(), stores: "northside-chevy".into(), manager: true, csrf: "c".repeat(32) }
}

fn maria() -> CustomerId {
    CustomerId::new("northside-chevy", Phone::parse("+15125550142").unwrap())
}

fn hostile_timeline() -> custops::table::Timeline {
    let now = at("2026-11-24T16:00:00Z");
    let mut profile = Customer::lead("northside-chevy", maria().phone, now);
    profile.first_name = Some("<b>Maria</b>".into());
    let task = Task::open(&maria(), TaskKind::ReplySms, "reply-1", ("bdc".into(), Department::Main), now, now)
        .note("answer the customer's text");
    let mut t = custops::table::Timeline::default();
    t.state.profile = Some(profile);
    t.state.tasks.push(task);
    t.touchpoints.push(Touchpoint::of_event(now, "sms#1", "sms.received", "<script>alert(1)</script>".into()));
    t
}

#[test]
fn a_customers_script_is_shown_as_text_never_run() {
    let store = custops::fixtures::northside();
    let view = CustomerView::of(&store, &maria(), &hostile_timeline(), &[], at("2026-11-24T17:00:00Z"));
    let html =
        CustomerPage { nav: &nav(), c: view, notice: None, failed: false, form_id: "f".into() }.render().unwrap();
    assert!(!html.contains("<script>alert(1)</script>"), "escaped");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || html.contains("&lt;script&gt;"),
        "shown as text"
    );
    assert!(!html.contains("<b>Maria</b>"));
    assert!(html.contains(r#"name="csrf" value="cccccccccccccccccccccccccccccccc""#), "every form carries the token");
    assert!(html.contains(r#"action="/app/customers/+15125550142/reply""#));
}

#[test]
fn the_task_list_marks_overdue_and_escalated_and_shows_the_stores_time() {
    let store = custops::fixtures::northside();
    let due = at("2026-11-24T16:15:00Z");
    let mut task = Task::open(&maria(), TaskKind::ReplySms, "reply-1", ("bdc".into(), Department::Main), due, due);
    task.escalated_at = Some(at("2026-11-24T16:20:00Z"));
    let view = TaskView::of(&store, &task, Some("Maria Garcia".into()), at("2026-11-24T17:00:00Z"));
    assert!(view.overdue && view.escalated);
    assert_eq!(view.due, "Tue 24 Nov 10:15 AM CST");
    let nav = nav();
    let html = TasksPage { nav: &nav, heading: "Your open tasks", tasks: vec![view], multi_store: false, notice: None }
        .render()
        .unwrap();
    for part in ["overdue", "escalated", "Maria Garcia", "/app/tasks/reply-1/done", "/app/tasks/reply-1/assign"] {
        assert!(html.contains(part), "{part}");
    }
}

#[test]
fn a_path_segment_keeps_its_plus_and_decodes_escapes() {
    assert_eq!(segment("+15125550142"), "+15125550142");
    assert_eq!(segment("%2B15125550142"), "+15125550142");
    assert_eq!(segment("reply-01J%20x"), "reply-01J x");
}

#[test]
fn every_answer_keeps_to_itself_and_https_adds_hsts_and_a_secure_cookie() {
    let https = harden(HookResponse::html(200, "<p>x</p>".into()), Transport::Https);
    let header = |r: &HookResponse, name: &str| {
        r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    assert_eq!(header(&https, "x-content-type-options"), "nosniff");
    assert_eq!(header(&https, "referrer-policy"), "no-referrer");
    assert!(header(&https, "strict-transport-security").starts_with("max-age=31536000"), "a year at least");
    let csp = header(&https, "content-security-policy");
    assert!(csp.contains("base-uri 'none'") && !csp.contains("script"), "{csp}");
    let plain = harden(HookResponse::html(200, "<p>x</p>".into()), Transport::PlainHttp);
    assert!(header(&plain, "strict-transport-security").is_empty(), "no HSTS on local plain HTTP");
    let id = session::new_id().unwrap();
    assert!(session::set_cookie(&id, 60, Transport::Https).contains("; Secure"));
    assert!(!session::set_cookie(&id, 60, Transport::PlainHttp).contains("Secure"));
}

#[test]
fn a_log_line_never_carries_a_customers_mail_address_or_number() {
    let path = "/app/customers/mailto:priya.raman@example.com/reply";
    let line = redact(path);
    assert_eq!(line, "/app/customers/mailto:p***@example.com/reply");
    assert!(!redact("/app/customers/+15125550142/reply").contains("5125550142"));
    assert!(!redact_key("+15125550142").contains("5125550142"));
}
