//! The baseline for cold starts: a minimal `lambda_runtime` function that
//! echoes its event. `cargo perf` (custops-bench) builds it with the deploy profile.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<serde_json::Value>| async move { Ok::<_, Error>(event.payload) },
    ))
    .await
}
