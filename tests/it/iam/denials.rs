//! The evaluator says no where IAM says no: requests built as they cross the wire, read
//! like the recorded ones, against the function's policy with a RecordDomain and a cluster
//! filter. Each denial has an allowed twin, so that no denial passes for a blanket "no";
//! and what the evaluator does not know stops the test.

use serde_json::{json, Value};

use super::evaluate::allowed;
use super::requests::{authorisation, Authorisation, IamRequest};
use crate::support::http::Request;
use crate::support::signed_request::SignedRequest;
use crate::support::{ACCOUNT, REGION};
use crate::template::{role_statements, template};
use crate::template_env::Stack;

const ZONE: &str = "Z0123456789ABCDEFGHIJ";
const PROD: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

fn policy() -> Vec<Value> {
    let template = template();
    let stack = Stack::new(
        &template,
        &[
            ("HostedZoneId", ZONE),
            ("RecordDomain", "svc.example.internal"),
            ("ClusterArns", PROD),
        ],
    );
    role_statements(&stack, "PublisherRole")
}

/// A request as the SDK signs it, read by the proxy's reader.
fn wire(
    service: &str,
    region: &str,
    line: (&str, &str),
    target: Option<&str>,
    body: &str,
) -> Result<SignedRequest, String> {
    let credential = format!("testing/20261207/{region}/{service}/aws4_request");
    let mut headers = vec![(
        "Authorization".to_owned(),
        format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=00"),
    )];
    headers.extend(target.map(|t| ("X-Amz-Target".to_owned(), t.to_owned())));
    let request = Request {
        method: line.0.to_owned(),
        path: line.1.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    };
    SignedRequest::parse(&request)
}

fn iam(request: Result<SignedRequest, String>) -> IamRequest {
    match authorisation(&request.expect("a readable request"), ACCOUNT) {
        Authorisation::Needs(iam) => iam,
        Authorisation::Free(why) => panic!("needs no permission: {why}"),
    }
}

fn changes(zone: &str, changes: &[(&str, &str, &str)]) -> IamRequest {
    let body: String = changes
        .iter()
        .map(|(action, name, kind)| {
            format!("<Change><Action>{action}</Action><ResourceRecordSet><Name>{name}</Name><Type>{kind}</Type><TTL>10</TTL></ResourceRecordSet></Change>")
        })
        .collect();
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes>{body}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"#
    );
    let path = format!("/2013-04-01/hostedzone/{zone}/rrset");
    iam(wire("route53", REGION, ("POST", &path), None, &body))
}

fn describe_tasks(cluster: &str) -> IamRequest {
    let body = json!({ "cluster": cluster, "tasks": ["0123456789abcdef0123456789abcdef"] });
    let target = "AmazonEC2ContainerServiceV20141113.DescribeTasks";
    iam(wire(
        "ecs",
        REGION,
        ("POST", "/"),
        Some(target),
        &body.to_string(),
    ))
}

fn describe_instances(region: &str) -> IamRequest {
    let body = "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=instance-id";
    iam(wire("ec2", region, ("POST", "/"), None, body))
}

fn list_records(zone: &str) -> IamRequest {
    let path = format!("/2013-04-01/hostedzone/{zone}/rrset?name=svc.example.internal.");
    iam(wire("route53", REGION, ("GET", &path), None, ""))
}

#[test]
fn the_domain_and_the_record_kinds_bound_every_change_of_a_batch() {
    let policy = policy();
    let srv = ("CREATE", "_web._tcp.web.svc.example.internal.", "SRV");
    assert!(allowed(
        &policy,
        &changes(ZONE, &[srv, ("DELETE", "Web.Svc.Example.Internal.", "A")])
    )
    .is_ok());
    let txt = ("DELETE", "web.svc.example.internal.", "TXT");
    assert!(
        allowed(&policy, &changes(ZONE, &[txt])).is_err(),
        "a TXT record"
    );
    assert!(
        allowed(&policy, &changes(ZONE, &[srv, txt])).is_err(),
        "one change of the batch is enough"
    );
    let upsert = ("UPSERT", "web.svc.example.internal.", "A");
    assert!(
        allowed(&policy, &changes(ZONE, &[upsert])).is_err(),
        "an UPSERT"
    );
    let outside = ("CREATE", "web.example.internal.", "A");
    assert!(
        allowed(&policy, &changes(ZONE, &[outside])).is_err(),
        "a name outside RecordDomain"
    );
    let apex = ("CREATE", "svc.example.internal.", "A");
    assert!(
        allowed(&policy, &changes(ZONE, &[apex])).is_err(),
        "the domain's own name"
    );
    assert!(
        allowed(&policy, &changes("ZOTHERZONE", &[srv])).is_err(),
        "another zone"
    );
}

#[test]
fn another_zone_cluster_or_region_is_refused() {
    let policy = policy();
    assert!(allowed(&policy, &list_records(ZONE)).is_ok());
    assert!(
        allowed(&policy, &list_records("ZOTHERZONE")).is_err(),
        "another zone"
    );
    assert!(allowed(&policy, &describe_tasks(PROD)).is_ok());
    assert!(
        allowed(&policy, &describe_tasks("prod")).is_ok(),
        "a cluster named, not its ARN"
    );
    let staging = PROD.replace("prod", "staging");
    assert!(
        allowed(&policy, &describe_tasks(&staging)).is_err(),
        "another cluster"
    );
    assert!(allowed(&policy, &describe_instances(REGION)).is_ok());
    assert!(
        allowed(&policy, &describe_instances("eu-west-1")).is_err(),
        "another region"
    );
}

#[test]
fn what_the_reader_cannot_name_is_an_error_that_names_it() {
    let error = wire(
        "route53",
        REGION,
        ("GET", "/2013-04-01/change/C0123"),
        None,
        "",
    )
    .unwrap_err();
    assert!(error.contains("GET /2013-04-01/change/C0123"), "{error}");
    let unsigned = Request {
        method: "POST".into(),
        path: "/".into(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    assert!(SignedRequest::parse(&unsigned)
        .unwrap_err()
        .contains("not signed"));
    let who = wire(
        "sts",
        REGION,
        ("POST", "/"),
        None,
        "Action=GetCallerIdentity&Version=2011-06-15",
    );
    assert!(matches!(
        authorisation(&who.unwrap(), ACCOUNT),
        Authorisation::Free(_)
    ));
}

#[test]
#[should_panic(expected = "does not know the condition operator NumericLessThan")]
fn an_operator_it_does_not_know_stops_the_test() {
    let statement = json!({
        "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*",
        "Condition": { "NumericLessThan": { "aws:MultiFactorAuthAge": "3600" } }
    });
    let _ = allowed(&[statement], &describe_instances(REGION));
}

#[test]
#[should_panic(expected = "does not know the statement element NotResource")]
fn an_element_it_does_not_know_stops_the_test() {
    let statement =
        json!({ "Effect": "Allow", "Action": "ec2:*", "NotResource": "arn:aws:s3:::x" });
    let _ = allowed(&[statement], &describe_instances(REGION));
}
