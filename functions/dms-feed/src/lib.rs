//! `dms-feed`: the DMS feed (CONTRACT.md section 13).
//!
//! Trigger: its queue, fed by two doors: the front door's `POST
//! /hooks/{store}/dms` (a [`Delivery`] of at most
//! [`custops::feed::SNAPSHOTS_PER_MESSAGE`] checked snapshots a message) and
//! the feed bucket's object notifications (S3's `Records`, keys URL-encoded):
//! a file under `{store_id}/`, JSON Lines or CSV, read as a stream (flat
//! memory, a hundred rows at a time), each bad row skipped and kept with its
//! line, the file's progress recorded as it goes ([`FeedFile`]: the same key
//! and bytes twice are taken once; a file cut short goes on from its last
//! line).
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
use custops::feed::{self, Delivery, FeedFile, Memory, Outcome, Snapshot};
use custops::{Core, Deps, ProcessError, SharedClock};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::Value;
use tracing::info;

/// The function's name, as in `infra/template.yaml`.
pub const NAME: &str = "dms-feed";

pub use custops::env::DMS_EVENTS_TOPIC_ARN;
/// The feed bucket (template `DmsFeedBucket`): the only bucket read.
pub const DMS_FEED_BUCKET: &str = "DMS_FEED_BUCKET";

/// The environment the function reads (checked against the template).
pub const ENV: &[&str] = &[
    custops::env::TABLE_NAME,
    custops::env::DLQ_URL,
    custops::env::MAX_RECEIVE_COUNT,
    custops::env::RUST_LOG,
    custops::env::WARM_UP,
    DMS_EVENTS_TOPIC_ARN,
    DMS_FEED_BUCKET,
];

