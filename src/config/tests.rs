//! Settings as a user gives them: defaults, checks and the messages that name the variable.

use super::*;
use clap::Parser;

#[derive(Parser)]
struct Harness {
    #[command(flatten)]
    config: Settings,
}

fn parse(args: &[&str]) -> Result<Settings, String> {
    let mut argv = vec!["ecs-srv"];
    argv.extend_from_slice(args);
    Harness::try_parse_from(argv)
        .map(|h| h.config)
        .map_err(|e| e.to_string())
}

#[test]
fn defaults_are_short_weighted_and_keep_whole_sets() {
    let config = parse(&["--hosted-zone-id", "/hostedzone/Z123ABC"]).unwrap();
    assert_eq!(config.hosted_zone_id, "Z123ABC");
    assert_eq!(config.record_ttl, 10);
    assert_eq!(config.routing_policy, RoutingPolicy::Weighted);
    assert!(config.clusters.is_empty());
    assert_eq!(config.default_weight, 1);
    assert_eq!(config.record_owner, "ecs-srv");
    assert!(config.srv_sets, "whole SRV sets are on by default");
    let off = parse(&["--hosted-zone-id", "Z1", "--srv-sets", "off"]).unwrap();
    assert!(!off.srv_sets, "and a value turns them off");
    assert!(config.health_gate);
    assert_eq!(config.route53_write_rate, 5.0);
    let switched = parse(&[
        "--hosted-zone-id",
        "Z1",
        "--health-gate",
        "off",
        "--srv-sets",
        "on",
    ])
    .unwrap();
    assert!(!switched.health_gate && switched.srv_sets);
}

#[test]
fn bad_values_name_the_variable_and_what_it_accepts() {
    for (args, fragment) in [
        (
            vec!["--hosted-zone-id", "zone one"],
            "HOSTED_ZONE_ID must be",
        ),
        (
            vec!["--hosted-zone-id", "Z1", "--record-ttl=-1"],
            "RECORD_TTL must be whole seconds",
        ),
        (
            vec!["--hosted-zone-id", "Z1", "--default-weight", "256"],
            "DEFAULT_WEIGHT must be a whole number from 0 to 255",
        ),
        (
            vec!["--hosted-zone-id", "Z1", "--routing-policy", "latency"],
            "[possible values: weighted, multivalue]",
        ),
        (
            vec!["--hosted-zone-id", "Z1", "--clusters", "a b"],
            "CLUSTERS must list",
        ),
        (
            vec!["--hosted-zone-id", "Z1", "--health-gate", "maybe"],
            "HEALTH_GATE must be on or off",
        ),
        (
            vec!["--hosted-zone-id", "Z1", "--record-owner", "Blue:1"],
            "RECORD_OWNER must be",
        ),
    ] {
        let err = parse(&args).unwrap_err();
        assert!(err.contains(fragment), "{args:?}: {err}");
    }
    assert!(parse(&[]).unwrap_err().contains("--hosted-zone-id"));
}

#[test]
fn named_clusters_are_arns_where_the_deployment_runs() {
    let scope = Scope {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    };
    let config = parse(&[
        "--hosted-zone-id",
        "Z1",
        "--clusters",
        "demo,arn:aws:ecs:us-east-1:123456789012:cluster/prod",
    ])
    .unwrap();
    let arns: Vec<String> = config
        .cluster_ids(&scope)
        .unwrap()
        .iter()
        .map(ClusterId::arn)
        .collect();
    assert_eq!(
        arns,
        [
            "arn:aws:ecs:us-east-1:123456789012:cluster/demo",
            "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
        ]
    );
    let elsewhere = parse(&[
        "--hosted-zone-id",
        "Z1",
        "--clusters",
        "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
    ])
    .unwrap();
    let err = elsewhere.cluster_ids(&scope).unwrap_err();
    assert!(
        err.contains("eu-west-1") && err.contains("us-east-1"),
        "{err}"
    );
}

#[test]
fn zone_role_and_regional_names_are_read_and_checked() {
    let config = parse(&[
        "--hosted-zone-id",
        "Z1",
        "--zone-role-arn",
        "arn:aws:iam::111122223333:role/ecs-srv-zone",
        "--zone-role-external-id",
        "shared-secret",
        "--regional-names",
        "on",
        "--record-domain",
        "ECS.Example.Internal",
    ])
    .unwrap();
    let role = config.zone_role().expect("a role");
    assert_eq!(role.arn, "arn:aws:iam::111122223333:role/ecs-srv-zone");
    assert_eq!(role.external_id.as_deref(), Some("shared-secret"));
    assert!(config.regional_names);
    assert_eq!(config.record_domain, "ecs.example.internal.");
    let defaults = parse(&["--hosted-zone-id", "Z1"]).unwrap();
    assert!(defaults.zone_role().is_none() && !defaults.regional_names);
    for (args, fragment) in [
        (vec!["--zone-role-arn", "role/x"], "ZONE_ROLE_ARN must be"),
        (
            vec!["--zone-role-external-id", "a b"],
            "ZONE_ROLE_EXTERNAL_ID must be",
        ),
        (
            vec!["--regional-names", "sometimes"],
            "REGIONAL_NAMES must be on or off",
        ),
        (
            vec!["--record-domain", "bad_label.x"],
            "RECORD_DOMAIN must be",
        ),
    ] {
        let mut argv = vec!["--hosted-zone-id", "Z1"];
        argv.extend(args.iter().copied());
        let err = parse(&argv).unwrap_err();
        assert!(err.contains(fragment), "{argv:?}: {err}");
    }
}

#[test]
fn the_packer_needs_its_work_queue_and_no_zone() {
    let url = "https://sqs.us-east-1.amazonaws.com/123456789012/ecs-srv-work.fifo";
    let packer = parse(&["--pack-into-queue-url", url]).expect("no zone needed");
    assert_eq!(packer.pack_into_queue_url.as_deref(), Some(url));
    assert_eq!(packer.hosted_zone_id, "", "the packer is given no zone");
    let standard = "https://sqs.us-east-1.amazonaws.com/123456789012/ecs-srv-inbox";
    let err = parse(&["--pack-into-queue-url", standard]).unwrap_err();
    assert!(
        err.contains("PACK_INTO_QUEUE_URL must be the URL of a FIFO queue"),
        "{err}"
    );
    let writer = parse(&["--hosted-zone-id", "Z1"]).expect("the writer");
    assert_eq!(
        writer.pack_into_queue_url, None,
        "the writer is the default"
    );
}
