//! Real SDK clients over canned responses (`aws-smithy-mocks`), for the tests where moto
//! is too lax. The clients are built by hand rather than with `mock_client!`, so that the
//! SDK crates need no `test-util` feature and share one build with the binaries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecs::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_route53::operation::change_resource_record_sets::{
    ChangeResourceRecordSetsInput, ChangeResourceRecordSetsOutput,
};
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneOutput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_sdk_route53::types::{
    ChangeInfo, ChangeStatus, HostedZone, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
use ecs_srv::aws::{ApiCallLog, AwsClients};
use ecs_srv::config::Settings;

pub const ZONE_ID: &str = "ZMOCK123";
pub const ZONE: &str = "mock.internal.";

pub fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |i, rule| i.with_rule(rule),
    )
}

pub fn credentials() -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new("mock", "mock", None, None, "mocks"))
}

/// Quick retries: the backoff is the SDK's own, shortened so that the test is fast.
pub fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// DescribeTaskDefinition of the samples' family `web`: a withdrawal asks for it to know
/// which service subtree of the zone to read.
pub fn task_definition_rule() -> Rule {
    use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
    use aws_sdk_ecs::types::{ContainerDefinition, NetworkMode, PortMapping, TaskDefinition};
    mock!(aws_sdk_ecs::Client::describe_task_definition)
        .sequence()
        .output(|| {
            DescribeTaskDefinitionOutput::builder()
                .task_definition(
                    TaskDefinition::builder()
                        .family("web")
                        .network_mode(NetworkMode::Bridge)
                        .container_definitions(
                            ContainerDefinition::builder()
                                .name("web")
                                .port_mappings(PortMapping::builder().container_port(80).build())
                                .build(),
                        )
                        .build(),
                )
                .build()
        })
        .repeatedly()
        .build()
}

/// The three clients, each answering from its own rules (ECS also from
/// [`task_definition_rule`]).
pub fn mocked_clients(
    ecs_rules: &[&Rule],
    ec2_rules: &[&Rule],
    route53_rules: &[&Rule],
) -> AwsClients {
    let ecs = aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials())
            .http_client(create_mock_http_client())
            .retry_config(retries())
            .interceptor(interceptor(
                &[ecs_rules, &[&task_definition_rule()]].concat(),
            ))
            .build(),
    );
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials())
            .http_client(create_mock_http_client())
            .retry_config(retries())
            .interceptor(interceptor(ec2_rules))
            .build(),
    );
    let route53 = aws_sdk_route53::Client::from_conf(
        aws_sdk_route53::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials())
            .http_client(create_mock_http_client())
            .retry_config(retries())
            .interceptor(interceptor(route53_rules))
            .build(),
    );
    AwsClients::from_parts(ecs, ec2, route53, ApiCallLog::default())
}

pub fn config() -> Settings {
    crate::support::config::publisher_config(ZONE_ID, &[])
}

pub fn hosted_zone_rule() -> Rule {
    mock!(aws_sdk_route53::Client::get_hosted_zone).then_output(|| {
        GetHostedZoneOutput::builder()
            .hosted_zone(
                HostedZone::builder()
                    .id(format!("/hostedzone/{ZONE_ID}"))
                    .name(ZONE)
                    .caller_reference("r")
                    .build()
                    .unwrap(),
            )
            .build()
    })
}

/// One complete (untruncated) listing page holding `sets`, in Route 53's order (names
/// with their labels reversed, then type, then SetIdentifier), so that a reader of one
/// subtree sees where it ends.
pub fn listing_page(sets: &[ResourceRecordSet]) -> ListResourceRecordSetsOutput {
    let mut sets = sets.to_vec();
    sets.sort_by_key(|set| {
        let mut labels: Vec<&str> = set.name().trim_end_matches('.').split('.').collect();
        labels.reverse();
        (
            format!("{}.", labels.join(".")),
            set.r#type().as_str().to_owned(),
            set.set_identifier().map(str::to_owned),
        )
    });
    ListResourceRecordSetsOutput::builder()
        .set_resource_record_sets(Some(sets))
        .is_truncated(false)
        .max_items(300)
        .build()
        .unwrap()
}

/// A listing that always answers with `sets`.
pub fn listing_rule(sets: Vec<ResourceRecordSet>) -> Rule {
    mock!(aws_sdk_route53::Client::list_resource_record_sets)
        .then_output(move || listing_page(&sets))
}

pub fn change_accepted() -> ChangeResourceRecordSetsOutput {
    ChangeResourceRecordSetsOutput::builder()
        .change_info(
            ChangeInfo::builder()
                .id("/change/C1")
                .status(ChangeStatus::Pending)
                .submitted_at(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .build()
}

/// A change rule that records every batch it receives.
pub fn recording_change_rule(seen: Arc<Mutex<Vec<ChangeResourceRecordSetsInput>>>) -> Rule {
    mock!(aws_sdk_route53::Client::change_resource_record_sets).then_compute_output(move |input| {
        seen.lock().unwrap().push(input.clone());
        change_accepted()
    })
}

pub fn weighted(
    name: &str,
    rr_type: RrType,
    set_identifier: &str,
    weight: i64,
    ttl: i64,
    value: &str,
) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(rr_type)
        .set_identifier(set_identifier)
        .weight(weight)
        .ttl(ttl)
        .resource_records(ResourceRecord::builder().value(value).build().unwrap())
        .build()
        .unwrap()
}

/// Route 53's XML error body for a code.
pub fn route53_error(status: u16, code: &str) -> aws_smithy_runtime_api::http::Response {
    let body = format!(
        r#"<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{code} (mock)</Message></Error><RequestId>mock</RequestId></ErrorResponse>"#
    );
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(body),
    )
}
