//! How custops scales: the pipeline's throughput, the lapse sweep with the
//! table's size, a record with its history, the scheduler's backlog with
//! stores, and imports.

use super::*;

/// Events per second through the whole local pipeline: published to the SNS
/// topics, fanned out to the queues, handled by the function code with
/// Lambda's SQS semantics, until every queue is empty.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub events: usize,
    pub seconds: f64,
    pub events_per_second: f64,
    pub texts_sent: usize,
}

/// The pipeline figure as Markdown.
pub fn pipeline_table(p: &Pipeline) -> String {
    let mut out = String::from("### Whole local pipeline\n\n");
    out.push_str(&table(
        &[("events", true), ("seconds", true), ("events/s", true), ("texts sent", true)],
        [vec![
            p.events.to_string(),
            format!("{:.1}", p.seconds),
            format!("{:.1}", p.events_per_second),
            p.texts_sent.to_string(),
        ]],
    ));
    out
}

pub async fn pipeline(events: usize) -> Result<Pipeline, BoxError> {
    use futures::stream::{self, TryStreamExt};
    let emulator = Emulator::start(0).await?;
    let t0: DateTime<Utc> = "2026-11-23T16:00:00Z".parse()?;
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(t0)), LocalOptions::default()).await?;
    stack.table().put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    // Mixed: 60% missed calls from 500 callers, 40% status changes on 300 repair orders.
    let bodies: Vec<String> = (0..events)
        .map(|i| {
            let at = t0 + Duration::seconds(i as i64);
            if i % 5 < 3 {
                call(&format!("p-c{i}"), &format!("k{i}"), &format!("+1512555{:04}", 2000 + i % 500), at)
            } else {
                let status = ["checked_in", "in_progress", "parts_arrived", "ready_for_pickup"][i % 4];
                ro(&format!("p-d{i}"), status, at)
                    .replace("RO-48213", &format!("RO-{}", 60000 + i % 300))
                    .replace("+15125550142", &format!("+1512556{:04}", 3000 + i % 300))
            }
        })
        .collect();
    let before = custops_cli::emulator::sent_sms(&emulator.endpoint).await?.len();
    let started = std::time::Instant::now();
    // Publish from a task while the pollers run, as carriers and Lambda's event
    // sources would, at most WINDOW events ahead of the functions: the queues
    // stay short, as Lambda's pollers keep them, instead of the whole run
    // waiting in them (moto's ReceiveMessage looks at every message queued).
    const WINDOW: usize = 400;
    let handled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sns = stack.clients.sns.clone();
    let arns: Vec<String> = ["carrier-events", "dms-events"].iter().map(|t| stack.topic_arn(t)).collect();
    let publisher = {
        let handled = handled.clone();
        tokio::spawn(async move {
            let mut published = 0usize;
            for chunk in bodies.chunks(WINDOW / 4) {
                while published.saturating_sub(handled.load(std::sync::atomic::Ordering::SeqCst)) >= WINDOW {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                stream::iter(chunk.iter().map(Ok::<_, BoxError>))
                    .try_for_each_concurrent(16, |b| {
                        let (sns, arns) = (&sns, &arns);
                        async move {
                            let topic = if b.contains("\"call.missed\"") { &arns[0] } else { &arns[1] };
                            custops_cli::commands::publish_to(
                                sns,
                                topic,
                                b,
                                serde_json::from_str::<Value>(b)?["event_type"].as_str(),
                            )
                            .await
                        }
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                published += chunk.len();
            }
            Ok::<_, String>(())
        })
    };
    while !publisher.is_finished() {
        let n = stack.pump(0).await?;
        handled.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        if n == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    publisher.await??;
    stack.run_until_idle(std::time::Duration::from_secs(3600)).await?;
    let seconds = started.elapsed().as_secs_f64();
    let texts_sent = custops_cli::emulator::sent_sms(&emulator.endpoint).await?.len() - before;
    emulator.stop().await;
    Ok(Pipeline { events, seconds, events_per_second: events as f64 / seconds, texts_sent })
}

/// The lapse sweep at one table size.
#[derive(Debug, Clone, Serialize)]
pub struct SweepScale {
    pub customers: usize,
    /// Lapsed since the last sweep: what it must find.
    pub newly_lapsed: usize,
    /// Lapsed and contacted already: what it must not read.
    pub contacted: usize,
    /// Items the sweep's Queries returned (DynamoDB bills these).
    pub read: usize,
    pub handed_off: usize,
    /// AWS calls of the run.
    pub calls: usize,
    /// The run's wall time against the emulator.
    pub sweep_ms: f64,
    pub seed_seconds: f64,
    /// How much this process's peak memory grew during the sweep (it holds
    /// one page of the lapse index at a time).
    pub peak_rss_growth: u64,
}

/// Seeds `customers` profiles at one store (`lapsed_percent`% lapsed since
/// the last sweep, 5% lapsed and contacted already, the rest seen within the
/// year; at 100%, every one lapsed: the first sweep after a bulk load) and
/// runs the sweep once.
pub async fn sweep_scale(customers: usize, lapsed_percent: usize) -> Result<SweepScale, BoxError> {
    use futures::stream::{self, TryStreamExt};
    let emulator = Emulator::start(0).await?;
    let now: DateTime<Utc> = "2026-11-25T15:00:00Z".parse()?;
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(now)), LocalOptions::default()).await?;
    let table = stack.table();
    table.put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    let (mut newly_lapsed, mut contacted) = (0, 0);
    let mut profiles = Vec::with_capacity(customers);
    for i in 0..customers {
        let phone = custops::Phone::parse(&format!("+1512{}", 2_000_000 + i))?;
        let mut c = custops::model::Customer::lead("northside-chevy", phone, now - Duration::days(800));
        c.first_name = Some("Pat".into());
        let (visit, was_contacted) = match i % 100 {
            n if n < lapsed_percent => (now - Duration::days(400 + (i % 20) as i64), false),
            n if n < lapsed_percent + 5 => (now - Duration::days(420 + (i % 90) as i64), true),
            _ => (now - Duration::days((i % 360) as i64), false),
        };
        c.last_visit_at = Some(visit);
        if was_contacted {
            c.lapse_contacted = Some(custops::model::LapseContact { visit_at: visit, at: visit + Duration::days(400) });
            contacted += 1;
        } else if visit < now - Duration::days(396) {
            newly_lapsed += 1;
        }
        profiles.push(c);
    }
    let started = std::time::Instant::now();
    stream::iter(profiles.chunks(500).map(Ok::<_, BoxError>))
        .try_for_each_concurrent(4, |chunk| {
            let table = table.clone();
            async move { Ok(table.import_customers(chunk).await?) }
        })
        .await?;
    let seed_seconds = started.elapsed().as_secs_f64();

    drop(profiles);
    let run = daily_sweep(emulator, &stack, now).await?;
    let count = |k: &str| run.report[k].as_u64().unwrap_or_default() as usize;
    Ok(SweepScale {
        customers,
        newly_lapsed,
        contacted,
        read: count("read"),
        handed_off: count("handed_off"),
        calls: run.calls,
        sweep_ms: run.ms,
        seed_seconds,
        peak_rss_growth: run.peak_rss_growth,
    })
}

/// One run of the daily sweep (`lapse-sweep`) against a seeded emulator.
struct SweepRun {
    report: Value,
    calls: usize,
    ms: f64,
    peak_rss_growth: u64,
}

/// Runs the sweep's own code once, as the template configures it, but with
/// patient clients: moto answers a GSI Query by walking every item of the
/// table in Python (seconds at 100,000), where DynamoDB reads only the part
/// of the index asked for; the function's 2 s attempt timeout is for
/// DynamoDB. Stops the emulator.
async fn daily_sweep(emulator: Emulator, stack: &LocalStack, now: DateTime<Utc>) -> Result<SweepRun, BoxError> {
    let env = stack.functions.iter().find(|f| f.def.binary == "lapse-sweep").ok_or("no lapse-sweep")?.def.env.clone();
    let config = custops::aws::local(&emulator.endpoint).await;
    let patient = std::time::Duration::from_secs(120);
    let clients = custops::aws::Clients::with_timeouts(&config, patient, patient);
    let core = custops::Core::with_clients(&env, &clients, Arc::new(PinnedClock::at(now)))?;
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    reset_peak_rss();
    let before = peak_rss().unwrap_or_default();
    let started = std::time::Instant::now();
    let report =
        serde_json::to_value(<lapse_sweep::LapseSweep as custops::function::ScheduledFunction>::run(&core).await?)?;
    let ms = millis(started.elapsed());
    let peak_rss_growth = peak_rss().unwrap_or_default().saturating_sub(before);
    let calls = recorder.calls().await?.len();
    emulator.stop().await;
    Ok(SweepRun { report, calls, ms, peak_rss_growth })
}

/// The sweep's scaling as Markdown.
pub fn sweep_table(rows: &[SweepScale]) -> String {
    let mut out = String::from("### Lapse sweep: items read grow with the newly lapsed, not with the customers\n\n");
    out.push_str(&table(
        &[
            ("customers", true),
            ("newly lapsed", true),
            ("lapsed, contacted", true),
            ("items read", true),
            ("read / newly lapsed", true),
            ("handed off", true),
            ("AWS calls", true),
            ("peak memory growth", true),
            ("sweep (emulator)", true),
        ],
        rows.iter().map(|r| {
            vec![
                r.customers.to_string(),
                r.newly_lapsed.to_string(),
                r.contacted.to_string(),
                r.read.to_string(),
                format!("{:.2}", r.read as f64 / r.newly_lapsed.max(1) as f64),
                r.handed_off.to_string(),
                r.calls.to_string(),
                format!("{:.2} MB", r.peak_rss_growth as f64 / 1e6),
                format!("{:.0} ms", r.sweep_ms),
            ]
        }),
    ));
    out
}

/// The daily sweep of section 14 at one count of vehicles.
#[derive(Debug, Clone, Serialize)]
pub struct DueSweepScale {
    pub vehicles: usize,
    /// On the due-day feed for today: what it must find.
    pub falling_due: usize,
    /// On the feed for a later day: what it must not read.
    pub later: usize,
    /// Taken up already (off the feed): what it must not read either.
    pub taken_up: usize,
    /// Items the due-day feed's Queries returned (DynamoDB bills these).
    pub read: usize,
    pub handed_off: usize,
    /// AWS calls of the run (its lapse half included: one Query, nothing lapsed).
    pub calls: usize,
    pub sweep_ms: f64,
    pub seed_seconds: f64,
}

/// Seeds `vehicles` followed vehicles at one store, one customer each
/// (`due_percent`% falling due today, 5% taken up already, the rest due on a
/// later day of the year), and runs the daily sweep once.
pub async fn due_sweep_scale(vehicles: usize, due_percent: usize) -> Result<DueSweepScale, BoxError> {
    use futures::stream::{self, TryStreamExt};
    let emulator = Emulator::start(0).await?;
    let now: DateTime<Utc> = "2026-11-25T15:00:00Z".parse()?;
    let today = now.date_naive();
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(now)), LocalOptions::default()).await?;
    let table = stack.table();
    let store = custops::StoreConfig::from_json(STORE)?;
    table.put_store(&store).await?;
    let (mut falling_due, mut later, mut taken_up) = (0, 0, 0);
    let mut items = Vec::with_capacity(vehicles);
    for i in 0..vehicles {
        let phone = custops::Phone::parse(&format!("+1512{}", 2_000_000 + i))?;
        let customer = custops::CustomerId::new("northside-chevy", phone);
        let vehicle = custops::event::Vehicle {
            vin: format!("1GNSKCKD5MR{:06}", i),
            year: 2022,
            make: "Chevrolet".into(),
            model: "Tahoe".into(),
        };
        let mut v = custops::model::VehicleLife::new(&customer, &vehicle, now);
        let served = match i % 100 {
            n if n < due_percent => now - chrono::Months::new(store.service_interval_months),
            n if n < due_percent + 5 => now - chrono::Months::new(store.service_interval_months),
            _ => now - chrono::Months::new(store.service_interval_months) + Duration::days(1 + (i % 360) as i64),
        };
        v.serviced(served, None);
        v.refresh(&store, served.date_naive(), served);
        match i % 100 {
            n if n < due_percent => falling_due += 1,
            n if n < due_percent + 5 => {
                v.reminded_on = v.service_due.as_ref().map(|d| d.on);
                v.reindex(today, now);
                taken_up += 1;
            }
            _ => later += 1,
        }
        items.push(v);
    }
    let started = std::time::Instant::now();
    stream::iter(items.chunks(500).map(Ok::<_, BoxError>))
        .try_for_each_concurrent(4, |chunk| {
            let table = table.clone();
            async move { Ok(table.import_entities(chunk).await?) }
        })
        .await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    drop(items);
    let run = daily_sweep(emulator, &stack, now).await?;
    let count = |k: &str| run.report[k].as_u64().unwrap_or_default() as usize;
    Ok(DueSweepScale {
        vehicles,
        falling_due,
        later,
        taken_up,
        read: count("due_read"),
        handed_off: count("due_handed_off"),
        calls: run.calls,
        sweep_ms: run.ms,
        seed_seconds,
    })
}

