//! Lambda entry point: build the front door once per cold start, then answer
//! API Gateway HTTP API (payload 2.0) requests with [`front_door::FrontDoor::answer`].
// A function's futures, inside the runtime and the AWS SDK, nest deeper than
// the compiler's default layout depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use custops::env::ProcessEnv;
use custops::SystemClock;
use front_door::{FrontDoor, HookRequest, HookResponse};
use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let door = custops::function::cold_start(front_door::NAME, |config| {
        FrontDoor::from_env(&ProcessEnv, config, Arc::new(SystemClock))
    })
    .await?;
    // Lives as long as the process, as on Lambda.
    let door: &'static FrontDoor = Box::leak(Box::new(door));
    lambda_http::run(service_fn(
        move |req: Request| async move { Ok::<_, Error>(respond(door.answer(&hook(req)).await)) },
    ))
    .await
}

/// API Gateway's request as the front door reads it.
fn hook(req: Request) -> HookRequest {
    let (parts, body) = req.into_parts();
    let body = match body {
        Body::Empty => Vec::new(),
        Body::Text(t) => t.into_bytes(),
        Body::Binary(b) => b,
        _ => Vec::new(),
    };
    HookRequest { method: parts.method, uri: parts.uri, headers: parts.headers, body }
}

fn respond(answer: HookResponse) -> Response<Body> {
    let mut response = Response::builder().status(answer.status).header("content-type", answer.content_type);
    for (name, value) in answer.headers {
        response = response.header(name, value);
    }
    response.body(Body::Text(answer.body)).unwrap_or_else(|_| Response::new(Body::Empty))
}
