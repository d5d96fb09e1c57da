//! One `SdkConfig`, every client built from it, once per cold start.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedHttpClient};

/// The account and region of the local emulation (CONTRACT §2).
pub const LOCAL_ACCOUNT: &str = "123456789012";
pub const LOCAL_REGION: &str = "us-east-1";

/// The configuration an operator command uses against real AWS: region and
/// credentials from the environment and profile, the system's trust store.
/// Honours `AWS_ENDPOINT_URL` like every AWS SDK.
pub async fn from_env() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).http_client(system_https_client()).load().await
}

/// The roots every AWS service endpoint the functions call chains to: Amazon
/// Trust Services (Amazon Root CA 1-4) and the Starfield Services Root G2
/// that cross-signs them, as AWS documents for its endpoints. SHA-256:
/// 8ECDE688..98196E, 1BA5B2AA..A46DB4, 18CE6CFE..6DB3A4, E35D2841..897092,
/// 568D6905..3EDAB5.
pub const AWS_ROOTS: &[u8] = include_bytes!("aws-roots.pem");

/// The configuration a function uses on Lambda. Its HTTPS client trusts
/// only [`AWS_ROOTS`]: loading and parsing the system trust store (hundreds
/// of certificates) was most of a cold start's init; five roots cost next
/// to nothing, and nothing but AWS can be trusted. Its credentials and
/// region are the ones Lambda puts in the environment (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`), and
/// `AWS_ENDPOINT_URL` is honoured as every SDK does: nothing of the default
/// chain (profile files, SSO, web identity through STS, the container and
/// instance metadata endpoints) is linked into a function or built at its
/// cold start.
pub async fn for_lambda() -> SdkConfig {
    use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .retry_config(RetryConfig::standard())
        .timeout_config(TimeoutConfig::builder().connect_timeout(Duration::from_millis(3100)).build());
    if let Some(region) = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")) {
        config = config.region(Region::new(region));
    }
    if let Some(url) = var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(url);
    }
    let client = aws_https_client().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the AWS trust store was refused; using the system's");
        system_https_client()
    });
    config.http_client(client).build()
}

/// The SDK's HTTPS client ([`crate::https`]: HTTP/1.1, rustls on ring),
/// trusting only [`AWS_ROOTS`].
pub fn aws_https_client() -> Result<SharedHttpClient, crate::https::TlsError> {
    crate::https::sdk_client(crate::https::Trust::Aws)
}

/// The SDK's HTTPS client trusting the system's store (an operator's
/// machine, whose proxy or endpoint may chain elsewhere); plain HTTP too.
/// A machine with no usable store (a bare container) gets the AWS roots.
pub fn system_https_client() -> SharedHttpClient {
    use crate::https::{sdk_client, Trust};
    sdk_client(Trust::System).or_else(|_| sdk_client(Trust::Aws)).unwrap_or_else(|e| {
        // Only a broken build refuses its own roots (a test holds them).
        panic!("no TLS configuration at all: {e}")
    })
}

/// A configuration for an operator command: the emulator at `endpoint` when one
/// is given, otherwise real AWS through the normal credential chain.
pub async fn for_endpoint(endpoint: Option<&str>) -> SdkConfig {
    match endpoint {
        Some(url) => local(url).await,
        None => from_env().await,
    }
}

/// A configuration for the local emulator: explicit endpoint, region and static
/// test credentials, so the SDK never probes instance metadata or a profile.
pub async fn local(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(system_https_client())
        .endpoint_url(endpoint)
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "custops-local"))
        .load()
        .await
}

/// `config` signing as `principal` (its access key id): the local stack gives
/// each function its own, so the emulator's request log says which function
/// made each call, and the IAM actions each really uses can be derived from it.
pub fn local_as(config: &SdkConfig, principal: &str) -> SdkConfig {
    config
        .to_builder()
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(Credentials::new(
            principal,
            "testing",
            None,
            None,
            "custops-local",
        )))
        .build()
}

