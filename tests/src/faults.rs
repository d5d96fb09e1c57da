//! A fault-injecting HTTP proxy in front of the emulator, for what AWS does
//! and moto never does: answer a request with a throttling error, or accept it
//! and lose the answer (the connection drops after the write happened).

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// What the proxy does to a matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward it (the emulator does the work), then drop the connection
    /// before the answer is complete: the caller never hears.
    DropAnswer,
    /// Answer with this status and body, never forwarding it (the call did
    /// nothing, as when AWS throttles it).
    Answer(u16, &'static str),
}

/// DynamoDB's throttling answer.
pub const THROTTLED: Fault = Fault::Answer(
    400,
    r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
);

#[derive(Debug)]
struct Rule {
    operation: &'static str,
    fault: Fault,
    times: usize,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    rules: Mutex<Vec<Rule>>,
}

pub struct FaultProxy {
    pub endpoint: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FaultProxy {
    /// A proxy to `upstream` on a free loopback port; it passes everything
    /// through until told otherwise.
    pub async fn start(upstream: &str) -> Self {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            rules: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new().fallback(proxy).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { endpoint, shared, server }
    }

    /// The next `times` calls of `operation` (`Publish`, `UpdateItem`, ...) meet `fault`.
    pub fn inject(&self, operation: &'static str, fault: Fault, times: usize) {
        self.shared.rules.lock().unwrap().push(Rule { operation, fault, times });
    }
}

/// The operation of a request: `X-Amz-Target` (JSON protocols) or the
/// `Action` form field (query protocols, SNS).
fn operation(headers: &HeaderMap, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or_default().to_owned();
    }
    String::from_utf8_lossy(body).split('&').find_map(|kv| kv.strip_prefix("Action=")).unwrap_or_default().to_owned()
}

async fn proxy(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    let op = operation(&parts.headers, &body);
    let fault = {
        let mut rules = shared.rules.lock().unwrap();
        rules.iter_mut().find(|r| r.operation == op && r.times > 0).map(|r| {
            r.times -= 1;
            r.fault.clone()
        })
    };
    if let Some(Fault::Answer(status, answer)) = fault {
        return Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .body(Body::from(answer))
            .unwrap();
    }
    let url = format!("{}{}", shared.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut forward = shared.client.request(parts.method, url).body(body);
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            forward = forward.header(name, value);
        }
    }
    let answer = match forward.send().await {
        Ok(a) => a,
        Err(e) => return Response::builder().status(StatusCode::BAD_GATEWAY).body(Body::from(e.to_string())).unwrap(),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    if matches!(fault, Some(Fault::DropAnswer)) {
        // The work is done upstream; the caller gets the status line and then
        // a connection that breaks before the body is complete.
        let broken =
            futures::stream::once(async { Err::<Bytes, std::io::Error>(std::io::ErrorKind::ConnectionReset.into()) });
        return Response::builder()
            .status(status)
            .header("content-length", (bytes.len() + 1024).to_string())
            .body(Body::from_stream(broken))
            .unwrap();
    }
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding") {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(bytes)).unwrap()
}