/// The due sweep's scaling as Markdown.
pub fn due_sweep_table(rows: &[DueSweepScale]) -> String {
    let mut out = String::from(
        "### Due sweep (section 14): items read are the vehicles falling due, not the store's vehicles\n\n",
    );
    out.push_str(&table(
        &[
            ("vehicles", true),
            ("falling due today", true),
            ("due later", true),
            ("taken up", true),
            ("items read", true),
            ("read / falling due", true),
            ("customers handed off", true),
            ("AWS calls", true),
            ("sweep (emulator)", true),
        ],
        rows.iter().map(|r| {
            vec![
                r.vehicles.to_string(),
                r.falling_due.to_string(),
                r.later.to_string(),
                r.taken_up.to_string(),
                r.read.to_string(),
                format!("{:.2}", r.read as f64 / r.falling_due.max(1) as f64),
                r.handed_off.to_string(),
                r.calls.to_string(),
                format!("{:.0} ms", r.sweep_ms),
            ]
        }),
    ));
    out
}

/// This process's peak resident memory since [`reset_peak_rss`] (Linux's
/// `VmHWM`), in bytes.
pub(crate) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Starts a new peak-memory measure: the peak is set back to what is resident now.
pub(crate) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// One event for a customer with a long history, at one history size.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryScale {
    /// Closed repair orders on the record (history, not state).
    pub closed_ros: usize,
    /// What the trigger's state Query returned and what DynamoDB bills for it.
    pub state: custops::table::ReadCost,
    /// AWS calls of the event.
    pub calls: usize,
    /// The event's handling, in-process against the emulator.
    pub event_ms: f64,
    /// How much this process's peak memory grew while it handled the event.
    pub peak_rss_growth: u64,
}

