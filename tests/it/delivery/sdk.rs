//! The AWS clients of one simulated function instance: the real SDK clients, with
//! production's retry policy, whose waits (each request's latency, the SDK's backoff) are
//! spent on the virtual clock. ECS and EC2 answer from the simulated account, Route 53 from
//! the strict model through [`super::route53`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_route53::config::StalledStreamProtectionConfig;
use aws_smithy_mocks::create_mock_http_client;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use ecs_srv::aws::{ApiCallLog, AwsClients, MAX_ATTEMPTS};

use super::clock::Clock;
use super::route53::{CaptureInput, PacerSlots, Route53Wire, Route53World};
use super::sqs::{sqs_rules, SqsWorld};
use crate::simulated::account::{ec2_rules, ecs_rules, Account};
use crate::support::strict_zone::{interceptor, test_credentials};

/// The retry policy `AwsClients::from_environment` gives production's clients: standard
/// mode, jittered exponential backoff from 200 ms to 10 s. Its sleeps are virtual here.
fn production_retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10))
}

/// An HTTP client that spends `latency` of virtual time before the inner client answers.
#[derive(Clone, Debug)]
struct Delayed<T> {
    inner: T,
    clock: Clock,
    latency: Duration,
}

impl HttpClient for Delayed<SharedHttpClient> {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Delayed {
            inner: self.inner.http_connector(settings, components),
            clock: self.clock.clone(),
            latency: self.latency,
        })
    }
}

impl HttpConnector for Delayed<SharedHttpConnector> {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let (inner, clock, latency) = (self.inner.clone(), self.clock.clone(), self.latency);
        HttpConnectorFuture::new(async move {
            clock.sleep(latency).await;
            inner.call(request).await
        })
    }
}

/// The mock HTTP client of `aws-smithy-mocks`, answering after `latency` of virtual time.
pub fn delayed_mock_client(clock: &Clock, latency: Duration) -> SharedHttpClient {
    SharedHttpClient::new(Delayed {
        inner: create_mock_http_client(),
        clock: clock.clone(),
        latency,
    })
}

/// How long requests take.
#[derive(Clone, Copy, Debug)]
pub struct Latencies {
    /// An ECS or EC2 request.
    pub ecs_ec2: Duration,
    /// An SQS request.
    pub sqs: Duration,
}

/// What one instance's clients are built from.
#[derive(Clone, Debug)]
pub struct InstanceWorld {
    /// The virtual clock.
    pub clock: Clock,
    /// ECS and EC2.
    pub account: Arc<Mutex<Account>>,
    /// Route 53.
    pub route53: Route53World,
    /// Request latencies besides Route 53's.
    pub latencies: Latencies,
    /// SQS.
    pub sqs: SqsWorld,
}

macro_rules! sim_config {
    ($service:ident, $world:expr, $http:expr, $calls:expr) => {
        $service::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .http_client($http)
            .sleep_impl($world.clock.sdk_sleep())
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .retry_config(production_retries())
            .interceptor($calls.clone())
    };
}

/// The clients of one instance, whose Route 53 pacer charges `rate` requests a second.
pub fn instance_clients(world: &InstanceWorld, rate: f64, seed: u64) -> AwsClients {
    let calls = ApiCallLog::default();
    let ecs_http = delayed_mock_client(&world.clock, world.latencies.ecs_ec2);
    let ec2_http = delayed_mock_client(&world.clock, world.latencies.ecs_ec2);
    let route53_http = SharedHttpClient::new(Route53Wire::new(
        world.route53.clone(),
        world.clock.clone(),
        PacerSlots::new(rate, seed),
    ));
    let ecs = sim_config!(aws_sdk_ecs, world, ecs_http, calls)
        .interceptor(interceptor(&ecs_rules(&world.account)))
        .build();
    let ec2 = sim_config!(aws_sdk_ec2, world, ec2_http, calls)
        .interceptor(interceptor(&ec2_rules(&world.account)))
        .build();
    let route53 = sim_config!(aws_sdk_route53, world, route53_http, calls)
        .interceptor(CaptureInput)
        .build();
    let sqs_http = delayed_mock_client(&world.clock, world.latencies.sqs);
    // `with_sqs` adds the call counter.
    let sqs = sim_config!(aws_sdk_sqs, world, sqs_http, ApiCallLog::default())
        .interceptor(interceptor(&sqs_rules(&world.sqs)))
        .build();
    AwsClients::from_parts(
        aws_sdk_ecs::Client::from_conf(ecs),
        aws_sdk_ec2::Client::from_conf(ec2),
        aws_sdk_route53::Client::from_conf(route53),
        calls,
    )
    .with_sqs(aws_sdk_sqs::Client::from_conf(sqs))
}
