//! Lambda entry point: build everything once per cold start, then serve batches.
// Two message kinds' futures nest deeper than the compiler's default layout
// depth once the batch adapter and the runtime wrap them.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    custops::function::serve::<declined_service::DeclinedService>().await
}
