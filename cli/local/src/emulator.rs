//! The local AWS API emulator: moto server, pinned in
//! `infra/emulator-requirements.txt`, installed on first use into a
//! project-local venv, started on a free loopback port and stopped on drop.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::process::{Child, Command};

/// The pinned requirements, compiled in so the CLI installs exactly these.
pub const REQUIREMENTS: &str = include_str!("../../../infra/emulator-requirements.txt");
/// Starts moto with DynamoDB writes serialised, as DynamoDB's own are (see the file).
const LAUNCHER: &str = include_str!("moto_server.py");

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("installing the emulator failed: {0}")]
    Install(String),
    #[error("the emulator did not answer on {0} within {1:?} (it is still running; the machine may be overloaded)")]
    NotReady(String, Duration),
    #[error("the emulator on {endpoint} exited before it answered ({status}): {stderr}")]
    Exited { endpoint: String, status: String, stderr: String },
    #[error("{holder} answers on {endpoint}: the port is taken")]
    Taken { endpoint: String, holder: String },
}

/// How long a started emulator may take to answer: importing moto takes a
/// second or two on an idle machine and far longer beside a build. While
/// the process lives it is waited for; once it exits, the start fails at
/// once with what it printed.
pub const READY_WITHIN: Duration = Duration::from_secs(120);

/// Starts on a free port (asked for port 0) are tried this often: the port
/// is chosen, released, then bound by moto, and another process may take it
/// in between.
pub const START_ATTEMPTS: usize = 3;

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmulatorError {
    let what = what.into();
    move |e| EmulatorError::Io(what, e)
}

/// Where custops keeps its local state: `$CUSTOPS_HOME`, else `.custops/` in the workspace.
pub fn home() -> PathBuf {
    std::env::var_os("CUSTOPS_HOME").map(PathBuf::from).unwrap_or_else(|| crate::workspace().join(".custops"))
}

/// Makes sure the pinned emulator is installed; safe to call from many test
/// processes at once (one installs, the others wait on the lock).
pub fn ensure_installed() -> Result<PathBuf, EmulatorError> {
    ensure_venv("emulator", "the pinned AWS emulator (moto)", REQUIREMENTS)
}

/// Makes sure `.custops/<name>-venv` holds exactly `requirements` (a pinned
/// pip freeze), installing it on first use or when the pins change; returns
/// its python. Safe to call from many processes at once (one installs, the
/// others wait on the lock).
pub fn ensure_venv(name: &str, what: &str, requirements: &str) -> Result<PathBuf, EmulatorError> {
    let home = home();
    fs::create_dir_all(&home).map_err(io(format!("creating {}", home.display())))?;
    let venv = home.join(format!("{name}-venv"));
    let python = venv.join("bin").join("python");
    let stamp = venv.join(".custops-requirements");
    let lock = File::create(home.join(format!("{name}.lock"))).map_err(io("creating the install lock"))?;
    lock.lock().map_err(io("taking the install lock"))?;
    if fs::read_to_string(&stamp).ok().as_deref() == Some(requirements) && python.exists() {
        return Ok(python);
    }
    eprintln!("custops: installing {what} into {} (about a minute, once)", venv.display());
    let _ = fs::remove_dir_all(&venv);
    let python3 = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(std::process::Command::new(&python3).args(["-m", "venv"]).arg(&venv))?;
    let file = home.join(format!("{name}-requirements.txt"));
    fs::write(&file, requirements).map_err(io("writing requirements"))?;
    run(std::process::Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&file))?;
    fs::write(&stamp, requirements).map_err(io("writing the install stamp"))?;
    Ok(python)
}

