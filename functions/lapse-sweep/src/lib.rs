//! `lapse-sweep`: finds the silent defectors before an independent shop does.
//!
//! Trigger: an EventBridge schedule, once a day (`custops local tick` fires
//! it locally).
//! Reads: the stores (one Query), then per store, a page at a time, the customers whose last
//! visit is before the store's cutoff (`lapse_months` ago) and whose lapse
//! nobody has reached out about: a Query of the sparse lapse index (gsi2
//! `LAPSE#{store}`, by last visit). A contacted customer leaves the index and
//! comes back with their next visit, so the reads grow with the newly lapsed
//! customers, never with the customers or the ones already contacted; a
//! changed `lapse_months` moves the cutoff and rewrites nothing.
//! Writes: nothing itself. Each lapsed customer becomes one message on the
//! `win-back` queue ([`win_back::Lapsed`]), where the worker re-reads the
//! record and decides; one bad customer ends in that queue's DLQ and never
//! stops the rest. Handing over the same customer twice (two runs before
//! the worker got to it) changes nothing: the worker is claimed per lapse.
//!
//! It is also the daily sweep of section 14: per store, a page at a time,
//! the vehicles whose service or lease or loan maturity step falls due by
//! the store-local day it runs and that the worker has not taken up: a
//! Query of the sparse due-day feed (gsi2 `DUEON#{store}`, by day; taken
//! up, a vehicle moves to the day it next owes something, or leaves), so its
//! reads are the vehicles falling due, whatever the store's history. Each customer among them becomes one
//! [`win_back::due::Due`] message (`event_type` `vehicle.due`) on the same
//! queue; the worker takes up everything of theirs due that day, once.

use custops::function::ScheduledFunction;
use custops::handoff::HandedOn;
use custops::{Core, ProcessError, StoreConfig};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use tracing::{error, info};
use win_back::due::{Due, DUE_EVENT_TYPE};
use win_back::Lapsed;

/// Stores swept at once.
pub const CONCURRENCY: usize = 4;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub stores: usize,
    /// Items the lapse index returned: the newly lapsed customers (and any
    /// handed over before that the worker has not finished).
    pub read: usize,
    /// Customers handed to the win-back worker.
    pub handed_off: usize,
    /// Items the due-day feed returned: the vehicles falling due.
    pub due_read: usize,
    /// Customers with something due handed to the worker.
    pub due_handed_off: usize,
    /// Stores that could not be swept now (the next run tries again).
    pub failed: usize,
}

/// The function (see [`ScheduledFunction`]).
pub struct LapseSweep;

impl ScheduledFunction for LapseSweep {
    const NAME: &'static str = "lapse-sweep";
    const ENV: &'static [&'static str] = custops::env::HANDOFF_FUNCTION_ENV;
    type Report = SweepReport;

    async fn run(core: &Core) -> Result<SweepReport, ProcessError> {
        core.handoff()?;
        let stores = core.table.list_stores().await?;
        let mut report = SweepReport { stores: stores.len(), ..Default::default() };
        let results: Vec<_> =
            stream::iter(stores).map(|store| sweep(core, store)).buffer_unordered(CONCURRENCY).collect().await;
        for (store, result) in results {
            match result {
                Ok(swept) => {
                    report.read += swept.read;
                    report.handed_off += swept.handed_off;
                    report.due_read += swept.due_read;
                    report.due_handed_off += swept.due_handed_off;
                }
                Err(e) => {
                    error!(error = %e, store_id = store, "could not sweep a store; the next run tries again");
                    report.failed += 1;
                }
            }
        }
        info!(?report, "lapse sweep");
        Ok(report)
    }
}

/// Sweeps one store: its id, and what it read and handed over.
async fn sweep(core: &Core, store: StoreConfig) -> (String, Result<SweepReport, ProcessError>) {
    let result = async {
        let (read, handed_off) = sweep_store(core, &store).await?;
        let (due_read, due_handed_off) = sweep_due(core, &store).await?;
        Ok(SweepReport { stores: 1, read, handed_off, due_read, due_handed_off, failed: 0 })
    }
    .await;
    (store.store_id, result)
}

/// A page of the store's vehicles falling due at a time, each page's
/// customers handed over before the next is read.
async fn sweep_due(core: &Core, store: &StoreConfig) -> Result<(usize, usize), ProcessError> {
    let now = core.clock.now();
    let today = store.local(now).date_naive();
    let (mut read, mut handed) = (0, 0);
    let mut start = None;
    loop {
        let (vehicles, next) = core.table.falling_due_page(&store.store_id, today, start.take()).await?;
        read += vehicles.len();
        let mut phones: Vec<_> = vehicles.into_iter().map(|v| v.phone).collect();
        phones.sort_by(|a, b| a.e164().cmp(b.e164()));
        phones.dedup();
        let bodies = phones
            .into_iter()
            .filter_map(|phone| {
                let work = Due { store_id: store.store_id.clone(), phone, day: today };
                serde_json::to_string(&HandedOn { at: now, work }).ok()
            })
            .collect();
        handed += core.handoff()?.send_as(Some(DUE_EVENT_TYPE), bodies).await?;
        match next {
            Some(n) => start = Some(n),
            None => return Ok((read, handed)),
        }
    }
}

/// A page of the store's lapsed customers at a time, each handed over before
/// the next is read: memory holds one page, however many lapsed at once.
async fn sweep_store(core: &Core, store: &StoreConfig) -> Result<(usize, usize), ProcessError> {
    let now = core.clock.now();
    let cutoff = store.lapse_cutoff(now);
    let (mut read, mut handed) = (0, 0);
    let mut start = None;
    loop {
        let (lapsed, next) = core.table.lapsed_page(&store.store_id, cutoff, start.take()).await?;
        read += lapsed.len();
        let bodies = lapsed
            .into_iter()
            .filter_map(|c| {
                let last_visit_at = c.uncontacted_visit()?;
                let lapse_months = store.lapse_months;
                let lapsed =
                    Lapsed { store_id: c.store_id, phone: c.phone, last_visit_at, lapse_months, at: Some(now) };
                serde_json::to_string(&lapsed).ok()
            })
            .collect();
        handed += core.handoff()?.send(bodies).await?;
        match next {
            Some(n) => start = Some(n),
            None => return Ok((read, handed)),
        }
    }
}
