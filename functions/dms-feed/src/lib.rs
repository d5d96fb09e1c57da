//! `dms-feed`: the DMS feed (CONTRACT.md section 13).
//!
//! Trigger: its queue, fed by two doors: the front door's `POST
//! /hooks/{store}/dms` (a [`Delivery`] of at most
//! [`custops::feed::SNAPSHOTS_PER_MESSAGE`] checked snapshots a message) and
//! the feed bucket's object notifications.
//! Reads: what the feed remembers of the message's things (one consistent
//! `BatchGetItem` for up to 100 of them).
//! Decides ([`custops::feed::take`], pure): each snapshot against the last
//! one taken of its thing: stale, unchanged, or a change and its section 3
//! events.
//! Applies: a changed thing's memory is written on the condition that the
//! one compared with is still there (a lost race reads again and compares
//! with the winner); the write carries the events, which are then published
//! to `dms-events` (`PublishBatch`, ten a call) and cleared. A failure
//! between the two publishes them again on the retry; their ids are their
//! content's, so the triggers take each once. An unchanged snapshot writes
//! nothing and publishes nothing.

use std::collections::{BTreeMap, HashSet};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Duration, Utc};
use custops::batch::Message;
use custops::env::{ConfigError, EnvSource};
use custops::feed::{self, Delivery, Memory, Outcome, Snapshot};
use custops::{Core, Deps, ProcessError, SharedClock};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::Value;
use tracing::info;

/// The function's name, as in `infra/template.yaml`.
pub const NAME: &str = "dms-feed";

pub use custops::env::DMS_EVENTS_TOPIC_ARN;

/// The environment the function reads (checked against the template).
pub const ENV: &[&str] = &[
    custops::env::TABLE_NAME,
    custops::env::DLQ_URL,
    custops::env::MAX_RECEIVE_COUNT,
    custops::env::RUST_LOG,
    custops::env::WARM_UP,
    DMS_EVENTS_TOPIC_ARN,
];

/// Things taken at once.
pub const CONCURRENCY: usize = 16;
/// How often a thing is read again after another snapshot's write won.
pub const ATTEMPTS: usize = 5;

/// What a message's snapshots did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub snapshots: usize,
    /// Events published (a retry's republished ones included).
    pub events: usize,
    pub unchanged: usize,
    pub stale: usize,
}

/// A memory's version and the events it holds that are not yet published.
type Unpublished = (u64, Vec<String>);

/// The feed, with what its cold start built.
pub struct Feed {
    pub deps: Deps,
    sns: aws_sdk_sns::Client,
    topic_arn: String,
}

impl AsRef<Core> for Feed {
    fn as_ref(&self) -> &Core {
        &self.deps.core
    }
}

impl Feed {
    pub fn from_env(
        env: &impl EnvSource,
        config: &aws_config::SdkConfig,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        let deps = Deps::from_env(NAME, env, config, clock)?;
        let sns = custops::aws::Clients::new(config).sns;
        Ok(Self { deps, sns, topic_arn: env.required(DMS_EVENTS_TOPIC_ARN)? })
    }

