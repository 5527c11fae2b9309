//! The pure planner over every sample event in `events/`: each running sample plans to
//! exactly the records the README's layout promises, with no network at all (the IPv6
//! samples' A and AAAA expectations are in `ipv6.rs`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ecs_srv::config::RoutingPolicy;
use ecs_srv::input::event::parse_task_event;
use ecs_srv::plan::desired::{desired_records, RecordSettings};
use ecs_srv::plan::naming::Transport;
use ecs_srv::plan::records::{RecordType, Routing};
use ecs_srv::plan::task::{
    resolve_running_task, ContainerDefinitionFacts, NetworkMode, PortMapping, ResolveError,
    TaskDefinitionFacts,
};

/// A planned zone: (name, type) → values.
pub type Planned = BTreeMap<(String, RecordType), Vec<String>>;

const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 7);

fn settings(policy: RoutingPolicy) -> RecordSettings {
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
fn definition_for(sample: &str) -> TaskDefinitionFacts {
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

fn parse(sample: &str) -> ecs_srv::input::event::TaskEvent {
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
            assert!(
                set.routing
                    .set_identifier()
                    .is_some_and(|id| id.starts_with(&format!("ecs-srv:{task_id}:"))),
                "{set:?}"
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
fn hostile_but_legal_names_stay_single_labels_inside_the_zone() {
    let planned = plan("legal-odd-names-running.json", RoutingPolicy::Weighted);
    assert!(
        planned.contains_key(&(
            "_admin-console._tcp.legacy-api-v2.ecs.internal.".to_owned(),
            RecordType::Srv
        )),
        "{planned:#?}"
    );
    for (name, _) in planned.keys() {
        assert!(name.ends_with(".ecs.internal."), "{name}");
        for label in name.trim_end_matches('.').split('.') {
            assert!(!label.is_empty() && label.len() <= 63, "{name}");
        }
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

#[test]
fn the_planner_explains_what_it_skipped_or_refused() {
    let event = parse("multi-container-running.json");
    let resolution = resolve_running_task(
        &event.detail,
        &definition_for("multi-container-running.json"),
        Some(HOST.into()),
        1,
    )
    .unwrap();
    assert!(
        resolution
            .warnings
            .iter()
            .any(|w| w.contains("relay") && w.contains("port range")),
        "{:?}",
        resolution.warnings
    );

    let mut opted_out = definition_for("bridge-running.json");
    opted_out.containers[0]
        .labels
        .insert("ecs-srv.enable".into(), "false".into());
    let resolution = resolve_running_task(
        &parse("bridge-running.json").detail,
        &opted_out,
        Some(HOST.into()),
        1,
    )
    .unwrap();
    assert!(resolution.task.endpoints.is_empty());

    let mut bad_weight = definition_for("bridge-running.json");
    bad_weight.containers[0]
        .labels
        .insert("ecs-srv.weight".into(), "300".into());
    let err = resolve_running_task(
        &parse("bridge-running.json").detail,
        &bad_weight,
        Some(HOST.into()),
        1,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("ecs-srv.weight=\"300\"") && err.to_string().contains("0 to 255"),
        "{err}"
    );

    let mut no_bindings = parse("bridge-running.json");
    no_bindings.detail.containers[0].network_bindings.clear();
    let err = resolve_running_task(
        &no_bindings.detail,
        &definition_for("bridge-running.json"),
        Some(HOST.into()),
        1,
    )
    .unwrap_err();
    assert!(matches!(err, ResolveError::MissingBindings { .. }), "{err}");

    let err = resolve_running_task(
        &parse("bridge-running.json").detail,
        &definition_for("bridge-running.json"),
        None,
        1,
    )
    .unwrap_err();
    assert!(
        matches!(err, ResolveError::MissingHostAddress { .. }),
        "{err}"
    );
}

#[test]
fn labels_rename_services_and_ports() {
    let mut renamed = definition_for("bridge-running.json");
    renamed.containers[0]
        .labels
        .insert("ecs-srv.service".into(), "Front.End".into());
    renamed.containers[0]
        .labels
        .insert("ecs-srv.port".into(), "http".into());
    let event = parse("bridge-running.json");
    let resolution = resolve_running_task(&event.detail, &renamed, Some(HOST.into()), 1).unwrap();
    let names: Vec<String> = desired_records(&resolution.task, &settings(RoutingPolicy::Weighted))
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(
        names.contains(&"_http._tcp.front-end.ecs.internal.".to_owned()),
        "{names:?}"
    );
}
