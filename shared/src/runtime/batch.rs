//! The one SQS batch adapter every function uses: messages run concurrently,
//! each in its own span; failures are reported with `ReportBatchItemFailures`.
//!
//! - Permanent failures (bad input) are moved to the function's DLQ at once,
//!   with the reason as a message attribute, and reported as processed, so they
//!   neither block their batch nor burn retries.
//! - Transient failures are reported as batch item failures and retried by SQS.
//!   On the last attempt the adapter itself moves the message to the DLQ with the
//!   reason; the queue's redrive policy stays as the backstop for crashes.

use std::collections::HashMap;
use std::future::Future;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::MessageAttributeValue;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use tracing::{error, info, warn, Instrument};

use crate::error::ProcessError;

/// Attributes the adapter adds to a dead-lettered message.
pub const ATTR_REASON: &str = "failure_reason";
pub const ATTR_KIND: &str = "failure_kind";
pub const ATTR_FUNCTION: &str = "failed_function";
pub const ATTR_AT: &str = "failed_at";
pub const ATTR_SOURCE_ID: &str = "source_message_id";
/// When custops first received the message (SQS's `SentTimestamp` of its
/// first copy, epoch milliseconds): set when the adapter dead-letters it and
/// kept by `custops dlq --redrive`, so a resent copy keeps its place in the
/// order the customer sent it (a redriven START never undoes a later STOP).
pub const ATTR_FIRST_SENT: &str = "first_sent_at";
pub const FAILURE_ATTRIBUTES: [&str; 5] = [ATTR_REASON, ATTR_KIND, ATTR_FUNCTION, ATTR_AT, ATTR_SOURCE_ID];

/// One message as a handler sees it.
#[derive(Debug, Clone)]
pub struct Message {
    pub message_id: String,
    pub body: String,
    /// How many times SQS has delivered it (1 on the first attempt).
    pub receive_count: u32,
    pub event_type: Option<String>,
    /// When SQS first received it (its `SentTimestamp`; the same on every
    /// retry): the order messages entered custops in, whatever the order
    /// they are processed in.
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct BatchAdapter {
    sqs: aws_sdk_sqs::Client,
    dlq_url: String,
    max_receive_count: u32,
    function: &'static str,
}

/// What happened to one message, for the batch response and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    DeadLettered,
    Retry,
}

