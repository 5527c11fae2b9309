//! moto server, once per test binary, and SDK clients aimed at it.
//!
//! moto is started by `moto-launcher`, the one launcher of the workspace, from the venv of
//! the checkout the tests run in. Its stdin is a pipe held by this process: when the test
//! binary exits, however it exits, the pipe closes and moto stops. No test skips when moto
//! is missing: it fails and says how to install it.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;
use ecs_srv::aws::AwsClients;
use moto_launcher::{MotoServer, Workspace};

use super::REGION;

/// The repository root the tests run in.
pub fn repo_root() -> PathBuf {
    workspace().root().to_owned()
}

fn workspace() -> Workspace {
    Workspace::find().unwrap_or_else(|error| panic!("{error}"))
}

/// The test binary's moto server, started on first use.
pub fn moto() -> &'static MotoServer {
    static MOTO: OnceLock<MotoServer> = OnceLock::new();
    MOTO.get_or_init(|| MotoServer::start(&workspace()).unwrap_or_else(|error| panic!("{error}")))
}

/// An SDK configuration aimed at moto, with test credentials and quick retries.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(
            Credentials::new("testing", "testing", None, None, "tests"),
        ))
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build()
}

/// The crate's clients, aimed at this binary's moto.
pub fn moto_clients() -> AwsClients {
    AwsClients::from_sdk_config(&sdk_config(moto().endpoint()))
}

/// Environment for running the `ecs-srv` binary against moto.
pub fn moto_env(zone_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto().endpoint().to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("HOSTED_ZONE_ID", zone_id.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}