/// Seeds a customer with `closed_ros` closed repair orders (ten years of a
/// fleet), then handles one status event for a new RO through
/// `vehicle-ready`, as the local stack runs it: what the state read returns,
/// costs and holds does not grow with the history.
pub async fn history_scale(closed_ros: usize) -> Result<HistoryScale, BoxError> {
    let emulator = Emulator::start(0).await?;
    let now: DateTime<Utc> = "2026-11-25T15:00:00Z".parse()?;
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(now)), LocalOptions::default()).await?;
    let table = stack.table();
    table.put_store(&custops::StoreConfig::from_json(STORE)?).await?;
    let maria = custops::CustomerId::new("northside-chevy", custops::Phone::parse("+15125550142")?);
    let vehicle: custops::event::Vehicle = serde_json::from_value(
        json!({"vin": "1GNSKNKDXMR214387", "year": 2021, "make": "Chevrolet", "model": "Tahoe"}),
    )?;
    let ros: Vec<custops::model::RepairOrder> = (0..closed_ros)
        .map(|i| {
            let closed = now - Duration::days(1 + (i % 3650) as i64);
            custops::model::RepairOrder {
                ro_number: format!("RO-H{i}"),
                status: "closed".into(),
                status_at: closed,
                vehicle: vehicle.clone(),
                advisor: custops::event::Person { id: "adv-7".into(), name: "Dana Whitfield".into() },
                amount_due_cents: Some(48_735),
                closed_at: Some(closed),
                texted: vec![],
                performed: vec!["LOF-SYN".into(), "TIRE-ROT".into()],
                mileage: Some(38_412),
            }
        })
        .collect();
    table.import_records(&maria, &ros).await?;
    let mut profile =
        custops::model::Customer::lead("northside-chevy", maria.phone.clone(), now - Duration::days(3650));
    profile.dms_id = Some("C1001".into());
    profile.first_name = Some("Maria".into());
    table.import_customers(&[profile]).await?;
    // The steady state: a warm store cache (another customer's event first).
    let mut warm: Value = serde_json::from_str(&ro("h-0", "checked_in", now - Duration::minutes(2)))?;
    warm["data"]["customer"]["phone"] = json!("+15125550177");
    stack.invoke("vehicle-ready", &[warm.to_string()]).await?;
    let recorder = CallRecorder::start(&emulator.endpoint).await?;
    reset_peak_rss();
    let before = peak_rss().unwrap_or_default();
    let started = std::time::Instant::now();
    let response = stack.invoke("vehicle-ready", &[ro("h-1", "ready_for_pickup", now - Duration::minutes(1))]).await?;
    let event_ms = millis(started.elapsed());
    let peak_rss_growth = peak_rss().unwrap_or_default().saturating_sub(before);
    let calls = recorder.calls().await?.len();
    if !response.batch_item_failures.is_empty() {
        return Err("the event failed".into());
    }
    let state = table.state_read_cost(&maria).await?;
    emulator.stop().await;
    Ok(HistoryScale { closed_ros, state, calls, event_ms, peak_rss_growth })
}

