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
    let v = serde_json::from_str::<Value>(body).ok()?;
    // An envelope's time, or an SES notification's (a lead mail).
    v.get("occurred_at").or_else(|| v.pointer("/mail/timestamp")).and_then(Value::as_str).and_then(|t| t.parse().ok())
}

/// When the first event of `dir` in replay order happened: where a
/// replay's clock starts (the mornings before it hold nothing to tick; a
/// history told newest first, like Daniel's in `events/dms/001*`, is
/// replayed without ticking the years between).
pub fn first_event_time(dir: &Path) -> Result<Option<DateTime<Utc>>, BoxError> {
    let (_, events) = commands::sample_files(dir)?;
    Ok(events.iter().filter_map(|p| std::fs::read_to_string(p).ok()).find_map(|b| occurred_at(&b)))
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
    // The stores' webhook secrets (`secrets/{store_id}.json`), for the front door.
    let secrets = secret_files(dir)?;
    for (store_id, file) in &secrets {
        let keys = commands::secrets_put(target, store_id, file).await?;
        progress(format!("secret {:<38} {}", display(dir, file), keys.join(", ")));
    }
    let http = stack.serve_http(0).await?;
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
        let route = match serde_json::from_str::<Value>(&body).ok().filter(|v| v.get("front_door").is_some()) {
            // A webhook: sent to the front door as its provider sends it.
            Some(sample) => front_door_call(&http.url, &secrets, &sample, clock.now()).await?,
            None => commands::publish_event(&stack.clients.sns, |t| stack.topic_arn(t), &body).await?.to_owned(),
        };
        stack.run_until_idle(Duration::from_secs(60)).await?;
        progress(format!("event  {:<38} -> {route}", display(dir, e)));
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

/// The stores' webhook secrets under `dir/secrets/`: (store id, file).
pub fn secret_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, BoxError> {
    let secrets = dir.join("secrets");
    if !secrets.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&secrets)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let store = path.file_stem().and_then(|s| s.to_str()).ok_or("a secret file without a store id")?;
            out.push((store.to_owned(), path.clone()));
        }
    }
    out.sort();
    Ok(out)
}

/// Sends a front-door sample (`{"front_door": route, "store_id", "form" | "body"}`)
/// to the local HTTP API at `base` as its provider would, signed with the
/// store's secret; returns the route it went to. A refusal is an error.
pub async fn front_door_call(
    base: &str,
    secrets: &[(String, PathBuf)],
    sample: &Value,
    now: DateTime<Utc>,
) -> Result<String, BoxError> {
    let route = sample["front_door"].as_str().ok_or("front_door: a route")?;
    let store = sample["store_id"].as_str().ok_or("front_door sample: store_id")?;
    let file = secrets.iter().find(|(s, _)| s == store).map(|(_, f)| f).ok_or("no secret for the sample's store")?;
    let secret: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let key = |k: &str| secret[k].as_str().map(str::to_owned).ok_or(format!("the store's secret has no {k}"));
    let url = format!("{base}/hooks/{store}/{route}");
    let client = reqwest::Client::new();
    let request = match route {
        "twilio/voice" => {
            let params: Vec<(String, String)> = sample["form"]
                .as_object()
                .ok_or("a Twilio sample's form")?
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            let (signature, body) = front_door::twilio::signed_form(&key("twilio_auth_token")?, &url, &params);
            client
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header(front_door::twilio::SIGNATURE, signature)
                .body(body)
        }
        "ringcentral" => client
            .post(&url)
            .header("content-type", "application/json")
            .header("verification-token", key("ringcentral_verification_token")?)
            .body(sample["body"].to_string()),
        "events" => {
            let body = sample["body"].to_string();
            let mut request = client.post(&url).header("content-type", "application/json");
            for (name, value) in front_door::signed::headers(&key("signing_secret")?, now.timestamp(), body.as_bytes())
            {
                request = request.header(name, value);
            }
            request.body(body)
        }
        other => return Err(format!("unknown front_door route {other:?}").into()),
    };
    let answer = request.send().await?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!(
            "the front door refused the {route} sample: {status} {}",
            answer.text().await.unwrap_or_default()
        )
        .into());
    }
    Ok(format!("front door /{route} ({status})"))
}
