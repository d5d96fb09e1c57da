//! The Lambda Runtime API on loopback, so the local stack can run the real
//! `bootstrap` binaries as Lambda does: the binary long-polls `next`, gets an
//! event, and posts its `response` or `error` (or `init/error` if it cannot
//! start). Also what the benchmark times cold starts with.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, Notify};

use crate::BoxError;

/// What the function answered.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Bytes),
    Error(String),
}

struct Invocation {
    id: String,
    payload: Bytes,
    deadline_ms: u64,
    done: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<Invocation>>,
    arrived: Notify,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_next: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
    next_id: Mutex<u64>,
}

/// A Runtime API endpoint serving one function process.
pub struct RuntimeApi {
    shared: Arc<Shared>,
    pub addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

const PREFIX: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    pub async fn start() -> Result<Self, BoxError> {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(&format!("{PREFIX}/invocation/{{id}}/response"), post(response))
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { shared, addr, server })
    }

    /// When the function first asked for an event (the end of its init).
    pub fn first_next(&self) -> Option<Instant> {
        *self.shared.first_next.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn init_error(&self) -> Option<String> {
        self.shared.init_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Invokes the function with `payload` and waits for its answer.
    pub async fn invoke(&self, payload: Vec<u8>, timeout: Duration) -> Result<Outcome, BoxError> {
        let (done, answer) = oneshot::channel();
        let id = {
            let mut n = self.shared.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            format!("local-{n}")
        };
        let deadline_ms = (std::time::SystemTime::now() + timeout)
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        self.shared.queue.lock().unwrap_or_else(|e| e.into_inner()).push_back(Invocation {
            id,
            payload: payload.into(),
            deadline_ms,
            done,
        });
        self.shared.arrived.notify_one();
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => Err("the runtime API dropped the invocation".into()),
            Err(_) => Err(format!("the function did not answer within {timeout:?}").into()),
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    shared.first_next.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Instant::now);
    let invocation = loop {
        let notified = shared.arrived.notified();
        if let Some(i) = shared.queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front() {
            break i;
        }
        notified.await;
    };
    let mut headers = HeaderMap::new();
    let header = |v: &str| HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static(""));
    headers.insert("lambda-runtime-aws-request-id", header(&invocation.id));
    headers.insert("lambda-runtime-deadline-ms", header(&invocation.deadline_ms.to_string()));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        header("arn:aws:lambda:us-east-1:123456789012:function:custops-local"),
    );
    headers.insert("lambda-runtime-trace-id", header(&format!("Root=1-00000000-{}", invocation.id)));
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    shared.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(invocation.id, invocation.done);
    (headers, invocation.payload)
}

fn finish(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match shared.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(id) {
        Some(done) => {
            let _ = done.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn response(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    finish(&shared, &id, Outcome::Response(body))
}

async fn error(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    finish(&shared, &id, Outcome::Error(String::from_utf8_lossy(&body).into_owned()))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// A `bootstrap` binary running against its own Runtime API, as on Lambda.
pub struct BootstrapProcess {
    pub api: RuntimeApi,
    pub child: Child,
    pub started: Instant,
    logs: Arc<Mutex<Vec<String>>>,
    echo: Arc<std::sync::atomic::AtomicBool>,
}

/// Lines of a function's log (its stdout, CloudWatch on Lambda) kept per process.
const KEPT_LOG_LINES: usize = 10_000;

impl BootstrapProcess {
    /// Starts `binary` with Lambda's environment plus `env` (the template's),
    /// talking to the AWS emulator at `endpoint`.
    pub async fn spawn(
        binary: &Path,
        function: &str,
        env: &HashMap<String, String>,
        endpoint: Option<&str>,
    ) -> Result<Self, BoxError> {
        Self::spawn_argv(&[binary.to_path_buf()], function, env, endpoint).await
    }

    /// Like [`Self::spawn`], for a program with arguments (an interpreter and its script).
    pub async fn spawn_argv(
        argv: &[std::path::PathBuf],
        function: &str,
        env: &HashMap<String, String>,
        endpoint: Option<&str>,
    ) -> Result<Self, BoxError> {
        let binary = argv.first().ok_or("nothing to run")?;
        let api = RuntimeApi::start().await?;
        let mut cmd = Command::new(binary);
        cmd.args(&argv[1..])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_REGION", custops::aws::LOCAL_REGION)
            .env("AWS_DEFAULT_REGION", custops::aws::LOCAL_REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if let Some(url) = endpoint {
            cmd.env("AWS_ENDPOINT_URL", url);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let logs = Arc::new(Mutex::new(Vec::new()));
        let echo = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Some(stdout) = child.stdout.take() {
            let (logs, echo) = (logs.clone(), echo.clone());
            tokio::spawn(async move {
                use tokio::io::AsyncBufReadExt;
                let mut lines = tokio::io::BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if echo.load(std::sync::atomic::Ordering::Relaxed) {
                        eprintln!("{line}");
                    }
                    let mut logs = logs.lock().unwrap_or_else(|e| e.into_inner());
                    if logs.len() < KEPT_LOG_LINES {
                        logs.push(line);
                    }
                }
            });
        }
        Ok(Self { api, child, started, logs, echo })
    }

    /// Also copy the function's log lines to this process's stderr, as they come.
    pub fn echo_logs(&self, on: bool) {
        self.echo.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// The function's log lines so far (its stdout; the first [`KEPT_LOG_LINES`]).
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until the function asked for its first event; returns its init time.
    pub async fn ready(&self, limit: Duration) -> Result<Duration, BoxError> {
        let until = Instant::now() + limit;
        loop {
            if let Some(t) = self.api.first_next() {
                return Ok(t - self.started);
            }
            if let Some(e) = self.api.init_error() {
                return Err(format!("init error: {e}").into());
            }
            if Instant::now() > until {
                return Err("the function never asked for an event".into());
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Peak resident memory so far (Linux `VmHWM`), in bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        let kb: u64 =
            status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    }
}
