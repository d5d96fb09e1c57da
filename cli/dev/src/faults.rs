//! A fault-injecting HTTP proxy in front of the emulator, for what AWS does
//! and moto never does: answer a request with a throttling error, or accept it
//! and lose the answer (the connection drops after the write happened).
//!
//! Two modes: rules (the next `times` calls of an operation meet a fault, for
//! a test that needs one exact failure), and chaos (every call the functions
//! make meets a fault at a rate, chosen by a seeded generator from the mix
//! AWS produces: throttling, 500/503, an answer slower than the SDK's
//! timeout, a connection dropped before the request arrives or after the
//! work was done).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// Drop the connection without forwarding: nothing happened.
    DropRequest,
    /// Forward it after this long (past the caller's timeout, the work may
    /// still be done).
    Slow(Duration),
    /// Answer with this status and body, never forwarding it (the call did
    /// nothing, as when AWS throttles it).
    Answer(u16, &'static str),
}

impl Fault {
    /// Its name in the chaos counts.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::DropAnswer => "answer lost",
            Fault::DropRequest => "connection dropped",
            Fault::Slow(_) => "slower than the timeout",
            Fault::Answer(500, _) => "HTTP 500",
            Fault::Answer(503, _) => "HTTP 503",
            Fault::Answer(_, body) if body.contains("ProvisionedThroughputExceeded") => {
                "provisioned throughput exceeded"
            }
            Fault::Answer(..) => "throttled",
        }
    }
}

/// DynamoDB's answer when a table or index is over its throughput.
pub const THROUGHPUT_EXCEEDED: Fault = Fault::Answer(
    400,
    r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#,
);
/// SNS's throttling answer (query protocol).
pub const SNS_THROTTLED: Fault = Fault::Answer(
    400,
    r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>chaos</RequestId></ErrorResponse>"#,
);
/// An internal error, as any service may answer.
pub const INTERNAL_ERROR: Fault = Fault::Answer(500, r#"{"__type":"InternalServerError","message":"chaos"}"#);
/// Service unavailable.
pub const UNAVAILABLE: Fault = Fault::Answer(503, r#"{"__type":"ServiceUnavailable","message":"chaos"}"#);

/// xorshift64*: a seeded, reproducible stream (the chaos run's and the
/// hostile-input tests' randomness).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `xs`.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Faults at a rate, from a seed.
struct Chaos {
    rate: f64,
    rng: Rng,
    slow: Duration,
    counts: BTreeMap<&'static str, u64>,
}

impl Chaos {
    /// The fault this call of `op` meets, if any.
    fn pick(&mut self, op: &str) -> Option<Fault> {
        let roll = self.rng.unit();
        if roll >= self.rate {
            return None;
        }
        let dynamodb = [
            THROTTLED,
            THROUGHPUT_EXCEEDED,
            INTERNAL_ERROR,
            UNAVAILABLE,
            Fault::Slow(self.slow),
            Fault::DropRequest,
            Fault::DropAnswer,
        ];
        let sns = [SNS_THROTTLED, INTERNAL_ERROR, Fault::Slow(self.slow * 3), Fault::DropRequest, Fault::DropAnswer];
        let sqs = [INTERNAL_ERROR, Fault::DropRequest];
        let mix: &[Fault] = match op {
            "TransactWriteItems" | "Query" | "GetItem" | "UpdateItem" | "PutItem" | "BatchGetItem"
            | "BatchWriteItem" => &dynamodb,
            "Publish" => &sns,
            "SendMessage" | "SendMessageBatch" | "GetQueueAttributes" => &sqs,
            _ => return None,
        };
        let fault = self.rng.pick(mix).clone();
        *self.counts.entry(fault.name()).or_default() += 1;
        Some(fault)
    }
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
    chaos: Mutex<Option<Chaos>>,
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
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            rules: Mutex::new(Vec::new()),
            chaos: Mutex::new(None),
        });
        let app = axum::Router::new().fallback(proxy).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { endpoint, shared, server })
    }

    /// The next `times` calls of `operation` (`Publish`, `UpdateItem`, ...) meet `fault`.
    pub fn inject(&self, operation: &'static str, fault: Fault, times: usize) {
        self.shared.rules.lock().unwrap_or_else(|e| e.into_inner()).push(Rule { operation, fault, times });
    }

    /// From now on, each DynamoDB, SNS Publish and SQS send call meets a
    /// fault with probability `rate`, chosen from the mix by a generator
    /// seeded with `seed`; `slow` is how late a slow answer comes.
    pub fn chaos(&self, rate: f64, seed: u64, slow: Duration) {
        *self.shared.chaos.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Chaos { rate, rng: Rng(seed.max(1)), slow, counts: BTreeMap::new() });
    }

    /// Stops the chaos; returns how many faults of each kind it injected.
    pub fn calm(&self) -> BTreeMap<&'static str, u64> {
        self.shared.chaos.lock().unwrap_or_else(|e| e.into_inner()).take().map(|c| c.counts).unwrap_or_default()
    }

    /// How many faults of each kind the chaos has injected so far.
    pub fn injected(&self) -> BTreeMap<&'static str, u64> {
        self.shared
            .chaos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.counts.clone())
            .unwrap_or_default()
    }
}

/// The AWS operation of a request (`DynamoDB_20120810.Query`, `Publish`):
/// the JSON protocols' `X-Amz-Target` header or the query protocols' `Action`
/// form field (SNS). Also the benchmark's stand-in's key.
pub fn operation(headers: &HeaderMap, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.to_owned();
    }
    String::from_utf8_lossy(body)
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or("unknown")
        .to_owned()
}

async fn proxy(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    let target = operation(&parts.headers, &body);
    // Rules and the chaos mix name operations without the service prefix.
    let op = target.rsplit('.').next().unwrap_or_default();
    let ruled = {
        let mut rules = shared.rules.lock().unwrap_or_else(|e| e.into_inner());
        rules.iter_mut().find(|r| r.operation == op && r.times > 0).map(|r| {
            r.times -= 1;
            r.fault.clone()
        })
    };
    let fault = ruled.or_else(|| shared.chaos.lock().unwrap_or_else(|e| e.into_inner()).as_mut()?.pick(op));
    match &fault {
        Some(Fault::Answer(status, answer)) => {
            let content_type = if answer.starts_with('<') { "text/xml" } else { "application/x-amz-json-1.0" };
            return Response::builder()
                .status(*status)
                .header("content-type", content_type)
                .body(Body::from(*answer))
                .unwrap_or_default();
        }
        Some(Fault::DropRequest) => {
            let broken = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::ErrorKind::ConnectionReset.into())
            });
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-length", "1024")
                .body(Body::from_stream(broken))
                .unwrap_or_default();
        }
        Some(Fault::Slow(delay)) => tokio::time::sleep(*delay).await,
        _ => {}
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
        Err(e) => {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from(e.to_string()))
                .unwrap_or_default()
        }
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
            .unwrap_or_default();
    }
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding") {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(bytes)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_operation_comes_from_the_target_header_or_the_action() {
        let mut h = HeaderMap::new();
        assert_eq!(operation(&h, b"Action=Publish&Version=2010-03-31"), "Publish");
        h.insert("x-amz-target", HeaderValue::from_static("DynamoDB_20120810.Query"));
        assert_eq!(operation(&h, b"{}"), "DynamoDB_20120810.Query");
    }
}
