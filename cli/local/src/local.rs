//! The local stack: resources created from `infra/template.yaml` in the
//! emulator, and the real function code run in-process with Lambda's SQS
//! event-source semantics (batches of up to 10, `ReportBatchItemFailures`
//! honoured, failed messages back after the visibility timeout, redrive to the
//! DLQ by the queue's policy).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use custops::aws::Clients;
use custops::SharedClock;
use serde_json::Value;
use tracing::{debug, info};

use crate::pools::create_user_pools;
pub use crate::pools::made_up_ids;
use crate::registry::Code;
use crate::runtime_api::{BootstrapProcess, Outcome};
use crate::template::{FunctionDef, Placement, Template, TEMPLATE};

pub use crate::BoxError;

/// The function code the local stack runs: in-process (built from the
/// [`registry`](crate::registry)), or the real `bootstrap` binary behind a
/// local Lambda Runtime API.
#[derive(Clone)]
pub enum Handler {
    Process(Arc<ProcessHandler>),
    InProcess(Code),
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handler::Process(p) => p.fmt(f),
            Handler::InProcess(Code::Sqs(_)) => f.write_str("Sqs(in-process)"),
            Handler::InProcess(Code::Scheduled(_)) => f.write_str("Scheduled(in-process)"),
            Handler::InProcess(Code::Http(_)) => f.write_str("Http(in-process)"),
            Handler::InProcess(Code::Logs(_)) => f.write_str("Logs(in-process)"),
        }
    }
}

impl Handler {
    /// Delivers an SQS batch; a function without an SQS trigger fails the whole batch.
    pub async fn sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        match self {
            Handler::Process(p) => p.sqs(event).await,
            Handler::InProcess(Code::Sqs(h)) => h.handle(event).await,
            Handler::InProcess(Code::Scheduled(_) | Code::Http(_) | Code::Logs(_)) => all_failed(event),
        }
    }

    /// One scheduled invocation, as EventBridge makes it.
    pub async fn tick(&self) -> Result<Option<Value>, BoxError> {
        match self {
            Handler::Process(p) if p.scheduled => Ok(Some(p.invoke(&scheduled_event())?.await?)),
            Handler::InProcess(Code::Scheduled(h)) => Ok(Some(h.tick().await?)),
            Handler::Process(_) | Handler::InProcess(Code::Sqs(_) | Code::Http(_) | Code::Logs(_)) => Ok(None),
        }
    }
}

/// Every message of a batch reported failed (the function could not run).
fn all_failed(event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for r in event.records {
        let mut failure = aws_lambda_events::event::sqs::BatchItemFailure::default();
        failure.item_identifier = r.message_id.unwrap_or_default();
        response.batch_item_failures.push(failure);
    }
    response
}

/// The event EventBridge sends a scheduled function.
fn scheduled_event() -> Value {
    serde_json::json!({
        "version": "0", "id": "local-tick", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": custops::aws::LOCAL_ACCOUNT, "time": chrono::Utc::now(), "region": custops::aws::LOCAL_REGION,
        "resources": [], "detail": {}
    })
}

/// A real `bootstrap` binary, invoked through the local Runtime API.
pub struct ProcessHandler {
    pub process: BootstrapProcess,
    pub scheduled: bool,
    /// Lambda runs one invocation at a time per environment.
    lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ProcessHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProcessHandler(runtime api {})", self.process.api.addr)
    }
}

impl ProcessHandler {
    fn invoke(
        &self,
        event: &impl serde::Serialize,
    ) -> Result<impl std::future::Future<Output = Result<Value, BoxError>> + '_, BoxError> {
        let payload = serde_json::to_vec(event)?;
        Ok(async move {
            let _one_at_a_time = self.lock.lock().await;
            match self.process.api.invoke(payload, Duration::from_secs(30)).await? {
                Outcome::Response(body) => Ok(serde_json::from_slice(&body)?),
                Outcome::Error(e) => Err(format!("the function failed: {e}").into()),
            }
        })
    }

    async fn sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        let result = match self.invoke(&event) {
            Ok(call) => call.await,
            Err(e) => Err(e),
        };
        match result.and_then(|v| Ok(serde_json::from_value::<SqsBatchResponse>(v)?)) {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(error = %e, "the bootstrap invocation failed: the whole batch is retried");
                all_failed(event)
            }
        }
    }
}

