//! The DMS feed (CONTRACT.md section 13): a DMS's snapshots in, section 3's
//! events out. A DMS says how a repair order, an appointment or a deal
//! stands now; the feed compares each snapshot with the last one it took of
//! the same thing and publishes what changed to `dms-events`, where the
//! triggers take it unchanged.
//!
//! This room is pure: [`snapshot`] reads one, [`derive`] decides what it
//! becomes. What the feed remembers lives in the one table
//! (`crate::table::feed`); the `dms-feed` function moves snapshots from its
//! two doors (the front door's `POST /hooks/{store}/dms`, files in the feed
//! bucket) through both.

pub mod csv;
pub mod derive;
pub mod snapshot;

#[cfg(test)]
mod tests;

pub use derive::{take, Memory, Outcome};
pub use snapshot::{Snapshot, Thing};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most snapshots one queue message carries (the front door splits a
/// request into messages of at most this many, each well under SQS's
/// 256 KB; a message's things are read with one `BatchGetItem`).
pub const SNAPSHOTS_PER_MESSAGE: usize = 100;
/// The largest body `POST /hooks/{store}/dms` takes.
pub const MAX_BODY: usize = 256 * 1024;

/// A queue message from the front door: snapshots the door has checked,
/// all of one store, as they arrived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub store_id: String,
    /// When the door took them: the `as_of` of a snapshot without one.
    pub received_at: DateTime<Utc>,
    pub snapshots: Vec<serde_json::Value>,
}

/// The most bytes of snapshots one delivery carries.
pub const MAX_DELIVERY_BYTES: usize = 120 * 1024;

/// `snapshots` as queue message bodies ([`Delivery`]): at most
/// [`SNAPSHOTS_PER_MESSAGE`] and about [`MAX_DELIVERY_BYTES`] each.
pub fn deliveries(store_id: &str, snapshots: Vec<serde_json::Value>, received_at: DateTime<Utc>) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<serde_json::Value> = Vec::new();
    let mut bytes = 0;
    let mut flush = |current: &mut Vec<serde_json::Value>| {
        if !current.is_empty() {
            let d = Delivery { store_id: store_id.to_owned(), received_at, snapshots: std::mem::take(current) };
            out.push(serde_json::to_string(&d).unwrap_or_default());
        }
    };
    for s in snapshots {
        let size = s.to_string().len();
        if current.len() == SNAPSHOTS_PER_MESSAGE || (bytes + size > MAX_DELIVERY_BYTES && !current.is_empty()) {
            flush(&mut current);
            bytes = 0;
        }
        bytes += size;
        current.push(s);
    }
    flush(&mut current);
    out
}

/// A file of the feed bucket, as taken (`custops feed status`): one item a
/// file (its key and ETag: the same bytes under the same key are the same
/// file), written as its rows are taken, so a file cut short by the
/// function's timeout is taken on from its last line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedFile {
    pub store_id: String,
    /// The object's key (`{store_id}/...`).
    pub key: String,
    pub etag: String,
    pub size: u64,
    /// When S3 said the object was made: the `as_of` of a snapshot without one.
    pub received_at: DateTime<Utc>,
    /// Every row read.
    pub taken: bool,
    /// The last line taken (the file goes on after it).
    pub line: u64,
    pub rows: u64,
    pub events: u64,
    pub unchanged: u64,
    pub stale: u64,
    pub skipped: u64,
    /// The first [`MAX_BAD_ROWS`] skipped rows, each with its line and why.
    #[serde(default)]
    pub bad: Vec<BadRow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

/// The skipped rows a file's record keeps (the count has them all).
pub const MAX_BAD_ROWS: usize = 100;

/// A row of a file that was skipped: its line (a CSV's header is line 1)
/// and why, never a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRow {
    pub line: u64,
    pub reason: String,
}

impl crate::entity::Entity for FeedFile {
    const KIND: &'static str = "feed_file";
    type Scope = ();

    fn keys(&self, _: &()) -> crate::keys::Keys {
        crate::keys::feed_file(&self.store_id, &self.key, &self.etag)
    }
}

/// The format of a file, by its name: JSON Lines (`.jsonl`, `.ndjson`) or CSV (`.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    pub fn of(key: &str) -> Option<Self> {
        let lower = key.to_ascii_lowercase();
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Some(Format::JsonLines)
        } else if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

/// A bad snapshot of a request: its position (its line, or its index in an
/// array, from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub position: usize,
    pub reason: String,
}

/// The snapshots of a request body to `POST /hooks/{store}/dms`: a JSON
/// array of snapshots, or JSON Lines (one a line; blank lines skipped), all
/// of `store_id`. All or nothing: any bad one refuses the body, with every
/// bad one's position and reason.
pub fn read_body(store_id: &str, body: &str) -> Result<Vec<serde_json::Value>, Vec<Refused>> {
    let items: Vec<(usize, Result<serde_json::Value, String>)> = if body.trim_start().starts_with('[') {
        match serde_json::from_str::<Vec<serde_json::Value>>(body) {
            Ok(all) => all.into_iter().enumerate().map(|(i, v)| (i + 1, Ok(v))).collect(),
            Err(e) => {
                let reason = format!("not a JSON array: {}", crate::phone::redact_digits(&e.to_string()));
                return Err(vec![Refused { position: 1, reason }]);
            }
        }
    } else {
        body.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let v = serde_json::from_str(l)
                    .map_err(|e| format!("not JSON: {}", crate::phone::redact_digits(&e.to_string())));
                (i + 1, v)
            })
            .collect()
    };
    let mut refused = Vec::new();
    let mut taken = Vec::new();
    for (position, item) in items {
        let checked = item.and_then(|v| {
            let s = Snapshot::from_value(&v)?;
            if s.store_id != store_id {
                return Err("store_id is not the store of the path".to_owned());
            }
            Ok(v)
        });
        match checked {
            Ok(v) => taken.push(v),
            Err(reason) => refused.push(Refused { position, reason }),
        }
    }
    if taken.is_empty() && refused.is_empty() {
        refused.push(Refused { position: 1, reason: "no snapshot".into() });
    }
    if refused.is_empty() {
        Ok(taken)
    } else {
        Err(refused)
    }
}
