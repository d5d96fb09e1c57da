//! Lambda entry point: build the front door once per cold start, then answer
//! API Gateway HTTP API (payload 2.0) requests with [`front_door::FrontDoor::answer`].
// A function's futures, inside the runtime and the AWS SDK, nest deeper than
// the compiler's default layout depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use custops::env::ProcessEnv;
use custops::SystemClock;
use front_door::FrontDoor;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let door = custops::function::cold_start(front_door::NAME, |config| {
        FrontDoor::from_env(&ProcessEnv, config, Arc::new(SystemClock))
    })
    .await?;
    // Lives as long as the process, as on Lambda.
    let door: &'static FrontDoor = Box::leak(Box::new(door));
    custops::http::serve(move |req| async move { door.answer(&req).await }).await
}