/// A function wired to its queue.
#[derive(Debug, Clone)]
pub struct LocalFunction {
    pub def: FunctionDef,
    pub queue_url: Option<String>,
    pub queue_arn: Option<String>,
    pub batch_size: i32,
    pub handler: Handler,
}

#[derive(Debug, Clone)]
pub struct LocalStack {
    pub endpoint: String,
    pub template: Template,
    pub clients: Clients,
    pub clock: SharedClock,
    pub functions: Vec<LocalFunction>,
}

/// Local settings that differ from AWS.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// Seconds a failed message stays invisible before its retry (AWS: the template's value).
    pub visibility_timeout: u32,
    /// Run the real binaries found here (`<dir>/<function>/bootstrap`, as
    /// `cargo artifacts` lays them out, or `<dir>/<function>`) through the
    /// Lambda Runtime API instead of the handler code in-process.
    pub bootstrap_dir: Option<std::path::PathBuf>,
    /// Where the functions' own AWS calls go, when not straight to the
    /// emulator (a fault proxy in front of it, for `custops chaos`); the
    /// stack's own calls (Lambda's pollers, publishing events) go straight.
    pub function_endpoint: Option<String>,
    /// The template's `PublicBaseUrl` (the local HTTP API's `http` URL, so
    /// staff alerts carry a link that opens): none, the template's default.
    pub public_base_url: Option<String>,
}

/// The local stack's `ReportSender`, verified in the emulator's SES at
/// provisioning (the report by mail lands there).
pub const LOCAL_REPORT_SENDER: &str = "reports@custops.local";

impl LocalOptions {
    /// Where the template is placed locally, with these options' parameters.
    pub fn placement(&self, endpoint: &str) -> Placement {
        let mut placement = Placement::local(endpoint);
        placement.parameters.insert("ReportSender".into(), LOCAL_REPORT_SENDER.into());
        if let Some(url) = &self.public_base_url {
            placement.parameters.insert("PublicBaseUrl".into(), url.clone());
        }
        placement
    }
}

impl Default for LocalOptions {
    fn default() -> Self {
        Self { visibility_timeout: 2, bootstrap_dir: None, function_endpoint: None, public_base_url: None }
    }
}

impl LocalStack {
    /// Creates every resource of the template in the emulator at `endpoint` and
    /// builds the functions.
    pub async fn provision(endpoint: &str, clock: SharedClock, options: LocalOptions) -> Result<Self, BoxError> {
        let template = Template::parse(TEMPLATE, &options.placement(endpoint))?;
        let config = custops::aws::local(endpoint).await;
        create_resources(&template, &Clients::new(&config), &config, &options).await?;
        info!(endpoint, "local resources created from infra/template.yaml");
        let mut stack = Self::connect_with(endpoint, &options, clock).await?;
        if let Some(dir) = &options.bootstrap_dir {
            stack.run_bootstraps(dir).await?;
        }
        Ok(stack)
    }

    /// Replaces every in-process handler with the real binary in `dir`.
    /// The HTTP API's function stays in-process: its binary speaks API
    /// Gateway's payload, which the local Runtime API does not carry.
    pub async fn run_bootstraps(&mut self, dir: &std::path::Path) -> Result<(), BoxError> {
        let binaries: Vec<String> = self
            .functions
            .iter()
            .filter(|f| !matches!(f.handler, Handler::InProcess(Code::Http(_))))
            .map(|f| f.def.binary.clone())
            .collect();
        for binary in binaries {
            let laid_out = dir.join(&binary).join("bootstrap");
            let path = if laid_out.exists() { laid_out } else { dir.join(&binary) };
            self.run_bootstrap(&binary, &path).await?;
        }
        Ok(())
    }

