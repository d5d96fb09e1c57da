//! What the DMS feed remembers of each repair order, appointment and deal
//! (`crate::feed::Memory`): one small item per thing, read a hundred at a
//! time with one consistent `BatchGetItem`, written only when a snapshot
//! changed it, and only on the condition that the memory it was compared
//! with is still the one there. An unchanged snapshot writes nothing.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use tracing::instrument;

use super::item::{from_item, key_of, n, number, s, to_item, Item};
use super::{Table, TableError};
use crate::entity::Entity;
use crate::feed::{FeedFile, Memory};
use crate::keys::{self, KIND, PK, TTL_ATTRIBUTE, VERSION};

const ENTITY: &str = "feed_memory";
const AS_OF: &str = "as_of";
const STATE: &str = "state";
const PENDING: &str = "pending";
const THING: &str = "thing";

impl Table {
    /// The memories of `things` of `store_id` that exist, by thing.
    #[instrument(skip(self, things), fields(things = things.len()))]
    pub async fn feed_memories(
        &self,
        store_id: &str,
        things: &[String],
    ) -> Result<HashMap<String, Memory>, TableError> {
        let unique: std::collections::BTreeSet<&String> = things.iter().collect();
        let keys = unique.into_iter().map(|t| key_of(&keys::feed_memory(store_id, t))).collect();
        let mut found = HashMap::new();
        for item in self.batch_get(keys, true).await? {
            let thing = item.get(THING).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            found.insert(thing, memory_of(&item)?);
        }
        Ok(found)
    }

    /// Writes `memory` of `thing` if the memory there is still version
    /// `last` (none: no memory yet). `Ok(false)`: another snapshot's write
    /// came first (read again and compare with that). `expires_at`: when
    /// the thing has ended, the epoch second its memory may go.
    pub async fn remember(
        &self,
        store_id: &str,
        thing: &str,
        memory: &Memory,
        last: Option<u64>,
        expires_at: Option<i64>,
    ) -> Result<bool, TableError> {
        let keys = keys::feed_memory(store_id, thing);
        let mut item: Item = key_of(&keys);
        item.insert(KIND.into(), s(ENTITY));
        item.insert(THING.into(), s(thing));
        item.insert(AS_OF.into(), s(memory.as_of.to_rfc3339()));
        item.insert(STATE.into(), s(&memory.state));
        item.insert(VERSION.into(), n(memory.version));
        if !memory.pending.is_empty() {
            item.insert(PENDING.into(), AttributeValue::L(memory.pending.iter().map(s).collect()));
        }
        if let Some(at) = expires_at {
            item.insert(TTL_ATTRIBUTE.into(), n(at));
        }
        let mut put = self.client.put_item().table_name(&self.name).set_item(Some(item));
        put = match last {
            None => put.condition_expression("attribute_not_exists(#pk)").expression_attribute_names("#pk", PK),
            Some(v) => put
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":v", n(v)),
        };
        match put.send().await.map_err(|e| TableError::aws("PutItem", e)) {
            Ok(_) => Ok(true),
            Err(e) if e.is_conditional_failure() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Clears the pending events of `thing`'s memory once published, if it
    /// is still `version` (a newer write carries them on; its own publish
    /// clears them).
    pub async fn feed_published(&self, store_id: &str, thing: &str, version: u64) -> Result<(), TableError> {
        let keys = keys::feed_memory(store_id, thing);
        let out = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            .update_expression("REMOVE #p")
            .condition_expression("#v = :v")
            .expression_attribute_names("#p", PENDING)
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(":v", n(version))
            .send()
            .await
            .map_err(|e| TableError::aws("UpdateItem", e));
        match out {
            Err(e) if !e.is_conditional_failure() => Err(e),
            _ => Ok(()),
        }
    }
}

impl Table {
    /// A file of the feed bucket as taken so far, read consistently.
    pub async fn feed_file(&self, store_id: &str, key: &str, etag: &str) -> Result<Option<FeedFile>, TableError> {
        let keys = keys::feed_file(store_id, key, etag);
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key_of(&keys)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| TableError::aws("GetItem", e))?;
        out.item.map(from_item).transpose()
    }

    /// Records how far a file has been taken.
    pub async fn put_feed_file(&self, file: &FeedFile) -> Result<(), TableError> {
        let item = to_item(file, &file.keys(&()))?;
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .map(drop)
            .map_err(|e| TableError::aws("PutItem", e))
    }

    /// Every file of a store's feed, by key.
    pub async fn feed_files(&self, store_id: &str) -> Result<Vec<FeedFile>, TableError> {
        self.query_all(None, &keys::feed_files(store_id), super::Range::All).await
    }
}

fn memory_of(item: &Item) -> Result<Memory, TableError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    let bad = |reason: &str| TableError::Mapping {
        pk: text(PK).cloned().unwrap_or_default(),
        sk: "FEED".into(),
        entity: ENTITY,
        reason: reason.into(),
    };
    let as_of: DateTime<Utc> = text(AS_OF).and_then(|t| t.parse().ok()).ok_or_else(|| bad("no as_of"))?;
    Ok(Memory {
        as_of,
        state: text(STATE).cloned().ok_or_else(|| bad("no state"))?,
        version: number(item, VERSION).ok_or_else(|| bad("no version"))?,
        pending: item
            .get(PENDING)
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
            .unwrap_or_default(),
    })
}
