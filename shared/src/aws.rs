//! One `SdkConfig`, every client built from it, once per cold start.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// The account and region of the local emulation (CONTRACT §2).
pub const LOCAL_ACCOUNT: &str = "123456789012";
pub const LOCAL_REGION: &str = "us-east-1";

/// The configuration Lambda uses: region and credentials from the environment.
/// Honours `AWS_ENDPOINT_URL` like every AWS SDK.
pub async fn from_env() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
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
        .endpoint_url(endpoint)
        .region(Region::new(LOCAL_REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "custops-local"))
        .load()
        .await
}

/// The three clients every function may use, from one configuration.
#[derive(Debug, Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
        }
    }
}
