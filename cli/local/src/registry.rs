//! Every function's code, by its template name: the one list the local stack,
//! the template-agreement test and the benchmark read. Adding a function adds
//! one entry here (and its resources to `infra/template.yaml`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::cloudwatch_logs::LogsEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use custops::function::{ScheduledFunction, SqsFunction, SqsHandler};
use custops::http::{HookRequest, HookResponse};
use custops::{Core, Deps, SharedClock};

use crate::template::FunctionDef;
use crate::BoxError;

/// One function: its name, what it reads from the environment, how to build it.
pub struct Registration {
    /// The function's name (its crate and binary), as in the template.
    pub name: &'static str,
    /// The environment variables its code reads.
    pub env: &'static [&'static str],
    /// Fired by a schedule (else fed by an SQS queue).
    pub scheduled: bool,
    build: fn(&FunctionDef, &SdkConfig, SharedClock) -> Result<Code, BoxError>,
}

/// A function's code, built in-process.
#[derive(Clone)]
pub enum Code {
    Sqs(Arc<dyn LocalSqs>),
    Scheduled(Arc<dyn LocalScheduled>),
    /// Behind the HTTP API (the front door, the staff inbox).
    Http(Arc<dyn LocalHttp>),
    /// Fed by CloudWatch Logs subscription filters (delivery receipts).
    Logs(Arc<dyn LocalLogs>),
}

impl Registration {
    /// Builds the function in-process with its template environment, as a cold start would.
    pub fn build(&self, def: &FunctionDef, config: &SdkConfig, clock: SharedClock) -> Result<Code, BoxError> {
        (self.build)(def, config, clock)
    }
}

const fn sqs<F: SqsFunction>() -> Registration {
    Registration { name: F::NAME, env: F::ENV, scheduled: false, build: build_sqs::<F> }
}

const fn scheduled<F: ScheduledFunction>() -> Registration
where
    F::Report: 'static,
{
    Registration { name: F::NAME, env: F::ENV, scheduled: true, build: build_scheduled::<F> }
}

/// Every function of custops.
pub const FUNCTIONS: &[Registration] = &[
    sqs::<missed_call::MissedCall>(),
    sqs::<vehicle_ready::VehicleReady>(),
    sqs::<inbound_sms::InboundSmsHandler>(),
    sqs::<declined_service::DeclinedService>(),
    sqs::<appointments::Appointments>(),
    sqs::<deal_delivered::DealDeliveredFn>(),
    sqs::<win_back::WinBack>(),
    sqs::<lead_email::LeadEmail>(),
    scheduled::<scheduler::Scheduler>(),
    scheduled::<lapse_sweep::LapseSweep>(),
    scheduled::<daily_report::DailyReport>(),
    Registration { name: front_door::NAME, env: front_door::ENV, scheduled: false, build: build_front_door },
    Registration { name: staff_inbox::NAME, env: staff_inbox::ENV, scheduled: false, build: build_staff_inbox },
    Registration { name: sms_receipts::NAME, env: sms_receipts::ENV, scheduled: false, build: build_sms_receipts },
    Registration { name: dms_feed::NAME, env: dms_feed::ENV, scheduled: false, build: build_dms_feed },
];

/// The registration of the function named `name`.
pub fn find(name: &str) -> Option<&'static Registration> {
    FUNCTIONS.iter().find(|r| r.name == name)
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An in-process SQS function, behind a pointer.
pub trait LocalSqs: Send + Sync {
    fn handle(&self, event: SqsEvent) -> Boxed<'_, SqsBatchResponse>;
}

impl<F: SqsFunction> LocalSqs for SqsHandler<F> {
    fn handle(&self, event: SqsEvent) -> Boxed<'_, SqsBatchResponse> {
        Box::pin(SqsHandler::handle(self, event))
    }
}

impl LocalSqs for dms_feed::Feed {
    fn handle(&self, event: SqsEvent) -> Boxed<'_, SqsBatchResponse> {
        Box::pin(dms_feed::Feed::handle(self, event))
    }
}

/// An in-process HTTP function, behind a pointer.
pub trait LocalHttp: Send + Sync {
    fn answer<'a>(&'a self, req: &'a HookRequest) -> Boxed<'a, HookResponse>;
}

impl LocalHttp for front_door::FrontDoor {
    fn answer<'a>(&'a self, req: &'a HookRequest) -> Boxed<'a, HookResponse> {
        Box::pin(front_door::FrontDoor::answer(self, req))
    }
}

impl LocalHttp for staff_inbox::Inbox {
    fn answer<'a>(&'a self, req: &'a HookRequest) -> Boxed<'a, HookResponse> {
        Box::pin(staff_inbox::Inbox::answer(self, req))
    }
}

/// An in-process function fed by CloudWatch Logs, behind a pointer.
pub trait LocalLogs: Send + Sync {
    /// One subscription delivery; what the function reports, as JSON.
    fn deliver(&self, event: LogsEvent) -> Boxed<'_, Result<serde_json::Value, BoxError>>;
}

impl LocalLogs for sms_receipts::Receipts {
    fn deliver(&self, event: LogsEvent) -> Boxed<'_, Result<serde_json::Value, BoxError>> {
        Box::pin(async move { Ok(serde_json::to_value(self.handle(event).await?)?) })
    }
}

/// An in-process scheduled function, behind a pointer.
pub trait LocalScheduled: Send + Sync {
    /// One run; its report as JSON.
    fn tick(&self) -> Boxed<'_, Result<serde_json::Value, BoxError>>;
}

/// A scheduled function with what its cold start built.
struct ScheduledHandler<F> {
    core: Core,
    function: std::marker::PhantomData<fn() -> F>,
}

impl<F: ScheduledFunction> LocalScheduled for ScheduledHandler<F> {
    fn tick(&self) -> Boxed<'_, Result<serde_json::Value, BoxError>> {
        Box::pin(async move { Ok(serde_json::to_value(F::run(&self.core).await?)?) })
    }
}

fn build_sqs<F: SqsFunction>(def: &FunctionDef, config: &SdkConfig, clock: SharedClock) -> Result<Code, BoxError> {
    Ok(Code::Sqs(Arc::new(SqsHandler::<F>::new(Deps::from_env(F::NAME, &def.env, config, clock)?))))
}

fn build_front_door(def: &FunctionDef, config: &SdkConfig, clock: SharedClock) -> Result<Code, BoxError> {
    Ok(Code::Http(Arc::new(front_door::FrontDoor::from_env(&def.env, config, clock)?)))
}

fn build_staff_inbox(def: &FunctionDef, config: &SdkConfig, clock: SharedClock) -> Result<Code, BoxError> {
    Ok(Code::Http(Arc::new(staff_inbox::Inbox::from_env(&def.env, config, clock)?)))
}

fn build_sms_receipts(def: &FunctionDef, config: &SdkConfig, clock: SharedClock) -> Result<Code, BoxError> {
    Ok(Code::Logs(Arc::new(sms_receipts::Receipts::from_env(&def.env, config, clock)?)))
}

fn build_dms_feed(def: &FunctionDef, config: &SdkConfig, clock: SharedClock) -> Result<Code, BoxError> {
    Ok(Code::Sqs(Arc::new(dms_feed::Feed::from_env(&def.env, config, clock)?)))
}

fn build_scheduled<F: ScheduledFunction>(
    def: &FunctionDef,
    config: &SdkConfig,
    clock: SharedClock,
) -> Result<Code, BoxError> {
    let core = Core::from_env(&def.env, config, clock)?;
    Ok(Code::Scheduled(Arc::new(ScheduledHandler::<F> { core, function: std::marker::PhantomData })))
}
