//! `custops feed put` and `custops feed status` (CONTRACT.md section 13):
//! a DMS export put in the feed bucket under the store's folder, and the
//! files the feed has taken with their counts.

use std::path::Path;

use custops::feed::FeedFile;

use crate::commands::Target;
use crate::BoxError;

/// The environment variable naming the feed bucket on AWS (the stack's
/// `DmsFeedBucketName` output; CloudFormation names it). Locally the
/// template's name.
pub const FEED_BUCKET: &str = "CUSTOPS_FEED_BUCKET";

/// The feed bucket of `target`.
pub fn bucket(target: &Target) -> Result<String, BoxError> {
    if let Some(b) = std::env::var(FEED_BUCKET).ok().filter(|b| !b.is_empty()) {
        return Ok(b);
    }
    if target.endpoint.is_none() {
        return Err(format!("on AWS the feed bucket is the stack's DmsFeedBucketName output: set {FEED_BUCKET}").into());
    }
    target.template.name_of("DmsFeedBucket").ok_or_else(|| "the template has no DmsFeedBucket".into())
}

/// Puts `file` in the feed bucket as `{store_id}/{its name}`; its key.
pub async fn put(target: &Target, store_id: &str, file: &Path) -> Result<String, BoxError> {
    if target.table.get_store(store_id).await?.is_none() {
        return Err(format!("unknown store {store_id:?}: `custops store put` it first").into());
    }
    let name = file.file_name().and_then(|n| n.to_str()).ok_or("the file has no name")?;
    if custops::feed::Format::of(name).is_none() {
        return Err(format!("{name}: the feed takes JSON Lines (.jsonl, .ndjson) or CSV (.csv)").into());
    }
    let key = format!("{store_id}/{name}");
    target.s3.put_file(&bucket(target)?, &key, file).await?;
    Ok(key)
}

/// The files of a store's feed, oldest first.
pub async fn status(target: &Target, store_id: &str) -> Result<Vec<FeedFile>, BoxError> {
    let mut files = target.table.feed_files(store_id).await?;
    files.sort_by_key(|f| f.received_at);
    Ok(files)
}

/// One line per file, and each skipped row under it.
pub fn render(files: &[FeedFile]) -> String {
    let mut out = String::new();
    if files.is_empty() {
        out.push_str("no files taken yet\n");
    }
    for f in files {
        let state = if f.taken { "taken" } else { "taking" };
        out.push_str(&format!(
            "{}  {state}  rows {}  events {}  unchanged {}  stale {}  skipped {}\n",
            f.key, f.rows, f.events, f.unchanged, f.stale, f.skipped
        ));
        for b in &f.bad {
            out.push_str(&format!("    line {}: {}\n", b.line, b.reason));
        }
        if f.skipped as usize > f.bad.len() {
            out.push_str(&format!("    ... and {} more\n", f.skipped as usize - f.bad.len()));
        }
    }
    out
}
