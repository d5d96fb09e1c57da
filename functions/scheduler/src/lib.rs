//! `scheduler`: the relay of what falls due. It releases texts that wait
//! (deferred for the window, or released after a publish that certainly
//! failed) through the one outbound path, and hands every other due item (a
//! declined-work follow-up step, ...) to the function that owns its kind, as
//! a message on that function's queue, the way `lapse-sweep` hands lapsed
//! customers to `win-back`: there it is decided with SQS's retries, its DLQ
//! with the reason, `custops dlq` and the alarms. The scheduler decides
//! nothing itself and depends on no trigger.
//!
//! Trigger: an EventBridge schedule, every 5 minutes (`custops local tick`
//! fires it locally). Reads: each partition of the sparse due index (gsi3,
//! [`custops::keys::DUE_SHARDS`] of them: one for the whole deployment would
//! throttle), a page of [`PAGE`] at a time, what is due by now; it stops
//! taking new work [`BUDGET`] into its run (well inside its 60 s timeout), so
//! a backlog is worked down over runs, never cut off mid-send.
//!
//! - A text: lease it (re-checking the opt-out and what withdraws it in the
//!   same transaction), publish, mark sent. A text released after a publish
//!   that certainly failed is sent again, at most `outbound::MAX_ATTEMPTS`
//!   times, then closed as failed with its reason; one whose sender's lease
//!   ran out mid-send may have been published, so it is marked `unknown` for
//!   an operator, never sent twice. Every send checks the texting window at
//!   the moment of publishing. A text another sender holds is skipped.
//! - A timer of kind `k`: one message with `event_type` `k.due` and the body
//!   [`custops::handoff::HandedOn`] (the item, and the time it was handed
//!   on, which the owner decides as of) to the queue `TIMER_QUEUES` names for
//!   `k`; then it leaves the due index, so it is handed on once.

use std::time::{Duration, Instant};

use custops::function::ScheduledFunction;
use custops::handoff::{due_event_type, HandedOn};
use custops::outbound::{Delivery, Resumed};
use custops::table::{Due, Timer};
use custops::{Core, ProcessError};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tracing::{error, info, warn};

/// Due items released at once; DynamoDB and SNS calls per text are few and short.
pub const CONCURRENCY: usize = 16;
/// Partitions of the due index read at once.
pub const SHARDS_AT_ONCE: usize = 4;
/// Due items read per Query.
pub const PAGE: i32 = 100;
/// How long into a run the scheduler takes new work (its timeout is 60 s):
/// what is left waits for the next run, five minutes later.
pub const BUDGET: Duration = Duration::from_secs(40);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Due items read (texts and timers).
    pub due: usize,
    /// Published (or recorded, in shadow mode).
    pub sent: usize,
    /// Put back to wait: the texting window had closed.
    pub deferred: usize,
    /// Marked `unknown`: the publish may have happened (never resent).
    pub unknown: usize,
    /// Closed as failed: its release attempts ran out.
    pub failed_texts: usize,
    /// Timers handed to their functions.
    pub handed_on: usize,
    /// Of those, declined-work follow-up steps.
    pub follow_ups: usize,
    /// Held by another sender, not due, suppressed or finished already.
    pub skipped: usize,
    /// Could not be released now; the next run tries again.
    pub failed: usize,
    /// Stopped taking work at the budget: the rest waits for the next run.
    pub left_for_next_run: bool,
}

impl TickReport {
    fn add(&mut self, other: TickReport) {
        self.due += other.due;
        self.sent += other.sent;
        self.deferred += other.deferred;
        self.unknown += other.unknown;
        self.failed_texts += other.failed_texts;
        self.handed_on += other.handed_on;
        self.follow_ups += other.follow_ups;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.left_for_next_run |= other.left_for_next_run;
    }
}

/// The function (see [`ScheduledFunction`]).
pub struct Scheduler;

