//! A loopback TCP proxy that holds every request for a fixed delay before
//! passing it on: AWS-like latency in front of the emulator, for measuring
//! whether a function overlaps its AWS calls. A new connection's first
//! request can wait longer (`handshake`), as a TCP and TLS handshake would.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use custops_cli::BoxError;

pub struct LatencyProxy {
    pub endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LatencyProxy {
    /// Proxies `127.0.0.1:<free port>` to `upstream` (`host:port`), delaying each request by `delay`.
    pub async fn start(upstream: &str, delay: Duration) -> Result<Self, BoxError> {
        Self::with_handshake(upstream, delay, Duration::ZERO).await
    }

    /// Like [`Self::start`]; each connection's first request also waits `handshake`.
    pub async fn with_handshake(upstream: &str, delay: Duration, handshake: Duration) -> Result<Self, BoxError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let upstream = upstream.to_owned();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let _ = relay(client, server, delay, handshake).await;
                    }
                });
            }
        });
        Ok(Self { endpoint, task })
    }
}

/// Copies both ways; the first bytes of each request (after a response, or at
/// the start) wait `delay`.
async fn relay(client: TcpStream, server: TcpStream, delay: Duration, handshake: Duration) -> std::io::Result<()> {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let new_request = Arc::new(AtomicBool::new(true));
    let flag = new_request.clone();
    let upstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut first = true;
        loop {
            let n = client_read.read(&mut buf).await?;
            if n == 0 {
                return server_write.shutdown().await;
            }
            if flag.swap(false, Ordering::SeqCst) {
                let extra = if std::mem::take(&mut first) { handshake } else { Duration::ZERO };
                tokio::time::sleep(delay + extra).await;
            }
            server_write.write_all(&buf[..n]).await?;
        }
    };
    let downstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = server_read.read(&mut buf).await?;
            if n == 0 {
                return client_write.shutdown().await;
            }
            new_request.store(true, Ordering::SeqCst);
            client_write.write_all(&buf[..n]).await?;
        }
    };
    let (a, b) = tokio::join!(upstream, downstream);
    a.and(b)
}
