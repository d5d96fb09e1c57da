//! Telling people their work is waiting (CONTRACT.md section 10): one SNS
//! message on the `staff-alerts` topic when a task is made (`task.created`)
//! and when a customer's text has waited `reply_sla_minutes` of open hours
//! (`task.escalated`, once to the task's owner and once to the store's
//! `managers`). Each carries the message attributes `kind`, `store_id` and
//! `owner`, so an email or SMS subscription filters on them (a filter
//! policy such as `{"store_id": ["northside-chevy"], "owner": ["bdc-service"]}`).
//!
//! An alert is sent after its change commits, by the one commit path
//! (`Core::apply`): never for a change that did not happen. It is a nudge,
//! not a record: the task is on the record and in the inbox whatever becomes
//! of the message, and a publish that fails is logged and not retried (a
//! retry of the event would be a duplicate, which alerts nobody twice).
//!
//! Each is published with `MessageStructure` `json` (section 10): an `sms`
//! text of one segment (what, whom by first name and the last four digits,
//! when in the store's time zone, and the link), an `email` text of a few
//! lines, and the `default` JSON object for every other protocol (an SQS
//! queue, a Lambda). The link is absolute (the deploy's `PUBLIC_BASE_URL`)
//! and names the task by its link code (`/app/t/{code}`, see
//! [`crate::keys::task_link_code`]): it opens the task after sign-in and
//! carries nothing of the customer's number. A mail or a lock screen is no
//! place for a phone number.

use aws_sdk_sns::types::MessageAttributeValue;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tracing::warn;

use crate::model::Task;
use crate::store::StoreConfig;

/// The topic's ARN, in a function's environment (absent: no alerts).
pub const STAFF_ALERTS_TOPIC_ARN: &str = "STAFF_ALERTS_TOPIC_ARN";

pub use crate::staff::MANAGERS;

/// The longest first name an alert's text carries.
const NAME_MAX: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AlertKind {
    #[serde(rename = "task.created")]
    TaskCreated,
    #[serde(rename = "task.escalated")]
    TaskEscalated,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::TaskCreated => "task.created",
            AlertKind::TaskEscalated => "task.escalated",
        }
    }
}

/// One message to `staff-alerts` (its `default` JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub store_id: String,
    pub store_name: String,
    /// Who it is for: a team (an owner id of section 4) or [`MANAGERS`].
    pub owner: String,
    pub task_id: String,
    pub task_kind: crate::model::TaskKind,
    pub task_owner: String,
    pub due_at: DateTime<Utc>,
    /// The store's time zone (the texts say the time as the store reads it).
    #[serde(skip)]
    pub timezone: Tz,
    /// What the person is asked to do.
    pub note: String,
    /// The customer's first name, as far as a text may carry it (GSM-7
    /// letters, at most 20); none when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// The last four digits of the customer's number (empty for a lead known by mail alone).
    pub phone_last4: String,
    /// The task's link code: the link is `{PUBLIC_BASE_URL}/app/t/{code}`.
    pub link_code: String,
}

impl Alert {
    fn of(kind: AlertKind, task: &Task, owner: &str, store: &StoreConfig, first_name: Option<&str>) -> Self {
        let digits = task.phone.e164();
        Self {
            kind,
            store_id: task.store_id.clone(),
            store_name: store.name.clone(),
            owner: owner.to_owned(),
            task_id: task.task_id.clone(),
            task_kind: task.kind,
            task_owner: task.owner.clone(),
            due_at: task.due_at,
            timezone: store.timezone,
            note: task.note.clone(),
            first_name: first_name.map(text_name).filter(|n| !n.is_empty()),
            // A lead known by mail alone has no number.
            phone_last4: match task.phone.email() {
                Some(_) => String::new(),
                None => digits[digits.len().saturating_sub(4)..].to_owned(),
            },
            link_code: task.link_code(),
        }
    }

    /// A new task, for its owner.
    pub fn created(task: &Task, store: &StoreConfig, first_name: Option<&str>) -> Self {
        Self::of(AlertKind::TaskCreated, task, &task.owner, store, first_name)
    }

