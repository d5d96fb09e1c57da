//! What the pages show: the records as a person reads them (times in the
//! store's zone, kinds in words), rendered by askama, which escapes
//! everything a customer wrote.

use askama::Template;
use chrono::{DateTime, Utc};
use custops::model::{Customer, Task, TaskKind, TaskOutcome};
use custops::staff::Staff;
use custops::{CustomerId, StoreConfig};

/// The header of every signed-in page.
pub struct Nav {
    pub email: String,
    pub stores: String,
    /// Manager of at least one of their stores (the "All tasks" link).
    pub manager: bool,
    pub csrf: String,
}

impl Nav {
    pub(crate) fn of(user: &Staff, session_id: &str) -> Self {
        Self {
            email: user.email.clone(),
            stores: user.stores().join(", "),
            manager: user.manager_anywhere(),
            csrf: crate::session::csrf(session_id),
        }
    }
}

pub(crate) fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "sent" => "Sent.",
        "queued" => "Written: it goes out when the store's texting window opens.",
        "unknown" => "Sent, but the carrier's answer was lost: check the texts before sending again.",
        "done" => "Task closed.",
        "assigned" => "Task assigned.",
        "closed" => "That task was closed already.",
        "mfa" => "Authenticator app set up: every sign-in asks for its code.",
        "linked" => "Linked: one household. Each keeps their own consent and texts.",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct Message<'a> {
    pub(crate) title: &'a str,
    pub(crate) text: &'a str,
}

#[derive(Template)]
#[template(path = "tasks.html")]
pub(crate) struct TasksPage<'a> {
    pub(crate) nav: &'a Nav,
    pub(crate) heading: &'a str,
    pub(crate) tasks: Vec<TaskView>,
    pub(crate) multi_store: bool,
    pub(crate) notice: Option<String>,
}

#[derive(Template)]
#[template(path = "customer.html")]
pub(crate) struct CustomerPage<'a> {
    pub(crate) nav: &'a Nav,
    pub(crate) c: CustomerView,
    pub(crate) notice: Option<String>,
    pub(crate) failed: bool,
    pub(crate) form_id: String,
}

/// `GET /app/caller?number=N`: who is calling, before anyone says hello
/// (section 14). It creates nothing.
#[derive(Template)]
#[template(path = "caller.html")]
pub(crate) struct CallerPage<'a> {
    pub(crate) nav: &'a Nav,
    /// The number as a person reads it (E.164).
    pub(crate) number: String,
    /// The user's stores, by name (what "new caller" was looked up at).
    pub(crate) stores: String,
    pub(crate) found: CallerFound,
}

/// What the caller's number is at the user's stores.
pub(crate) enum CallerFound {
    New,
    /// (store name, customer name, the record's link).
    Several(Vec<(String, String, String)>),
    One(Box<CustomerView>),
}

/// A customer's name as a person reads it.
pub(crate) fn name_of(c: Option<&Customer>) -> String {
    c.and_then(Customer::full_name).unwrap_or_else(|| "Unknown customer".to_owned())
}

/// A time in the store's zone.
pub(crate) fn local(store: &StoreConfig, t: DateTime<Utc>) -> String {
    store.local(t).format("%a %-d %b %-I:%M %p %Z").to_string()
}

pub(crate) fn words(kind: impl serde::Serialize) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
}

