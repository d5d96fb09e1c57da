//! `sms-receipts`: what became of each text (CONTRACT.md section 11).
//!
//! Trigger: SNS's SMS delivery-status logging writes one JSON record per
//! text to the log groups `sns/{region}/{account}/DirectPublishToPhoneNumber`
//! (delivered) and `.../Failure`; a subscription filter on each hands them
//! to this function (CloudWatch Logs' payload: `awslogs.data`, base64 gzip of
//! `logEvents`), asynchronously, up to 72 hours after the text.
//! Reads: the text by the `MessageId` of its Publish (the message-id index:
//! one Query), its store (cached), the customer's state (one Query).
//! Decides ([`decide`], pure):
//! - the text is marked `delivered` or `failed`, with the carrier's response
//!   and the price;
//! - a failed `reply` or `transactional` text (a text-back, a status text, an
//!   answer) makes a `text_failed` task, due at once, for the owner of what it
//!   was about: what the store owes a customer never rests on a text that did
//!   not arrive;
//! - `Phone number is opted out` records a carrier opt-out on the consent
//!   ledger: nothing more is texted to the number, marketing included.
//!
//! Applies it through the one commit path, claimed on the message id: the
//! same receipt twice changes nothing. A record that cannot be read, or a
//! receipt for a text custops did not send, is logged (never its number)
//! and dropped.
//!
//! Believed only as SNS writes it (section 11, amended; [`LogGroups::of`],
//! [`believe`]): a delivery from any log group but the two of the stack's
//! own account and region (`SMS_LOG_GROUP`) is dropped whole; a `SUCCESS`
//! counts only from the delivery group and a `FAILURE` only from
//! `/Failure`; a record whose `delivery.destination` is not the number the
//! text went to changes nothing. Each such record is logged (never its
//! number) and dropped.

use std::sync::Arc;

use aws_lambda_events::event::cloudwatch_logs::LogsEvent;
use chrono::{DateTime, NaiveDateTime, Utc};
use custops::apply::Refused;
use custops::env::{ConfigError, EnvSource};
use custops::model::{CustomerState, Fact, FactKind, Task, TaskKind, Touchpoint, OPTED_OUT};
use custops::store::Department;
use custops::text::{DeliveryStatus, MessageClass, OutboundText, Receipt};
use custops::{Applied, Change, Core, CustomerId, ProcessError, RecordChange, SharedClock, StoreConfig};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

/// The function's name, as in `infra/template.yaml`.
pub const NAME: &str = "sms-receipts";

/// The environment the function reads (checked against the template).
pub const ENV: &[&str] = &[
    custops::env::TABLE_NAME,
    custops::env::RUST_LOG,
    custops::env::WARM_UP,
    custops::alerts::STAFF_ALERTS_TOPIC_ARN,
    custops::env::PUBLIC_BASE_URL,
    SMS_LOG_GROUP,
];

/// The delivery log group of the stack's own account and region
/// (`sns/{region}/{account}/DirectPublishToPhoneNumber`); its `/Failure` is
/// the failure group. Receipts from any other group are not read.
pub const SMS_LOG_GROUP: &str = "SMS_LOG_GROUP";

/// The carrier's answer for a number that opted out with it.
pub const CARRIER_OPT_OUT: &str = "Phone number is opted out";

/// The log groups SNS writes SMS delivery status to (CONTRACT.md section 11).
pub fn log_group(region: &str, account: &str, failed: bool) -> String {
    format!("sns/{region}/{account}/DirectPublishToPhoneNumber{}", if failed { "/Failure" } else { "" })
}

/// Which of the two log groups a delivery came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `.../DirectPublishToPhoneNumber`: `SUCCESS` records.
    Delivered,
    /// `.../DirectPublishToPhoneNumber/Failure`: `FAILURE` records.
    Failed,
}

impl Group {
    /// The only status a record of this group may carry.
    pub fn status(self) -> DeliveryStatus {
        match self {
            Group::Delivered => DeliveryStatus::Delivered,
            Group::Failed => DeliveryStatus::Failed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Delivered => "delivery",
            Group::Failed => "failure",
        }
    }
}

/// The two log groups receipts are read from: the stack's own account's and
/// region's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroups {
    /// `sns/{region}/{account}/DirectPublishToPhoneNumber`.
    pub delivered: String,
    pub account: String,
}

impl LogGroups {
    pub fn new(region: &str, account: &str) -> Self {
        Self { delivered: log_group(region, account, false), account: account.to_owned() }
    }

