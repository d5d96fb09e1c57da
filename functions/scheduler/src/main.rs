//! Lambda entry point: build everything once per cold start, then serve ticks.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    custops::function::serve_scheduled::<scheduler::Scheduler>().await
}