/// The history scaling as Markdown.
pub fn history_table(rows: &[HistoryScale]) -> String {
    let mut out = String::from(
        "### A customer's history: what one event reads stays flat (closed ROs are history, not state)\n\n",
    );
    out.push_str(&table(
        &[
            ("closed ROs on the record", true),
            ("state items read", true),
            ("state bytes", true),
            ("read units", true),
            ("AWS calls", true),
            ("peak memory growth", true),
            ("event (emulator)", true),
        ],
        rows.iter().map(|r| {
            vec![
                r.closed_ros.to_string(),
                r.state.items.to_string(),
                r.state.bytes.to_string(),
                r.state.read_units.to_string(),
                r.calls.to_string(),
                format!("{:.2} MB", r.peak_rss_growth as f64 / 1e6),
                format!("{:.0} ms", r.event_ms),
            ]
        }),
    ));
    out
}

/// The scheduler working down a backlog.
#[derive(Debug, Clone, Serialize)]
pub struct Backlog {
    pub texts: usize,
    pub stores: usize,
    /// Scheduler runs until nothing was due.
    pub runs: usize,
    pub sent: usize,
    pub unknown: usize,
    pub failed: usize,
    /// The longest run, and whether any stopped at its budget.
    pub longest_run_ms: f64,
    pub any_left_for_next_run: bool,
    /// Texts published more than once (SNS's record of what went out).
    pub published_twice: usize,
}

