//! The one ownership rule: marks of this deployment are ours, everything else is not,
//! however much it looks alike.

use super::*;
use crate::plan::naming::marks::{branch_mark, latency_mark, task_mark, MAX_SET_IDENTIFIER_LEN};
use crate::plan::naming::{testing, ClusterId, RecordRole, Scope};

const NAME: &str = "_web._tcp.web.ecs.internal.";

fn prod(region: &str, account: &str) -> ClusterId {
    ClusterId::from_arn(&format!("arn:aws:ecs:{region}:{account}:cluster/prod")).unwrap()
}

fn srv(name: &str, set_identifier: String) -> RecordSet {
    RecordSet {
        name: name.to_owned(),
        record_type: RecordType::Srv,
        routing: Routing::Weighted {
            set_identifier,
            weight: 1,
        },
        ttl: 10,
        values: vec!["1 256 80 t1.web.ecs.internal.".to_owned()],
        alias: None,
    }
}

fn naming_with(owner: &str, scope: Scope, clusters: Vec<ClusterId>) -> ZoneNaming {
    let identity = Identity {
        owner: owner.to_owned(),
        scope,
        clusters,
    };
    ZoneNaming::new("ecs.internal.", identity, false)
}

#[test]
fn a_task_mark_is_ours_only_here_and_on_its_own_name() {
    let zone = testing::naming("ecs.internal.");
    let here = prod("us-east-1", "123456789012");
    let mark = task_mark("ecs-srv", "t1", RecordRole::ServicePort, &here, NAME);
    assert_eq!(
        mark,
        format!(
            "ecs-srv:t1:srv:prod.us-east-1.123456789012:{}",
            &mark[mark.len() - 8..]
        )
    );
    assert_eq!(
        ownership(&zone, &srv(NAME, mark.clone())),
        Ownership::Task("t1".into())
    );
    // The same mark on another name, of another type, in another zone: not ours.
    assert_eq!(
        ownership(&zone, &srv("_api._tcp.web.ecs.internal.", mark.clone())),
        Ownership::Foreign
    );
    let mut as_a = srv(NAME, mark.clone());
    as_a.record_type = RecordType::A;
    assert_eq!(ownership(&zone, &as_a), Ownership::Foreign);
    assert_eq!(
        ownership(&zone, &srv("_web._tcp.web.other.", mark.clone())),
        Ownership::Foreign
    );
    assert_eq!(
        ownership(&zone, &srv(NAME, "manual-1".into())),
        Ownership::Foreign
    );
    assert_eq!(
        ownership(&zone, &srv(NAME, format!("{mark}:x"))),
        Ownership::Foreign
    );
    let blue = naming_with("blue", testing::scope(), Vec::new());
    assert_eq!(
        ownership(&blue, &srv(NAME, mark)),
        Ownership::Foreign,
        "another owner's"
    );
}

#[test]
fn prod_of_another_region_or_account_is_somebody_elses() {
    let zone = testing::naming("ecs.internal.");
    for (region, account) in [("eu-west-1", "123456789012"), ("us-east-1", "210987654321")] {
        let there = prod(region, account);
        let mark = task_mark("ecs-srv", "t2", RecordRole::ServicePort, &there, NAME);
        assert_eq!(
            ownership(&zone, &srv(NAME, mark)),
            Ownership::Foreign,
            "{region} {account}"
        );
    }
}

#[test]
fn named_clusters_own_only_their_own_tasks() {
    let scope = testing::scope();
    let prod_only = naming_with(
        "ecs-srv",
        scope.clone(),
        vec![prod("us-east-1", "123456789012")],
    );
    let staging = ClusterId {
        scope,
        name: "staging".into(),
    };
    let theirs = task_mark("ecs-srv", "t3", RecordRole::ServicePort, &staging, NAME);
    assert_eq!(
        ownership(&prod_only, &srv(NAME, theirs)),
        Ownership::Foreign
    );
    let ours = task_mark(
        "ecs-srv",
        "t4",
        RecordRole::ServicePort,
        &prod("us-east-1", "123456789012"),
        NAME,
    );
    assert_eq!(
        ownership(&prod_only, &srv(NAME, ours)),
        Ownership::Task("t4".into())
    );
}

