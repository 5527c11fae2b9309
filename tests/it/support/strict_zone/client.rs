//! The real Route 53 client with the model behind it, through `aws-smithy-mocks` rules.
//!
//! Not through `then_compute_response`: on an SDK retry the mock layer calls the rule again
//! with a placeholder input, which makes a computing rule panic. Instead each rule's request
//! matcher keeps the typed input, and an input-free `http_response` generator answers from
//! it, on the first attempt and on every retry. Answers are XML, so the SDK's own
//! deserializers read them. One client serves one caller at a time (each Publisher gets its
//! own client).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_route53::config::retry::RetryPartition;
use aws_sdk_route53::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsInput;
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneInput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsInput;
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};

use super::StrictZone;

/// Attempts per request, the first included, as production configures the SDK. The one
/// place the tests name the crate's constant.
pub const SDK_MAX_ATTEMPTS: u32 = ecs_srv::aws::MAX_ATTEMPTS;

fn lock(model: &Mutex<StrictZone>) -> std::sync::MutexGuard<'_, StrictZone> {
    model.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A rule for one operation: the matcher keeps the typed input of the request in
/// flight; `answer` computes the reply from it on every attempt.
macro_rules! model_rule {
    ($operation:expr, $model:expr, $answer:expr) => {{
        let in_flight = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&in_flight);
        let model = Arc::clone(&$model);
        mock!($operation)
            .match_requests(move |input| {
                *keep.lock().unwrap_or_else(PoisonError::into_inner) = Some(input.clone());
                true
            })
            .sequence()
            .http_response(move || {
                let input = in_flight
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone()
                    .expect("the matcher ran first");
                #[allow(clippy::redundant_closure_call)]
                ($answer)(&mut lock(&model), &input)
            })
            .repeatedly()
            .build()
    }};
}

/// The three rules that put `model` behind a Route 53 client.
pub fn route53_rules(model: &Arc<Mutex<StrictZone>>) -> Vec<Rule> {
    vec![
        model_rule!(
            aws_sdk_route53::Client::get_hosted_zone,
            model,
            |zone: &mut StrictZone, input: &GetHostedZoneInput| zone.get_hosted_zone(input.id())
        ),
        model_rule!(
            aws_sdk_route53::Client::list_resource_record_sets,
            model,
            |zone: &mut StrictZone, input: &ListResourceRecordSetsInput| zone.list(input)
        ),
        model_rule!(
            aws_sdk_route53::Client::change_resource_record_sets,
            model,
            |zone: &mut StrictZone, input: &ChangeResourceRecordSetsInput| zone.change(input)
        ),
    ]
}

/// Standard retries as production configures them ([`SDK_MAX_ATTEMPTS`]), with
/// millisecond backoff so that injected faults cost no wall time.
pub fn quick_retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(SDK_MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(4))
}

/// Test credentials; the mock HTTP client never sends them anywhere.
pub fn test_credentials() -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        "strict",
        "strict",
        None,
        None,
        "strict-zone",
    ))
}

/// An interceptor answering from `rules`, any rule in any order.
pub fn interceptor(rules: &[Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |i, rule| i.with_rule(rule),
    )
}

/// A retry partition of its own for each client. The SDK keeps one retry token bucket per
/// partition for the whole process, and a call that fails after all its attempts spends
/// tokens for good: clients of one partition would drain it for each other, and a test's
/// retries would depend on which tests ran before it.
fn own_retry_partition() -> RetryPartition {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    RetryPartition::new(format!(
        "strict-zone-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// The real Route 53 client, answered by `model`.
pub fn route53_client(model: Arc<Mutex<StrictZone>>) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::from_conf(
        aws_sdk_route53::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .http_client(create_mock_http_client())
            .retry_config(quick_retries())
            .retry_partition(own_retry_partition())
            .interceptor(interceptor(&route53_rules(&model)))
            .build(),
    )
}