/// One task as a list shows it.
pub(crate) struct TaskView {
    pub(crate) task_id: String,
    pub(crate) store_id: String,
    pub(crate) kind: String,
    pub(crate) overdue: bool,
    pub(crate) escalated: bool,
    pub(crate) due_at: DateTime<Utc>,
    pub(crate) due: String,
    pub(crate) name: String,
    pub(crate) phone: String,
    pub(crate) link: String,
    pub(crate) note: String,
    pub(crate) owner: String,
    /// The outcomes the task can be closed with: (value, label).
    pub(crate) outcomes: Vec<(&'static str, String)>,
}

/// The outcomes a task of `kind` can be closed with: every task's four, and
/// for service due and maturity what ends that work (`done_elsewhere`, `sold`).
fn outcomes(kind: TaskKind) -> Vec<(&'static str, String)> {
    TaskOutcome::ALL
        .into_iter()
        .filter(|o| match o {
            TaskOutcome::DoneElsewhere => kind == TaskKind::ServiceDue,
            TaskOutcome::Sold => matches!(kind, TaskKind::ServiceDue | TaskKind::Maturity),
            _ => true,
        })
        .map(|o| (o.as_str(), words(o)))
        .collect()
}

impl TaskView {
    pub(crate) fn of(store: &StoreConfig, t: &Task, name: Option<String>, now: DateTime<Utc>) -> Self {
        Self {
            task_id: t.task_id.clone(),
            store_id: t.store_id.clone(),
            kind: words(t.kind),
            overdue: t.due_at < now,
            escalated: t.escalated_at.is_some(),
            due_at: t.due_at,
            due: local(store, t.due_at),
            name: name.unwrap_or_else(|| name_of(None)),
            phone: t.phone.e164().to_owned(),
            link: customer_link(t),
            note: t.note.clone(),
            owner: t.owner.clone(),
            outcomes: outcomes(t.kind),
        }
    }
}

/// The page of a task's customer.
pub(crate) fn customer_link(t: &Task) -> String {
    format!("/app/customers/{}?store={}", t.phone.e164(), t.store_id)
}

/// One message of the conversation.
pub(crate) struct MessageView {
    pub(crate) at_utc: DateTime<Utc>,
    pub(crate) at: String,
    /// `in` (the customer) or `out` (the store).
    pub(crate) side: &'static str,
    pub(crate) who: String,
    pub(crate) body: String,
    pub(crate) state: String,
}

/// The customer's record as the page shows it.
pub(crate) struct CustomerView {
    /// The first screen of a call (section 14): what they bought and when,
    /// the next appointment, consent, what is due, the household.
    glance: Vec<(String, String)>,
    store_id: String,
    store_name: String,
    phone: String,
    name: String,
    opted_out: bool,
    class: String,
    profile: Vec<(String, String)>,
    repair_orders: Vec<String>,
    declined: Vec<String>,
    consent: String,
    consent_history: Vec<(String, String)>,
    thread: Vec<MessageView>,
    tasks: Vec<TaskView>,
    timeline: Vec<(String, String, String)>,
}

impl CustomerView {
    /// `household`: the other members' records as they are now (section
    /// 14: their vehicles, what each has open and due), as far as read.
    pub(crate) fn of(
        store: &StoreConfig,
        customer: &CustomerId,
        t: &custops::table::Timeline,
        household: &[(CustomerId, custops::model::CustomerState)],
        now: DateTime<Utc>,
    ) -> Self {
        let s = &t.state;
        let c = s.profile.as_ref();
        let name = name_of(c);
        let mut profile =
            vec![("Name".to_owned(), name.clone()), ("Phone".to_owned(), customer.phone.e164().to_owned())];
        if let Some(c) = c {
            if let Some(e) = &c.email {
                profile.push(("Email".into(), e.clone()));
            }
            if let Some(d) = &c.dms_id {
                profile.push(("DMS id".into(), d.clone()));
            }
            profile.push(("Since".into(), words(c.origin)));
            if let Some(v) = c.last_visit_at {
                profile.push(("Last visit".into(), local(store, v)));
            }
            for v in &c.vehicles {
                profile.push(("Vehicle".into(), format!("{} (VIN {})", v.describe(), v.vin)));
            }
            for p in &c.purchases {
                profile.push(("Purchase".into(), purchase(store, p)));
            }
        }
        let today = store.local(now).date_naive();
        profile.extend(due(s, today).into_iter().map(|d| ("Due".to_owned(), d)));
        // Section 14: who else is of the household (each their own record,
        // consent and texts), their vehicles, what each has open and due.
        for m in &s.household {
            let how = match &m.linked {
                custops::model::LinkedBy::CoBuyer { deal_id } => format!("co-buyer of deal {deal_id}"),
                custops::model::LinkedBy::Person { .. } => "linked by staff".to_owned(),
            };
            let mut row = format!("{} ({}), {how}", m.name(), m.member.e164());
            if let Some((_, other)) = household.iter().find(|(id, _)| id.phone == m.member) {
                let vehicles: Vec<String> =
                    other.profile.iter().flat_map(|p| &p.vehicles).map(|v| v.describe()).collect();
                if !vehicles.is_empty() {
                    row.push_str(&format!("; drives {}", vehicles.join(", ")));
                }
                let open: Vec<String> = other.tasks.iter().filter(|t| t.is_open()).map(|t| words(t.kind)).collect();
                if !open.is_empty() {
                    row.push_str(&format!("; open: {}", open.join(", ")));
                }
                let due = due(other, today);
                if !due.is_empty() {
                    row.push_str(&format!("; due: {}", due.join("; ")));
                }
            }
            profile.push(("Household".into(), row));
        }
        let mut repair_orders: Vec<_> = s.repair_orders.iter().collect();
        repair_orders.sort_by_key(|r| std::cmp::Reverse(r.status_at));
        let repair_orders = repair_orders
            .iter()
            .map(|r| {
                format!(
                    "{}: {} ({}), advisor {}, {}",
                    r.ro_number,
                    r.status.replace('_', " "),
                    r.vehicle.describe(),
                    r.advisor.name,
                    local(store, r.closed_at.unwrap_or(r.status_at))
                )
            })
            .collect();
        let declined = s
            .declined
            .iter()
            .filter(|l| l.is_open())
            .map(|l| {
                format!(
                    "{} on {}: {} ({})",
                    custops::text::dollars(l.estimate_cents),
                    l.ro_number,
                    l.description,
                    l.op_code
                )
            })
            .collect();
        let consent = if s.consent.opted_out() {
            "Opted out of texts from the store.".to_owned()
        } else {
            match (&s.consent.marketing, &s.consent.marketing_paused) {
                (_, Some(_)) => "May be texted; marketing paused until a person closes the reply.".to_owned(),
                (Some(m), None) if m.granted => format!("May be texted; marketing consent from {}.", m.source),
                _ => "May be texted; no marketing consent.".to_owned(),
            }
        };
        let consent_history = s
            .consent
            .history
            .iter()
            .map(|h| (local(store, h.at), format!("{} ({})", h.change.replace('_', " "), h.source)))
            .collect();
        let mut thread: Vec<MessageView> = t
            .touchpoints
            .iter()
            .filter(|tp| tp.kind == "sms.received")
            .map(|tp| MessageView {
                at_utc: tp.at,
                at: local(store, tp.at),
                side: "in",
                who: name.clone(),
                body: tp.summary.clone(),
                state: String::new(),
            })
            .collect();
        thread.extend(t.texts.iter().map(|x| MessageView {
            at_utc: x.sent_at.unwrap_or(x.created_at),
            at: local(store, x.sent_at.unwrap_or(x.created_at)),
            side: "out",
            who: x.sent_by.clone().unwrap_or_else(|| format!("{} (automatic)", store.name)),
            body: x.body.clone(),
            state: x.state.as_str().replace('_', " "),
        }));
        thread.sort_by_key(|m| m.at_utc);
        let mut tasks: Vec<TaskView> = s
            .tasks
            .iter()
            .filter(|t| t.is_open())
            .map(|task| TaskView::of(store, task, Some(name.clone()), now))
            .collect();
        tasks.sort_by_key(|t| t.due_at);
        let timeline =
            t.touchpoints.iter().map(|tp| (local(store, tp.at), tp.kind.clone(), tp.summary.clone())).collect();
        let glance = glance(store, s, &profile, &consent, now);
        Self {
            glance,
            store_id: store.store_id.clone(),
            store_name: store.name.clone(),
            phone: customer.phone.e164().to_owned(),
            name,
            opted_out: s.consent.opted_out(),
            class: words(crate::reply::class_of(s, now)),
            profile,
            repair_orders,
            declined,
            consent,
            consent_history,
            thread,
            tasks,
            timeline,
        }
    }
}

/// The caller page's first screen of a customer (section 14), as rows: what
/// `custops demo` prints of it.
pub fn first_screen(
    store: &StoreConfig,
    customer: &CustomerId,
    t: &custops::table::Timeline,
    household: &[(CustomerId, custops::model::CustomerState)],
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    CustomerView::of(store, customer, t, household, now).glance
}

/// The first screen of a call: what they bought and when, the last visit,
/// the next appointment, what is due, consent and the household (the
/// profile's rows of those, in that order).
fn glance(
    store: &StoreConfig,
    s: &custops::model::CustomerState,
    profile: &[(String, String)],
    consent: &str,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let rows = |key: &'static str| profile.iter().filter(move |(k, _)| k == key).cloned();
    let mut glance: Vec<(String, String)> = rows("Purchase").collect();
    if glance.is_empty() {
        glance.push(("Purchase".into(), "nothing bought here yet".into()));
    }
    glance.extend(rows("Last visit"));
    let next = s
        .bookings
        .iter()
        .filter(|b| b.status == custops::model::BookingStatus::Open && b.at >= now)
        .min_by_key(|b| b.at);
    let appointment = next.map_or_else(
        || "none booked".to_owned(),
        |b| format!("{}{}", local(store, b.at), b.vehicle.as_deref().map(|v| format!(", {v}")).unwrap_or_default()),
    );
    glance.push(("Next appointment".into(), appointment));
    glance.extend(rows("Due"));
    glance.push(("Consent".into(), consent.to_owned()));
    glance.extend(rows("Household"));
    glance
}

/// What is due on a record's vehicles (section 14): the next service (the
/// estimated odometer then), a lease or a loan's maturity.
pub(crate) fn due(s: &custops::model::CustomerState, today: chrono::NaiveDate) -> Vec<String> {
    s.vehicles.iter().flat_map(|v| v.what_is_due(today)).collect()
}

pub(crate) fn purchase(store: &StoreConfig, p: &custops::model::Purchase) -> String {
    let bought = format!("{} on {}", p.vehicle.describe(), local(store, p.delivered_at));
    match p.unwound_at {
        Some(at) => format!("{bought}, unwound {}", local(store, at)),
        None => bought,
    }
}
