//! The pure planner on the sample events' edges: hostile but legal names stay single
//! labels inside the zone, docker labels rename services and ports, and what the planner
//! skips or refuses (port ranges, an opted-out container, a bad weight, missing bindings or
//! host address) it says, naming the input.

use crate::plan_samples::{definition_for, parse, plan, settings, HOST};
use ecs_srv::config::RoutingPolicy;
use ecs_srv::plan::desired::desired_records;
use ecs_srv::plan::records::RecordType;
use ecs_srv::plan::task::{resolve_running_task, ResolveError};

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
