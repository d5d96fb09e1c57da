//! Lambda entry point: build the receipts reader once per cold start, then
//! handle each CloudWatch Logs subscription delivery (base64 gzip of
//! `logEvents`) with [`sms_receipts::Receipts::handle`]. An error (the
//! table did not answer) fails the invocation: CloudWatch Logs invokes
//! asynchronously, so Lambda retries it and then sends it to the function's DLQ.
// A function's futures, inside the runtime and the AWS SDK, nest deeper than
// the compiler's default layout depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use aws_lambda_events::event::cloudwatch_logs::LogsEvent;
use custops::env::ProcessEnv;
use custops::SystemClock;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use sms_receipts::Receipts;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let receipts = custops::function::cold_start(sms_receipts::NAME, |config| {
        Receipts::from_env(&ProcessEnv, config, Arc::new(SystemClock))
    })
    .await?;
    let receipts: &'static Receipts = Box::leak(Box::new(receipts));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<LogsEvent>| async move {
        receipts.handle(event.payload).await.map_err(Error::from)
    }))
    .await
}
