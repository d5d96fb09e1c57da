//! `custops-bench` (`cargo perf`): measures what custops costs and prints the
//! tables of docs/benchmarks.md.
// Every function's futures, run in-process by the local stack, nest deeper
// than the compiler's default layout depth.
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use custops_cli::BoxError;

/// Measures what custops costs: AWS API calls per event (counted at a private
/// emulator), cold start, size, memory, batch concurrency, pipeline throughput.
#[derive(Parser)]
#[command(name = "custops-bench", version)]
struct Bench {
    /// Also write the results as JSON here.
    #[arg(long, default_value = "target/custops-bench.json")]
    json: PathBuf,
    /// Cold starts per program (median reported).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Latency injected on every AWS call for the concurrency measure.
    #[arg(long, default_value_t = 25)]
    latency_ms: u64,
    /// Only count AWS calls per event (no deploy builds needed).
    #[arg(long)]
    calls_only: bool,
    /// Skip the binaries' measures (cold start, size, memory, concurrency).
    #[arg(long)]
    skip_runtime: bool,
    /// Table sizes (customers at one store) the lapse sweep is measured at, 1% newly lapsed (none: skip).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    sweep_customers: Vec<usize>,
    /// Also sweep this many customers all lapsed at once (the first sweep after a bulk load; 0: skip).
    #[arg(long, default_value_t = 100_000)]
    sweep_all_lapsed: usize,
    /// Vehicles at one store the daily due sweep (section 14) is measured at, 1% falling due (none: skip).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    due_vehicles: Vec<usize>,
    /// Due texts across 100 stores the scheduler works down (0: skip).
    #[arg(long, default_value_t = 10_000)]
    backlog_texts: usize,
    /// Closed repair orders on one customer's record, for the history measure (none: skip).
    #[arg(long, value_delimiter = ',', default_value = "1,100,5000")]
    history_ros: Vec<usize>,
    /// Mixed events pushed through the whole local pipeline (0: skip). The
    /// emulator is the bottleneck: 10,000 take several minutes here.
    #[arg(long, default_value_t = 10_000)]
    pipeline_events: usize,
    /// Rows of a generated DMS history through `custops import` (0: skip).
    #[arg(long, default_value_t = 100_000)]
    import_rows: usize,
    /// Only the AWS calls table and the import (`--import-rows`).
    #[arg(long)]
    only_import: bool,
    /// Snapshots of open repair orders through the DMS feed, three passes (0: skip).
    #[arg(long, default_value_t = 1_000)]
    feed_snapshots: usize,
    /// Rows of the feed's files, each taken whole (peak memory; none: skip).
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    feed_file_rows: Vec<usize>,
    /// Only the AWS calls table and the DMS feed.
    #[arg(long)]
    only_feed: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    custops::telemetry::init_cli("off");
    match run(Bench::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("custops-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(mut b: Bench) -> Result<(), BoxError> {
    let rows = custops_bench::aws_calls().await?;
    println!("### AWS API calls per event (counted at the emulator, steady state)\n");
    println!("{}", custops_bench::calls_table(&rows));
    let imports = if b.calls_only || b.only_feed || b.import_rows == 0 {
        Vec::new()
    } else {
        eprintln!("custops-bench: importing {} generated rows", b.import_rows);
        let r = custops_bench::import_scale(b.import_rows).await?;
        println!("{}", custops_bench::import_table(std::slice::from_ref(&r)));
        vec![r]
    };
    let feed = if b.calls_only || b.feed_snapshots == 0 {
        None
    } else {
        eprintln!(
            "custops-bench: {} snapshots through the DMS feed, then files of {:?} rows",
            b.feed_snapshots, b.feed_file_rows
        );
        let (passes, files) = custops_bench::feed_scale(b.feed_snapshots, &b.feed_file_rows).await?;
        println!("{}", custops_bench::feed_tables(&passes, &files));
        Some(serde_json::json!({"passes": passes, "files": files}))
    };
    if b.only_import || b.only_feed {
        b.skip_runtime = true;
        b.pipeline_events = 0;
        b.backlog_texts = 0;
        b.history_ros.clear();
        b.sweep_customers.clear();
        b.sweep_all_lapsed = 0;
        b.due_vehicles.clear();
    }
    let runtime = if b.calls_only || b.skip_runtime {
        None
    } else {
        let r = custops_bench::runtime(b.runs, std::time::Duration::from_millis(b.latency_ms)).await?;
        println!("{}", custops_bench::runtime_tables(&r));
        Some(r)
    };
    if let Some(dir) = b.json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let pipeline = if b.calls_only || b.pipeline_events == 0 {
        None
    } else {
        let p = custops_bench::pipeline(b.pipeline_events).await?;
        println!("{}", custops_bench::pipeline_table(&p));
        Some(p)
    };
    let backlog = if b.calls_only || b.backlog_texts == 0 {
        None
    } else {
        let r = custops_bench::scheduler_backlog(b.backlog_texts, 100).await?;
        println!("{}", custops_bench::backlog_table(&r));
        Some(r)
    };
    let mut histories = Vec::new();
    if !b.calls_only {
        for n in b.history_ros.iter().copied().filter(|n| *n > 0) {
            histories.push(custops_bench::history_scale(n).await?);
        }
        if !histories.is_empty() {
            println!("{}", custops_bench::history_table(&histories));
        }
    }
    let mut sweeps = Vec::new();
    if !b.calls_only {
        for n in b.sweep_customers.iter().copied().filter(|n| *n > 0) {
            eprintln!("custops-bench: seeding {n} customers for the lapse sweep");
            sweeps.push(custops_bench::sweep_scale(n, 1).await?);
        }
        if b.sweep_all_lapsed > 0 {
            eprintln!("custops-bench: seeding {} customers, all lapsed, for the lapse sweep", b.sweep_all_lapsed);
            sweeps.push(custops_bench::sweep_scale(b.sweep_all_lapsed, 100).await?);
        }
        if !sweeps.is_empty() {
            println!("{}", custops_bench::sweep_table(&sweeps));
        }
    }
    let mut due_sweeps = Vec::new();
    if !b.calls_only {
        for n in b.due_vehicles.iter().copied().filter(|n| *n > 0) {
            eprintln!("custops-bench: seeding {n} vehicles for the due sweep");
            due_sweeps.push(custops_bench::due_sweep_scale(n, 1).await?);
        }
        if !due_sweeps.is_empty() {
            println!("{}", custops_bench::due_sweep_table(&due_sweeps));
        }
    }
    let report = serde_json::json!({
        "aws_calls_per_event": rows, "runtime": runtime, "pipeline": pipeline, "lapse_sweep": sweeps, "due_sweep": due_sweeps,
        "history": histories, "scheduler_backlog": backlog, "import": imports, "dms_feed": feed
    });
    std::fs::write(&b.json, serde_json::to_string_pretty(&report)?)?;
    println!("written to {}", b.json.display());
    Ok(())
}
