//! Lambda entry point: build the inbox once per cold start, then answer API
//! Gateway HTTP API (payload 2.0) requests with [`staff_inbox::Inbox::answer`].
// A function's futures, inside the runtime and the AWS SDK, nest deeper than
// the compiler's default layout depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use custops::env::ProcessEnv;
use custops::SystemClock;
use staff_inbox::Inbox;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let inbox = custops::function::cold_start(staff_inbox::NAME, |config| {
        Inbox::from_env(&ProcessEnv, config, Arc::new(SystemClock))
    })
    .await?;
    // Lives as long as the process, as on Lambda.
    let inbox: &'static Inbox = Box::leak(Box::new(inbox));
    custops::http::serve(move |req| async move { inbox.answer(&req).await }).await
}
