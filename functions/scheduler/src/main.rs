//! Lambda entry point: build everything once per cold start, then serve ticks.

use std::sync::Arc;

use custops::{env::ProcessEnv, SystemClock};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use scheduler::Scheduler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    custops::telemetry::init();
    let config = custops::aws::from_env().await;
    let scheduler = Scheduler::from_env(&ProcessEnv, &config, Arc::new(SystemClock))?;
    let scheduler = &scheduler;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        Ok::<_, Error>(scheduler.run().await?)
    }))
    .await
}