impl ScheduledFunction for Scheduler {
    const NAME: &'static str = "scheduler";
    const ENV: &'static [&'static str] = custops::env::TIMER_FUNCTION_ENV;
    type Report = TickReport;

    /// Releases what is due by now, partition by partition, within [`BUDGET`].
    async fn run(core: &Core) -> Result<TickReport, ProcessError> {
        let started = Instant::now();
        let now = core.clock.now();
        let shards: Vec<Result<TickReport, ProcessError>> = stream::iter(0..custops::keys::DUE_SHARDS)
            // Boxed: the nested futures otherwise exceed the compiler's layout depth.
            .map(|shard| Box::pin(drain(core, shard, now, started)))
            .buffer_unordered(SHARDS_AT_ONCE)
            .collect()
            .await;
        let mut report = TickReport::default();
        for shard in shards {
            report.add(shard?);
        }
        info!(?report, "scheduler run");
        Ok(report)
    }
}

/// Works through one partition of the due index, a page at a time, until
/// nothing due is left or the run's budget is spent.
async fn drain(
    core: &Core,
    shard: u32,
    now: chrono::DateTime<chrono::Utc>,
    started: Instant,
) -> Result<TickReport, ProcessError> {
    let mut report = TickReport::default();
    let mut start = None;
    loop {
        if started.elapsed() >= BUDGET {
            report.left_for_next_run = true;
            return Ok(report);
        }
        let (page, next) = core.table.due_page(shard, now, PAGE, start.take()).await?;
        report.due += page.len();
        let results: Vec<_> = stream::iter(page)
            .map(|work| Box::pin(release(core, work, now)))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for r in results {
            match r {
                Ok(Released::Timer { follow_up }) => {
                    report.handed_on += 1;
                    report.follow_ups += usize::from(follow_up);
                }
                Ok(Released::Text(r)) => match r {
                    Resumed::Delivered(Delivery::Sent { .. } | Delivery::Shadow) => report.sent += 1,
                    Resumed::Delivered(Delivery::Deferred { .. }) => report.deferred += 1,
                    Resumed::Delivered(Delivery::Ambiguous) | Resumed::Abandoned => report.unknown += 1,
                    Resumed::Failed => report.failed_texts += 1,
                    _ => report.skipped += 1,
                },
                Err(e) => {
                    error!(error = %e, "could not release due work; the next run tries again");
                    report.failed += 1;
                }
            }
        }
        match next {
            Some(n) => start = Some(n),
            None => return Ok(report),
        }
    }
}

/// What releasing one piece of due work did.
enum Released {
    Text(Resumed),
    Timer { follow_up: bool },
}

/// Releases one piece of due work: a text through the outbound path, if it
/// may still go; a timer to its owner's queue.
async fn release(core: &Core, work: Due, now: chrono::DateTime<chrono::Utc>) -> Result<Released, ProcessError> {
    match work {
        Due::Text(text) => {
            let store = core.store(&text.store_id, &text.event_id).await?;
            Ok(Released::Text(core.outbound.resume(&store, &text).await?))
        }
        Due::Timer(timer) => hand_on(core, *timer, now).await,
    }
}

/// Hands a due timer to the function that owns its kind, then takes it off
/// the due index (a second hand-over, if the first answer was lost, is one
/// more message its owner finds decided already).
async fn hand_on(core: &Core, timer: Timer, now: chrono::DateTime<chrono::Utc>) -> Result<Released, ProcessError> {
    let queue = core.timer_queue(&timer.kind).map_err(|e| {
        warn!(kind = %timer.kind, "no queue for this kind of timer (TIMER_QUEUES)");
        ProcessError::from(e)
    })?;
    let body = serde_json::to_string(&HandedOn { at: now, work: &timer.item })
        .map_err(|e| ProcessError::Aws { what: format!("{} timer", timer.kind), reason: e.to_string() })?;
    queue.send_as(Some(&due_event_type(&timer.kind)), vec![body]).await?;
    core.table.take_off_due(&timer, now).await?;
    Ok(Released::Timer { follow_up: timer.kind == <custops::model::FollowUp as custops::entity::Entity>::KIND })
}