/// `texts` transactional texts across `stores` stores, all written at 21:30
/// and waiting for 08:00; then the scheduler, run after run as EventBridge
/// would, until nothing is due: every text released once, no run past its
/// deadline, none `unknown`.
pub async fn scheduler_backlog(texts: usize, stores: usize) -> Result<Backlog, BoxError> {
    use custops::outbound::{plan, Plan, TextRequest};
    use custops::text::MessageClass;
    let emulator = Emulator::start(0).await?;
    // Monday 21:30 in Chicago: everything written now waits for 08:00.
    let written: DateTime<Utc> = "2026-11-24T03:30:00Z".parse()?;
    let clock = PinnedClock::at(written);
    let stack = LocalStack::provision(&emulator.endpoint, Arc::new(clock.clone()), LocalOptions::default()).await?;
    let table = stack.table();
    let mut configs = Vec::new();
    for i in 0..stores {
        let mut store: Value = serde_json::from_str(STORE)?;
        store["store_id"] = json!(format!("store-{i:03}"));
        store["name"] = json!(format!("Store {i:03}"));
        store["sms_number"] = json!(format!("+1737555{:04}", 1000 + i));
        let store = custops::StoreConfig::from_json(&store.to_string())?;
        table.put_store(&store).await?;
        configs.push(store);
    }
    let mut rows = Vec::with_capacity(texts);
    for i in 0..texts {
        let store = &configs[i % stores];
        let to = custops::Phone::parse(&format!("+1512{}", 3_000_000 + i))?;
        let request = TextRequest::new(
            store,
            &to,
            MessageClass::Transactional,
            format!("{}: your vehicle is ready ({i}).", store.name),
            format!("backlog-{i}"),
            "bench",
            "backlog",
        );
        match plan(request, &Default::default(), &Default::default(), written) {
            Plan::Defer(t) => rows.push(t),
            other => return Err(format!("text {i} was not deferred: {other:?}").into()),
        }
    }
    table.import_entities(&rows).await?;
    drop(rows);
    let before = custops_cli::emulator::sent_sms(&emulator.endpoint).await?.len();

    clock.set("2026-11-24T14:00:00Z".parse()?);
    let mut backlog = Backlog {
        texts,
        stores,
        runs: 0,
        sent: 0,
        unknown: 0,
        failed: 0,
        longest_run_ms: 0.0,
        any_left_for_next_run: false,
        published_twice: 0,
    };
    loop {
        let started = std::time::Instant::now();
        let report = stack.fire("scheduler").await?.unwrap_or(Value::Null);
        backlog.longest_run_ms = backlog.longest_run_ms.max(millis(started.elapsed()));
        backlog.runs += 1;
        let n = |k: &str| report[k].as_u64().unwrap_or_default() as usize;
        backlog.sent += n("sent");
        backlog.unknown += n("unknown");
        backlog.failed += n("failed") + n("failed_texts");
        backlog.any_left_for_next_run |= report["left_for_next_run"].as_bool().unwrap_or(false);
        if n("due") == 0 || backlog.runs >= 50 {
            break;
        }
        // The next run, five minutes later.
        clock.advance(Duration::minutes(5));
    }
    let sms = custops_cli::emulator::sent_sms(&emulator.endpoint).await?;
    let mut bodies: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for m in &sms[before..] {
        *bodies.entry(m.message.as_str()).or_default() += 1;
    }
    backlog.published_twice = bodies.values().filter(|n| **n > 1).count();
    emulator.stop().await;
    Ok(backlog)
}