    /// From [`SMS_LOG_GROUP`] (`sns/{region}/{account}/DirectPublishToPhoneNumber`).
    pub fn from_env(env: &impl EnvSource) -> Result<Self, ConfigError> {
        let group = env.required(SMS_LOG_GROUP)?;
        match group.split('/').collect::<Vec<_>>().as_slice() {
            ["sns", region, account, "DirectPublishToPhoneNumber"]
                if !region.is_empty() && !account.is_empty() && account.chars().all(|c| c.is_ascii_digit()) =>
            {
                Ok(Self::new(region, account))
            }
            _ => Err(ConfigError::Invalid {
                name: SMS_LOG_GROUP,
                reason: "not sns/{region}/{account}/DirectPublishToPhoneNumber".into(),
            }),
        }
    }

    /// Which of the two groups `log_group` of account `owner` (as the
    /// subscription payload names them) is; `None`: neither.
    pub fn of(&self, owner: &str, log_group: &str) -> Option<Group> {
        if owner != self.account {
            return None;
        }
        match log_group.strip_prefix(self.delivered.as_str()) {
            Some("") => Some(Group::Delivered),
            Some("/Failure") => Some(Group::Failed),
            _ => None,
        }
    }
}

/// Why a readable record of a text custops sent is not believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Distrust {
    #[error("a {status} record in the {group} group")]
    WrongGroup { status: &'static str, group: &'static str },
    #[error("the record's destination is not the number the text went to")]
    OtherDestination,
}

/// Whether `record`, read from `group`, is believed for `text`. Pure.
pub fn believe(record: &SmsRecord, group: Group, text: &OutboundText) -> Result<(), Distrust> {
    let status = record.status().map_err(|_| Distrust::WrongGroup { status: "?", group: group.as_str() })?;
    if status != group.status() {
        return Err(Distrust::WrongGroup { status: status.as_str(), group: group.as_str() });
    }
    let destination = record.delivery.destination.as_deref().and_then(|d| custops::Phone::parse(d).ok());
    if destination.as_ref() != Some(&text.phone) {
        return Err(Distrust::OtherDestination);
    }
    Ok(())
}

/// One SMS delivery-status record, as SNS writes it. Fields SNS may leave
/// out (a failure without `phoneCarrier`) are optional; more are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsRecord {
    pub notification: Notification,
    pub delivery: DeliveryInfo,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub message_id: String,
    /// `2026-11-24 16:40:34.558`, UTC.
    pub timestamp: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(default, rename = "priceInUSD", skip_serializing_if = "Option::is_none")]
    pub price_in_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dwell_time_ms: Option<u64>,
}

impl SmsRecord {
    /// A record from its log line; what is not one is an error (its reason
    /// names no number).
    pub fn parse(line: &str) -> Result<Self, String> {
        let record: SmsRecord = serde_json::from_str(line)
            .map_err(|e| format!("not an SMS delivery record: {}", custops::phone::redact_digits(&e.to_string())))?;
        if record.notification.message_id.trim().is_empty() {
            return Err("no notification.messageId".into());
        }
        record.at()?;
        record.status()?;
        Ok(record)
    }

    /// `SUCCESS` or `FAILURE`.
    pub fn status(&self) -> Result<DeliveryStatus, String> {
        match self.status.as_str() {
            "SUCCESS" => Ok(DeliveryStatus::Delivered),
            "FAILURE" => Ok(DeliveryStatus::Failed),
            other => Err(format!("status {other:?} is neither SUCCESS nor FAILURE")),
        }
    }

    /// When SNS recorded it.
    pub fn at(&self) -> Result<DateTime<Utc>, String> {
        NaiveDateTime::parse_from_str(&self.notification.timestamp, "%Y-%m-%d %H:%M:%S%.f")
            .map(|t| t.and_utc())
            .or_else(|_| self.notification.timestamp.parse::<DateTime<Utc>>())
            .map_err(|_| format!("notification.timestamp {:?} is not a time", self.notification.timestamp))
    }

    /// The receipt a text keeps.
    pub fn receipt(&self) -> Result<Receipt, String> {
        Ok(Receipt {
            status: self.status()?,
            at: self.at()?,
            provider_response: self.delivery.provider_response.clone().unwrap_or_default(),
            price_micro_usd: self.delivery.price_in_usd.filter(|p| *p >= 0.0).map(|p| (p * 1e6).round() as u64),
            carrier: self.delivery.phone_carrier.clone(),
        })
    }

