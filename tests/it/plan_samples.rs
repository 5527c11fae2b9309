//! The pure planner over every sample event in `events/`: each running sample plans to
//! exactly the records the README's layout promises, each marked with the documented mark
//! (`simulated::layout::marks`), with no network at all (the IPv6 samples' A and AAAA
//! expectations are in `ipv6.rs`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::simulated::layout::marks::{label, Era, Writer};
use ecs_srv::config::RoutingPolicy;
use ecs_srv::input::event::parse_task_event;
use ecs_srv::plan::desired::{desired_records, RecordSettings};
use ecs_srv::plan::naming::Transport;
use ecs_srv::plan::records::{RecordSet, RecordType, Routing};
use ecs_srv::plan::task::{
    resolve_running_task, ContainerDefinitionFacts, NetworkMode, PortMapping, TaskDefinitionFacts,
};

/// A planned zone: (name, type) → values.
pub type Planned = BTreeMap<(String, RecordType), Vec<String>>;

pub const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);

pub fn settings(policy: RoutingPolicy) -> RecordSettings {
    RecordSettings {
        naming: crate::support::naming("ecs.internal."),
        policy,
        ttl: 10,
        cluster_in_names: false,
    }
}

fn container(
    name: &str,
    ports: &[(u16, Transport)],
    labels: &[(&str, &str)],
) -> ContainerDefinitionFacts {
    ContainerDefinitionFacts {
        name: name.to_owned(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        port_mappings: ports
            .iter()
            .map(|(port, transport)| PortMapping {
                container_port: Some(*port),
                host_port: None,
                transport: *transport,
                container_port_range: None,
            })
            .collect(),
        essential: true,
        health_check: None,
    }
}

/// The task definitions the samples were "registered" with.
pub fn definition_for(sample: &str) -> TaskDefinitionFacts {
    use Transport::*;
    let (family, mode, containers) = match sample {
        "awsvpc-ec2-running.json" => (
            "worker",
            NetworkMode::Awsvpc,
            vec![container("worker", &[(8080, Tcp)], &[])],
        ),
        "bridge-running.json" => (
            "web",
            NetworkMode::Bridge,
            vec![container("web", &[(80, Tcp)], &[])],
        ),
        "family-group-running.json" => (
            "batch-job",
            NetworkMode::Bridge,
            vec![container("job", &[(8000, Tcp)], &[])],
        ),
        "fargate-running.json" => (
            "api",
            NetworkMode::Awsvpc,
            vec![container("api", &[(8080, Tcp)], &[])],
        ),
        "fargate-dualstack-running.json" => (
            "payments",
            NetworkMode::Awsvpc,
            vec![container("payments", &[(8443, Tcp)], &[])],
        ),
        "fargate-ipv6-running.json" => (
            "ledger",
            NetworkMode::Awsvpc,
            vec![container("ledger", &[(9000, Tcp)], &[])],
        ),
        "host-running.json" => (
            "metrics",
            NetworkMode::Host,
            vec![container("exporter", &[(9100, Tcp)], &[])],
        ),
        "legal-odd-names-running.json" => {
            let long = parse(sample).detail.containers[1].name.clone();
            (
                "legacy",
                NetworkMode::Bridge,
                vec![
                    container("_admin_Console", &[(8443, Tcp)], &[]),
                    container(&long, &[(7000, Tcp)], &[]),
                ],
            )
        }
        "multi-container-running.json" => (
            "shop",
            NetworkMode::Bridge,
            vec![
                container(
                    "app",
                    &[(8080, Tcp), (9090, Tcp)],
                    &[("ecs-srv.port.9090", "metrics"), ("ecs-srv.weight", "5")],
                ),
                container("dns", &[(53, Udp)], &[]),
                container("sidecar", &[], &[]),
                container("relay", &[], &[]),
            ],
        ),
        other => panic!("no task definition for sample {other}"),
    };
    TaskDefinitionFacts {
        arn: format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:1"),
        family: family.to_owned(),
        network_mode: mode,
        containers,
    }
}

pub fn parse(sample: &str) -> ecs_srv::input::event::TaskEvent {
    let path = format!("{}/events/{sample}", env!("CARGO_MANIFEST_DIR"));
    parse_task_event(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{sample}: {e}"))
}

/// (name, type) → values of the plan for a sample, with the task id shown as `T`.
pub fn plan(sample: &str, policy: RoutingPolicy) -> Planned {
    let event = parse(sample);
    let resolution =
        resolve_running_task(&event.detail, &definition_for(sample), Some(HOST.into()), 1).unwrap();
    let task_id = event.detail.task_id().to_owned();
    desired_records(&resolution.task, &settings(policy))
        .unwrap()
        .into_iter()
        .map(|set| {
            assert_eq!(
                set.routing.set_identifier(),
                Some(documented_mark(&event, &set).as_str()),
                "{sample}: {set:?}"
            );
            let values = set
                .values
                .iter()
                .map(|v| v.replace(&task_id, "T"))
                .collect();
            ((set.name.replace(&task_id, "T"), set.record_type), values)
        })
        .collect()
}

/// The documented mark of a sample task's set (`simulated::layout::marks`): its kind from
/// its name and type (`task` for the task's own name, `svc`, `svc6` or `srv` at a shared
/// name, `o…` for a task outside a service), its cluster's origin from the event's ARN.
fn documented_mark(event: &ecs_srv::input::event::TaskEvent, set: &RecordSet) -> String {
    let task_id = event.detail.task_id();
    let own = set.name.split('.').next() == Some(label(task_id, 63).as_str());
    let member = event
        .detail
        .group
        .as_deref()
        .is_some_and(|g| g.starts_with("service:"));
    let kind = match (own, set.record_type, member) {
        (true, RecordType::Aaaa, _) => "task6",
        (true, _, _) => "task",
        (false, RecordType::A, true) => "svc",
        (false, RecordType::A, false) => "osvc",
        (false, RecordType::Aaaa, true) => "svc6",
        (false, RecordType::Aaaa, false) => "osvc6",
        (false, RecordType::Srv, true) => "srv",
        (false, RecordType::Srv, false) => "osrv",
    };
    let arn: Vec<&str> = event.detail.cluster_arn.splitn(6, ':').collect();
    let writer = Writer {
        owner: "ecs-srv".to_owned(),
        region: arn[3].to_owned(),
        account: arn[4].to_owned(),
    };
    let cluster = arn[5].trim_start_matches("cluster/");
    let record_type = set.record_type.as_str();
    writer.task_mark(Era::Today, task_id, kind, cluster, &set.name, record_type)
}

pub fn expect(entries: &[(&str, RecordType, &str)]) -> Planned {
    entries
        .iter()
        .map(|(name, kind, value)| ((name.to_string(), *kind), vec![value.to_string()]))
        .collect()
}

#[test]
fn every_running_sample_plans_to_the_documented_layout() {
    use RecordType::{Srv, A};
    let cases: Vec<(&str, Planned)> = vec![
        (
            "bridge-running.json",
            expect(&[
                (
                    "_web._tcp.web.ecs.internal.",
                    Srv,
                    "1 256 32768 T.web.ecs.internal.",
                ),
                ("web.ecs.internal.", A, "10.0.0.7"),
                ("T.web.ecs.internal.", A, "10.0.0.7"),
            ]),
        ),
        (
            "host-running.json",
            expect(&[
                (
                    "_exporter._tcp.metrics.ecs.internal.",
                    Srv,
                    "1 256 9100 T.metrics.ecs.internal.",
                ),
                ("metrics.ecs.internal.", A, "10.0.0.7"),
                ("T.metrics.ecs.internal.", A, "10.0.0.7"),
            ]),
        ),
        (
            "awsvpc-ec2-running.json",
            expect(&[
                (
                    "_worker._tcp.worker.ecs.internal.",
                    Srv,
                    "1 256 8080 T.worker.ecs.internal.",
                ),
                ("worker.ecs.internal.", A, "10.0.1.25"),
                ("T.worker.ecs.internal.", A, "10.0.1.25"),
            ]),
        ),
        (
            "fargate-running.json",
            expect(&[
                (
                    "_api._tcp.api.ecs.internal.",
                    Srv,
                    "1 256 8080 T.api.ecs.internal.",
                ),
                ("api.ecs.internal.", A, "10.0.2.40"),
                ("T.api.ecs.internal.", A, "10.0.2.40"),
            ]),
        ),
        (
            "family-group-running.json",
            expect(&[
                (
                    "_job._tcp.batch-job.ecs.internal.",
                    Srv,
                    "1 256 32769 T.batch-job.ecs.internal.",
                ),
                ("batch-job.ecs.internal.", A, "10.0.0.7"),
                ("T.batch-job.ecs.internal.", A, "10.0.0.7"),
            ]),
        ),
        (
            "multi-container-running.json",
            expect(&[
                (
                    "_app-8080._tcp.shop.ecs.internal.",
                    Srv,
                    "1 1280 32770 T.shop.ecs.internal.",
                ),
                (
                    "_metrics._tcp.shop.ecs.internal.",
                    Srv,
                    "1 1280 32771 T.shop.ecs.internal.",
                ),
                (
                    "_dns._udp.shop.ecs.internal.",
                    Srv,
                    "1 256 32772 T.shop.ecs.internal.",
                ),
                ("shop.ecs.internal.", A, "10.0.0.7"),
                ("T.shop.ecs.internal.", A, "10.0.0.7"),
            ]),
        ),
    ];
    for (sample, expected) in cases {
        assert_eq!(plan(sample, RoutingPolicy::Weighted), expected, "{sample}");
    }
}

/// HAProxy maps an SRV weight `w` to `(w + 255) / 256`: labels 1 to 255 written as they are
/// would all become 1 there. The SRV field carries the label × 256 (0 stays 0, 255 fits
/// the 16-bit field), and the Route 53 routing weight of the set stays the label.
#[test]
fn srv_weights_are_the_label_times_256_and_routing_weights_the_label() {
    for (label, srv_field) in [(0u8, 0u16), (1, 256), (3, 768), (255, 65_280)] {
        assert_eq!(
            ecs_srv::plan::desired::srv_weight(label),
            srv_field,
            "label {label}"
        );
        let mut definition = definition_for("bridge-running.json");
        definition.containers[0]
            .labels
            .insert("ecs-srv.weight".into(), label.to_string());
        let event = parse("bridge-running.json");
        let resolution =
            resolve_running_task(&event.detail, &definition, Some(HOST.into()), 1).unwrap();
        let sets = desired_records(&resolution.task, &settings(RoutingPolicy::Weighted)).unwrap();
        let srv = sets
            .iter()
            .find(|s| s.record_type == RecordType::Srv)
            .expect("an SRV set");
        let fields: Vec<&str> = srv.values[0].split(' ').collect();
        assert_eq!(fields[1], srv_field.to_string(), "{srv:?}");
        assert!(
            matches!(srv.routing, Routing::Weighted { weight, .. } if weight == label),
            "the routing weight stays the label: {srv:?}"
        );
    }
}

#[test]
fn multivalue_switches_every_name_to_multivalue_answers() {
    let event = parse("bridge-running.json");
    let resolution = resolve_running_task(
        &event.detail,
        &definition_for("bridge-running.json"),
        Some(HOST.into()),
        1,
    )
    .unwrap();
    let sets = desired_records(&resolution.task, &settings(RoutingPolicy::Multivalue)).unwrap();
    assert!(
        sets.iter()
            .all(|s| matches!(s.routing, Routing::Multivalue { .. })),
        "{sets:#?}"
    );
}