    /// A customer's text waited too long: its owner and the store's managers.
    pub fn escalated(task: &Task, store: &StoreConfig, first_name: Option<&str>) -> Vec<Self> {
        vec![
            Self::of(AlertKind::TaskEscalated, task, &task.owner, store, first_name),
            Self::of(AlertKind::TaskEscalated, task, MANAGERS, store, first_name),
        ]
    }

    /// The link that opens the task (after sign-in): absolute under `base`
    /// (the deploy's public base URL), else the path alone.
    pub fn link(&self, base: Option<&str>) -> String {
        format!("{}/app/t/{}", base.unwrap_or_default(), self.link_code)
    }

    /// Whom it is about: "Maria ..0142", "a customer ..0142", "a lead by mail".
    fn whom(&self) -> String {
        match (&self.first_name, self.phone_last4.is_empty()) {
            (Some(n), false) => format!("{n} ..{}", self.phone_last4),
            (None, false) => format!("a customer ..{}", self.phone_last4),
            (Some(n), true) => format!("{n} (by mail)"),
            (None, true) => "a lead by mail".to_owned(),
        }
    }

    fn what(&self) -> String {
        let kind = self.task_kind.as_str().replace('_', " ");
        match self.kind {
            AlertKind::TaskCreated => format!("New {kind}"),
            AlertKind::TaskEscalated => format!("Still unanswered ({kind})"),
        }
    }

    /// The due time as the store reads it: "Mon 10:20 AM".
    fn when(&self) -> String {
        self.due_at.with_timezone(&self.timezone).format("%a %-I:%M %p").to_string()
    }

    /// The `sms` text: one GSM-7 segment when `base` is at most 40 characters.
    pub fn sms(&self, base: Option<&str>) -> String {
        let verb = match self.kind {
            AlertKind::TaskCreated => "due",
            AlertKind::TaskEscalated => "waiting since",
        };
        format!("{}: {}, {verb} {}. {}", self.what(), self.whom(), self.when(), self.link(base))
    }

    /// The `email` text: a few lines.
    pub fn email(&self, base: Option<&str>) -> String {
        format!(
            "{} at {}: {}.\n{}\nDue {} (the store's time), for {}.\nOpen it (after signing in): {}\n",
            self.what(),
            self.store_name,
            self.whom(),
            self.note,
            self.due_at.with_timezone(&self.timezone).format("%A %-d %B %Y, %-I:%M %p"),
            self.task_owner,
            self.link(base)
        )
    }

    /// The mail's subject (SNS: ASCII, one line, at most 100 characters).
    pub fn subject(&self) -> String {
        let s: String = format!("{} at {}", self.what(), self.store_name)
            .chars()
            .map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' })
            .collect();
        s.chars().take(100).collect()
    }

    /// The message of a `MessageStructure` `json` publish: `sms`, `email`
    /// and `default` (this object with its absolute link).
    pub fn message(&self, base: Option<&str>) -> String {
        let mut default = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = default.as_object_mut() {
            o.insert("link".into(), self.link(base).into());
            o.insert("sms".into(), self.sms(base).into());
        }
        serde_json::json!({
            "default": default.to_string(),
            "sms": self.sms(base),
            "email": self.email(base),
        })
        .to_string()
    }
}

/// A first name as an alert's text carries it: GSM-7 letters (and `-`, `'`,
/// a space) only, at most [`NAME_MAX`], so the text stays one segment.
fn text_name(name: &str) -> String {
    let kept: String = name
        .trim()
        .chars()
        .filter(|c| (c.is_alphabetic() && crate::text::is_gsm7_basic(*c)) || matches!(c, '-' | '\'' | ' '))
        .take(NAME_MAX)
        .collect();
    kept.trim().to_owned()
}

/// Where alerts go.
#[derive(Debug, Clone)]
pub struct Alerts {
    sns: aws_sdk_sns::Client,
    topic_arn: String,
    /// The deploy's public base URL (`PUBLIC_BASE_URL`), without a trailing `/`.
    base_url: Option<String>,
}

impl Alerts {
    pub fn new(sns: aws_sdk_sns::Client, topic_arn: impl Into<String>, base_url: Option<String>) -> Self {
        Self { sns, topic_arn: topic_arn.into(), base_url }
    }

