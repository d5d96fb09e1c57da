//! Lambda entry point: build everything once per cold start, then serve ticks.

use std::sync::Arc;

use custops::{env::ProcessEnv, function::cold_start, SystemClock};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use scheduler::Scheduler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let scheduler =
        &cold_start("scheduler", |config| Scheduler::from_env(&ProcessEnv, config, Arc::new(SystemClock))).await?;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(scheduler.run().await?)
    }))
    .await
}