#[test]
fn marks_of_older_versions_are_ours_to_replace() {
    let zone = testing::naming("ecs.internal.");
    let current = task_mark(
        "ecs-srv",
        "t5",
        RecordRole::ServicePort,
        &prod("us-east-1", "123456789012"),
        NAME,
    );
    let hash = current[current.len() - 8..].to_owned();
    for legacy in [
        format!("ecs-srv:t5:srv:{hash}"),
        format!("ecs-srv:t5:srv:prod:{hash}"),
    ] {
        let set = srv(NAME, legacy.clone());
        assert_eq!(
            ownership(&zone, &set),
            Ownership::Task("t5".into()),
            "{legacy}"
        );
        assert!(is_legacy(&set));
    }
    assert!(!is_legacy(&srv(NAME, current.clone())));
    let staging_only = naming_with(
        "ecs-srv",
        testing::scope(),
        vec![ClusterId {
            scope: testing::scope(),
            name: "staging".into(),
        }],
    );
    let set = srv(NAME, format!("ecs-srv:t5:srv:prod:{hash}"));
    assert_eq!(
        ownership(&staging_only, &set),
        Ownership::Foreign,
        "a legacy mark of another cluster"
    );
}

#[test]
fn aliases_are_ours_when_they_aim_where_their_mark_says() {
    let zone = testing::naming("ecs.internal.");
    let root = "web.ecs.internal.";
    let alias = |set_identifier: String, target: &str| RecordSet {
        name: root.to_owned(),
        record_type: RecordType::A,
        routing: Routing::Weighted {
            set_identifier,
            weight: 3,
        },
        ttl: 0,
        values: Vec::new(),
        alias: Some(target.to_owned()),
    };
    let mark = branch_mark("ecs-srv", &testing::scope(), root, RecordType::A, 2);
    assert_eq!(
        ownership(&zone, &alias(mark.clone(), "_b2.web.ecs.internal.")),
        Ownership::Branch
    );
    assert_eq!(
        ownership(&zone, &alias(mark, "_b3.web.ecs.internal.")),
        Ownership::Foreign
    );
    let mut elsewhere = testing::scope();
    elsewhere.region = "eu-west-1".into();
    let theirs = branch_mark("ecs-srv", &elsewhere, root, RecordType::A, 2);
    assert_eq!(
        ownership(&zone, &alias(theirs, "_b2.web.ecs.internal.")),
        Ownership::Foreign
    );
}

#[test]
fn a_latency_alias_is_ours_for_our_region_aiming_at_our_regional_name() {
    let identity = testing::naming("ecs.internal.").identity().clone();
    let zone = ZoneNaming::new("ecs.internal.", identity, true);
    let shared = "web.ecs.internal.";
    let latency = |region: &str, target: &str, scope: &Scope| RecordSet {
        name: shared.to_owned(),
        record_type: RecordType::A,
        routing: Routing::Latency {
            set_identifier: latency_mark("ecs-srv", scope, shared, RecordType::A),
            region: region.to_owned(),
        },
        ttl: 0,
        values: Vec::new(),
        alias: Some(target.to_owned()),
    };
    let ours = testing::scope();
    assert_eq!(
        ownership(
            &zone,
            &latency("us-east-1", "web.us-east-1.ecs.internal.", &ours)
        ),
        Ownership::Latency
    );
    let mut eu = testing::scope();
    eu.region = "eu-west-1".into();
    assert_eq!(
        ownership(
            &zone,
            &latency("eu-west-1", "web.eu-west-1.ecs.internal.", &eu)
        ),
        Ownership::Foreign
    );
}

#[test]
fn the_longest_mark_fits_route53s_128_characters() {
    let owner = "o".repeat(32);
    let task = "0123456789abcdef0123456789abcdef0123";
    let cluster = ClusterId::from_arn(&format!(
        "arn:aws:ecs:ap-southeast-2:123456789012:cluster/{}",
        "Very_Long_Cluster_Name".repeat(10)
    ))
    .unwrap();
    let mark = task_mark(&owner, task, RecordRole::StandaloneAddress6, &cluster, NAME);
    assert!(
        mark.len() <= MAX_SET_IDENTIFIER_LEN,
        "{} characters: {mark}",
        mark.len()
    );
    let short = prod("us-east-1", "123456789012");
    assert_eq!(short.mark_label(), "prod", "a short name reads as itself");
}
