//! A fixed-latency stand-in for AWS, for measuring a function's own
//! concurrency without the emulator's serial work in the way. It records what
//! the emulator answers while a function handles a run of events (passing
//! every request through), then answers a second run of the same events
//! itself, every request after exactly the chosen latency: the answer the
//! emulator gave to the same request (JSON and form bodies compared with keys
//! sorted), or else its last successful answer to the same operation (a write
//! whose body carries a timestamp). What it could not answer it passes
//! through, and counts.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use custops_cli::BoxError;
use custops_dev::faults::operation;

#[derive(Debug, Clone)]
struct Answer {
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        if let Some(ct) = self.content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        response
    }
}

/// How the replayed requests were answered.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Answered {
    /// The emulator's answer to the same request.
    pub same_request: usize,
    /// The emulator's last answer to the same operation.
    pub same_operation: usize,
    /// Passed through to the emulator (no recorded answer).
    pub passed_through: usize,
}

#[derive(Default)]
struct Recorded {
    by_request: HashMap<String, Answer>,
    by_operation: HashMap<String, Answer>,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    replaying: AtomicBool,
    latency: Mutex<Duration>,
    recorded: Mutex<Recorded>,
    counts: [AtomicUsize; 3],
}

pub struct StandIn {
    pub endpoint: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StandIn {
    /// Starts recording: every request goes to `upstream` (the emulator's URL).
    pub async fn start(upstream: &str) -> Result<Self, BoxError> {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            replaying: AtomicBool::new(false),
            latency: Mutex::new(Duration::ZERO),
            recorded: Mutex::default(),
            counts: Default::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { endpoint, shared, task })
    }

    /// From now on answers from the recording, each request after `latency`.
    pub fn replay(&self, latency: Duration) {
        *self.shared.latency.lock().unwrap_or_else(|e| e.into_inner()) = latency;
        self.shared.replaying.store(true, Ordering::SeqCst);
        for c in &self.shared.counts {
            c.store(0, Ordering::SeqCst);
        }
    }

    /// How the requests since [`Self::replay`] were answered.
    pub fn answered(&self) -> Answered {
        let [a, b, c] = &self.shared.counts;
        Answered {
            same_request: a.load(Ordering::SeqCst),
            same_operation: b.load(Ordering::SeqCst),
            passed_through: c.load(Ordering::SeqCst),
        }
    }
}

async fn handle(State(s): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let operation = operation(&headers, &body);
    let request = format!("{operation} {}", canonical(&body));
    let replaying = s.replaying.load(Ordering::SeqCst);
    if replaying {
        let latency = *s.latency.lock().unwrap_or_else(|e| e.into_inner());
        tokio::time::sleep(latency).await;
        let answer = {
            let recorded = s.recorded.lock().unwrap_or_else(|e| e.into_inner());
            match recorded.by_request.get(&request) {
                Some(a) => Some((0, a.clone())),
                None => recorded.by_operation.get(&operation).map(|a| (1, a.clone())),
            }
        };
        if let Some((kind, answer)) = answer {
            s.counts[kind].fetch_add(1, Ordering::SeqCst);
            return answer.into_response();
        }
        s.counts[2].fetch_add(1, Ordering::SeqCst);
    }
    match forward(&s, method, &uri, headers, body).await {
        Ok(answer) => {
            if !replaying {
                let mut recorded = s.recorded.lock().unwrap_or_else(|e| e.into_inner());
                if answer.status.is_success() {
                    recorded.by_operation.insert(operation, answer.clone());
                }
                recorded.by_request.insert(request, answer.clone());
            }
            answer.into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

async fn forward(s: &Shared, method: Method, uri: &Uri, headers: HeaderMap, body: Bytes) -> Result<Answer, BoxError> {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut headers = headers;
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    let response = s.http.request(method, format!("{}{path}", s.upstream)).headers(headers).body(body).send().await?;
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    Ok(Answer { status, content_type, body: response.bytes().await? })
}

/// The body with JSON object keys or form fields in order, so the same request
/// from another process (another hash order) compares equal.
fn canonical(body: &[u8]) -> String {
    fn sorted(v: Value) -> Value {
        match v {
            Value::Object(map) => {
                let map: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(map.into_iter().collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
            other => other,
        }
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let v = sorted(v);
            // serde_json keeps insertion order only with `preserve_order`; sort either way.
            serde_json::to_string(&v).unwrap_or_default()
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let mut pairs: Vec<&str> = text.split('&').collect();
            pairs.sort_unstable();
            pairs.join("&")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_compare_equal_whatever_their_key_order() {
        assert_eq!(canonical(br#"{"b":1,"a":{"d":2,"c":3}}"#), canonical(br#"{"a":{"c":3,"d":2},"b":1}"#));
        assert_eq!(canonical(b"Action=Publish&Message=x"), canonical(b"Message=x&Action=Publish"));
        assert_ne!(canonical(br#"{"a":1}"#), canonical(br#"{"a":2}"#));
    }
}
