//! Handing work from a scheduled function to a worker function through the
//! worker's SQS queue: each piece is its own message, so one that fails
//! never stops the rest (it is retried, then lands in the worker's DLQ), and
//! the work scales out over as many workers as Lambda runs.

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

/// Work a scheduled function hands on, with the time it fell due (the
/// scheduler's "now"): the receiver decides as of then, whatever its own
/// clock says (`custops local tick --at`; on AWS the two agree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandedOn<T> {
    pub at: DateTime<Utc>,
    pub work: T,
}

/// The `event_type` of a due timer of `kind` handed to its function
/// (`follow_up` -> `follow_up.due`).
pub fn due_event_type(kind: &str) -> String {
    format!("{kind}.due")
}

/// Messages per `SendMessageBatch` (the API's limit).
pub const BATCH: usize = 10;
/// Batches in flight at once.
pub const CONCURRENCY: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("no hand-off queue: the function's HANDOFF_QUEUE_URL is not set")]
    NotConfigured,
    #[error("sqs SendMessageBatch: {0}")]
    Aws(String),
    #[error("sqs refused {refused} of {total} messages: {reason}")]
    Refused { refused: usize, total: usize, reason: String },
}

/// A worker's queue, as its scheduled function sends to it.
#[derive(Debug, Clone)]
pub struct Handoff {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl Handoff {
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { sqs, queue_url: queue_url.into() }
    }

    /// Sends every body, [`BATCH`] to a call. Entries SQS refuses are sent
    /// once more; what is still refused is an error (the next run hands the
    /// same work over again, and the worker is idempotent). Returns how many
    /// were sent.
    pub async fn send(&self, bodies: Vec<String>) -> Result<usize, HandoffError> {
        self.send_as(None, bodies).await
    }

    /// [`Handoff::send`], each message with the `event_type` attribute
    /// `event_type` (a worker fed by more than one source tells them apart).
    pub async fn send_as(&self, event_type: Option<&str>, bodies: Vec<String>) -> Result<usize, HandoffError> {
        let total = bodies.len();
        let chunks: Vec<Vec<String>> = bodies.chunks(BATCH).map(<[String]>::to_vec).collect();
        stream::iter(chunks)
            .map(|chunk| self.send_batch(event_type, chunk))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(total)
    }

    async fn send_batch(&self, event_type: Option<&str>, bodies: Vec<String>) -> Result<(), HandoffError> {
        let attribute = event_type
            .map(|t| MessageAttributeValue::builder().data_type("String").string_value(t).build())
            .transpose()
            .map_err(|e| HandoffError::Aws(e.to_string()))?;
        let mut pending: Vec<(usize, String)> = bodies.into_iter().enumerate().collect();
        let total = pending.len();
        let mut reason = String::new();
        for _ in 0..2 {
            if pending.is_empty() {
                return Ok(());
            }
            let entries = pending
                .iter()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .set_message_attributes(
                            attribute.clone().map(|a| std::collections::HashMap::from([("event_type".to_owned(), a)])),
                        )
                        .build()
                        .map_err(|e| HandoffError::Aws(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .sqs
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| HandoffError::Aws(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()))?;
            let failed: Vec<String> = out.failed.iter().map(|f| f.id.clone()).collect();
            if let Some(f) = out.failed.first() {
                reason = format!("{}: {}", f.code, f.message.as_deref().unwrap_or("refused"));
            }
            pending.retain(|(i, _)| failed.contains(&i.to_string()));
        }
        if pending.is_empty() {
            Ok(())
        } else {
            Err(HandoffError::Refused { refused: pending.len(), total, reason })
        }
    }
}
