//! Lambda entry point: build the feed once per cold start, then hand each
//! SQS batch (the front door's deliveries, the feed bucket's notifications)
//! to [`dms_feed::Feed::handle`].
// A function's futures, inside the runtime and the AWS SDK, nest deeper than
// the compiler's default layout depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use custops::env::ProcessEnv;
use custops::SystemClock;
use dms_feed::Feed;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let feed = custops::function::cold_start(dms_feed::NAME, |config| {
        Feed::from_env(&ProcessEnv, config, Arc::new(SystemClock))
    })
    .await?;
    let feed: &'static Feed = Box::leak(Box::new(feed));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(feed.handle(event.payload).await)
    }))
    .await
}