fn run(cmd: &mut std::process::Command) -> Result<(), EmulatorError> {
    let out = cmd.stdin(Stdio::null()).output().map_err(io(format!("running {cmd:?}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(EmulatorError::Install(format!(
            "{cmd:?} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

/// A running moto server. Killed when dropped.
#[derive(Debug)]
pub struct Emulator {
    server: Server,
    pub endpoint: String,
    pub port: u16,
}

/// The process that serves an emulator.
#[derive(Debug)]
enum Server {
    /// Started by this process (tokio kills it on drop).
    Child(Child),
    /// Forked for this process by the zygote (moto_server.py, 9).
    Forked(Forked),
}

/// A server the zygote forked: not this process's child, so it is known by
/// a pidfd (a process id may be reused once it has ended; its pidfd never
/// names another process). Killed on drop.
#[derive(Debug)]
struct Forked {
    pid: u32,
    pidfd: std::os::fd::OwnedFd,
}

impl Drop for Forked {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Forked {
    fn kill(&self) {
        let _ = rustix::process::pidfd_send_signal(&self.pidfd, rustix::process::Signal::KILL);
    }

    fn ended(&self) -> bool {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut fds = [PollFd::new(&self.pidfd, PollFlags::IN)];
        // Readable once the process has ended.
        poll(&mut fds, Some(&Timespec { tv_sec: 0, tv_nsec: 0 })).is_ok_and(|n| n > 0)
    }
}

impl Server {
    fn id(&self) -> Option<u32> {
        match self {
            Server::Child(c) => c.id(),
            Server::Forked(f) => Some(f.pid),
        }
    }

    /// How it ended, once it has.
    fn ended(&mut self) -> Option<String> {
        match self {
            Server::Child(c) => c.try_wait().ok().flatten().map(|status| status.to_string()),
            Server::Forked(f) => f.ended().then(|| "ended".to_string()),
        }
    }

    async fn kill(&mut self) {
        match self {
            Server::Child(c) => {
                let _ = c.kill().await;
            }
            Server::Forked(f) => {
                f.kill();
                let asked = Instant::now();
                while !f.ended() && asked.elapsed() < Duration::from_secs(5) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// How an emulator departs from its defaults.
#[derive(Debug, Clone, Default)]
pub struct EmulatorOptions {
    /// Reproduce DynamoDB's transaction conflicts: each TransactWriteItems holds
    /// its items this long before it runs, and a transaction or a single-item
    /// write on a held item fails as on DynamoDB (see `moto_server.py`, 6).
    pub tx_conflict_window: Option<Duration>,
    /// Fork the server from a zygote that imported moto once (moto_server.py,
    /// 9) instead of starting Python: for a test run, which starts an
    /// emulator per test. A start the zygote cannot serve is a plain start.
    pub forked: bool,
}

impl Emulator {
    /// Installs (if needed) and starts moto on `port` (0: a free one).
    pub async fn start(port: u16) -> Result<Self, EmulatorError> {
        Self::start_with(port, EmulatorOptions::default()).await
    }

    /// `start(0)`, forked from the zygote (see [`EmulatorOptions::forked`]).
    pub async fn start_forked() -> Result<Self, EmulatorError> {
        Self::start_with(0, EmulatorOptions { forked: true, ..Default::default() }).await
    }

    /// `start`, with transactions in flight for `window` and conflicting as on DynamoDB.
    pub async fn start_with_conflicts(port: u16, window: Duration) -> Result<Self, EmulatorError> {
        Self::start_with(port, EmulatorOptions { tx_conflict_window: Some(window), ..Default::default() }).await
    }

    /// `start`, with `options`.
    pub async fn start_with(port: u16, options: EmulatorOptions) -> Result<Self, EmulatorError> {
        let python = tokio::task::spawn_blocking(ensure_installed)
            .await
            .map_err(|e| EmulatorError::Install(e.to_string()))??;
        let mut attempt = 1;
        loop {
            let chosen = if port == 0 { free_port()? } else { port };
            match Self::launch(&python, chosen, &options).await {
                // Its port was taken meanwhile (or it failed to start): a new port.
                Err(EmulatorError::Exited { .. } | EmulatorError::Taken { .. })
                    if port == 0 && attempt < START_ATTEMPTS =>
                {
                    attempt += 1
                }
                other => return other,
            }
        }
    }

    async fn launch(python: &Path, port: u16, options: &EmulatorOptions) -> Result<Self, EmulatorError> {
        // Each emulator records the API calls it serves (when asked to) in its own file.
        let recording = std::env::temp_dir().join(format!("custops-moto-{}-{port}.jsonl", std::process::id()));
        // What it prints goes to a file: read back if it dies before it answers.
        let log_path = std::env::temp_dir().join(format!("custops-moto-{}-{port}.log", std::process::id()));
        let log = File::create(&log_path).map_err(io("creating the emulator's log"))?;
        let mut env = vec![
            ("MOTO_ALLOW_NONEXISTENT_REGION".to_string(), "false".to_string()),
            ("MOTO_RECORDER_FILEPATH".to_string(), recording.display().to_string()),
            // TOTP codes are checked (against the one secret moto gives every
            // user), as Cognito checks them; without it any code passes.
            ("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP".to_string(), "true".to_string()),
        ];
        // Whole milliseconds, rounded up so a short window stays on; never inherited.
        if let Some(window) = options.tx_conflict_window.filter(|w| !w.is_zero()) {
            env.push(("CUSTOPS_TX_CONFLICT_MS".into(), window.as_nanos().div_ceil(1_000_000).to_string()));
        }
        let forked = match options.forked {
            true => zygote::fork(python, port, &env, &log_path).await,
            false => None,
        };
        let server = match forked {
            Some(forked) => Server::Forked(forked),
            None => {
                let mut command = Command::new(python);
                command
                    .args(["-c", LAUNCHER, "--port", &port.to_string()])
                    .env_remove("CUSTOPS_TX_CONFLICT_MS")
                    .envs(env);
                let child = command
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(log)
                    .kill_on_drop(true)
                    .spawn()
                    .map_err(io("starting moto"))?;
                Server::Child(child)
            }
        };
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut emulator = Emulator { server, endpoint, port };
        let ready = emulator.wait_ready(READY_WITHIN).await;
        if let Err(EmulatorError::Exited { endpoint, status, .. }) = ready {
            let printed = fs::read_to_string(&log_path).unwrap_or_default();
            let _ = fs::remove_file(&log_path);
            let tail: Vec<&str> = printed.lines().rev().take(5).collect();
            let stderr = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
            return Err(EmulatorError::Exited { endpoint, status, stderr });
        }
        // Answering: its log is not needed (it keeps the open file, unlinked).
        let _ = fs::remove_file(&log_path);
        ready?;
        Ok(emulator)
    }

    /// Waits until this emulator answers. Another server may answer on the
    /// port first (one that took it between `free_port` and this start, or
    /// one already there): only an answer naming this child's process id
    /// (moto_server.py, fix 8) counts, and any other answer means the port is
    /// taken (this child then could not bind it).
    async fn wait_ready(&mut self, limit: Duration) -> Result<(), EmulatorError> {
        let started = Instant::now();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap_or_default();
        let ours = self.server.id().map(|pid| pid.to_string()).unwrap_or_default();
        while started.elapsed() < limit {
            if let Ok(r) = client.get(format!("{}/custops-emulator/pid", self.endpoint)).send().await {
                let answered = if r.status().is_success() { r.text().await.unwrap_or_default() } else { String::new() };
                if answered.trim() == ours {
                    return Ok(());
                }
                self.server.kill().await;
                let holder = match answered.trim() {
                    "" => "a server that is not a custops emulator".to_string(),
                    pid => format!("the emulator of process {pid}"),
                };
                return Err(EmulatorError::Taken { endpoint: self.endpoint.clone(), holder });
            }
            if let Some(status) = self.server.ended() {
                return Err(EmulatorError::Exited { endpoint: self.endpoint.clone(), status, stderr: String::new() });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(EmulatorError::NotReady(self.endpoint.clone(), limit))
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) {
        self.server.kill().await;
    }
}

/// The zygote (moto_server.py, 9): one per emulator venv and launcher,
/// shared by every process that starts emulators, started by the first.
mod zygote {
    use std::hash::{Hash, Hasher};
    use std::path::{Path, PathBuf};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::UnixStream;

    use super::{Forked, LAUNCHER, READY_WITHIN};

    /// Its socket: named after the python and the launcher, so a changed
    /// launcher or another checkout never reaches an old zygote.
    fn socket(python: &Path) -> PathBuf {
        let mut h = std::hash::DefaultHasher::new();
        (python, LAUNCHER).hash(&mut h);
        std::env::temp_dir().join(format!("custops-zygote-{:016x}.sock", h.finish()))
    }

    /// A server forked on `port` with `env`, printing to `log`; `None` when
    /// no zygote could be reached or started (the caller starts Python).
    pub(super) async fn fork(python: &Path, port: u16, env: &[(String, String)], log: &Path) -> Option<Forked> {
        let path = socket(python);
        let request = serde_json::json!({
            "port": port,
            "owner": std::process::id(),
            "log": log,
            "env": env.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        });
        let started = Instant::now();
        let mut spawned: Option<std::process::Child> = None;
        let mut spawns = 0;
        while started.elapsed() < READY_WITHIN {
            match UnixStream::connect(&path).await {
                Ok(stream) => match ask(stream, &request).await {
                    Answer::Forked(pid) => return opened(pid),
                    Answer::Refused => return None,
                    // It exited between accepting and answering (idle): another.
                    Answer::Gone => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Err(_) => {
                    // None yet, or the one this process started has ended (it
                    // lost the socket's lock to another, or it failed: after
                    // two, a plain start says why).
                    let running = spawned.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)));
                    if !running {
                        if spawns == 2 {
                            return None;
                        }
                        spawns += 1;
                        spawned = Some(spawn(python, &path)?);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        None
    }

    enum Answer {
        Forked(u32),
        Refused,
        Gone,
    }

    async fn ask(stream: UnixStream, request: &serde_json::Value) -> Answer {
        let (read, mut write) = stream.into_split();
        if write.write_all(format!("{request}\n").as_bytes()).await.is_err() {
            return Answer::Gone;
        }
        let mut answer = String::new();
        let mut read = BufReader::new(read);
        match tokio::time::timeout(Duration::from_secs(10), read.read_line(&mut answer)).await {
            Ok(Ok(n)) if n > 0 => answer.trim().parse().map_or(Answer::Refused, Answer::Forked),
            _ => Answer::Gone,
        }
    }

    fn opened(pid: u32) -> Option<Forked> {
        let raw = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
        let pidfd = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()).ok()?;
        Some(Forked { pid, pidfd })
    }

    /// A zygote, in its own session so it outlives this process (it ends
    /// itself when idle), printing nowhere.
    fn spawn(python: &Path, path: &Path) -> Option<std::process::Child> {
        use std::os::unix::process::CommandExt;
        std::process::Command::new(python)
            .args(["-c", LAUNCHER, "--zygote"])
            .arg(path)
            .env_remove("CUSTOPS_TX_CONFLICT_MS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok()
    }
}

fn free_port() -> Result<u16, EmulatorError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("finding a free port"))?;
    let port = listener.local_addr().map_err(io("finding a free port"))?.port();
    Ok(port)
}

/// One SMS as the emulator recorded it: what the customer's phone received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct SentSms {
    pub phone_number: String,
    pub message: String,
    pub message_id: String,
}

/// Every SMS the emulator at `endpoint` has accepted, oldest first.
pub async fn sent_sms(endpoint: &str) -> Result<Vec<SentSms>, reqwest::Error> {
    let data: serde_json::Value = reqwest::get(format!("{endpoint}/moto-api/data.json")).await?.json().await?;
    let list = data.pointer("/sns/SMS").cloned().unwrap_or_default();
    Ok(serde_json::from_value(list).unwrap_or_default())
}

/// One mail the emulator's SES accepted (moto keeps the HTML part when a
/// message has both).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct SentMail {
    pub source: String,
    pub subject: String,
    pub body: String,
    /// `{"ToAddresses": [...]}`.
    pub destinations: std::collections::BTreeMap<String, Vec<String>>,
}

/// Every mail the emulator at `endpoint` has sent, oldest first.
pub async fn sent_mail(endpoint: &str) -> Result<Vec<SentMail>, reqwest::Error> {
    let data: serde_json::Value = reqwest::get(format!("{endpoint}/moto-api/data.json")).await?.json().await?;
    let list = data.pointer("/ses/Message").cloned().unwrap_or_default();
    Ok(serde_json::from_value(list).unwrap_or_default())
}

/// One AWS API call the emulator served.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct AwsCall {
    pub service: String,
    pub operation: String,
}

impl std::fmt::Display for AwsCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.service, self.operation)
    }
}

/// Counts the AWS API calls the emulator at `endpoint` serves, from moto's own
/// request recorder: `start`, run the code, then `calls`.
pub struct CallRecorder {
    endpoint: String,
    client: reqwest::Client,
}

impl CallRecorder {
    pub async fn start(endpoint: &str) -> Result<Self, reqwest::Error> {
        let r = Self { endpoint: endpoint.to_owned(), client: reqwest::Client::new() };
        r.post("reset-recording").await?;
        r.post("start-recording").await?;
        Ok(r)
    }

    async fn post(&self, action: &str) -> Result<(), reqwest::Error> {
        self.client.post(format!("{}/moto-api/recorder/{action}", self.endpoint)).send().await?.error_for_status()?;
        Ok(())
    }

    /// Stops recording and returns the calls served since `start`, in order.
    pub async fn calls(self) -> Result<Vec<AwsCall>, reqwest::Error> {
        Ok(self.requests().await?.into_iter().map(|(call, _)| call).collect())
    }

    /// Stops recording and returns the calls served since `start`, in order,
    /// each with its request body (JSON protocols: the request itself).
    pub async fn requests(self) -> Result<Vec<(AwsCall, String)>, reqwest::Error> {
        Ok(self.signed_requests().await?.into_iter().map(|r| (r.call, r.body)).collect())
    }

    /// [`CallRecorder::requests`], each with who signed it (the access key id:
    /// the local stack gives each function its own, its binary's name).
    pub async fn signed_requests(self) -> Result<Vec<SignedRequest>, reqwest::Error> {
        self.post("stop-recording").await?;
        let text = self
            .client
            .get(format!("{}/moto-api/recorder/download-recording", self.endpoint))
            .send()
            .await?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|e| Some(SignedRequest { principal: principal_of(&e), call: call_of(&e)?, body: body_of(&e)? }))
            .collect())
    }
}

/// One recorded request: who signed it, what it called, its body.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    pub principal: Option<String>,
    pub call: AwsCall,
    pub body: String,
}

/// The access key id a request was signed with (SigV4's `Credential=`).
fn principal_of(entry: &serde_json::Value) -> Option<String> {
    let headers = entry.get("headers")?.as_object()?;
    let auth = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("Authorization"))?.1.as_str()?;
    let credential = auth.split("Credential=").nth(1)?;
    Some(credential.split('/').next()?.to_owned())
}

/// The service and operation of one recorded request: JSON protocols name it
/// in `X-Amz-Target`, query protocols (SNS) in the `Action` form field.
fn call_of(entry: &serde_json::Value) -> Option<AwsCall> {
    let headers = entry.get("headers")?.as_object()?;
    let header = |name: &str| {
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str()).map(str::to_owned)
    };
    if let Some(target) = header("X-Amz-Target") {
        let (prefix, op) = target.split_once('.')?;
        let service = if prefix.starts_with("DynamoDB") {
            "dynamodb"
        } else if prefix.starts_with("AmazonSQS") {
            "sqs"
        } else {
            prefix
        };
        return Some(AwsCall { service: service.to_owned(), operation: op.to_owned() });
    }
    // S3's REST API: the operation is the method on a bucket's object path.
    if header("Authorization").is_some_and(|a| a.contains("/s3/aws4_request")) {
        let url = entry.get("url")?.as_str()?;
        let path = url.split("://").nth(1).and_then(|rest| rest.split_once('/')).map_or("", |(_, p)| p);
        let path = path.split('?').next().unwrap_or("");
        let on_object = path.trim_matches('/').contains('/');
        let operation = match (entry.get("method")?.as_str()?, on_object) {
            ("GET", true) => "GetObject",
            ("PUT", true) => "PutObject",
            ("HEAD", true) => "HeadObject",
            ("DELETE", true) => "DeleteObject",
            ("GET", false) => "ListObjectsV2",
            ("PUT", false) => "CreateBucket",
            (other, _) => other,
        };
        return Some(AwsCall { service: "s3".into(), operation: operation.into() });
    }
    let body = body_of(entry)?;
    let action = body.split('&').find_map(|kv| kv.strip_prefix("Action="))?.to_owned();
    let service = if entry.get("url")?.as_str()?.contains("sns")
        || header("Authorization").is_some_and(|a| a.contains("/sns/"))
    {
        "sns"
    } else {
        "query"
    };
    Some(AwsCall { service: service.to_owned(), operation: action })
}

/// The body of one recorded request, decoded.
fn body_of(entry: &serde_json::Value) -> Option<String> {
    let body = entry.get("body")?.as_str()?;
    if entry.get("body_encoded").and_then(serde_json::Value::as_bool) == Some(true) {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(body).ok()?).ok()
    } else {
        Some(body.to_owned())
    }
}
