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
//! The body names the customer by first name and the last four digits of
//! their number only (a mail or a lock screen is no place for a phone
//! number), and the inbox page to open.

use aws_sdk_sns::types::MessageAttributeValue;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::warn;

use crate::model::Task;

/// The topic's ARN, in a function's environment (absent: no alerts).
pub const STAFF_ALERTS_TOPIC_ARN: &str = "STAFF_ALERTS_TOPIC_ARN";

pub use crate::staff::MANAGERS;

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

/// One message to `staff-alerts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub store_id: String,
    /// Who it is for: a team (an owner id of section 4) or [`MANAGERS`].
    pub owner: String,
    pub task_id: String,
    pub task_kind: crate::model::TaskKind,
    pub task_owner: String,
    pub due_at: DateTime<Utc>,
    /// What the person is asked to do.
    pub note: String,
    /// The last four digits of the customer's number.
    pub phone_last4: String,
    /// The inbox page of the customer (relative to the HTTP API's URL).
    pub path: String,
}

impl Alert {
    fn of(kind: AlertKind, task: &Task, owner: &str) -> Self {
        let digits = task.phone.e164();
        Self {
            kind,
            store_id: task.store_id.clone(),
            owner: owner.to_owned(),
            task_id: task.task_id.clone(),
            task_kind: task.kind,
            task_owner: task.owner.clone(),
            due_at: task.due_at,
            note: task.note.clone(),
            // A lead known by mail alone has no number.
            phone_last4: match task.phone.email() {
                Some(_) => String::new(),
                None => digits[digits.len().saturating_sub(4)..].to_owned(),
            },
            path: format!("/app/customers/{}?store={}", digits, task.store_id),
        }
    }

    /// A new task, for its owner.
    pub fn created(task: &Task) -> Self {
        Self::of(AlertKind::TaskCreated, task, &task.owner)
    }

    /// A customer's text waited too long: its owner and the store's managers.
    pub fn escalated(task: &Task) -> Vec<Self> {
        vec![Self::of(AlertKind::TaskEscalated, task, &task.owner), Self::of(AlertKind::TaskEscalated, task, MANAGERS)]
    }
}

/// Where alerts go.
#[derive(Debug, Clone)]
pub struct Alerts {
    sns: aws_sdk_sns::Client,
    topic_arn: String,
}

impl Alerts {
    pub fn new(sns: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self { sns, topic_arn: topic_arn.into() }
    }

    /// Publishes each alert (side by side); a failure is logged, never an error.
    pub async fn publish(&self, alerts: &[Alert]) -> usize {
        let sends = alerts.iter().map(|alert| async move {
            let attr = |v: &str| MessageAttributeValue::builder().data_type("String").string_value(v).build();
            let body = serde_json::to_string(alert).unwrap_or_default();
            let mut req = self.sns.publish().topic_arn(&self.topic_arn).message(body);
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
    use crate::model::TaskKind;
    use crate::store::Department;
    use crate::{CustomerId, Phone};

    #[test]
    fn an_alert_names_the_task_and_its_owner_and_never_the_whole_number() {
        let at: DateTime<Utc> = "2026-11-24T16:00:00Z".parse().unwrap();
        let customer = CustomerId::new("northside-chevy", Phone::parse("+15125550142").unwrap());
        let task = Task::open(&customer, TaskKind::ReplySms, "reply-1", ("bdc".into(), Department::Main), at, at)
            .note("answer the customer's text");
        let created = Alert::created(&task);
        assert_eq!((created.owner.as_str(), created.phone_last4.as_str()), ("bdc", "0142"));
        let body = serde_json::to_value(&created).unwrap();
        assert_eq!(body["kind"], "task.created");
        assert_eq!(body["task_kind"], "reply");
        let escalated = Alert::escalated(&task);
        let owners: Vec<&str> = escalated.iter().map(|a| a.owner.as_str()).collect();
        assert_eq!(owners, ["bdc", MANAGERS]);
        assert!(escalated.iter().all(|a| a.kind == AlertKind::TaskEscalated));
        // Only the link carries the number (a page that needs a signed-in person).
        let mut text = body.clone();
        text["path"] = serde_json::Value::Null;
        assert!(!text.to_string().contains("5125550142"));
    }
}
