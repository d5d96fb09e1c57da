//! Lambda entry point: build everything once per cold start, then serve batches.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use custops::{env::ProcessEnv, Deps, SystemClock};
use inbound_sms::{InboundSmsHandler, FUNCTION};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    custops::telemetry::init();
    let config = custops::aws::from_env().await;
    let handler = InboundSmsHandler::new(Deps::from_env(FUNCTION, &ProcessEnv, &config, Arc::new(SystemClock))?);
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(handler.handle(event.payload).await)
    }))
    .await
}