/// How long one DynamoDB or SQS call may take, retries included, and one
/// attempt of it. Far below the outbox lease (`outbound::LEASE`, 30 s) and
/// the function timeout (10 s), so no write outlives the lease it relies on.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts of a DynamoDB or SQS call: retried by the SDK on throttling, 5xx
/// and timeouts. Safe: conditional writes fail the same way twice, and the
/// SDK fills TransactWriteItems' `ClientRequestToken`, which makes its retry
/// idempotent.
pub const ATTEMPTS: u32 = 3;
/// How long one SNS Publish may take. Never retried by the SDK: SNS has no
/// idempotency key, so a retry after a lost answer would text a customer
/// twice; the outbound path classifies the failure instead.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// The three clients every function may use, from one configuration, with
/// their retries and timeouts set on purpose.
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    /// The configuration they were made from (for a client only one
    /// function needs, made there: the report's mailer).
    pub config: SdkConfig,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        Self::with_timeouts(config, OPERATION_TIMEOUT, ATTEMPT_TIMEOUT)
    }

    /// The clients with other DynamoDB and SQS timeouts (a benchmark against
    /// an emulator far slower than DynamoDB); publishing keeps its own.
    pub fn with_timeouts(config: &SdkConfig, operation: Duration, attempt: Duration) -> Self {
        let timeouts = |operation: Duration, attempt: Duration| {
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(attempt)
                .operation_timeout(operation)
                .build()
        };
        let retrying = RetryConfig::standard().with_max_attempts(ATTEMPTS);
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(config)
                    .retry_config(retrying.clone())
                    .timeout_config(timeouts(operation, attempt))
                    .build(),
            ),
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(config)
                    .retry_config(retrying)
                    .timeout_config(timeouts(operation, attempt))
                    .build(),
            ),
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(config)
                    .retry_config(RetryConfig::disabled())
                    .timeout_config(timeouts(PUBLISH_TIMEOUT, PUBLISH_TIMEOUT))
                    .build(),
            ),
            config: config.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn publish_is_never_retried_by_the_sdk_and_every_call_has_a_timeout_below_the_lease() {
        let clients = super::Clients::new(&super::local("http://127.0.0.1:9").await);
        let sns = clients.sns.config();
        assert_eq!(sns.retry_config().map(|r| r.max_attempts()), Some(1));
        assert_eq!(sns.timeout_config().and_then(|t| t.operation_timeout()), Some(super::PUBLISH_TIMEOUT));
        let ddb = clients.dynamodb.config();
        assert_eq!(ddb.retry_config().map(|r| r.max_attempts()), Some(super::ATTEMPTS));
        let lease = crate::outbound::LEASE;
        for timeout in [
            ddb.timeout_config().and_then(|t| t.operation_timeout()),
            sns.timeout_config().and_then(|t| t.operation_timeout()),
        ] {
            assert!(timeout.is_some_and(|t| t < lease), "{timeout:?}");
        }
    }

    use super::*;

    #[test]
    fn the_aws_roots_are_the_five_amazon_trust_services_certificates() {
        let pem = std::str::from_utf8(AWS_ROOTS).unwrap();
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        assert_eq!(pem.matches("-----END CERTIFICATE-----").count(), 5);
    }

    /// The trust store is parsed when the client builds its TLS connector
    /// for the first request (a bad PEM would panic there): a request to a
    /// closed port must end in an ordinary dispatch error.
    #[tokio::test]
    async fn a_client_with_the_aws_roots_builds_its_tls_connector() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(aws_https_client().unwrap())
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .region(Region::new(LOCAL_REGION))
            .credentials_provider(Credentials::new("k", "s", None, None, "test"))
            .endpoint_url(format!("https://{closed}"))
            .build();
        let err = aws_sdk_dynamodb::Client::from_conf(config).list_tables().send().await.unwrap_err();
        assert!(matches!(err, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)), "{err:?}");
    }
}
