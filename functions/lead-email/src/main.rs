//! Lambda entry point: build everything once per cold start, then serve batches.
// A function's futures, inside the batch adapter and the runtime, nest
// deeper than the compiler's default layout depth.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    custops::function::serve::<lead_email::LeadEmail>().await
}
