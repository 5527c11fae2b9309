//! The AWS clients, built once per process, and a count of every request they send.
//!
//! The count comes from an SDK interceptor that sees each attempt as it goes on the wire,
//! retries included. Tests use it to prove that a warm cache made no call, the replay
//! summary reports it, and the benchmarks read calls per event from it.

pub mod ecs;
pub mod route53;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_ecs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// Attempts per request, the first included. Route 53 throttles at about five requests
/// per second per account; eight attempts with the SDK's jittered exponential backoff
/// ride out a burst of several seconds.
pub const MAX_ATTEMPTS: u32 = 8;

/// The three clients the publisher uses, sharing one call counter.
#[derive(Clone, Debug)]
pub struct AwsClients {
    /// ECS: tasks, task definitions, container instances.
    pub ecs: aws_sdk_ecs::Client,
    /// EC2: the private IP of a container instance's host.
    pub ec2: aws_sdk_ec2::Client,
    /// Route 53: the hosted zone.
    pub route53: aws_sdk_route53::Client,
    /// Requests sent so far, by service and operation.
    pub calls: ApiCallLog,
}

impl AwsClients {
    /// Loads the standard AWS configuration (environment, `AWS_ENDPOINT_URL`, the Lambda
    /// role) with the SDK's standard retry mode.
    pub async fn from_environment() -> Self {
        let retry = RetryConfig::standard()
            .with_max_attempts(MAX_ATTEMPTS)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(10));
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .load()
            .await;
        Self::from_sdk_config(&sdk)
    }

    /// Builds the clients from a loaded configuration, adding the call counter.
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        let calls = ApiCallLog::default();
        let ecs = aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(sdk)
                .interceptor(calls.clone())
                .build(),
        );
        let ec2 = aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(sdk)
                .interceptor(calls.clone())
                .build(),
        );
        let route53 = aws_sdk_route53::Client::from_conf(
            aws_sdk_route53::config::Builder::from(sdk)
                .interceptor(calls.clone())
                .build(),
        );
        Self {
            ecs,
            ec2,
            route53,
            calls,
        }
    }
}

/// Counts requests by `Service.Operation`, every attempt separately.
#[derive(Clone, Debug, Default)]
pub struct ApiCallLog {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl ApiCallLog {
    /// A copy of the counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests made since `before` (an earlier [`Self::snapshot`]), leaving out
    /// operations that were not called.
    pub fn since(&self, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        self.snapshot()
            .into_iter()
            .filter_map(|(operation, count)| {
                let delta = count - before.get(&operation).copied().unwrap_or(0);
                (delta > 0).then_some((operation, delta))
            })
            .collect()
    }

    /// Requests to one operation, such as `EC2.DescribeInstances`.
    pub fn count(&self, operation: &str) -> u64 {
        self.snapshot().get(operation).copied().unwrap_or(0)
    }

    /// Requests to one service (`ECS`, `EC2`, `Route 53`), all operations together.
    pub fn count_service(&self, service: &str) -> u64 {
        let prefix = format!("{service}.");
        self.snapshot()
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .map(|(_, count)| count)
            .sum()
    }

    fn record(&self, operation: String) {
        *self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(operation)
            .or_default() += 1;
    }
}

impl Intercept for ApiCallLog {
    fn name(&self) -> &'static str {
        "ApiCallLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = match cfg.load::<Metadata>() {
            Some(meta) => format!("{}.{}", service_short_name(meta.service()), meta.name()),
            None => "unknown".to_owned(),
        };
        self.record(key);
        Ok(())
    }
}

/// The SDK names services by their model ids (`ECS`, `EC2`, `Route 53`); keep them short
/// and without spaces for logs and tables.
fn service_short_name(service: &str) -> &str {
    match service {
        "Route 53" => "Route53",
        other => other,
    }
}
