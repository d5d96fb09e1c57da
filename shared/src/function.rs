//! What an SQS-fed custops function is, and how Lambda runs one. Each
//! function's `main.rs` is `custops::function::serve::<TheFunction>()`: build
//! everything once per cold start, then hand every batch to the function.

use std::future::Future;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};

use crate::context::Deps;
use crate::env::ProcessEnv;
use crate::SystemClock;

pub trait SqsFunction: Sized + Send + Sync + 'static {
    /// The function's name, as in `infra/template.yaml` and in DLQ attributes.
    const NAME: &'static str;
    /// The environment it reads (checked against the template by a test).
    const ENV: &'static [&'static str] = crate::env::SQS_FUNCTION_ENV;

    fn new(deps: Deps) -> Self;

    /// Handles one batch, reporting partial failures.
    fn handle(&self, event: SqsEvent) -> impl Future<Output = SqsBatchResponse> + Send;
}

/// The Lambda entry point of an SQS-fed function.
pub async fn serve<F: SqsFunction>() -> Result<(), Error> {
    crate::telemetry::init();
    let config = crate::aws::from_env().await;
    let function = F::new(Deps::from_env(F::NAME, &ProcessEnv, &config, Arc::new(SystemClock))?);
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(function.handle(event.payload).await)
    }))
    .await
}
