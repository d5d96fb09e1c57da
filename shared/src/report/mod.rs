//! **The report room.** The GM's morning report: yesterday's dropped
//! handoffs and the revenue at risk, for one store-local day. May use: the
//! domain and the table's reads; it changes nothing.
//!
//! What it reads never grows with the customers: the day's facts (one small
//! item per event, under the store's day), the day's texts (the store's texts
//! feed, between the day's bounds), the tasks the day's facts point at (a
//! `BatchGetItem`), the store's open tasks and open declined work (sparse
//! indexes), and the DLQs' message counts. [`gather`] reads; [`build`] is
//! pure, so every number is unit-tested on it.

pub mod mail;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Fact, FactKind, Task, TaskKind, TaskOutcome, TaskStatus};
use crate::store::{Department, StoreConfig};
use crate::table::{Table, TableError};
use crate::text::{dollars, DeliveryStatus, OutboundText, TextState};

/// The share of unanswered callers who never call back (3 in 4).
pub const NEVER_CALL_BACK: (u64, u64) = (3, 4);

/// The report (`custops report --json`): the contract's fields, and more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub store_id: String,
    pub store_name: String,
    /// The store's time zone (IANA): every time a person reads is in it.
    #[serde(default)]
    pub timezone: String,
    pub date: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub missed_calls: MissedCalls,
    pub status_texts: StatusTexts,
    pub no_shows: NoShows,
    pub declined: Declined,
    pub win_back: WinBack,
    pub opt_outs: u64,
    /// Customers' texts that became tasks, and what people did with them.
    #[serde(default)]
    pub replies: Replies,
    /// New leads (ADF mail) and how fast a person reached them.
    #[serde(default)]
    pub leads: Leads,
    /// Appointment confirmations and reminders sent.
    #[serde(default)]
    pub appointments: Appointments,
    /// Post-visit checks asked and answered.
    #[serde(default)]
    pub post_visit: PostVisit,
    /// Section 14's work between the sale and the next sale.
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// Open tasks past due when the report was made, by owner (most first).
    pub overdue_tasks: Vec<OwnerOverdue>,
    pub texts: Texts,
    /// Messages waiting in the dead-letter queues.
    pub dead_letters: u64,
    /// `callbacks_open` x 0.75 x `avg_ro_cents` (rounded to a cent) + `declined.open_cents`.
    pub revenue_at_risk_cents: i64,
    /// The formula with the day's numbers.
    pub revenue_at_risk_formula: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MissedCalls {
    /// `call.missed` events of the day (duplicates excluded, repeat calls each counted).
    pub total: u64,
    /// Calls that got a text-back.
    pub texted_back: u64,
    /// Median seconds from the call to its text-back (none without a text-back).
    pub median_seconds_to_text: Option<f64>,
    /// Callback tasks created that day and still open.
    pub callbacks_open: u64,
    /// Callback tasks created that day and done.
    pub callbacks_done: u64,
    pub callbacks_done_on_time: u64,
    pub callbacks_done_late: u64,
    pub by_department: Vec<DepartmentCalls>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DepartmentCalls {
    pub department: String,
    pub total: u64,
    pub texted_back: u64,
    pub callbacks_open: u64,
    pub callbacks_done_late: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusTexts {
    /// Status texts (parts arrived, ready for pickup) created that day and sent.
    pub sent: u64,
    /// Of those created that day, the ones held for quiet hours or caps.
    pub deferred: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoShows {
    pub total: u64,
    /// Whose no-show task was closed as booked (an appointment booked since).
    pub rebooked: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Declined {
    /// Estimates of the lines declined on ROs closed that day.
    pub new_cents: i64,
    /// Estimates of every declined line of the store still open, as of the report.
    pub open_cents: i64,
    /// Estimates of the lines recovered that day.
    pub recovered_cents: i64,
    /// Follow-up steps that texted the customer that day.
    pub follow_ups_sent: u64,
    /// Follow-up steps that gave the advisor a task without a text.
    pub follow_ups_task_only: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WinBack {
    /// Lapsed customers texted.
    pub texted: u64,
    /// Win-back tasks given to the service owner (texted or not).
    pub tasks: u64,
    /// Customers contacted about a lapse who came back that day.
    pub came_back: u64,
}

/// The day's customer texts that became tasks (section 10).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replies {
    pub received: u64,
    /// Those a person answered (an answer sent, or the task closed).
    pub answered: u64,
    /// Those that waited past the store's `reply_sla_minutes` of open hours.
    pub escalated: u64,
    /// Median minutes from the text to its answer (none answered: null).
    pub median_minutes_to_answer: Option<f64>,
}

/// The day's new leads (section 7, new lead).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Leads {
    /// Leads that arrived that day (the same lead twice is one).
    pub received: u64,
    /// Of those, the ones whose customer got the text.
    pub texted: u64,
    /// Median minutes from a lead's arrival to the first answer by a person
    /// (a staff text, or its task closed), over that day's leads that have one.
    pub median_minutes_to_first_contact: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Appointments {
    /// Confirmations sent that day.
    pub confirmed: u64,
    /// Day-before reminders sent that day.
    pub reminded: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostVisit {
    /// Checks sent that day.
    pub asked: u64,
    /// Answers (1-5) received that day.
    pub answered: u64,
    /// The average of that day's answers (none: null).
    pub average: Option<f64>,
    /// Answers of 1 or 2 (each a `heat_case` task).
    pub heat_cases: u64,
}

/// What the work between one sale and the next did that day (section 14).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Delivery checks sent that day.
    pub delivery_checks_asked: u64,
    /// Answers (1-5) to delivery checks received that day.
    pub delivery_checks_answered: u64,
    /// Service-due texts sent that day.
    pub service_due_texts: u64,
    /// `service_due` tasks made that day.
    pub service_due_tasks: u64,
    /// `maturity` tasks made that day.
    pub maturity_tasks: u64,
}

/// The `dedupe_key` prefixes of the texts the report counts by kind.
pub const CONFIRMATION_KEY: &str = "appt-confirm#";
pub const REMINDER_KEY: &str = "appt-remind#";
pub const VISIT_CHECK_KEY: &str = "visit-check#";
pub const DELIVERY_CHECK_KEY: &str = "delivery-check#";
pub const SERVICE_DUE_KEY: &str = "service-due#";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Texts {
    pub sent: u64,
    pub segments: u64,
    /// The cost of the texts sent, in cents (rounded): the delivery
    /// receipts' prices where they came, the list price per segment elsewhere.
    pub est_cost_cents: u64,
    /// Texts sent that day whose delivery receipt says delivered.
    #[serde(default)]
    pub delivered: u64,
    /// Texts sent that day whose receipt says they did not arrive, and texts
    /// closed as failed that day (SNS refused every attempt): the customer
    /// never got them.
    pub failed: u64,
}

/// Who dropped what: an owner's open tasks past due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerOverdue {
    pub owner: String,
    pub count: u64,
    pub oldest_due_at: DateTime<Utc>,
    /// How many of each kind (`callback`: 2, ...).
    pub kinds: BTreeMap<String, u64>,
}

/// What a day's report is made from.
#[derive(Debug, Clone, Default)]
pub struct DayData {
    /// The day's facts.
    pub facts: Vec<Fact>,
    /// The texts created that store-local day or in the [`TEXT_LOOKBACK`]
    /// before it (a text written at 21:30 and sent at 08:00 counts on the day
    /// it went).
    pub texts: Vec<OutboundText>,
    /// The tasks the day's facts point at (callbacks, no-shows), as they are now.
    pub tasks: Vec<Task>,
    /// The store's open tasks due before the report is made (the overdue ones).
    pub open_tasks: Vec<Task>,
    /// The estimates of the store's open declined lines now, summed.
    pub open_declined_cents: i64,
    /// Messages waiting in the dead-letter queues.
    pub dead_letters: u64,
}

/// How long before a day a text sent that day may have been written: the
/// window and the recipient's state's hours hold one overnight (Saturday
/// 21:00 to Sunday noon in Texas), a cap at most a day.
pub const TEXT_LOOKBACK: Duration = Duration::days(3);

impl Report {
    /// `t` in the store's time zone, as `format` (strftime) writes it.
    pub fn local(&self, t: DateTime<Utc>, format: &str) -> String {
        match self.timezone.parse::<chrono_tz::Tz>() {
            Ok(tz) => t.with_timezone(&tz).format(format).to_string(),
            Err(_) => t.format(&format.replace("%Z", "UTC")).to_string(),
        }
    }
}

/// The UTC bounds `[start, end)` of a store-local day.
pub fn day_bounds(store: &StoreConfig, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| store.timezone.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
    };
    (at(date), at(date + Duration::days(1)))
}

/// Reads what the report of `date`, made at `now`, needs (everything but the
/// DLQ counts): the day's facts and texts, the tasks they point at, the
/// tasks overdue at `now`, and the open declined dollars summed page by page.
pub async fn gather(
    table: &Table,
    store: &StoreConfig,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DayData, TableError> {
    gather_range(table, store, date, date, now).await
}

/// [`gather`] over the store-local days `from` to `to` (both included): each
/// day's facts (one Query a day), the texts of the range, the tasks the
/// facts point at, and what is open at `now`.
pub async fn gather_range(
    table: &Table,
    store: &StoreConfig,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DayData, TableError> {
    let (start, end) = (day_bounds(store, from).0, day_bounds(store, to).1);
    let mut facts = Vec::new();
    let mut day = from;
    while day <= to {
        facts.extend(table.day_facts(&store.store_id, day).await?);
        day += Duration::days(1);
    }
    let refs: Vec<_> = facts.iter().filter_map(|f| f.task.clone()).collect();
    let (texts, tasks, open_tasks, open_declined_cents) = tokio::try_join!(
        table.texts_between(&store.store_id, start - TEXT_LOOKBACK, end),
        table.tasks(&store.store_id, &refs),
        table.overdue_tasks(&store.store_id, now),
        table.open_declined_cents(&store.store_id),
    )?;
    Ok(DayData { facts, texts, tasks, open_tasks, open_declined_cents, dead_letters: 0 })
}

/// The messages of `store` waiting in the dead-letter queues at `urls`:
/// each queue is read through (every message held for [`PEEK`] while it
/// is read, then made visible again at once), and a message counts for the
/// store its body names ([`belongs_to`]).
pub async fn dead_letters(sqs: &aws_sdk_sqs::Client, urls: &[String], store: &StoreConfig) -> Result<u64, String> {
    Ok(dead_letters_of(sqs, urls, &[store]).await?[0])
}

/// [`dead_letters`] of several stores, each queue read once (a group of
/// stores: one pass over the DLQs, not one per store).
pub async fn dead_letters_of(
    sqs: &aws_sdk_sqs::Client,
    urls: &[String],
    stores: &[&StoreConfig],
) -> Result<Vec<u64>, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut totals = vec![0; stores.len()];
    for url in urls {
        let mut seen = std::collections::HashSet::new();
        let mut receipts = Vec::new();
        loop {
            let out = sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .visibility_timeout(PEEK)
                .send()
                .await
                .map_err(|e| err(&aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                receipts.extend(m.receipt_handle.clone());
                if seen.insert(m.message_id.clone().unwrap_or_default()) {
                    let body = m.body.as_deref().unwrap_or_default();
                    if let Some(i) = stores.iter().position(|s| belongs_to(body, s)) {
                        totals[i] += 1;
                    }
                }
            }
        }
        for receipt in receipts {
            sqs.change_message_visibility()
                .queue_url(url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await
                .map_err(|e| err(&aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        }
    }
    Ok(totals)
}

/// How long a dead letter is held while the report reads it (seconds).
pub const PEEK: i32 = 30;

/// Whether a dead-lettered message is `store`'s: an event envelope or a
/// hand-over names its `store_id` (a due step's in its `work`), an inbound
/// text the store's number it was sent to, a lead mail one of the store's
/// lead addresses.
pub fn belongs_to(body: &str, store: &StoreConfig) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else { return false };
    let named = v["store_id"].as_str().or_else(|| v["work"]["store_id"].as_str());
    if let Some(id) = named {
        return id == store.store_id;
    }
    if let Some(recipients) = v["receipt"]["recipients"].as_array() {
        return recipients.iter().filter_map(|r| r.as_str()).any(|r| store.takes_leads_at(r));
    }
    v["destinationNumber"]
        .as_str()
        .and_then(|n| crate::phone::Phone::parse(n).ok())
        .is_some_and(|n| n == store.sms_number)
}

/// One day of the missed-call history (the page's chart): the day's facts
/// and texts only.
pub async fn missed_calls_on(table: &Table, store: &StoreConfig, date: NaiveDate) -> Result<MissedCalls, TableError> {
    let (start, end) = day_bounds(store, date);
    let (facts, texts) =
        tokio::try_join!(table.day_facts(&store.store_id, date), table.texts_between(&store.store_id, start, end))?;
    let data = DayData { facts, texts, ..Default::default() };
    Ok(build(store, date, end, &data).missed_calls)
}

fn sent(text: &OutboundText) -> bool {
    matches!(text.state, TextState::Sent | TextState::Shadow)
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    Some(if xs.len().is_multiple_of(2) { (xs[mid - 1] + xs[mid]) / 2.0 } else { xs[mid] })
}

/// The report of `date`, made at `now`. Pure.
pub fn build(store: &StoreConfig, date: NaiveDate, now: DateTime<Utc>, data: &DayData) -> Report {
    build_range(store, date, date, now, data)
}

/// The report's figures over the store-local days `from` to `to` (both
/// included), made at `now`, from what [`gather_range`] read. Pure.
pub fn build_range(store: &StoreConfig, from: NaiveDate, to: NaiveDate, now: DateTime<Utc>, data: &DayData) -> Report {
    let date = from;
    let (start, end) = (day_bounds(store, from).0, day_bounds(store, to).1);
    let in_day = |t: DateTime<Utc>| start <= t && t < end;
    // Written that day, and sent that day (whenever written).
    let written = |t: &OutboundText| in_day(t.created_at);
    let went = |t: &OutboundText| sent(t) && in_day(t.sent_at.unwrap_or(t.created_at));
    let count = |kind: FactKind| data.facts.iter().filter(|f| f.kind == kind).count() as u64;
    let cents = |kind: FactKind| data.facts.iter().filter(|f| f.kind == kind).filter_map(|f| f.cents).sum::<i64>();
    let task_of = |f: &Fact| {
        f.task.as_ref().and_then(|r| data.tasks.iter().find(|t| t.task_id == r.task_id && t.phone == r.phone))
    };

    // Missed calls, their text-backs and callbacks, by department.
    let call_kinds = [FactKind::MissedCall, FactKind::MissedCallOwnLine, FactKind::MissedCallInvalidNumber];
    let calls: Vec<&Fact> = data.facts.iter().filter(|f| call_kinds.contains(&f.kind)).collect();
    let text_back =
        |f: &Fact| data.texts.iter().find(|t| t.event_id == f.event_id && t.trigger == "missed-call" && sent(t));
    let mut departments: BTreeMap<String, DepartmentCalls> = BTreeMap::new();
    let dept = |d: Option<Department>| d.map_or("unknown", Department::as_str).to_owned();
    let mut seconds = Vec::new();
    for call in &calls {
        let row = departments.entry(dept(call.department)).or_default();
        row.total += 1;
        if let Some(t) = text_back(call) {
            row.texted_back += 1;
            if let Some(sent_at) = t.sent_at {
                seconds.push((sent_at - call.at).num_milliseconds() as f64 / 1000.0);
            }
        }
    }
    let (mut open, mut on_time, mut late) = (0, 0, 0);
    for f in data.facts.iter().filter(|f| f.kind == FactKind::CallbackCreated) {
        let Some(task) = task_of(f) else { continue };
        let row = departments.entry(dept(f.department)).or_default();
        match (task.status, task.done_at) {
            (TaskStatus::Open, _) => {
                open += 1;
                row.callbacks_open += 1;
            }
            (TaskStatus::Done, Some(done)) if done > task.due_at => {
                late += 1;
                row.callbacks_done_late += 1;
            }
            (TaskStatus::Done, _) => on_time += 1,
        }
    }
    let by_department =
        departments.into_iter().map(|(department, row)| DepartmentCalls { department, ..row }).collect();
    let missed_calls = MissedCalls {
        total: calls.len() as u64,
        texted_back: calls.iter().filter(|c| text_back(c).is_some()).count() as u64,
        median_seconds_to_text: median(seconds),
        callbacks_open: open,
        callbacks_done: on_time + late,
        callbacks_done_on_time: on_time,
        callbacks_done_late: late,
        by_department,
    };

    let status: Vec<&OutboundText> = data.texts.iter().filter(|t| t.trigger == "vehicle-ready").collect();
    let status_texts = StatusTexts {
        sent: status.iter().filter(|t| went(t)).count() as u64,
        deferred: status
            .iter()
            .filter(|t| written(t) && (t.defer_reason.is_some() || t.state == TextState::Deferred))
            .count() as u64,
    };

    let no_show_facts: Vec<&Fact> = data.facts.iter().filter(|f| f.kind == FactKind::NoShow).collect();
    let no_shows = NoShows {
        total: no_show_facts.len() as u64,
        rebooked: no_show_facts
            .iter()
            .filter(|f| task_of(f).is_some_and(|t| t.outcome == Some(TaskOutcome::Booked)))
            .count() as u64,
    };

    let declined = Declined {
        new_cents: cents(FactKind::LineDeclined),
        open_cents: data.open_declined_cents,
        recovered_cents: cents(FactKind::LineRecovered),
        follow_ups_sent: count(FactKind::FollowUpTexted),
        follow_ups_task_only: count(FactKind::FollowUpTaskOnly),
    };
    let win_back = WinBack {
        texted: count(FactKind::WinBackTexted),
        tasks: count(FactKind::WinBackTexted) + count(FactKind::WinBackTaskOnly),
        came_back: count(FactKind::WinBackReturned),
    };

    let mut replies = Replies::default();
    let mut minutes = Vec::new();
    for f in data.facts.iter().filter(|f| f.kind == FactKind::SmsReceived) {
        let Some(task) = task_of(f) else { continue };
        replies.received += 1;
        if task.escalated_at.is_some() {
            replies.escalated += 1;
        }
        if let (TaskStatus::Done, Some(done)) = (task.status, task.done_at) {
            replies.answered += 1;
            minutes.push((done - f.at).num_seconds().max(0) as f64 / 60.0);
        }
    }
    replies.median_minutes_to_answer = median(minutes);

    let went_with =
        |prefix: &str| data.texts.iter().filter(|t| t.dedupe_key.starts_with(prefix) && went(t)).count() as u64;
    let appointments = Appointments { confirmed: went_with(CONFIRMATION_KEY), reminded: went_with(REMINDER_KEY) };
    let scores: Vec<f64> = data
        .facts
        .iter()
        .filter(|f| f.kind == FactKind::VisitAnswered)
        .filter_map(|f| f.score)
        .map(f64::from)
        .collect();
    let post_visit = PostVisit {
        asked: went_with(VISIT_CHECK_KEY),
        answered: scores.len() as u64,
        average: (!scores.is_empty())
            .then(|| (scores.iter().sum::<f64>() / scores.len() as f64 * 100.0).round() / 100.0),
        heat_cases: count(FactKind::HeatCase),
    };
    let lifecycle = Lifecycle {
        delivery_checks_asked: went_with(DELIVERY_CHECK_KEY),
        delivery_checks_answered: count(FactKind::DeliveryAnswered),
        service_due_texts: went_with(SERVICE_DUE_KEY),
        service_due_tasks: count(FactKind::ServiceDueTask),
        maturity_tasks: count(FactKind::MaturityTask),
    };
    let mut leads = Leads::default();
    let mut minutes = Vec::new();
    for f in data.facts.iter().filter(|f| f.kind == FactKind::LeadReceived) {
        leads.received += 1;
        if data.texts.iter().any(|t| t.event_id == f.event_id && sent(t)) {
            leads.texted += 1;
        }
        let task = task_of(f);
        let closed = task.and_then(|t| t.done_at);
        let staff = task.and_then(|t| {
            data.texts
                .iter()
                .filter(|x| x.sent_by.is_some() && x.phone == t.phone && x.created_at >= f.at)
                .map(|x| x.created_at)
                .min()
        });
        if let Some(first) = [closed, staff].into_iter().flatten().min() {
            minutes.push((first - f.at).num_seconds().max(0) as f64 / 60.0);
        }
    }
    leads.median_minutes_to_first_contact = median(minutes);

    let mut owners: BTreeMap<String, OwnerOverdue> = BTreeMap::new();
    for t in data.open_tasks.iter().filter(|t| t.is_open() && t.due_at < now) {
        let o = owners.entry(t.owner.clone()).or_insert_with(|| OwnerOverdue {
            owner: t.owner.clone(),
            count: 0,
            oldest_due_at: t.due_at,
            kinds: BTreeMap::new(),
        });
        o.count += 1;
        o.oldest_due_at = o.oldest_due_at.min(t.due_at);
        *o.kinds.entry(kind_name(t.kind).to_owned()).or_default() += 1;
    }
    let mut overdue_tasks: Vec<OwnerOverdue> = owners.into_values().collect();
    overdue_tasks.sort_by(|a, b| b.count.cmp(&a.count).then(a.oldest_due_at.cmp(&b.oldest_due_at)));

    let delivered: Vec<&OutboundText> = data.texts.iter().filter(|t| t.state == TextState::Sent && went(t)).collect();
    let receipt = |t: &OutboundText, status| t.receipt.as_ref().is_some_and(|r| r.status == status);
    let texts = Texts {
        sent: delivered.len() as u64,
        segments: delivered.iter().map(|t| u64::from(t.segments)).sum(),
        est_cost_cents: (delivered
            .iter()
            .map(|t| t.receipt.as_ref().and_then(|r| r.price_micro_usd).unwrap_or(t.est_price_micro_usd))
            .sum::<u64>()
            + 5_000)
            / 10_000,
        delivered: delivered.iter().filter(|t| receipt(t, DeliveryStatus::Delivered)).count() as u64,
        failed: delivered.iter().filter(|t| receipt(t, DeliveryStatus::Failed)).count() as u64
            + count(FactKind::TextFailed),
    };

    let (num, den) = NEVER_CALL_BACK;
    let unanswered = (missed_calls.callbacks_open * num * store.avg_ro_cents + den / 2) / den;
    let revenue_at_risk_cents = unanswered as i64 + declined.open_cents;
    let revenue_at_risk_formula = format!(
        "{} open callbacks x 0.75 x {} average RO + {} open declined work = {}",
        missed_calls.callbacks_open,
        dollars(store.avg_ro_cents as i64),
        dollars(declined.open_cents),
        dollars(revenue_at_risk_cents)
    );
    Report {
        store_id: store.store_id.clone(),
        store_name: store.name.clone(),
        timezone: store.timezone.name().to_owned(),
        date,
        generated_at: now,
        missed_calls,
        status_texts,
        no_shows,
        declined,
        win_back,
        opt_outs: count(FactKind::SmsOptOut),
        replies,
        leads,
        appointments,
        post_visit,
        lifecycle,
        overdue_tasks,
        texts,
        dead_letters: data.dead_letters,
        revenue_at_risk_cents,
        revenue_at_risk_formula,
    }
}

/// The total row of a group's reports: every count and amount summed, a
/// median or an average (which do not add up) null, the texts left out.
pub fn total(reports: &[Report]) -> serde_json::Value {
    fn add(into: &mut serde_json::Value, v: &serde_json::Value) {
        use serde_json::Value;
        match (into, v) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, bv) in b {
                    if k.starts_with("median") || k.starts_with("average") {
                        a.insert(k.clone(), Value::Null);
                        continue;
                    }
                    match a.get_mut(k) {
                        Some(av) => add(av, bv),
                        None if bv.is_number() || bv.is_object() => {
                            let mut zero =
                                if bv.is_object() { Value::Object(Default::default()) } else { Value::from(0) };
                            add(&mut zero, bv);
                            a.insert(k.clone(), zero);
                        }
                        None => {}
                    }
                }
            }
            (a @ Value::Number(_), Value::Number(b)) => {
                let sum = match (a.as_i64(), b.as_i64()) {
                    (Some(x), Some(y)) => Value::from(x + y),
                    _ => Value::from(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)),
                };
                *a = sum;
            }
            _ => {}
        }
    }
    let mut out = serde_json::Value::Object(Default::default());
    for r in reports {
        let mut v = serde_json::to_value(r).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            // Per store only: a list, the formula's words, the store's own names.
            for k in ["overdue_tasks", "revenue_at_risk_formula", "store_name", "timezone", "generated_at", "date"] {
                o.remove(k);
            }
            if let Some(calls) = o.get_mut("missed_calls").and_then(|m| m.as_object_mut()) {
                calls.remove("by_department");
            }
        }
        add(&mut out, &v);
    }
    if let Some(o) = out.as_object_mut() {
        o.insert("store_id".into(), serde_json::Value::String("total".into()));
        o.insert("stores".into(), serde_json::Value::from(reports.len()));
    }
    out
}

/// A task kind as `custops tasks` names it.
pub fn kind_name(kind: TaskKind) -> &'static str {
    kind.as_str()
}