    /// Runs function `binary` as the real executable at `path`, behind a local
    /// Lambda Runtime API, with the template's environment.
    pub async fn run_bootstrap(&mut self, binary: &str, path: &std::path::Path) -> Result<(), BoxError> {
        if !path.exists() {
            return Err(format!("no bootstrap for {binary} at {}", path.display()).into());
        }
        let endpoint = self.endpoint.clone();
        let f = self
            .functions
            .iter_mut()
            .find(|f| f.def.binary == binary)
            .ok_or_else(|| format!("no function {binary}"))?;
        let process = BootstrapProcess::spawn(path, binary, &f.def.env, Some(&endpoint)).await?;
        process.echo_logs(true);
        process.ready(Duration::from_secs(10)).await?;
        f.handler = Handler::Process(Arc::new(ProcessHandler {
            process,
            scheduled: f.def.scheduled,
            lock: tokio::sync::Mutex::new(()),
        }));
        Ok(())
    }

    /// Connects to resources that exist already (for `tick` and operator commands).
    pub async fn connect(endpoint: &str, clock: SharedClock) -> Result<Self, BoxError> {
        Self::connect_with(endpoint, &LocalOptions::default(), clock).await
    }

    /// [`LocalStack::connect`], the functions calling AWS at `options`'
    /// `function_endpoint`, with its `public_base_url`.
    pub async fn connect_with(endpoint: &str, options: &LocalOptions, clock: SharedClock) -> Result<Self, BoxError> {
        let function_endpoint = options.function_endpoint.as_deref();
        let config = custops::aws::local(endpoint).await;
        let mut placement = options.placement(endpoint);
        placement.physical = made_up_ids(&Template::parse(TEMPLATE, &placement)?, &config).await?;
        let template = Template::parse(TEMPLATE, &placement)?;
        let clients = Clients::new(&config);
        let config = match function_endpoint {
            Some(e) => custops::aws::local(e).await,
            None => config,
        };
        let mut functions = Vec::new();
        for def in template.functions() {
            let registration = crate::registry::find(&def.binary).ok_or_else(|| {
                format!(
                    "the template's function {} (binary {:?}) has no code in the registry",
                    def.logical_id, def.binary
                )
            })?;
            // Each function signs as itself: the emulator's request log names
            // the function behind every call (the IAM actions it really uses).
            let signed = custops::aws::local_as(&config, &def.binary);
            let handler = Handler::InProcess(registration.build(&def, &signed, clock.clone())?);
            let (queue_url, queue_arn, batch_size) = match &def.queue {
                Some((q, batch)) => {
                    let name = template.name_of(q).ok_or("queue without a name")?;
                    (
                        Some(format!("{}/{}/{}", endpoint, custops::aws::LOCAL_ACCOUNT, name)),
                        Some(format!(
                            "arn:aws:sqs:{}:{}:{}",
                            custops::aws::LOCAL_REGION,
                            custops::aws::LOCAL_ACCOUNT,
                            name
                        )),
                        *batch,
                    )
                }
                None => (None, None, 0),
            };
            functions.push(LocalFunction { def, queue_url, queue_arn, batch_size, handler });
        }
        Ok(Self { endpoint: endpoint.to_owned(), template, clients, clock, functions })
    }