    /// Publishes each alert (side by side); a failure is logged, never an error.
    pub async fn publish(&self, alerts: &[Alert]) -> usize {
        let base = self.base_url.as_deref();
        let sends = alerts.iter().map(|alert| async move {
            let attr = |v: &str| MessageAttributeValue::builder().data_type("String").string_value(v).build();
            let mut req = self
                .sns
                .publish()
                .topic_arn(&self.topic_arn)
                .message_structure("json")
                .subject(alert.subject())
                .message(alert.message(base));
            for (name, value) in [("kind", alert.kind.as_str()), ("store_id", &alert.store_id), ("owner", &alert.owner)] {
                match attr(value) {
                    Ok(a) => req = req.message_attributes(name, a),
                    Err(e) => warn!(error = %e, "an alert attribute could not be built"),
                }
            }
            match req.send().await {
                Ok(_) => true,
                Err(e) => {
                    warn!(kind = alert.kind.as_str(), task_id = %alert.task_id, error = %aws_sdk_sns::error::DisplayErrorContext(&e), "staff alert not sent");
                    false
                }
            }
        });
        futures::future::join_all(sends).await.into_iter().filter(|sent| *sent).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{at, customer, northside};
    use crate::model::TaskKind;
    use crate::store::Department;
    use crate::text::{segments, Encoding};

    fn reply_task() -> Task {
        let due = at("2026-11-24T16:00:00Z");
        Task::open(&customer("+15125550142"), TaskKind::ReplySms, "reply-1", ("bdc".into(), Department::Main), due, due)
            .note("answer the customer's text")
    }

    #[test]
    fn an_alert_names_the_task_and_its_owner_and_never_the_whole_number() {
        let store = northside();
        let task = reply_task();
        let created = Alert::created(&task, &store, Some("Maria"));
        assert_eq!((created.owner.as_str(), created.phone_last4.as_str()), ("bdc", "0142"));
        let escalated = Alert::escalated(&task, &store, Some("Maria"));
        let owners: Vec<&str> = escalated.iter().map(|a| a.owner.as_str()).collect();
        assert_eq!(owners, ["bdc", MANAGERS]);
        assert!(escalated.iter().all(|a| a.kind == AlertKind::TaskEscalated));
        // Nothing of the message carries the number, the link neither.
        let base = "https://inbox.northside.example";
        let message: serde_json::Value = serde_json::from_str(&created.message(Some(base))).unwrap();
        assert!(!message.to_string().contains("5125550142"), "{message}");
        let default: serde_json::Value = serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
        assert_eq!(default["kind"], "task.created");
        assert_eq!(default["task_kind"], "reply");
        assert_eq!(default["link"], format!("{base}/app/t/{}", task.link_code()));
        assert_eq!(task.link_code().len(), 12);
        let sms = message["sms"].as_str().unwrap();
        // 10:00 in Chicago on a Tuesday.
        assert_eq!(sms, format!("New reply: Maria ..0142, due Tue 10:00 AM. {base}/app/t/{}", task.link_code()));
        assert!(message["email"].as_str().unwrap().contains("Northside Chevrolet"));
    }

    #[test]
    fn the_sms_text_is_one_segment_with_a_forty_character_base_whatever_the_name() {
        let store = northside();
        let base = format!("https://{}", "a".repeat(32));
        assert_eq!(base.len(), 40);
        let mut task = reply_task();
        task.kind = TaskKind::DeclinedFollowup;
        task.task_id = "declined-followup-RO-2026-000123-line-4-step-30".into();
        for name in ["Maximiliano-Bartholomew", "Zoë 🚗 Ω", "Ελένη", "<script>", "   "] {
            for alert in Alert::escalated(&task, &store, Some(name)) {
                let sms = alert.sms(Some(&base));
                assert_eq!(segments(&sms), (Encoding::Gsm7, 1), "{sms} ({} chars)", sms.chars().count());
                assert!(!sms.contains('<'));
            }
        }
        let lead = Alert::created(&task, &store, None);
        assert!(lead.sms(Some(&base)).contains("a customer ..0142"));
    }
}