/// The backlog run as Markdown.
pub fn backlog_table(b: &Backlog) -> String {
    let mut out = String::from("### Scheduler: a backlog of due texts across stores, worked down run by run\n\n");
    out.push_str(&table(
        &[
            ("due texts", true),
            ("stores", true),
            ("runs", true),
            ("sent", true),
            ("unknown", true),
            ("failed", true),
            ("published twice", true),
            ("longest run (emulator)", true),
            ("a run stopped at its 40 s budget", false),
        ],
        [vec![
            b.texts.to_string(),
            b.stores.to_string(),
            b.runs.to_string(),
            b.sent.to_string(),
            b.unknown.to_string(),
            b.failed.to_string(),
            b.published_twice.to_string(),
            format!("{:.1} s", b.longest_run_ms / 1000.0),
            if b.any_left_for_next_run { "yes".into() } else { "no".into() },
        ]],
    ));
    out
}

/// `custops import` at scale: generated rows of the section 12 CSV, and what
/// the store's records say afterwards.
#[derive(Debug, Clone, Serialize)]
pub struct ImportScale {
    pub rows: usize,
    pub imported: usize,
    pub seconds: f64,
    pub rows_per_second: f64,
    /// The bench's peak RSS over the first tenth of the rows and over all of them:
    /// flat when the file is streamed.
    pub peak_rss_first_tenth: u64,
    pub peak_rss_all: u64,
    /// Customers whose last visit is over `lapse_months` ago, as generated, and as the sweep found them.
    pub lapsed_expected: usize,
    pub lapsed_found: usize,
    /// Open declined dollars, as generated, and as the report reads them.
    pub open_declined_expected: i64,
    pub open_declined_found: i64,
}