    /// Serves the template's HTTP API (the front door and the staff inbox,
    /// in-process: the same code as on Lambda) on loopback `port` (0: a free
    /// one), each request to the function whose route takes its path, until
    /// the returned handle is dropped.
    pub async fn serve_http(&self, port: u16) -> Result<HttpApi, BoxError> {
        let routes: Vec<(FunctionDef, Arc<dyn crate::registry::LocalHttp>)> = self
            .functions
            .iter()
            .filter_map(|f| match &f.handler {
                Handler::InProcess(Code::Http(code)) => Some((f.def.clone(), code.clone())),
                _ => None,
            })
            .collect();
        if routes.is_empty() {
            return Err("the template has no HTTP function".into());
        }
        let routes = Arc::new(routes);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let routes = routes.clone();
            async move { http_answer(&routes, req).await }
        });
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "the local HTTP API stopped");
            }
        });
        Ok(HttpApi { url, task })
    }

    /// One receive-and-process round for every SQS-fed function. Returns how many
    /// messages were handed to functions.
    pub async fn pump(&self, wait_seconds: i32) -> Result<usize, BoxError> {
        let rounds =
            self.functions.iter().filter(|f| f.queue_url.is_some()).map(|f| self.pump_function(f, wait_seconds));
        let counts = futures::future::try_join_all(rounds).await?;
        Ok(counts.into_iter().sum())
    }

    async fn pump_function(&self, f: &LocalFunction, wait_seconds: i32) -> Result<usize, BoxError> {
        let Some(url) = &f.queue_url else { return Ok(0) };
        let received = self
            .clients
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(f.batch_size.clamp(1, 10))
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(0);
        }
        let mut handles = HashMap::new();
        let mut event = SqsEvent::default();
        for m in messages {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id.clone();
            record.receipt_handle = m.receipt_handle.clone();
            record.body = m.body.clone();
            record.md5_of_body = m.md5_of_body.clone();
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = f.queue_arn.clone();
            record.aws_region = Some(custops::aws::LOCAL_REGION.into());
            record.attributes =
                m.attributes.unwrap_or_default().into_iter().map(|(k, v)| (k.as_str().to_owned(), v)).collect();
            for (name, value) in m.message_attributes.unwrap_or_default() {
                let mut attr = SqsMessageAttribute::default();
                attr.string_value = value.string_value;
                attr.data_type = Some(value.data_type);
                record.message_attributes.insert(name, attr);
            }
            handles.insert(m.message_id.unwrap_or_default(), m.receipt_handle.unwrap_or_default());
            event.records.push(record);
        }
        let count = event.records.len();
        let response = f.handler.sqs(event).await;
        for failure in &response.batch_item_failures {
            // Failed messages stay in flight and come back after the visibility timeout.
            handles.remove(&failure.item_identifier);
        }
        debug!(function = %f.def.binary, count, failed = response.batch_item_failures.len(), "batch done");
        for (id, receipt) in handles {
            self.clients
                .sqs
                .delete_message()
                .queue_url(url)
                .receipt_handle(receipt)
                .send()
                .await
                .map_err(|e| format!("deleting message {id}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?;
        }
        Ok(count)
    }

    /// Fires every scheduled function once (at the stack clock's "now"), and
    /// returns once the work they handed on (due steps, lapsed customers) has
    /// been decided: this stack pumps those queues itself until they are
    /// empty (a `local up` running beside it may take some of it; the work
    /// carries its time, so either decides it the same way).
    pub async fn tick(&self) -> Result<Vec<(String, serde_json::Value)>, BoxError> {
        let mut out = Vec::new();
        for f in self.functions.iter().filter(|f| f.def.scheduled) {
            if let Some(result) = f.handler.tick().await? {
                out.push((f.def.binary.clone(), result));
            }
        }
        self.run_until_idle_of(&self.handoff_queues(), Duration::from_secs(60)).await?;
        Ok(out)
    }

    /// Delivers `messages` (log lines) of `log_group` to the functions fed
    /// by CloudWatch Logs, as a subscription filter does: one event, its
    /// `awslogs.data` base64 gzip of the log data, invoked in-process or
    /// through the Runtime API. What each reported.
    pub async fn deliver_logs(&self, log_group: &str, messages: &[String]) -> Result<Vec<Value>, BoxError> {
        self.deliver_logs_of(custops::aws::LOCAL_ACCOUNT, log_group, messages).await
    }

    /// [`LocalStack::deliver_logs`], the payload naming `owner` as the log
    /// group's account (to rehearse a delivery that is not the stack's own).
    pub async fn deliver_logs_of(
        &self,
        owner: &str,
        log_group: &str,
        messages: &[String],
    ) -> Result<Vec<Value>, BoxError> {
        let event = logs_event(owner, log_group, messages)?;
        let mut out = Vec::new();
        for f in &self.functions {
            match &f.handler {
                // Parsed from the text, as the runtime parses Lambda's payload
                // (the payload's reader wants borrowed keys).
                Handler::InProcess(Code::Logs(code)) => {
                    out.push(code.deliver(serde_json::from_str(&event.to_string())?).await?)
                }
                Handler::Process(p) if f.def.logs => out.push(p.invoke(&event)?.await?),
                _ => {}
            }
        }
        if out.is_empty() {
            return Err("the template has no function fed by CloudWatch Logs".into());
        }
        Ok(out)
    }

    /// The queues scheduled functions hand work to (`HANDOFF_QUEUE_URL`, `TIMER_QUEUES`).
    fn handoff_queues(&self) -> Vec<String> {
        let mut urls = Vec::new();
        for f in self.functions.iter().filter(|f| f.def.scheduled) {
            urls.extend(f.def.env.get(custops::env::HANDOFF_QUEUE_URL).cloned());
            if let Some(timers) = f.def.env.get(custops::env::TIMER_QUEUES) {
                urls.extend(timers.split(',').filter_map(|p| p.split_once('=')).map(|(_, u)| u.trim().to_owned()));
            }
        }
        urls
    }

    /// Fires one scheduled function (by its binary name) once; its report.
    pub async fn fire(&self, binary: &str) -> Result<Option<serde_json::Value>, BoxError> {
        let f = self
            .functions
            .iter()
            .find(|f| f.def.binary == binary && f.def.scheduled)
            .ok_or_else(|| format!("no scheduled function {binary}"))?;
        f.handler.tick().await
    }

    /// Invokes an SQS-fed function directly with one batch, as Lambda's event
    /// source would after receiving `bodies` (first delivery each).
    pub async fn invoke(&self, binary: &str, bodies: &[String]) -> Result<SqsBatchResponse, BoxError> {
        let f =
            self.functions.iter().find(|f| f.def.binary == binary).ok_or_else(|| format!("no function {binary}"))?;
        let mut event = SqsEvent::default();
        for (i, body) in bodies.iter().enumerate() {
            let mut record = SqsMessage::default();
            record.message_id = Some(format!("invoke-{i}"));
            record.body = Some(body.clone());
            record.event_source = Some("aws:sqs".into());
            record.event_source_arn = f.queue_arn.clone();
            record.attributes.insert("ApproximateReceiveCount".into(), "1".into());
            if let Some(t) =
                serde_json::from_str::<Value>(body).ok().and_then(|v| v["event_type"].as_str().map(str::to_owned))
            {
                let mut attr = SqsMessageAttribute::default();
                attr.string_value = Some(t);
                attr.data_type = Some("String".into());
                record.message_attributes.insert("event_type".into(), attr);
            }
            event.records.push(record);
        }
        Ok(f.handler.sqs(event).await)
    }

    /// Messages waiting or in flight on every function queue.
    pub async fn backlog(&self) -> Result<u64, BoxError> {
        let all: Vec<String> = self.functions.iter().filter_map(|f| f.queue_url.clone()).collect();
        self.backlog_of(&all).await
    }

    /// Messages waiting or in flight on `queues`.
    async fn backlog_of(&self, queues: &[String]) -> Result<u64, BoxError> {
        Ok(self.queue_counts(queues).await?.iter().map(|(waiting, in_flight)| waiting + in_flight).sum())
    }

    /// Each of `queues`' messages waiting (visible) and in flight, asked side by side.
    async fn queue_counts(&self, queues: &[String]) -> Result<Vec<(u64, u64)>, BoxError> {
        let asks = queues.iter().map(|url| {
            self.clients
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send()
        });
        let count = |attrs: &HashMap<QueueAttributeName, String>, name| {
            attrs.get(&name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        };
        Ok(futures::future::try_join_all(asks)
            .await?
            .into_iter()
            .map(|out| {
                let attrs = out.attributes.unwrap_or_default();
                (
                    count(&attrs, QueueAttributeName::ApproximateNumberOfMessages),
                    count(&attrs, QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
                )
            })
            .collect())
    }

    /// Pumps until every function queue is empty (retries included), or `limit`.
    pub async fn run_until_idle(&self, limit: Duration) -> Result<(), BoxError> {
        let all: Vec<String> = self.functions.iter().filter_map(|f| f.queue_url.clone()).collect();
        self.run_until_idle_of(&all, limit).await
    }

    /// Pumps the functions fed by `queues` until those queues are empty, or `limit`.
    async fn run_until_idle_of(&self, queues: &[String], limit: Duration) -> Result<(), BoxError> {
        let started = Instant::now();
        loop {
            // Asked first, so an idle stack (most mornings of a replay) costs
            // one GetQueueAttributes per queue, and only queues with messages
            // waiting are received from.
            let counts = self.queue_counts(queues).await?;
            if counts.iter().all(|(waiting, in_flight)| waiting + in_flight == 0) {
                return Ok(());
            }
            let waiting: Vec<&String> =
                queues.iter().zip(&counts).filter(|(_, (waiting, _))| *waiting > 0).map(|(q, _)| q).collect();
            let fed = |f: &&LocalFunction| f.queue_url.as_ref().is_some_and(|u| waiting.contains(&u));
            let rounds = self.functions.iter().filter(fed).map(|f| self.pump_function(f, 0));
            let handled: usize = futures::future::try_join_all(rounds).await?.into_iter().sum();
            if handled == 0 {
                // Only messages in flight (a failed batch waits out its visibility timeout).
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if started.elapsed() > limit {
                return Err(format!("queues not idle after {limit:?}").into());
            }
        }
    }

    /// Runs every function's poller until `shutdown` resolves.
    pub async fn run_pollers(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        let poll = async {
            loop {
                if let Err(e) = self.pump(1).await {
                    tracing::error!(error = %e, "poller round failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        tokio::select! {
            _ = poll => {}
            _ = shutdown => {}
        }
    }

    /// The queue URL of a resource by logical id.
    pub fn queue_url(&self, logical_id: &str) -> Option<String> {
        self.template.name_of(logical_id).map(|n| format!("{}/{}/{}", self.endpoint, custops::aws::LOCAL_ACCOUNT, n))
    }

    /// The ARN of a topic by its name.
    pub fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{}", custops::aws::LOCAL_REGION, custops::aws::LOCAL_ACCOUNT, name)
    }

    /// The table the functions use.
    pub fn table(&self) -> custops::table::Table {
        let name =
            self.template.of_type("AWS::DynamoDB::Table").next().and_then(|t| self.template.name_of(&t.logical_id));
        custops::table::Table::new(self.clients.dynamodb.clone(), name.unwrap_or_default())
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn create_table(ddb: &aws_sdk_dynamodb::Client, p: &Value) -> Result<(), BoxError> {
    let name = p.get("TableName").and_then(Value::as_str).ok_or("table without TableName")?;
    let key_schema = |v: &Value| -> Result<Vec<KeySchemaElement>, BoxError> {
        v.as_array()
            .ok_or("KeySchema is not a list")?
            .iter()
            .map(|k| {
                Ok(KeySchemaElement::builder()
                    .attribute_name(k.get("AttributeName").and_then(Value::as_str).unwrap_or_default())
                    .key_type(KeyType::from(k.get("KeyType").and_then(Value::as_str).unwrap_or_default()))
                    .build()?)
            })
            .collect()
    };
    let mut req = ddb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(p.get("KeySchema").ok_or("no KeySchema")?)?));
    for a in p.get("AttributeDefinitions").and_then(Value::as_array).ok_or("no AttributeDefinitions")? {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(a.get("AttributeName").and_then(Value::as_str).unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(
                    a.get("AttributeType").and_then(Value::as_str).unwrap_or("S"),
                ))
                .build()?,
        );
    }
    for g in p.get("GlobalSecondaryIndexes").and_then(Value::as_array).cloned().unwrap_or_default() {
        let projection = g.pointer("/Projection/ProjectionType").and_then(Value::as_str).unwrap_or("ALL");
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(g.get("IndexName").and_then(Value::as_str).unwrap_or_default())
                .set_key_schema(Some(key_schema(g.get("KeySchema").ok_or("GSI without KeySchema")?)?))
                .projection(Projection::builder().projection_type(ProjectionType::from(projection)).build())
                .build()?,
        );
    }
    req.send().await?;
    if let Some(ttl) = p.get("TimeToLiveSpecification") {
        ddb.update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl.get("AttributeName").and_then(Value::as_str).unwrap_or_default())
                    .enabled(ttl.get("Enabled").is_some_and(|v| v == true || v == "true"))
                    .build()?,
            )
            .send()
            .await?;
    }
    Ok(())
}

async fn create_resources(
    template: &Template,
    clients: &Clients,
    config: &aws_config::SdkConfig,
    options: &LocalOptions,
) -> Result<(), BoxError> {
    for r in template.of_type("AWS::DynamoDB::Table") {
        create_table(&clients.dynamodb, &r.properties).await?;
    }
    // The report's sender, verified as the deploy runbook verifies it on AWS.
    aws_sdk_sesv2::Client::new(config).create_email_identity().email_identity(LOCAL_REPORT_SENDER).send().await?;
    for r in template.of_type("AWS::SNS::Topic") {
        let name = template.name_of(&r.logical_id).ok_or("topic without a name")?;
        clients.sns.create_topic().name(name).send().await?;
    }
    // DLQs first: redrive policies point at them.
    let mut queues: Vec<_> = template.of_type("AWS::SQS::Queue").collect();
    queues.sort_by_key(|q| q.properties.get("RedrivePolicy").is_some());
    for q in queues {
        let name = template.name_of(&q.logical_id).ok_or("queue without a name")?;
        let mut req = clients.sqs.create_queue().queue_name(name);
        if let Some(retention) = q.properties.get("MessageRetentionPeriod") {
            req = req.attributes(QueueAttributeName::MessageRetentionPeriod, plain(retention));
        }
        if let Some(redrive) = q.properties.get("RedrivePolicy") {
            req = req
                .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
                .attributes(QueueAttributeName::VisibilityTimeout, options.visibility_timeout.to_string());
        }
        req.send().await?;
    }
    for s in template.of_type("AWS::SNS::Subscription") {
        let p = &s.properties;
        if p.get("Protocol").and_then(Value::as_str) != Some("sqs") {
            continue;
        }
        let mut req = clients
            .sns
            .subscribe()
            .topic_arn(p.get("TopicArn").and_then(Value::as_str).unwrap_or_default())
            .protocol("sqs")
            .endpoint(p.get("Endpoint").and_then(Value::as_str).unwrap_or_default())
            .return_subscription_arn(true);
        if p.get("RawMessageDelivery").is_some_and(|v| v == true || v == "true") {
            req = req.attributes("RawMessageDelivery", "true");
        }
        if let Some(filter) = p.get("FilterPolicy") {
            req = req.attributes("FilterPolicy", filter.to_string());
        }
        if let Some(scope) = p.get("FilterPolicyScope").and_then(Value::as_str) {
            req = req.attributes("FilterPolicyScope", scope);
        }
        req.send().await?;
    }
    create_buckets(template, config).await?;
    create_user_pools(template, config).await?;
    Ok(())
}

/// The template's buckets, with the notifications they send to queues (the
/// emulator sends S3's documented notification to the queue on each put).
async fn create_buckets(template: &Template, config: &aws_config::SdkConfig) -> Result<(), BoxError> {
    let s3 = s3_client(config)?;
    for b in template.of_type("AWS::S3::Bucket") {
        let name = template.name_of(&b.logical_id).ok_or("bucket without a name")?;
        s3.create_bucket(&name).await?;
        let queues = b
            .properties
            .pointer("/NotificationConfiguration/QueueConfigurations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if queues.is_empty() {
            continue;
        }
        // S3's NotificationConfiguration document, a QueueConfiguration per queue.
        let mut xml = String::from(r#"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#);
        for q in &queues {
            let arn = q.get("Queue").and_then(Value::as_str).unwrap_or_default();
            let event = q.get("Event").and_then(Value::as_str).unwrap_or("s3:ObjectCreated:*");
            xml.push_str(&format!(
                "<QueueConfiguration><Queue>{arn}</Queue><Event>{event}</Event></QueueConfiguration>"
            ));
        }
        xml.push_str("</NotificationConfiguration>");
        s3.put_bucket_notification(&name, xml).await?;
    }
    Ok(())
}

/// S3 for `config`: path-style addressing against the emulator (one host
/// for every bucket), virtual-hosted on AWS; the system's trust store.
pub fn s3_client(config: &aws_config::SdkConfig) -> Result<custops::s3::S3, BoxError> {
    Ok(custops::s3::S3::new(config, custops::https::Trust::System)?)
}

/// The event CloudWatch Logs gives a subscribed Lambda function:
/// `awslogs.data`, base64 of the gzipped log data (`owner` the log group's
/// account), one log event per message.
pub fn logs_event(owner: &str, log_group: &str, messages: &[String]) -> Result<Value, BoxError> {
    use std::io::Write;
    let now = chrono::Utc::now().timestamp_millis();
    let data = serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": format!("{}/[$LATEST]{now:x}", chrono::Utc::now().format("%Y/%m/%d")),
        "subscriptionFilters": ["custops-local"],
        "logEvents": messages.iter().enumerate().map(|(i, m)| serde_json::json!({
            "id": format!("{now}{i:06}"), "timestamp": now, "message": m
        })).collect::<Vec<_>>(),
    });
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(data.to_string().as_bytes())?;
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD.encode(gzip.finish()?);
    Ok(serde_json::json!({ "awslogs": { "data": payload } }))
}

