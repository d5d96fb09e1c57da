//! What a custops function is, and how Lambda runs one. There are two kinds:
//! an [`SqsFunction`] handles the messages of its queue; a
//! [`ScheduledFunction`] runs when EventBridge fires it. Each function's
//! `main.rs` is one line, `custops::function::serve::<TheFunction>()` or
//! `serve_scheduled`: build everything once per cold start, then hand every
//! invocation to the function.

use std::future::Future;
use std::marker::PhantomData;
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
use serde::Serialize;

/// A function fed by an SQS queue. It holds nothing itself: what the cold
/// start built (clients, table, outbound path, store cache, clock) is passed
/// in, so a function is its `process` and nothing else.
pub trait SqsFunction: Send + Sync + 'static {
    /// The function's name, as in `infra/template.yaml` and in DLQ attributes.
    const NAME: &'static str;
    /// The environment it reads (checked against the template by a test).
    const ENV: &'static [&'static str] = crate::env::SQS_FUNCTION_ENV;

    /// Handles one message. An `Err` is logged with the event id; bad input
    /// goes to the DLQ at once, anything else is retried (see `batch`).
    fn process(deps: &Deps, message: Message) -> impl Future<Output = Result<(), ProcessError>> + Send;
}

/// An SQS function with what its cold start built: what Lambda (through
/// [`serve`]) and the local stack invoke with each batch.
pub struct SqsHandler<F> {
    pub deps: Deps,
    function: PhantomData<fn() -> F>,
}

impl<F: SqsFunction> SqsHandler<F> {
    pub fn new(deps: Deps) -> Self {
        Self { deps, function: PhantomData }
    }

    /// Handles one batch: every message concurrently, partial failures reported.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.deps.batch.run(event, |message| F::process(&self.deps, message)).await
    }
}

/// A function's whole life (cold start, then the runtime's loop), type-erased:
/// the nested futures of the runtime, the function and the AWS SDK otherwise
/// exceed the compiler's layout depth limit in `main`.
pub type Serving = std::pin::Pin<Box<dyn Future<Output = Result<(), Error>>>>;

/// The Lambda entry point of an SQS-fed function.
pub fn serve<F: SqsFunction>() -> Serving {
    Box::pin(async {
        let deps =
            cold_start(F::NAME, |config| Deps::from_env(F::NAME, &ProcessEnv, config, Arc::new(SystemClock))).await?;
        // Lives as long as the process, as on Lambda.
        let function: &'static SqsHandler<F> = Box::leak(Box::new(SqsHandler::new(deps)));
        lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
            Ok::<_, Error>(function.handle(event.payload).await)
        }))
        .await
    })
}

/// A function EventBridge fires on a schedule. Like an [`SqsFunction`], it
/// holds nothing itself: what the cold start built is passed in.
pub trait ScheduledFunction: Send + Sync + 'static {
    /// The function's name, as in `infra/template.yaml`.
    const NAME: &'static str;
    /// The environment it reads (checked against the template by a test).
    const ENV: &'static [&'static str] = crate::env::SCHEDULED_FUNCTION_ENV;
    /// What one run returns (Lambda's response; `custops local tick` prints it).
    type Report: Serialize + Send;

    /// One run, at the clock's "now".
    fn run(core: &Core) -> impl Future<Output = Result<Self::Report, ProcessError>> + Send;
}

/// The Lambda entry point of a scheduled function.
pub fn serve_scheduled<F: ScheduledFunction>() -> Serving {
    Box::pin(async {
        let core = cold_start(F::NAME, |config| Core::from_env(&ProcessEnv, config, Arc::new(SystemClock))).await?;
        // Lives as long as the process, as on Lambda.
        let core: &'static Core = Box::leak(Box::new(core));
        // A failed run reaches CloudWatch as the project's error (its kind and
        // message), not a boxed type's name.
        lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
            F::run(core).await.map_err(lambda_runtime::Diagnostic::from)
        }))
        .await
    })
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
