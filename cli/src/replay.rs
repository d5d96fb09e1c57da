//! Replaying `events/` through the local stack as time passes: what `cargo
//! demo` shows and what the report's replay test checks. Each event is
//! handled a few seconds after it happened; before it, the scheduled
//! functions run every morning (16:00 UTC, 10:00 in Chicago) of the 40 days
//! before it, as EventBridge would; the queue work they start finishes
//! before the next step.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use custops::{Clock, PinnedClock};
use serde_json::Value;

use crate::commands::{self, Target};
use crate::local::LocalStack;
use crate::BoxError;

/// What the scheduled functions released during a replay.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Released {
    pub follow_ups: u64,
    pub sent: u64,
    pub lapsed: u64,
}

impl Released {
    fn add(&mut self, other: &Released) {
        self.follow_ups += other.follow_ups;
        self.sent += other.sent;
        self.lapsed += other.lapsed;
    }
}

fn occurred_at(body: &str) -> Option<DateTime<Utc>> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("occurred_at").and_then(Value::as_str).and_then(|t| t.parse().ok()))
}

/// When the earliest event in `dir` happened (where a replay's clock starts).
pub fn first_event_time(dir: &Path) -> Result<Option<DateTime<Utc>>, BoxError> {
    let (_, events) = commands::sample_files(dir)?;
    Ok(events.iter().filter_map(|p| std::fs::read_to_string(p).ok()).filter_map(|b| occurred_at(&b)).min())
}

/// The hour of the morning the replay fires the scheduled functions (UTC).
pub const MORNING_HOUR_UTC: u32 = 16;

/// Fires every scheduled function at each morning in `(from, to)`, and lets
/// the queue work they start finish.
pub async fn tick_mornings(
    stack: &LocalStack,
    clock: &PinnedClock,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Released, BoxError> {
    let mut released = Released::default();
    let mut day = Some(from.date_naive());
    while let Some(d) = day {
        let Some(at) = d.and_hms_opt(MORNING_HOUR_UTC, 0, 0).map(|t| t.and_utc()) else { break };
        if at >= to {
            break;
        }
        if at > from {
            clock.set(at);
            for (_, report) in stack.tick().await? {
                released.follow_ups += report["follow_ups"].as_u64().unwrap_or(0);
                released.sent += report["sent"].as_u64().unwrap_or(0);
                released.lapsed += report["handed_off"].as_u64().unwrap_or(0);
            }
            stack.run_until_idle(Duration::from_secs(60)).await?;
        }
        day = d.succ_opt();
    }
    Ok(released)
}

/// Stores every store of `dir/stores`, then replays every other file of
/// `dir` in file-name order (events that happened after `until` are left
/// out). Without `until`, the mornings of the 31 days after the last event
/// are ticked too; with it, the mornings up to `until`, and the clock is left
/// at `until`. `progress` gets one line per store and event.
pub async fn replay(
    stack: &LocalStack,
    clock: &PinnedClock,
    target: &Target,
    dir: &Path,
    until: Option<DateTime<Utc>>,
    mut progress: impl FnMut(String),
) -> Result<Released, BoxError> {
    let (stores, events) = commands::sample_files(dir)?;
    for s in &stores {
        let (store, _) = commands::store_put(target, s).await?;
        progress(format!("store  {:<38} {}", display(dir, s), store.name));
    }
    let mut released = Released::default();
    for e in &events {
        let body = std::fs::read_to_string(e)?;
        let at = occurred_at(&body);
        if let (Some(at), Some(until)) = (at, until) {
            if at > until {
                continue;
            }
        }
        if let Some(at) = at {
            let since = clock.now().max(at - chrono::Duration::days(40));
            released.add(&tick_mornings(stack, clock, since, at).await?);
            clock.set(at + chrono::Duration::seconds(5));
        }
        let topic = commands::publish_event(&stack.clients.sns, |t| stack.topic_arn(t), &body).await?;
        stack.run_until_idle(Duration::from_secs(60)).await?;
        progress(format!("event  {:<38} -> {topic}", display(dir, e)));
    }
    let last = clock.now();
    let end = until.unwrap_or(last + chrono::Duration::days(31));
    released.add(&tick_mornings(stack, clock, last, end).await?);
    if let Some(until) = until {
        clock.set(until);
    }
    Ok(released)
}

fn display(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).map(PathBuf::from).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}
