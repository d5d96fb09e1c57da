//! The one HTTPS client of the workspace: hyper's HTTP/1.1 client over
//! rustls on ring. The AWS SDK's clients call through it ([`sdk_client`]),
//! and so do the few requests made without an SDK (the inbox's key set, the
//! feed's objects).
//!
//! The SDK's own hyper client (`aws-smithy-http-client`) always links HTTP/2
//! (h2, about half a megabyte of every binary) and a second connection
//! stack beside the one the inbox needed anyway. Every AWS endpoint custops
//! calls (DynamoDB, SQS, SNS, SES, Secrets Manager, Cognito, S3) answers
//! HTTP/1.1, and a Lambda function's calls are few and sequential per
//! message: one HTTP/1.1 connection pool does it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Response as SdkResponse;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// What a connection trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Only [`crate::aws::AWS_ROOTS`] (a function on Lambda: nothing but AWS
    /// is called, and five roots cost nothing at a cold start).
    Aws,
    /// The system's trust store (an operator's machine, whose proxy or
    /// endpoint may chain elsewhere).
    System,
}

/// The TLS connector over TCP; plain HTTP too (the local emulator).
pub type Connector = hyper_rustls::HttpsConnector<TcpConnector>;

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("a root certificate was refused: {0}")]
    Root(String),
    #[error("no TLS protocol version: {0}")]
    Versions(String),
}

/// rustls' configuration: ring, TLS 1.2 and 1.3 (the connector offers
/// HTTP/1.1 alone by ALPN).
pub fn tls_config(trust: Trust) -> Result<rustls::ClientConfig, TlsError> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match trust {
        Trust::Aws => {
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(crate::aws::AWS_ROOTS) {
                let cert = cert.map_err(|e| TlsError::Root(e.to_string()))?;
                roots.add(cert).map_err(|e| TlsError::Root(e.to_string()))?;
            }
        }
        Trust::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(TlsError::Root(format!("no usable root in the system's store ({:?})", found.errors)));
            }
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Versions(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The connector: `https` with `config`, plain `http` as well, connecting
/// within `connect_timeout` when given.
pub fn connector(config: rustls::ClientConfig, connect_timeout: Option<Duration>) -> Connector {
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp)
}

/// A pooled HTTP/1.1 client for bodies of type `B`.
pub fn client<B>(connector: Connector) -> Client<Connector, B>
where
    B: http_body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(60)).build(connector)
}

/// The AWS SDK's HTTP client on this one stack (what every `SdkConfig` of
/// custops is given: `custops::aws`).
pub fn sdk_client(trust: Trust) -> Result<SharedHttpClient, TlsError> {
    Ok(SharedHttpClient::new(SdkHttp { tls: tls_config(trust)?, connectors: Mutex::default() }))
}

/// The SDK's view of the client: one connector (one pool) for each connect
/// timeout an operation asks for (one, in practice).
#[derive(Debug)]
struct SdkHttp {
    tls: rustls::ClientConfig,
    connectors: Mutex<HashMap<Option<Duration>, SharedHttpConnector>>,
}

impl HttpClient for SdkHttp {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let timeout = settings.connect_timeout();
        let mut connectors = self.connectors.lock().unwrap_or_else(|p| p.into_inner());
        connectors
            .entry(timeout)
            .or_insert_with(|| {
                SharedHttpConnector::new(SdkConnector { client: client(connector(self.tls.clone(), timeout)) })
            })
            .clone()
    }
}

#[derive(Debug, Clone)]
struct SdkConnector {
    client: Client<Connector, SdkBody>,
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(r) => r,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let sent = self.client.request(request);
        HttpConnectorFuture::new(async move {
            match sent.await {
                Ok(response) => SdkResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None)),
                Err(e) => Err(classify(e)),
            }
        })
    }
}

/// What the SDK's retry makes of a failed call: a connection that could not
/// be made or broke is I/O (retried), a timeout a timeout, a message cut
/// short transient, anything else not retried.
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    let mut hyper_error = None;
    let mut io = None;
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&error);
    while let Some(e) = next {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            hyper_error = hyper_error.or(Some((h.is_timeout(), h.is_user(), h.is_incomplete_message())));
        }
        if let Some(i) = e.downcast_ref::<std::io::Error>() {
            io = io.or(Some(i.kind()));
        }
        next = e.source();
    }
    let connect = error.is_connect();
    let boxed: Box<dyn std::error::Error + Send + Sync> = error.into();
    match (hyper_error, io) {
        (Some((true, _, _)), _) | (_, Some(std::io::ErrorKind::TimedOut)) => ConnectorError::timeout(boxed),
        (Some((_, true, _)), _) => ConnectorError::user(boxed),
        (Some((_, _, true)), _) => ConnectorError::other(boxed, Some(ErrorKind::TransientError)),
        (Some(_), _) | (_, Some(_)) => ConnectorError::io(boxed),
        _ if connect => ConnectorError::io(boxed),
        _ => ConnectorError::other(boxed, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_trust_builds_a_connector_that_offers_only_http_1_1() {
        let config = tls_config(Trust::Aws).unwrap();
        assert!(config.alpn_protocols.is_empty(), "the connector sets ALPN");
        let _ = connector(config, None);
    }

    #[tokio::test]
    async fn a_refused_connection_is_io_which_the_sdk_retries() {
        let c: Client<Connector, SdkBody> = client(connector(tls_config(Trust::Aws).unwrap(), None));
        let request = http::Request::get("http://127.0.0.1:9/").body(SdkBody::empty()).unwrap();
        let error = c.request(request).await.unwrap_err();
        assert!(classify(error).is_io());
    }
}