impl std::fmt::Display for Report {
    /// The report for a person: what the GM reads first comes first.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = &self.missed_calls;
        writeln!(
            f,
            "{} ({}): the morning report for {}",
            self.store_name,
            self.store_id,
            self.date.format("%A %-d %B %Y")
        )?;
        writeln!(f)?;
        writeln!(f, "Revenue at risk: {}", dollars(self.revenue_at_risk_cents))?;
        writeln!(f, "  = {}", self.revenue_at_risk_formula)?;
        writeln!(f)?;
        let median =
            m.median_seconds_to_text.map(|s| format!(", median {s:.0} s from call to text")).unwrap_or_default();
        writeln!(f, "Missed calls: {} ({} texted back{median})", m.total, m.texted_back)?;
        writeln!(
            f,
            "  callbacks: {} still open, {} done on time, {} done late",
            m.callbacks_open, m.callbacks_done_on_time, m.callbacks_done_late
        )?;
        for d in &m.by_department {
            writeln!(
                f,
                "  {:<8} {} calls, {} texted back, {} callbacks open, {} late",
                d.department, d.total, d.texted_back, d.callbacks_open, d.callbacks_done_late
            )?;
        }
        writeln!(f, "Status texts: {} sent, {} deferred", self.status_texts.sent, self.status_texts.deferred)?;
        writeln!(f, "No-shows: {} ({} rebooked)", self.no_shows.total, self.no_shows.rebooked)?;
        let d = &self.declined;
        writeln!(
            f,
            "Declined work: {} new, {} recovered, {} still open; {} follow-ups texted, {} by phone only",
            dollars(d.new_cents),
            dollars(d.recovered_cents),
            dollars(d.open_cents),
            d.follow_ups_sent,
            d.follow_ups_task_only
        )?;
        let w = &self.win_back;
        writeln!(f, "Win-back: {} texted, {} tasks, {} came back", w.texted, w.tasks, w.came_back)?;
        writeln!(f, "Opt-outs: {}", self.opt_outs)?;
        let r = &self.replies;
        let median = r.median_minutes_to_answer.map(|m| format!(", median {m:.0} min to answer")).unwrap_or_default();
        writeln!(
            f,
            "Customer texts: {} received, {} answered, {} escalated{median}",
            r.received, r.answered, r.escalated
        )?;
        let l = &self.leads;
        let median =
            l.median_minutes_to_first_contact.map(|m| format!(", median {m:.0} min to a person")).unwrap_or_default();
        writeln!(f, "Leads: {} received, {} texted{median}", l.received, l.texted)?;
        let a = &self.appointments;
        writeln!(f, "Appointments: {} confirmed, {} reminded", a.confirmed, a.reminded)?;
        let p = &self.post_visit;
        let average = p.average.map(|a| format!(", average {a:.1}")).unwrap_or_default();
        writeln!(
            f,
            "Post-visit checks: {} asked, {} answered{average}, {} heat cases",
            p.asked, p.answered, p.heat_cases
        )?;
        let c = &self.lifecycle;
        writeln!(
            f,
            "After the sale: {} delivery checks asked, {} answered; {} service-due texts, {} service-due tasks; {} maturity tasks",
            c.delivery_checks_asked, c.delivery_checks_answered, c.service_due_texts, c.service_due_tasks, c.maturity_tasks
        )?;
        if self.overdue_tasks.is_empty() {
            writeln!(f, "Overdue tasks: none")?;
        } else {
            writeln!(f, "Overdue tasks, by owner:")?;
            for o in &self.overdue_tasks {
                let kinds: Vec<String> = o.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
                writeln!(
                    f,
                    "  {:<14} {} overdue ({}), oldest due {}",
                    o.owner,
                    o.count,
                    kinds.join(", "),
                    self.local(o.oldest_due_at, "%Y-%m-%d %H:%M %Z")
                )?;
            }
        }
        writeln!(
            f,
            "Texts sent: {} ({} segments, about {}); {} delivered, {} failed",
            self.texts.sent,
            self.texts.segments,
            dollars(self.texts.est_cost_cents as i64),
            self.texts.delivered,
            self.texts.failed
        )?;
        write!(f, "Dead letters waiting: {}", self.dead_letters)
    }
}

#[cfg(test)]
mod tests;
