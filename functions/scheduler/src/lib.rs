//! `scheduler`: releases deferred texts when they fall due.
//!
//! Trigger: an EventBridge schedule, every 5 minutes (`custops local tick`
//! fires it locally). Reads: the texts due by now from the sparse `gsi3` index
//! (its cost grows with the due texts, not the table). For each, through the
//! one outbound path: lease it (re-checking the opt-out in the same
//! transaction), publish, mark sent. Every unfinished text is on that index
//! (deferred ones at their due time, the rest from when they were written), so
//! a text whose sender died after committing it is taken over once its lease
//! runs out. A text another sender holds is skipped; a failed publish is
//! released and tried again next run.

use custops::context::Core;
use custops::env::{ConfigError, EnvSource, RUST_LOG, TABLE_NAME, WARM_UP};
use custops::outbound::Resumed;
use custops::SharedClock;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tracing::{error, info};

pub const FUNCTION: &str = "scheduler";
/// The environment the function reads (checked against the template by a test).
pub const ENV: &[&str] = &[TABLE_NAME, RUST_LOG, WARM_UP];
/// Texts released at once; DynamoDB and SNS calls per text are few and short.
pub const CONCURRENCY: usize = 16;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub due: usize,
    pub sent: usize,
    pub skipped: usize,
    pub failed: usize,
}

#[derive(Debug, Clone)]
pub struct Scheduler {
    core: Core,
}

impl AsRef<Core> for Scheduler {
    fn as_ref(&self) -> &Core {
        &self.core
    }
}

impl Scheduler {
    pub fn from_env(
        env: &impl EnvSource,
        config: &aws_config::SdkConfig,
        clock: SharedClock,
    ) -> Result<Self, ConfigError> {
        Ok(Self { core: Core::from_env(env, config, clock)? })
    }

    /// Releases every text due by now.
    pub async fn run(&self) -> Result<TickReport, custops::table::TableError> {
        let Core { table, outbound, stores, clock } = &self.core;
        let due = table.due_texts(clock.now()).await?;
        let mut report = TickReport { due: due.len(), ..Default::default() };
        let results: Vec<_> = stream::iter(due)
            .map(|text| async move {
                let store = stores.get(&text.store_id, &text.event_id).await.map_err(|e| e.to_string())?;
                outbound.resume(&store, &text).await.map_err(|e| e.to_string())
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for r in results {
            match r {
                Ok(Resumed::Sent(_)) => report.sent += 1,
                Ok(_) => report.skipped += 1,
                Err(e) => {
                    error!(error = %e, "could not release a due text; the next run tries again");
                    report.failed += 1;
                }
            }
        }
        info!(?report, "scheduler run");
        Ok(report)
    }
}
