//! The AWS clients, built once per process: ECS and EC2 with the function's own role,
//! Route 53 with the zone's role when the zone lives in another account (aws-config's
//! assume-role provider, which caches and refreshes the credentials), and STS for the
//! deployment's own identity. Every client counts its requests in one [`ApiCallLog`].

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, SdkConfig};

use super::calls::ApiCallLog;
use crate::config::ZoneRole;
use crate::plan::naming::Scope;

/// Attempts per request, the first included. Route 53 allows about ten requests per
/// second per account for every caller together; eight attempts with the SDK's jittered
/// exponential backoff ride out a burst of several seconds.
pub const MAX_ATTEMPTS: u32 = 8;

/// The clients the deployment uses, sharing one call counter.
#[derive(Clone, Debug)]
pub struct AwsClients {
    /// ECS: tasks, task definitions, container instances.
    pub ecs: aws_sdk_ecs::Client,
    /// EC2: the private IP of a container instance's host.
    pub ec2: aws_sdk_ec2::Client,
    /// Route 53: the hosted zone, through [`ZoneRole`] when one is set.
    pub route53: aws_sdk_route53::Client,
    /// STS: who and where the function itself is.
    pub sts: aws_sdk_sts::Client,
    /// SQS: re-checks delayed on the inbox, parked events, and visibility of the event
    /// queue.
    pub sqs: aws_sdk_sqs::Client,
    /// Requests sent so far, by service and operation.
    pub calls: ApiCallLog,
    /// The region the clients are configured for.
    pub region: Option<String>,
}

/// Why the deployment's own identity could not be learnt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// No region is configured (AWS_REGION).
    #[error("no AWS region is configured: set AWS_REGION (Lambda sets it)")]
    NoRegion,
    /// GetCallerIdentity failed.
    #[error("STS GetCallerIdentity failed, so the deployment's account is unknown: {0}")]
    Sts(String),
}

/// The standard AWS configuration (environment, `AWS_ENDPOINT_URL`, the Lambda role) with
/// the SDK's standard retry mode and [`MAX_ATTEMPTS`]: what every client is built from.
pub async fn sdk_config() -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10));
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .load()
        .await
}

impl AwsClients {
    /// Loads the standard AWS configuration (environment, `AWS_ENDPOINT_URL`, the Lambda
    /// role) with the SDK's standard retry mode.
    pub async fn from_environment(zone_role: Option<&ZoneRole>) -> Self {
        let sdk = sdk_config().await;
        let clients = Self::from_sdk_config(&sdk);
        match zone_role {
            Some(role) => clients.with_zone_role(&sdk, role).await,
            None => clients,
        }
    }

    /// The same clients, with Route 53 calls going through `role` (assumed with the
    /// credentials of `sdk`, refreshed before they expire).
    pub async fn with_zone_role(mut self, sdk: &SdkConfig, role: &ZoneRole) -> Self {
        let mut provider = AssumeRoleProvider::builder(&role.arn)
            .session_name("ecs-srv")
            .configure(sdk);
        if let Some(external_id) = &role.external_id {
            provider = provider.external_id(external_id);
        }
        let config = aws_sdk_route53::config::Builder::from(sdk)
            .interceptor(self.calls.clone())
            .credentials_provider(provider.build().await)
            .build();
        self.route53 = aws_sdk_route53::Client::from_conf(config);
        self
    }

    /// Builds the clients from a loaded configuration, adding the call counter.
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        let calls = ApiCallLog::default();
        let route53 = aws_sdk_route53::config::Builder::from(sdk).interceptor(calls.clone());
        Self {
            ecs: aws_sdk_ecs::Client::from_conf(
                aws_sdk_ecs::config::Builder::from(sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            route53: aws_sdk_route53::Client::from_conf(route53.build()),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            region: sdk.region().map(ToString::to_string),
            calls,
        }
    }

    /// Clients built elsewhere (test doubles answering ECS, EC2 and Route 53), sharing
    /// `calls`. Such clients never ask STS: build the deployment with its scope known.
    /// Their SQS client answers nothing; [`Self::with_sqs`] gives them one that does.
    pub fn from_parts(
        ecs: aws_sdk_ecs::Client,
        ec2: aws_sdk_ec2::Client,
        route53: aws_sdk_route53::Client,
        calls: ApiCallLog,
    ) -> Self {
        let sts = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        let sqs = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .build();
        Self {
            ecs,
            ec2,
            route53,
            sts: aws_sdk_sts::Client::from_conf(sts),
            sqs: aws_sdk_sqs::Client::from_conf(sqs),
            calls,
            region: None,
        }
    }

    /// The same clients with another SQS client (a test double), counted like the others.
    pub fn with_sqs(mut self, sqs: aws_sdk_sqs::Client) -> Self {
        let config = sqs
            .config()
            .to_builder()
            .interceptor(self.calls.clone())
            .build();
        self.sqs = aws_sdk_sqs::Client::from_conf(config);
        self
    }

    /// Where the function runs: its region, and its partition and account from STS
    /// GetCallerIdentity (which needs no permission), asked with its own credentials.
    pub async fn scope(&self) -> Result<Scope, IdentityError> {
        let region = self.region.clone().ok_or(IdentityError::NoRegion)?;
        let identity = self.sts.get_caller_identity().send().await.map_err(|err| {
            IdentityError::Sts(aws_sdk_sts::error::DisplayErrorContext(&err).to_string())
        })?;
        let account = identity
            .account()
            .ok_or_else(|| IdentityError::Sts("the answer names no account".to_owned()))?;
        let partition = identity
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .filter(|partition| !partition.is_empty())
            .map_or_else(
                || crate::plan::naming::identity::partition_of(&region).to_owned(),
                str::to_owned,
            );
        Ok(Scope {
            partition,
            region,
            account: account.to_owned(),
        })
    }
}
