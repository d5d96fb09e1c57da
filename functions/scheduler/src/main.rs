//! Lambda entry point: build everything once per cold start, then serve ticks.
// A run's futures (partitions, pages, releases) nest deeper than the
// compiler's default layout depth once the runtime wraps them.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    custops::function::serve_scheduled::<scheduler::Scheduler>().await
}