    /// One SQS batch: every message at once, partial failures reported.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.deps.batch.run(event, |message| self.process(message)).await
    }

    /// One message: a front door delivery.
    pub async fn process(&self, message: Message) -> Result<(), ProcessError> {
        let id = message.message_id.clone();
        let invalid = |reason: String| ProcessError::Invalid { event_id: id.clone(), reason };
        let delivery: Delivery = serde_json::from_str(&message.body)
            .map_err(|e| invalid(format!("not a feed delivery: {}", custops::phone::redact_digits(&e.to_string()))))?;
        if self.deps.stores.get(&delivery.store_id).await?.is_none() {
            return Err(ProcessError::UnknownStore { event_id: id, store_id: delivery.store_id });
        }
        let mut snapshots = Vec::with_capacity(delivery.snapshots.len());
        for (i, value) in delivery.snapshots.iter().enumerate() {
            let s = Snapshot::from_value(value).map_err(|r| invalid(format!("snapshot {}: {r}", i + 1)))?;
            if s.store_id != delivery.store_id {
                return Err(invalid(format!("snapshot {}: store_id is not the delivery's store", i + 1)));
            }
            let as_of = s.as_of.unwrap_or(delivery.received_at);
            snapshots.push((s, as_of));
        }
        let counts = self.take(&delivery.store_id, &snapshots).await?;
        info!(
            store_id = %delivery.store_id,
            snapshots = counts.snapshots,
            events = counts.events,
            unchanged = counts.unchanged,
            stale = counts.stale,
            "feed delivery taken"
        );
        Ok(())
    }

    /// Takes `snapshots` (each with its effective `as_of`) of one store.
    pub async fn take(&self, store_id: &str, snapshots: &[(Snapshot, DateTime<Utc>)]) -> Result<Counts, ProcessError> {
        let mut things: BTreeMap<String, Vec<(&Snapshot, DateTime<Utc>)>> = BTreeMap::new();
        for (s, as_of) in snapshots {
            things.entry(s.key()).or_default().push((s, *as_of));
        }
        let keys: Vec<String> = things.keys().cloned().collect();
        let mut memories = self.deps.table.feed_memories(store_id, &keys).await?;
        // Each thing's futures made here, not in a stream's closure: the
        // local stack's Send bound needs one future type, general in its borrows.
        let mut work = Vec::with_capacity(things.len());
        for (key, group) in things {
            let last = memories.remove(&key);
            work.push(self.take_thing(store_id, key, group, last));
        }
        let taken: Vec<(String, Vec<Outcome>, Option<Unpublished>)> =
            stream::iter(work).buffer_unordered(CONCURRENCY).try_collect().await?;
        let mut counts = Counts { snapshots: snapshots.len(), ..Counts::default() };
        let mut to_publish = Vec::new();
        let mut written = Vec::new();
        for (key, outcomes, publish) in taken {
            for o in outcomes {
                match o {
                    Outcome::Stale => counts.stale += 1,
                    Outcome::Unchanged => counts.unchanged += 1,
                    Outcome::Changed(_) => {}
                }
            }
            if let Some((version, events)) = publish {
                to_publish.extend(events);
                written.push((key, version));
            }
        }
        counts.events = self.publish(store_id, &to_publish).await?;
        let cleared: Vec<_> =
            written.iter().map(|(key, version)| self.deps.table.feed_published(store_id, key, *version)).collect();
        stream::iter(cleared).buffer_unordered(CONCURRENCY).try_collect::<Vec<()>>().await?;
        Ok(counts)
    }

    /// One thing's snapshots against its memory, written if they changed it
    /// (read again and compared again when another write came first): what
    /// each did, and the version and events to publish.
    async fn take_thing(
        &self,
        store_id: &str,
        key: String,
        group: Vec<(&Snapshot, DateTime<Utc>)>,
        mut last: Option<Memory>,
    ) -> Result<(String, Vec<Outcome>, Option<Unpublished>), ProcessError> {
        for _ in 0..ATTEMPTS {
            let (write, outcomes) = feed::take(last.as_ref(), &group);
            let Some(memory) = write else {
                // Nothing new; events a failed attempt left unpublished go now.
                let left = last.filter(|m| !m.pending.is_empty()).map(|m| (m.version, m.pending));
                return Ok((key, outcomes, left));
            };
            let expires = feed::derive::has_ended(&memory.state)
                .then(|| (memory.as_of + Duration::days(feed::derive::ENDED_KEPT_DAYS)).timestamp());
            let was = last.as_ref().map(|m| m.version);
            if self.deps.table.remember(store_id, &key, &memory, was, expires).await? {
                return Ok((key, outcomes, Some((memory.version, memory.pending))));
            }
            last = self.deps.table.feed_memories(store_id, std::slice::from_ref(&key)).await?.remove(&key);
        }
        Err(ProcessError::Conflict { event_id: format!("feed {key}") })
    }

    /// Publishes `events` (section 3 envelopes) to `dms-events`, ten a call,
    /// each with its `event_type` attribute; how many.
    async fn publish(&self, store_id: &str, events: &[String]) -> Result<usize, ProcessError> {
        use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
        let failed =
            |reason: String| ProcessError::Aws { what: format!("publishing {store_id}'s feed events"), reason };
        // The same event twice (two attempts' pending lists) is sent once.
        let mut seen = HashSet::new();
        let all: Vec<&String> = events.iter().filter(|e| seen.insert(e.as_str())).collect();
        for chunk in all.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, body) in chunk.iter().enumerate() {
                let event_type = serde_json::from_str::<Value>(body)
                    .ok()
                    .and_then(|v| v["event_type"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(event_type)
                    .build()
                    .map_err(|e| failed(e.to_string()))?;
                entries.push(
                    PublishBatchRequestEntry::builder()
                        .id(format!("e{i}"))
                        .message(body.as_str())
                        .message_attributes("event_type", attribute)
                        .build()
                        .map_err(|e| failed(e.to_string()))?,
                );
            }
            let out = self
                .sns
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await
                .map_err(|e| failed(aws_sdk_sns::error::DisplayErrorContext(&e).to_string()))?;
            if let Some(f) = out.failed.as_ref().filter(|f| !f.is_empty()) {
                return Err(failed(format!("{} of {} not published ({})", f.len(), chunk.len(), f[0].code)));
            }
        }
        Ok(all.len())
    }
}
