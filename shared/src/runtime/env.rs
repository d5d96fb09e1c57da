//! Function configuration from environment variables. On Lambda they come from
//! the process environment (set by `infra/template.yaml`); the local stack builds
//! the same map from the same template, so the two cannot drift.

use std::collections::HashMap;

/// The table every function reads and writes.
pub const TABLE_NAME: &str = "TABLE_NAME";
/// The function's own dead-letter queue: permanently bad input goes there at once.
pub const DLQ_URL: &str = "DLQ_URL";
/// The redrive policy's maxReceiveCount: on the last attempt a transient failure
/// is moved to the DLQ by the function itself, with its reason attached.
pub const MAX_RECEIVE_COUNT: &str = "MAX_RECEIVE_COUNT";
/// Log filter (tracing `EnvFilter` syntax).
pub const RUST_LOG: &str = "RUST_LOG";
/// What the cold start connects to before the first event: a comma-separated
/// list of `dynamodb` and `sns`; empty for nothing (see `context::WarmUp`).
pub const WARM_UP: &str = "WARM_UP";

/// The queue a scheduled function hands its work to (its worker's queue).
pub const HANDOFF_QUEUE_URL: &str = "HANDOFF_QUEUE_URL";

/// The SNS topic the GM report is published to.
pub const GM_REPORTS_TOPIC_ARN: &str = "GM_REPORTS_TOPIC_ARN";
/// Where the scheduler hands each kind of due timer: `kind=queue URL`,
/// comma-separated (`follow_up=https://sqs.../custops-declined-service`).
pub const TIMER_QUEUES: &str = "TIMER_QUEUES";
/// Every dead-letter queue (comma-separated URLs): the report counts what waits in them.
pub const DLQ_URLS: &str = "DLQ_URLS";

/// The deploy's public base URL (template parameter `PublicBaseUrl`, e.g.
/// `https://hooks.dealer.example`; locally the local stack's `http` URL):
/// the front door checks Twilio's signature against it, and a staff alert's
/// link starts with it.
pub const PUBLIC_BASE_URL: &str = "PUBLIC_BASE_URL";

/// The topic DMS events are published to (the front door, the DMS feed).
pub const DMS_EVENTS_TOPIC_ARN: &str = "DMS_EVENTS_TOPIC_ARN";
/// The DMS feed's queue (the front door's `POST /hooks/{store}/dms` hands
/// its snapshots there).
pub const DMS_FEED_QUEUE_URL: &str = "DMS_FEED_QUEUE_URL";

/// The variables every SQS-fed function reads.
pub const SQS_FUNCTION_ENV: &[&str] = &[
    TABLE_NAME,
    DLQ_URL,
    MAX_RECEIVE_COUNT,
    RUST_LOG,
    WARM_UP,
    crate::alerts::STAFF_ALERTS_TOPIC_ARN,
    PUBLIC_BASE_URL,
];
/// The variables every scheduled function reads.
pub const SCHEDULED_FUNCTION_ENV: &[&str] = &[TABLE_NAME, RUST_LOG, WARM_UP];
/// The variables a scheduled function that hands work to a worker reads.
pub const HANDOFF_FUNCTION_ENV: &[&str] = &[TABLE_NAME, RUST_LOG, WARM_UP, HANDOFF_QUEUE_URL];
/// The variables the scheduler reads: it relays texts and hands timers on.
pub const TIMER_FUNCTION_ENV: &[&str] = &[TABLE_NAME, RUST_LOG, WARM_UP, TIMER_QUEUES];
/// The variables the daily report reads.
pub const REPORT_FUNCTION_ENV: &[&str] =
    &[TABLE_NAME, RUST_LOG, WARM_UP, GM_REPORTS_TOPIC_ARN, DLQ_URLS, crate::report::mail::REPORT_SENDER];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// [`PUBLIC_BASE_URL`] from `env`: none when unset or empty; otherwise an
/// `http(s)://` URL, kept without its trailing `/`.
pub fn public_base_url(env: &impl EnvSource) -> Result<Option<String>, ConfigError> {
    let Some(base) = env.var(PUBLIC_BASE_URL).map(|b| b.trim().to_owned()).filter(|b| !b.is_empty()) else {
        return Ok(None);
    };
    let parsed: Option<http::Uri> = base.parse().ok();
    let ok = parsed.as_ref().is_some_and(|u| {
        matches!(u.scheme_str(), Some("https" | "http")) && u.authority().is_some() && u.query().is_none()
    });
    if !ok {
        return Err(ConfigError::Invalid {
            name: PUBLIC_BASE_URL,
            reason: "not an http(s) URL without a query (e.g. https://hooks.dealer.example)".into(),
        });
    }
    Ok(Some(base.trim_end_matches('/').to_owned()))
}

/// Where configuration comes from.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.var(name).filter(|v| !v.is_empty()).ok_or(ConfigError::Missing(name))
    }

    fn parsed<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        self.required(name)?.parse().map_err(|e: T::Err| ConfigError::Invalid { name, reason: e.to_string() })
    }
}

/// The process environment (Lambda).
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}
