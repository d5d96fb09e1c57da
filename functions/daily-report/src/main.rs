//! Lambda entry point: build everything once per cold start, then serve runs.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    custops::function::serve_scheduled::<daily_report::DailyReport>().await
}