/// Imports `rows` generated CSV rows (one customer each; a quarter
/// deliveries; a third of the ROs with a declined line) into a fresh stack,
/// then runs the lapse sweep and reads the report's open declined work.
pub async fn import_scale(rows: usize) -> Result<ImportScale, BoxError> {
    use std::io::Write;
    let now: DateTime<Utc> = "2026-11-25T15:00:00Z".parse()?;
    let store = custops::StoreConfig::from_json(STORE)?;
    let cutoff = store.lapse_cutoff(now);
    let file = std::env::temp_dir().join(format!("custops-bench-import-{}.csv", std::process::id()));
    let (mut lapsed_expected, mut open_declined_expected) = (0, 0i64);
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        writeln!(out, "kind,id,at,dms_id,first_name,last_name,phone,email,marketing_consent,vin,year,make,model,advisor_id,advisor_name,performed,declined")?;
        for i in 0..rows {
            // Spread over ten years back from a month ago.
            let at = now - Duration::days(30 + (i as i64 * 7919) % 3650);
            let day = store.local(at).date_naive();
            let noon = custops::report::day_bounds(&store, day).0 + Duration::hours(12);
            if noon < cutoff {
                lapsed_expected += 1;
            }
            let phone = format!("+1512{:07}", 3_000_000 + i);
            if i % 4 == 0 {
                writeln!(out, "deal_delivered,D-{i},{day},C{i},Pat,Buyer{i},{phone},,yes,VIN{i},2020,Chevrolet,Tahoe,sp-1,Sam Seller,,")?;
            } else {
                let declined = if i % 3 == 0 {
                    open_declined_expected += 38_000;
                    "BRK:Front brake pads:38000"
                } else {
                    ""
                };
                writeln!(out, "ro_closed,RO-{i},{day},C{i},Pat,Owner{i},{phone},,yes,VIN{i},2018,Chevrolet,Malibu,adv-1,Dana Whitfield,OIL,{declined}")?;
            }
        }
    }
    let emulator = Emulator::start(0).await?;
    let stack =
        LocalStack::provision(&emulator.endpoint, Arc::new(PinnedClock::at(now)), LocalOptions::default()).await?;
    stack.table().put_store(&store).await?;
    let target =
        custops_cli::commands::Target::patient(Some(&emulator.endpoint), "custops", std::time::Duration::from_secs(60))
            .await?;
    reset_peak_rss();
    let first_tenth = std::sync::atomic::AtomicU64::new(0);
    let started = std::time::Instant::now();
    let (counts, bad) =
        custops_cli::import::import(&target, "northside-chevy", &file, Arc::new(PinnedClock::at(now)), |done| {
            if done == rows / 10 {
                first_tenth.store(peak_rss().unwrap_or_default(), std::sync::atomic::Ordering::Relaxed);
            }
        })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_all = peak_rss().unwrap_or_default();
    std::fs::remove_file(&file).ok();
    if !bad.is_empty() {
        return Err(
            format!("{} generated rows refused, first: line {}: {}", bad.len(), bad[0].line, bad[0].reason).into()
        );
    }
    // The sweep, with patient clients (moto walks the whole index in Python).
    let env = stack.functions.iter().find(|f| f.def.binary == "lapse-sweep").ok_or("no lapse-sweep")?.def.env.clone();
    let config = custops::aws::local(&emulator.endpoint).await;
    let patient = std::time::Duration::from_secs(300);
    let clients = custops::aws::Clients::with_timeouts(&config, patient, patient);
    let core = custops::Core::with_clients(&env, &clients, Arc::new(PinnedClock::at(now)))?;
    let report =
        serde_json::to_value(<lapse_sweep::LapseSweep as custops::function::ScheduledFunction>::run(&core).await?)?;
    let open_declined_found = target.table.open_declined_cents("northside-chevy").await?;
    emulator.stop().await;
    Ok(ImportScale {
        rows,
        imported: counts.imported,
        seconds,
        rows_per_second: rows as f64 / seconds.max(1e-9),
        peak_rss_first_tenth: first_tenth.into_inner(),
        peak_rss_all,
        lapsed_expected,
        lapsed_found: report["handed_off"].as_u64().unwrap_or_default() as usize,
        open_declined_expected,
        open_declined_found,
    })
}

/// The import's scaling as Markdown.
pub fn import_table(rows: &[ImportScale]) -> String {
    let mut out = String::from(
        "### `custops import`: rows per second, flat memory, and what the sweep and the report then read\n\n",
    );
    out.push_str("| rows | imported | time | rows/s | peak RSS after a tenth | peak RSS at the end | lapsed (generated / swept) | open declined (generated / report) |\n");
    out.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} s | {:.0} | {:.1} MB | {:.1} MB | {} / {} | {} / {} |\n",
            r.rows,
            r.imported,
            r.seconds,
            r.rows_per_second,
            r.peak_rss_first_tenth as f64 / 1e6,
            r.peak_rss_all as f64 / 1e6,
            r.lapsed_expected,
            r.lapsed_found,
            custops::text::dollars(r.open_declined_expected),
            custops::text::dollars(r.open_declined_found)
        ));
    }
    out
}