/// The local HTTP API, served while this lives.
#[derive(Debug)]
pub struct HttpApi {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One request, as API Gateway would hand it to the function whose route
/// takes its path: the URL as called (this server speaks plain HTTP), the
/// headers, the raw body.
async fn http_answer(
    routes: &[(FunctionDef, Arc<dyn crate::registry::LocalHttp>)],
    req: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let defs: Vec<FunctionDef> = routes.iter().map(|(d, _)| d.clone()).collect();
    let code = Template::http_route(&defs, parts.uri.path())
        .and_then(|d| routes.iter().find(|(r, _)| r.logical_id == d.logical_id))
        .map(|(_, c)| c.clone());
    let answer = match (code, axum::body::to_bytes(body, front_door::MAX_BODY + 1).await) {
        // API Gateway's own answer to a path no route takes.
        (None, _) => custops::http::HookResponse::json(404, serde_json::json!({"message": "Not Found"})),
        (Some(code), Ok(body)) => {
            let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
            let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let uri = format!("http://{host}{path}").parse().unwrap_or(parts.uri);
            let hook =
                custops::http::HookRequest { method: parts.method, uri, headers: parts.headers, body: body.to_vec() };
            code.answer(&hook).await
        }
        (Some(_), Err(_)) => front_door::too_large(),
    };
    let mut response =
        axum::response::Response::builder().status(answer.status).header("content-type", answer.content_type);
    for (name, value) in answer.headers {
        response = response.header(name, value);
    }
    response.body(axum::body::Body::from(answer.body)).unwrap_or_default()
}
