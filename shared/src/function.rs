//! What an SQS-fed custops function is, and how Lambda runs one. Each
//! function's `main.rs` is `custops::function::serve::<TheFunction>()`: build
//! everything once per cold start, then hand every batch to the function.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};

use crate::batch::Message;
use crate::context::{Core, Deps, WarmUp};
use crate::env::{ConfigError, ProcessEnv};
use crate::error::ProcessError;
use crate::SystemClock;

pub trait SqsFunction: Sized + Send + Sync + 'static {
    /// The function's name, as in `infra/template.yaml` and in DLQ attributes.
    const NAME: &'static str;
    /// The environment it reads (checked against the template by a test).
    const ENV: &'static [&'static str] = crate::env::SQS_FUNCTION_ENV;

    fn new(deps: Deps) -> Self;

    fn deps(&self) -> &Deps;

    /// Handles one message. An `Err` is logged with the event id; bad input
    /// goes to the DLQ at once, anything else is retried (see `batch`).
    fn process(&self, message: Message) -> impl Future<Output = Result<(), ProcessError>> + Send;

    /// Handles one batch: every message concurrently, partial failures reported.
    fn handle(&self, event: SqsEvent) -> impl Future<Output = SqsBatchResponse> + Send {
        async move { self.deps().batch.run(event, |message| self.process(message)).await }
    }
}

/// The Lambda entry point of an SQS-fed function.
pub async fn serve<F: SqsFunction>() -> Result<(), Error> {
    let deps =
        cold_start(F::NAME, |config| Deps::from_env(F::NAME, &ProcessEnv, config, Arc::new(SystemClock))).await?;
    let function = &F::new(deps);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(function.handle(event.payload).await)
    }))
    .await
}

/// The longest a cold start waits for its warm-up calls.
pub const WARM_UP_LIMIT: Duration = Duration::from_secs(2);

/// A function's cold start: logging, the one `SdkConfig`, the function itself
/// (`build`: clients, table, outbound path), then the warm-up `WARM_UP` asks
/// for. Logs one `init` line with what each step took, in milliseconds:
/// `logging_ms`, `config_ms`, `build_ms`, `warm_ms` and `total_ms`.
pub async fn cold_start<T: AsRef<Core>>(
    function: &'static str,
    build: impl FnOnce(&SdkConfig) -> Result<T, ConfigError>,
) -> Result<T, Error> {
    let started = Instant::now();
    crate::telemetry::init();
    let logging = started.elapsed();
    let config = crate::aws::for_lambda().await;
    let configured = started.elapsed();
    let what = WarmUp::from_env(&ProcessEnv)?;
    let built = build(&config)?;
    let ready = started.elapsed();
    built.as_ref().warm_up(what, WARM_UP_LIMIT).await;
    let total = started.elapsed();
    let ms = |d: Duration| (d.as_secs_f64() * 1e5).round() / 100.0;
    tracing::info!(
        function,
        warm_up = %what,
        logging_ms = ms(logging),
        config_ms = ms(configured - logging),
        build_ms = ms(ready - configured),
        warm_ms = ms(total - ready),
        total_ms = ms(total),
        "init"
    );
    Ok(built)
}
