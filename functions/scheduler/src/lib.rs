//! `scheduler`: releases what falls due: deferred texts, and the steps of
//! declined-work follow-ups (`declined_service::decide_step`).
//!
//! Trigger: an EventBridge schedule, every 5 minutes (`custops local tick`
//! fires it locally). Reads: the texts due by now from the sparse `gsi3` index
//! (its cost grows with the due texts, not the table). For each, through the
//! one outbound path: lease it (re-checking the opt-out in the same
//! transaction), publish, mark sent. Every unfinished text is on that index
//! (deferred ones at their due time, the rest from when they were written): a
//! text released after a publish that certainly failed is sent again; one
//! whose sender's lease ran out mid-send may have been published, so it is
//! marked `unknown` for an operator, never sent twice. Every send checks the
//! texting window at the moment of publishing. A text another sender holds is
//! skipped.

use custops::function::ScheduledFunction;
use custops::outbound::{Delivery, Resumed};
use custops::table::Due;
use custops::{Core, ProcessError};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tracing::{error, info};

/// Texts released at once; DynamoDB and SNS calls per text are few and short.
pub const CONCURRENCY: usize = 16;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Unfinished texts due by now.
    pub due: usize,
    /// Published (or recorded, in shadow mode).
    pub sent: usize,
    /// Put back to wait: the texting window had closed.
    pub deferred: usize,
    /// Marked `unknown`: the publish may have happened (never resent).
    pub unknown: usize,
    /// Declined-work follow-up steps released (texted, task only, or cancelled with the reason).
    pub follow_ups: usize,
    /// Held by another sender, not due, suppressed or finished already.
    pub skipped: usize,
    /// Could not be released now; the next run tries again.
    pub failed: usize,
}

/// The function (see [`ScheduledFunction`]).
pub struct Scheduler;

impl ScheduledFunction for Scheduler {
    const NAME: &'static str = "scheduler";
    type Report = TickReport;

    /// Releases every text due by now.
    async fn run(core: &Core) -> Result<TickReport, ProcessError> {
        let due = core.table.due(core.clock.now()).await?;
        let mut report = TickReport { due: due.len(), ..Default::default() };
        let results: Vec<_> =
            stream::iter(due).map(|work| release(core, work)).buffer_unordered(CONCURRENCY).collect().await;
        for r in results {
            match r {
                Ok(Released::Step) => report.follow_ups += 1,
                Ok(Released::Text(r)) => match r {
                    Resumed::Delivered(Delivery::Sent { .. } | Delivery::Shadow) => report.sent += 1,
                    Resumed::Delivered(Delivery::Deferred { .. }) => report.deferred += 1,
                    Resumed::Delivered(Delivery::Ambiguous) | Resumed::Abandoned => report.unknown += 1,
                    _ => report.skipped += 1,
                },
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

/// What releasing one piece of due work did.
enum Released {
    Text(Resumed),
    Step,
}

/// Releases one piece of due work: a text through the outbound path, if it
/// may still go; a follow-up step through its trigger's `decide_step` and the
/// one commit path (its text, when it may go now, is sent there).
async fn release(core: &Core, work: Due) -> Result<Released, ProcessError> {
    match work {
        Due::Text(text) => {
            let store = core.store(&text.store_id, &text.event_id).await?;
            Ok(Released::Text(core.outbound.resume(&store, &text).await?))
        }
        Due::FollowUp(step) => {
            let store = core.store(&step.store_id, &declined_service::step_key(&step)).await?;
            let state = core.table.customer_state(&step.customer()).await?;
            let change = declined_service::decide_step(&store, &step, &state, core.clock.now());
            core.apply(&store, change).await?;
            Ok(Released::Step)
        }
    }
}
