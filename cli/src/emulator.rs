//! The local AWS API emulator: moto server, pinned in
//! `infra/emulator-requirements.txt`, installed on first use into a
//! project-local venv, started on a free loopback port and stopped on drop.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The pinned requirements, compiled in so the CLI installs exactly these.
pub const REQUIREMENTS: &str = include_str!("../../infra/emulator-requirements.txt");

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("installing the emulator failed: {0}")]
    Install(String),
    #[error("the emulator did not answer on {0} within {1:?}")]
    NotReady(String, Duration),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmulatorError {
    let what = what.into();
    move |e| EmulatorError::Io(what, e)
}

/// Where custops keeps its local state: `$CUSTOPS_HOME`, else `.custops/` in the workspace.
pub fn home() -> PathBuf {
    std::env::var_os("CUSTOPS_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".custops"))
}

/// Makes sure the pinned emulator is installed; safe to call from many test
/// processes at once (one installs, the others wait on the lock).
pub fn ensure_installed() -> Result<PathBuf, EmulatorError> {
    let home = home();
    fs::create_dir_all(&home).map_err(io(format!("creating {}", home.display())))?;
    let venv = home.join("emulator-venv");
    let python = venv.join("bin").join("python");
    let stamp = venv.join(".custops-requirements");
    let lock = File::create(home.join("emulator.lock")).map_err(io("creating the install lock"))?;
    lock.lock().map_err(io("taking the install lock"))?;
    if fs::read_to_string(&stamp).ok().as_deref() == Some(REQUIREMENTS) && python.exists() {
        return Ok(python);
    }
    eprintln!("custops: installing the pinned AWS emulator (moto) into {} (about a minute, once)", venv.display());
    let _ = fs::remove_dir_all(&venv);
    let python3 = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(std::process::Command::new(&python3).args(["-m", "venv"]).arg(&venv))?;
    let requirements = home.join("emulator-requirements.txt");
    fs::write(&requirements, REQUIREMENTS).map_err(io("writing requirements"))?;
    run(std::process::Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements))?;
    fs::write(&stamp, REQUIREMENTS).map_err(io("writing the install stamp"))?;
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
    child: Child,
    pub endpoint: String,
    pub port: u16,
}

impl Emulator {
    /// Installs (if needed) and starts moto on `port` (0: a free one).
    pub async fn start(port: u16) -> Result<Self, EmulatorError> {
        let python = tokio::task::spawn_blocking(ensure_installed)
            .await
            .map_err(|e| EmulatorError::Install(e.to_string()))??;
        let port = if port == 0 { free_port()? } else { port };
        let child = Command::new(python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(io("starting moto"))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let emulator = Emulator { child, endpoint, port };
        emulator.wait_ready(Duration::from_secs(30)).await?;
        Ok(emulator)
    }

    async fn wait_ready(&self, limit: Duration) -> Result<(), EmulatorError> {
        let started = Instant::now();
        let client = reqwest::Client::new();
        while started.elapsed() < limit {
            if let Ok(r) = client.get(format!("{}/moto-api/", self.endpoint)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(EmulatorError::NotReady(self.endpoint.clone(), limit))
    }

    /// Stops the server and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
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