impl BatchAdapter {
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        dlq_url: impl Into<String>,
        max_receive_count: u32,
        function: &'static str,
    ) -> Self {
        Self { sqs, dlq_url: dlq_url.into(), max_receive_count: max_receive_count.max(1), function }
    }

    /// Runs `handler` on every message of the batch concurrently.
    pub async fn run<F, Fut>(&self, event: SqsEvent, handler: F) -> SqsBatchResponse
    where
        F: Fn(Message) -> Fut,
        Fut: Future<Output = Result<(), ProcessError>>,
    {
        let handler = &handler;
        let outcomes = join_all(event.records.into_iter().map(|record| async move {
            let id = record.message_id.clone().unwrap_or_default();
            let span = tracing::info_span!("message", message_id = %id, event_id = tracing::field::Empty);
            let outcome = self.one(record, handler).instrument(span).await;
            (id, outcome)
        }))
        .await;
        let mut response = SqsBatchResponse::default();
        for (id, outcome) in outcomes {
            if outcome == Outcome::Retry {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    async fn one<F, Fut>(&self, record: SqsMessage, handler: &F) -> Outcome
    where
        F: Fn(Message) -> Fut,
        Fut: Future<Output = Result<(), ProcessError>>,
    {
        let receive_count = record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
        let message = Message {
            message_id: record.message_id.clone().unwrap_or_default(),
            body: record.body.clone().unwrap_or_default(),
            receive_count,
            event_type: record.message_attributes.get("event_type").and_then(|a| a.string_value.clone()),
            sent_at: first_sent_ms(&record).and_then(DateTime::from_timestamp_millis),
        };
        let err = match retry_conflicts(|| handler(message.clone())).await {
            Ok(()) => return Outcome::Processed,
            Err(e) => e,
        };
        let reason = crate::phone::redact_digits(&err.to_string());
        if matches!(err, ProcessError::Ignored { .. }) {
            info!(reason = %reason, "acknowledged, nothing to do");
            return Outcome::Processed;
        }
        let error_type = err.kind();
        if err.is_permanent() {
            error!(error_type, reason = %reason, "bad input: moving the message to the DLQ");
            return self.dead_letter(&record, "permanent", &reason).await;
        }
        if receive_count >= self.max_receive_count {
            error!(error_type, reason = %reason, attempts = receive_count, "failed on its last attempt: moving the message to the DLQ");
            return self.dead_letter(&record, "transient", &reason).await;
        }
        warn!(error_type, reason = %reason, attempts = receive_count, "transient failure: SQS will retry");
        Outcome::Retry
    }

    async fn dead_letter(&self, record: &SqsMessage, kind: &str, reason: &str) -> Outcome {
        let mut attributes: HashMap<String, MessageAttributeValue> = HashMap::new();
        for (name, value) in &record.message_attributes {
            if let (Some(v), Some(t)) = (&value.string_value, &value.data_type) {
                if let Ok(a) = MessageAttributeValue::builder().data_type(t).string_value(v).build() {
                    attributes.insert(name.clone(), a);
                }
            }
        }
        if let Some(ms) = first_sent_ms(record) {
            // The copy keeps the time the customer sent the original.
            if let Ok(a) = MessageAttributeValue::builder().data_type("Number").string_value(ms.to_string()).build() {
                attributes.insert(ATTR_FIRST_SENT.to_owned(), a);
            }
        }
        let mut reason = reason.to_owned();
        reason.truncate(reason.floor_char_boundary(1000));
        let source_id = record.message_id.clone().unwrap_or_default();
        let at = Utc::now().to_rfc3339();
        for (name, value) in [
            (ATTR_REASON, reason.as_str()),
            (ATTR_KIND, kind),
            (ATTR_FUNCTION, self.function),
            (ATTR_AT, at.as_str()),
            (ATTR_SOURCE_ID, source_id.as_str()),
        ] {
            if let Ok(a) = MessageAttributeValue::builder().data_type("String").string_value(value).build() {
                attributes.insert(name.to_owned(), a);
            }
        }
        let sent = self
            .sqs
            .send_message()
            .queue_url(&self.dlq_url)
            .message_body(record.body.clone().unwrap_or_default())
            .set_message_attributes(Some(attributes))
            .send()
            .await;
        match sent {
            Ok(_) => {
                info!("moved to the DLQ");
                Outcome::DeadLettered
            }
            Err(e) => {
                // Leave it to SQS: it is retried and, in the end, redriven.
                error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "could not move the message to the DLQ");
                Outcome::Retry
            }
        }
    }
}

/// When custops first received `record`: its `first_sent_at` attribute (a
/// dead-lettered or redriven copy), else SQS's `SentTimestamp`.
fn first_sent_ms(record: &SqsMessage) -> Option<i64> {
    record
        .message_attributes
        .get(ATTR_FIRST_SENT)
        .and_then(|a| a.string_value.as_deref())
        .or_else(|| record.attributes.get("SentTimestamp").map(String::as_str))
        .and_then(|ms| ms.parse().ok())
}

/// How many times a message whose commit lost a race is decided again inside
/// the function before it goes back to SQS.
pub const CONFLICT_ATTEMPTS: u32 = 8;
/// How long those attempts may take together: well inside the function's
/// timeout (10 s), so a batch never runs into its deadline retrying.
pub const CONFLICT_BUDGET: std::time::Duration = std::time::Duration::from_secs(4);

/// Runs `attempt` (read, decide, apply) again while it loses a race (a stale
/// version, a `TransactionConflict`), after a jittered, growing pause, at most
/// [`CONFLICT_ATTEMPTS`] times within [`CONFLICT_BUDGET`]. SQS would return
/// the message only after its visibility timeout, and a batch's messages for
/// one customer would return together and collide again: a burst of events
/// for one customer would commit one per receive and dead-letter the rest.
pub async fn retry_conflicts<Fut>(mut attempt: impl FnMut() -> Fut) -> Result<(), ProcessError>
where
    Fut: Future<Output = Result<(), ProcessError>>,
{
    let started = std::time::Instant::now();
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if e.is_conflict() && tries < CONFLICT_ATTEMPTS => {
                let pause = backoff(tries);
                if started.elapsed() + pause > CONFLICT_BUDGET {
                    return Err(e);
                }
                info!(
                    tries,
                    pause_ms = pause.as_millis() as u64,
                    "lost a race for the customer's record: deciding again"
                );
                tokio::time::sleep(pause).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Full jitter: a pause drawn from [0, min(1 s, 25 ms x 2^tries)).
fn backoff(tries: u32) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let ceiling = 25u64.saturating_mul(1 << tries.min(10)).min(1000);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(tries);
    std::time::Duration::from_millis(h.finish() % ceiling + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lost_race_is_decided_again_inside_the_function_and_anything_else_is_not() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let result = retry_conflicts(|| {
            let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                if n < 3 {
                    Err(ProcessError::Conflict { event_id: "e".into() })
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 4, "three lost races, then the commit");

        let calls = std::sync::atomic::AtomicU32::new(0);
        let result = retry_conflicts(|| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Err(ProcessError::Invalid { event_id: "e".into(), reason: "bad".into() }) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1, "bad input is never retried");

        let calls = std::sync::atomic::AtomicU32::new(0);
        let conflict = || crate::table::TableError::Aws {
            operation: "TransactWriteItems",
            code: Some("TransactionConflict".into()),
            message: "TransactionConflict".into(),
        };
        let result = retry_conflicts(|| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Err(ProcessError::Table(conflict())) }
        })
        .await;
        assert!(result.unwrap_err().is_conflict());
        let n = calls.load(std::sync::atomic::Ordering::SeqCst);
        assert!((2..=CONFLICT_ATTEMPTS).contains(&n), "bounded: {n} attempts");
    }

    #[tokio::test]
    async fn a_message_carries_when_sqs_first_received_it() {
        let sqs = aws_sdk_sqs::Client::new(&crate::aws::local("http://127.0.0.1:9").await);
        let adapter = BatchAdapter::new(sqs, "http://127.0.0.1:9/q", 3, "test");
        let mut record = SqsMessage::default();
        record.message_id = Some("m-1".into());
        record.attributes.insert("SentTimestamp".into(), "1795968000000".into());
        let mut event = SqsEvent::default();
        event.records.push(record);
        let seen = std::sync::Mutex::new(None);
        adapter
            .run(event, |m| {
                *seen.lock().unwrap() = m.sent_at;
                async { Ok(()) }
            })
            .await;
        assert_eq!(*seen.lock().unwrap(), DateTime::from_timestamp_millis(1_795_968_000_000));
    }

    /// A redriven copy has a new `SentTimestamp`; its `first_sent_at`
    /// (set when it was dead-lettered) is the time that counts.
    #[tokio::test]
    async fn a_resent_copy_keeps_the_time_the_original_was_first_received() {
        let sqs = aws_sdk_sqs::Client::new(&crate::aws::local("http://127.0.0.1:9").await);
        let adapter = BatchAdapter::new(sqs, "http://127.0.0.1:9/q", 3, "test");
        let mut record = SqsMessage::default();
        record.message_id = Some("m-2".into());
        record.attributes.insert("SentTimestamp".into(), "1795968999000".into());
        let mut first = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
        first.string_value = Some("1795968000000".into());
        first.data_type = Some("Number".into());
        record.message_attributes.insert(ATTR_FIRST_SENT.into(), first);
        let mut event = SqsEvent::default();
        event.records.push(record);
        let seen = std::sync::Mutex::new(None);
        adapter
            .run(event, |m| {
                *seen.lock().unwrap() = m.sent_at;
                async { Ok(()) }
            })
            .await;
        assert_eq!(*seen.lock().unwrap(), DateTime::from_timestamp_millis(1_795_968_000_000));
    }
}
