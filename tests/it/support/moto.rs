//! moto server, once per test binary, and SDK clients aimed at it.
//!
//! moto runs as a child whose stdin is a pipe held by this process; when the test binary
//! exits, however it exits, the pipe closes and moto stops. No test skips when moto is
//! missing: it fails and says how to install it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;
use ecs_srv::aws::AwsClients;

use super::REGION;

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    _child: Mutex<Child>,
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test binary's moto server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start_moto)
}

fn start_moto() -> Moto {
    let python = std::env::var_os("ECS_SRV_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    let launcher = repo_root().join("tests/support/moto_server.py");
    let mut child = Command::new(&python)
        .arg(&launcher)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "moto server could not be started with {}: {err}. Run `make deps` (it creates .venv with moto[server]), or set ECS_SRV_PYTHON to a Python that has moto[server].",
                python.display()
            )
        });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reading moto's READY line");
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| {
            panic!(
                "moto server did not start (it printed {line:?}). Run `make deps` to install moto[server] into .venv."
            )
        })
        .to_owned();
    Moto {
        endpoint,
        _child: Mutex::new(child),
    }
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
    AwsClients::from_sdk_config(&sdk_config(&moto().endpoint))
}

/// Environment for running the `ecs-srv` binary against moto.
pub fn moto_env(zone_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto().endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("HOSTED_ZONE_ID", zone_id.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}
