//! One HTTP request and its answer, whoever carries them: API Gateway's HTTP
//! API on Lambda ([`serve`], feature `http`), the local stack's server, a
//! test. The HTTP functions (the front door, the staff inbox) answer a
//! [`HookRequest`] with a [`HookResponse`] and know nothing of the carrier.

/// One HTTP request.
#[derive(Debug, Clone, Default)]
pub struct HookRequest {
    pub method: http::Method,
    /// The URL as called: path and query, and the scheme and host when the
    /// carrier knows them (`http://127.0.0.1:8080/hooks/s/twilio/voice?x=1`).
    pub uri: http::Uri,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl HookRequest {
    /// A header's value as text (absent, or not text: `None`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the caller reached us over HTTPS (API Gateway always; behind
    /// a proxy, `X-Forwarded-Proto`).
    pub fn is_https(&self) -> bool {
        self.uri.scheme_str() == Some("https")
            || self.header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
    }
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookResponse {
    pub status: u16,
    pub content_type: &'static str,
    /// Headers besides the content type (`Validation-Token`, `Location`, `Set-Cookie`).
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl HookResponse {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self { status, content_type: "application/json", headers: Vec::new(), body: body.to_string() }
    }

    /// A refusal: the status and its reasons (never a secret or a number).
    pub fn refused(status: u16, reasons: Vec<String>) -> Self {
        Self::json(status, serde_json::json!({ "errors": reasons }))
    }

    /// An HTML page.
    pub fn html(status: u16, body: String) -> Self {
        Self { status, content_type: "text/html; charset=utf-8", headers: Vec::new(), body }
    }

    /// `303 See Other` to `location` (after a form's POST: a reload does not post again).
    pub fn see_other(location: impl Into<String>) -> Self {
        Self {
            status: 303,
            content_type: "text/plain; charset=utf-8",
            headers: vec![("Location", location.into())],
            body: String::new(),
        }
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Serves API Gateway HTTP API (payload 2.0) requests with `answer` until
/// the runtime stops: a thin adapter, the same on every HTTP function.
#[cfg(feature = "http")]
pub async fn serve<A, F>(answer: A) -> Result<(), lambda_http::Error>
where
    A: Fn(HookRequest) -> F + Send + Sync + Copy + 'static,
    F: std::future::Future<Output = HookResponse> + Send,
{
    use lambda_http::{service_fn, Body, Error, Request, Response};
    lambda_http::run(service_fn(move |req: Request| async move {
        let (parts, body) = req.into_parts();
        let body = match body {
            Body::Empty => Vec::new(),
            Body::Text(t) => t.into_bytes(),
            Body::Binary(b) => b,
            _ => Vec::new(),
        };
        let out = answer(HookRequest { method: parts.method, uri: parts.uri, headers: parts.headers, body }).await;
        let mut response = Response::builder().status(out.status).header("content-type", out.content_type);
        for (name, value) in out.headers {
            response = response.header(name, value);
        }
        Ok::<_, Error>(response.body(Body::Text(out.body)).unwrap_or_else(|_| Response::new(Body::Empty)))
    }))
    .await
}
