//! Lambda entry point: build everything once per cold start, then serve batches.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    custops::function::serve::<deal_delivered::DealDeliveredFn>().await
}