    /// Whether the carrier says the number opted out.
    pub fn carrier_opt_out(&self) -> bool {
        self.delivery.provider_response.as_deref().is_some_and(|r| r.trim().eq_ignore_ascii_case(CARRIER_OPT_OUT))
    }
}

/// The idempotency key of a receipt: its message id (one receipt per text).
pub fn receipt_key(message_id: &str) -> String {
    format!("receipt#{message_id}")
}

/// Who owns a text that did not arrive: the owner of what it was about.
pub fn owner_of(store: &StoreConfig, text: &OutboundText, state: &CustomerState) -> (String, Department) {
    let open = |kind: TaskKind| state.open_task(kind).map(|t| (t.owner.clone(), t.department));
    let department = |d: Department| (store.owners.for_department(d).to_owned(), d);
    match text.trigger.as_str() {
        // A text-back: whoever has the callback.
        "missed-call" => open(TaskKind::Callback).unwrap_or_else(|| department(Department::Main)),
        // Status, parts, no-shows, appointments: service.
        "vehicle-ready" | "appointments" => department(Department::Service),
        // An answer to the customer's text: whoever has the conversation.
        _ => open(TaskKind::ReplySms).unwrap_or_else(|| department(Department::Main)),
    }
}

/// What a receipt changes on the text's record. Pure. `None`: the text has
/// its receipt already (a duplicate).
pub fn decide(
    store: &StoreConfig,
    text: &OutboundText,
    state: &CustomerState,
    record: &SmsRecord,
    now: DateTime<Utc>,
) -> Result<Option<Change>, String> {
    if text.receipt.is_some() {
        return Ok(None);
    }
    let receipt = record.receipt()?;
    let id = &record.notification.message_id;
    let key = receipt_key(id);
    let customer = CustomerId::new(&text.store_id, text.phone.clone());
    let mut change = Change::new(&key);
    let mut rec = RecordChange::new(customer.clone());
    let what = text.trigger.replace('-', " ");
    let touch = |kind: &str, summary: String| Touchpoint::of_event(receipt.at, &key, kind, summary);
    match receipt.status {
        DeliveryStatus::Delivered => {
            rec.touch(touch(
                "text.delivered",
                format!("the {what} text was delivered ({})", receipt.provider_response),
            ));
        }
        DeliveryStatus::Failed => {
            rec.touch(touch("text.failed", format!("the {what} text did not arrive: {}", receipt.provider_response)));
            if record.carrier_opt_out() && !state.consent.opted_out() {
                let mut consent = state.consent.clone();
                let source = format!("carrier opt-out (delivery receipt of message {id}): {CARRIER_OPT_OUT}");
                consent.opted_out_at = Some(receipt.at);
                consent.opt_out_source = Some(source.clone());
                consent.record(receipt.at, OPTED_OUT, source);
                rec.consent = Some((consent, state.consent_version));
                rec.touch(touch("consent.opted_out", "the carrier says the number opted out: no more texts".into()));
                change = change.fact(Fact::new(store, FactKind::CarrierOptOut, &key, now));
            }
            // What the store owes the customer: a person reaches them (not
            // for marketing, nor for the confirmation of their own opt-out).
            if text.class != MessageClass::Marketing && !text.confirms_opt_out {
                let owner = owner_of(store, text, state);
                let task = Task::open(&customer, TaskKind::TextFailed, format!("text-failed-{id}"), owner, now, now)
                    .note(format!(
                        "The {what} text did not arrive ({}): reach the customer another way. It said: {}",
                        receipt.provider_response, text.body
                    ));
                rec.touch(touch(
                    "task.created",
                    format!("{} for {}: the text did not arrive", task.task_id, task.owner),
                ));
                rec.tasks.push(task);
            }
        }
    }
    rec.finished_texts.push(OutboundText { receipt: Some(receipt), ..text.clone() });
    Ok(Some(change.record(rec)))
}

/// What one delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Handled {
    pub recorded: usize,
    /// Duplicates, receipts of texts custops did not send, unreadable records.
    pub dropped: usize,
}

/// The function, with what its cold start built.
pub struct Receipts {
    core: Core,
    groups: LogGroups,
}

impl AsRef<Core> for Receipts {
    fn as_ref(&self) -> &Core {
        &self.core
    }
}

/// How many receipts of one delivery are worked at once.
pub const CONCURRENCY: usize = 8;

enum One {
    Recorded,
    Dropped,
}