/// Rows of a file taken at once (one `BatchGetItem`).
pub const ROWS_PER_CHUNK: usize = 100;
/// A file's progress is recorded every this many rows.
pub const CHECKPOINT_ROWS: u64 = 5_000;

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
    objects: custops::s3::S3,
    bucket: String,
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
        // The outbound path's SNS client: no second set of clients at the cold start.
        let sns = deps.outbound.sns().clone();
        // The AWS roots alone, as the SDK clients on Lambda (the system's
        // store is hundreds of certificates to parse at a cold start).
        let objects = custops::s3::S3::new(config, custops::https::Trust::Aws).map_err(|reason| {
            ConfigError::Invalid { name: DMS_FEED_BUCKET, reason: format!("the feed bucket cannot be read: {reason}") }
        })?;
        Ok(Self {
            deps,
            sns,
            topic_arn: env.required(DMS_EVENTS_TOPIC_ARN)?,
            objects,
            bucket: env.required(DMS_FEED_BUCKET)?,
        })
    }

    /// One SQS batch: every message at once, partial failures reported.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.deps.batch.run(event, |message| self.process(message)).await
    }

    /// One message: a front door delivery, or the feed bucket's notification.
    pub async fn process(&self, message: Message) -> Result<(), ProcessError> {
        let id = message.message_id.clone();
        let invalid = |reason: String| ProcessError::Invalid { event_id: id.clone(), reason };
        if let Ok(notification) = serde_json::from_str::<Notification>(&message.body) {
            for record in notification.records {
                self.file(&id, record).await?;
            }
            return Ok(());
        }
        if serde_json::from_str::<Value>(&message.body).is_ok_and(|v| v["Event"] == "s3:TestEvent") {
            info!("the feed bucket's test notification");
            return Ok(());
        }
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

    /// One object of the feed bucket: taken once, a hundred rows at a time,
    /// from where an earlier attempt stopped.
    async fn file(&self, id: &str, record: Record) -> Result<(), ProcessError> {
        let invalid = |reason: String| ProcessError::Invalid { event_id: id.to_owned(), reason };
        if !record.event_name.starts_with("ObjectCreated:") {
            info!(event = %record.event_name, "not a new object");
            return Ok(());
        }
        let key = decode_key(&record.s3.object.key)
            .ok_or_else(|| invalid("the object's key is not URL-encoded UTF-8".into()))?;
        if record.s3.bucket.name != self.bucket {
            return Err(invalid(format!("bucket {:?} is not the feed bucket", record.s3.bucket.name)));
        }
        let Some((store_id, name)) = key.split_once('/').filter(|(s, n)| !s.is_empty() && !n.is_empty()) else {
            return Err(invalid(format!("{key:?} is not under a store's folder ({{store_id}}/...)")));
        };
        let format = feed::Format::of(name)
            .ok_or_else(|| invalid(format!("{key:?} is neither JSON Lines (.jsonl, .ndjson) nor CSV (.csv)")))?;
        let Some(store) = self.deps.stores.get(store_id).await? else {
            return Err(ProcessError::UnknownStore { event_id: id.to_owned(), store_id: store_id.to_owned() });
        };
        let etag = record.s3.object.etag.trim_matches('"').to_owned();
        let mut file = match self.deps.table.feed_file(store_id, &key, &etag).await? {
            Some(f) if f.taken => {
                info!(store_id, file = %key, "already taken");
                return Ok(());
            }
            Some(f) => f,
            None => FeedFile {
                store_id: store_id.to_owned(),
                key: key.clone(),
                etag: etag.clone(),
                size: record.s3.object.size.unwrap_or(0),
                received_at: record.event_time,
                taken: false,
                line: 0,
                rows: 0,
                events: 0,
                unchanged: 0,
                stale: 0,
                skipped: 0,
                bad: Vec::new(),
                finished_at: None,
            },
        };
        let aws = |what: &str, e: String| ProcessError::Aws { what: format!("{what} {key}"), reason: e };
        let body = self
            .objects
            .get(&self.bucket, &key, Some(etag.as_str()).filter(|e| !e.is_empty()))
            .await
            .map_err(|e| aws("reading", e))?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Row>>(4);
        let reader = custops::s3::BodyReader::new(body, tokio::runtime::Handle::current());
        let store_for_rows = (*store).clone();
        let reading = tokio::task::spawn_blocking(move || read_rows(reader, format, &store_for_rows, &tx));
        let mut since_checkpoint = 0;
        while let Some(chunk) = rx.recv().await {
            let mut snapshots = Vec::with_capacity(chunk.len());
            for (line, row) in chunk {
                if line <= file.line {
                    continue;
                }
                file.line = line;
                file.rows += 1;
                let usable = row.and_then(|v| {
                    let s = Snapshot::from_value(&v)?;
                    if s.store_id != store_id {
                        return Err("store_id is not the store of the file's folder".to_owned());
                    }
                    Ok(s)
                });
                match usable {
                    Ok(s) => {
                        let as_of = s.as_of.unwrap_or(file.received_at);
                        snapshots.push((s, as_of));
                    }
                    Err(reason) => {
                        file.skipped += 1;
                        if file.bad.len() < feed::MAX_BAD_ROWS {
                            file.bad.push(feed::BadRow { line, reason });
                        }
                    }
                }
            }
            let counts = self.take(store_id, &snapshots).await?;
            file.events += counts.events as u64;
            file.unchanged += counts.unchanged as u64;
            file.stale += counts.stale as u64;
            since_checkpoint += snapshots.len() as u64;
            if since_checkpoint >= CHECKPOINT_ROWS {
                self.deps.table.put_feed_file(&file).await?;
                since_checkpoint = 0;
            }
        }
        match reading.await {
            Ok(Ok(())) => {}
            Ok(Err(Unreadable::Header(reason))) => {
                file.skipped += 1;
                file.bad.push(feed::BadRow { line: 1, reason });
            }
            Ok(Err(Unreadable::Io(e))) => {
                self.deps.table.put_feed_file(&file).await?;
                return Err(aws("reading", e));
            }
            Err(e) => return Err(aws("reading", e.to_string())),
        }
        file.taken = true;
        file.finished_at = Some(self.deps.clock.now());
        self.deps.table.put_feed_file(&file).await?;
        info!(
            store_id,
            file = %key,
            rows = file.rows,
            events = file.events,
            unchanged = file.unchanged,
            stale = file.stale,
            skipped = file.skipped,
            "feed file taken"
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

/// S3's event notification (its `Records`), as S3 documents it, read for
/// what the feed needs.
#[derive(Debug, Deserialize)]
struct Notification {
    #[serde(rename = "Records")]
    records: Vec<Record>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_name: String,
    event_time: DateTime<Utc>,
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default, rename = "eTag")]
    etag: String,
}

/// An object key as S3 sends it in a notification: URL-encoded, a space as `+`.
pub fn decode_key(key: &str) -> Option<String> {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8().ok().map(|k| k.into_owned())
}

/// One row of a file: its line and its snapshot's JSON, or why it has none.
type Row = (u64, Result<Value, String>);

/// Why a file could not be read.
enum Unreadable {
    /// The CSV's header: the file has no row to take.
    Header(String),
    /// The object's bytes stopped coming.
    Io(String),
}

/// The rows of a file, sent a hundred at a time (on a blocking thread: the
/// CSV reader is synchronous). Stops when the receiver is gone.
fn read_rows(
    reader: impl std::io::Read + Send + 'static,
    format: feed::Format,
    store: &custops::StoreConfig,
    tx: &tokio::sync::mpsc::Sender<Vec<Row>>,
) -> Result<(), Unreadable> {
    let rows: Box<dyn Iterator<Item = Row>> = match format {
        feed::Format::JsonLines => {
            let lines = std::io::BufRead::lines(std::io::BufReader::new(reader));
            Box::new(lines.enumerate().filter_map(|(i, line)| {
                let line_no = i as u64 + 1;
                match line {
                    Ok(l) if l.trim().is_empty() => None,
                    Ok(l) => Some((
                        line_no,
                        serde_json::from_str(&l)
                            .map_err(|e| format!("not JSON: {}", custops::phone::redact_digits(&e.to_string()))),
                    )),
                    Err(e) => Some((line_no, Err(format!("{}: {e}", feed::csv::UNREADABLE)))),
                }
            }))
        }
        feed::Format::Csv => {
            let store = store.clone();
            let rows = feed::csv::rows(reader, feed::csv::FEED_COLUMNS, feed::csv::FEED_REQUIRED)
                .map_err(Unreadable::Header)?;
            Box::new(rows.map(move |(line, cells)| (line as u64, cells.and_then(|c| c.snapshot(&store)))))
        }
    };
    let mut chunk = Vec::with_capacity(ROWS_PER_CHUNK);
    for row in rows {
        if let (_, Err(reason)) = &row {
            if reason.starts_with(feed::csv::UNREADABLE) {
                return Err(Unreadable::Io(reason.clone()));
            }
        }
        chunk.push(row);
        if chunk.len() == ROWS_PER_CHUNK && tx.blocking_send(std::mem::take(&mut chunk)).is_err() {
            return Ok(());
        }
    }
    if !chunk.is_empty() {
        let _ = tx.blocking_send(chunk);
    }
    Ok(())
}