impl Receipts {
    pub fn from_env(
        env: &impl EnvSource,
        config: &aws_config::SdkConfig,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        Ok(Self { core: Core::from_env(env, config, clock)?, groups: LogGroups::from_env(env)? })
    }

    pub fn new(core: Core, groups: LogGroups) -> Self {
        Self { core, groups }
    }

    /// Every record of one subscription delivery. A table that does not
    /// answer is an error (the delivery is retried; a receipt already
    /// recorded is then a duplicate); anything about the records themselves is not.
    pub async fn handle(&self, event: LogsEvent) -> Result<Handled, ProcessError> {
        let data = event.aws_logs.data;
        let Some(group) = self.groups.of(&data.owner, &data.log_group) else {
            // Named by digits-free words only: a forged group name may carry a number.
            let handled = Handled { recorded: 0, dropped: data.log_events.len() };
            warn!(
                owner_is_ours = data.owner == self.groups.account,
                log_group = %custops::phone::redact_digits(&data.log_group),
                dropped = handled.dropped,
                "records from a log group that is not SNS's delivery status of this account and region: dropped"
            );
            return Ok(handled);
        };
        let label = Arc::new(data.log_group);
        let results: Vec<Result<One, ProcessError>> = stream::iter(data.log_events)
            .map(|entry| {
                let label = label.clone();
                async move { self.one(group, &label, &entry.id, &entry.message).await }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut handled = Handled::default();
        for r in results {
            match r? {
                One::Recorded => handled.recorded += 1,
                One::Dropped => handled.dropped += 1,
            }
        }
        info!(recorded = handled.recorded, dropped = handled.dropped, "delivery receipts");
        Ok(handled)
    }

    async fn one(&self, group: Group, label: &str, entry_id: &str, line: &str) -> Result<One, ProcessError> {
        let record = match SmsRecord::parse(line) {
            Ok(r) => r,
            Err(reason) => {
                warn!(log_group = label, entry_id, reason, "an unreadable delivery record: dropped");
                return Ok(One::Dropped);
            }
        };
        let id = record.notification.message_id.as_str();
        if record.status().ok() != Some(group.status()) {
            warn!(message_id = id, group = group.as_str(), status = %record.status, "a record in the wrong log group: dropped");
            return Ok(One::Dropped);
        }
        let Some(text) = self.core.table.text_by_message_id(id).await? else {
            info!(message_id = id, "a receipt for a text custops did not send: dropped");
            return Ok(One::Dropped);
        };
        if let Err(why) = believe(&record, group, &text) {
            warn!(message_id = id, group = group.as_str(), reason = %why, "a record that is not what it seems: dropped");
            return Ok(One::Dropped);
        }
        let key = receipt_key(id);
        let store = match self.core.store(&text.store_id, &key).await {
            Ok(s) => s,
            Err(ProcessError::UnknownStore { .. }) => {
                warn!(message_id = id, "a receipt for a store that is gone: dropped");
                return Ok(One::Dropped);
            }
            Err(e) => return Err(e),
        };
        let customer = CustomerId::new(&text.store_id, text.phone.clone());
        // Decided on the record as read; a concurrent change of it is read and decided again.
        let applied = self
            .core
            .decide_and_apply(&store, &customer, |state, now| match decide(&store, &text, state, &record, now) {
                Ok(Some(change)) => Ok(change),
                Ok(None) => Err(Skipped::Duplicate),
                Err(reason) => Err(Skipped::Unreadable(reason)),
            })
            .await;
        match applied {
            Ok(Applied::Duplicate) | Err(Refused::Decided(Skipped::Duplicate)) => {
                info!(message_id = id, "the same receipt again: nothing changed");
                Ok(One::Dropped)
            }
            Err(Refused::Decided(Skipped::Unreadable(reason))) => {
                warn!(message_id = id, reason, "an unreadable delivery record: dropped");
                Ok(One::Dropped)
            }
            Ok(Applied::Applied { .. }) => {
                let status = record.status().map(DeliveryStatus::as_str).unwrap_or("?");
                info!(message_id = id, status, trigger = %text.trigger, "delivery receipt recorded");
                Ok(One::Recorded)
            }
            Err(Refused::Process(e)) => Err(e),
        }
    }
}

/// Why a receipt changes nothing.
#[derive(Debug, thiserror::Error)]
enum Skipped {
    #[error("the text has its receipt already")]
    Duplicate,
    #[error("{0}")]
    Unreadable(String),
}

#[cfg(test)]
mod tests;
