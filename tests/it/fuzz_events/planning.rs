//! The planning half of the event fuzzer: a parsed event, a random task definition (hostile
//! docker labels, any network mode) and a random zone (short and very long apexes, three
//! owners) must plan only names strictly inside the zone, each a valid DNS name, marks that
//! are the documented mark of the task's set (checked by the tests' own reading of the mark
//! format, never the crate's ownership rule), and batches the strict Route 53 model
//! accepts, both to publish and to withdraw.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::{mutate, Tally};
use crate::simulated::layout::marks::{cluster_mark_label, label, mark_hash, ReadMark};
use crate::support::strict_zone::StrictZone;
use ecs_srv::config::RoutingPolicy;
use ecs_srv::input::event::TaskEvent;
use ecs_srv::plan::batch::{pack_batches, BatchLimits};
use ecs_srv::plan::desired::{desired_records, RecordSettings};
use ecs_srv::plan::naming::{Transport, ZoneNaming};
use ecs_srv::plan::records::{Change, RecordSet};
use ecs_srv::plan::task::{
    resolve_running_task, ContainerDefinitionFacts, NetworkMode, PortMapping, ResolveError,
    TaskDefinitionFacts,
};
use ecs_srv::plan::unit::Unit;
use ecs_srv::plan::{task_changes, TaskIntent};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rand::rngs::StdRng;
use rand::Rng;

/// Docker labels an operator (or an attacker with a task definition) could set.
fn labels(rng: &mut StdRng, ports: &[u16]) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut keys = vec![
        "ecs-srv.service".to_owned(),
        "ecs-srv.port".to_owned(),
        "ecs-srv.weight".to_owned(),
        "ecs-srv.enable".to_owned(),
    ];
    keys.extend(ports.iter().map(|p| format!("ecs-srv.port.{p}")));
    for key in keys {
        if rng.random_bool(0.3) {
            let value = if key == "ecs-srv.weight" && rng.random_bool(0.5) {
                rng.random_range(0..300).to_string()
            } else {
                mutate::string(rng)
            };
            labels.insert(key, value);
        }
    }
    labels
}

/// A task definition for the event's containers (plus, sometimes, a stranger).
fn definition(event: &TaskEvent, rng: &mut StdRng) -> TaskDefinitionFacts {
    let modes = [
        NetworkMode::Bridge,
        NetworkMode::Host,
        NetworkMode::Awsvpc,
        NetworkMode::None,
    ];
    let mut names: Vec<String> = event
        .detail
        .containers
        .iter()
        .map(|c| c.name.clone())
        .collect();
    if rng.random_bool(0.2) {
        names.push(mutate::ecs_name(rng, 255));
    }
    let containers = names
        .into_iter()
        .map(|name| {
            let mut ports: Vec<u16> = event
                .detail
                .containers
                .iter()
                .filter(|c| c.name == name)
                .flat_map(|c| c.network_bindings.iter().filter_map(|b| b.container_port))
                .collect();
            for _ in 0..rng.random_range(0..3) {
                ports.push(rng.random());
            }
            let port_mappings = ports
                .iter()
                .map(|port| PortMapping {
                    container_port: Some(*port),
                    host_port: rng.random_bool(0.3).then(|| rng.random()),
                    transport: if rng.random_bool(0.2) {
                        Transport::Udp
                    } else {
                        Transport::Tcp
                    },
                    container_port_range: rng.random_bool(0.05).then(|| "8000-8010".to_owned()),
                })
                .collect();
            ContainerDefinitionFacts {
                labels: labels(rng, &ports),
                name,
                port_mappings,
                essential: true,
                health_check: None,
            }
        })
        .collect();
    TaskDefinitionFacts {
        arn: event.detail.task_definition_arn.clone(),
        family: mutate::ecs_name(rng, 255),
        network_mode: modes[rng.random_range(0..modes.len())],
        containers,
    }
}

fn zone_naming(rng: &mut StdRng) -> (ZoneNaming, &'static str) {
    let long = format!(
        "{}.{}.{}.internal.",
        "z".repeat(63),
        "y".repeat(63),
        "x".repeat(63)
    );
    let apexes = [
        "svc.internal.".to_owned(),
        "ecs.prod.eu.example.com.".to_owned(),
        long,
    ];
    let owners = ["ecs-srv", "blue", "abcdefghijklmnopqrstuvwxyz012345"];
    let owner = owners[rng.random_range(0..owners.len())];
    let naming = crate::support::naming_of(&apexes[rng.random_range(0..apexes.len())], owner);
    (naming, owner)
}

/// Plans a parsed event and checks every name, SetIdentifier and batch.
pub fn check_plan(event: &TaskEvent, rng: &mut StdRng, tally: &Tally) -> Result<(), TestCaseError> {
    let (naming, owner) = zone_naming(rng);
    let apex = naming.apex().to_owned();
    let policy = if rng.random_bool(0.5) {
        RoutingPolicy::Weighted
    } else {
        RoutingPolicy::Multivalue
    };
    let settings = RecordSettings {
        naming,
        policy,
        ttl: 10,
        cluster_in_names: false,
    };
    let definition = definition(event, rng);
    let resolution = match resolve_running_task(
        &event.detail,
        &definition,
        Some(Ipv4Addr::new(10, 0, 0, 1).into()),
        rng.random(),
    ) {
        Ok(resolution) => resolution,
        Err(err) => {
            // Refused for one of the documented reasons, never by accident: each says which
            // task, and which input made it refuse.
            prop_assert!(
                err.to_string().contains(event.detail.task_id()),
                "a resolve error that does not name the task: {err}"
            );
            let documented = match &err {
                ResolveError::MissingEniAddress { .. } => {
                    definition.network_mode == NetworkMode::Awsvpc
                }
                ResolveError::MissingHostAddress { .. } => false,
                ResolveError::MissingBindings { .. } => {
                    definition.network_mode == NetworkMode::Bridge
                }
                ResolveError::BadLabel { label, .. } => label.starts_with("ecs-srv."),
                ResolveError::BadClusterArn { .. } => false,
            };
            prop_assert!(
                documented,
                "refused for a reason its input does not explain: {err}"
            );
            Tally::add(&tally.refused_by_planner, 1);
            return Ok(());
        }
    };
    let sets = match desired_records(&resolution.task, &settings) {
        Ok(sets) => sets,
        Err(err) => {
            // Only a name past 253 characters, which only the longest apex can produce.
            prop_assert!(err.len > 253 && apex.len() > 150, "{err}");
            Tally::add(&tally.refused_by_planner, 1);
            return Ok(());
        }
    };
    Tally::add(&tally.planned, 1);
    Tally::add(&tally.record_sets, sets.len());
    for set in &sets {
        let name = &set.name;
        prop_assert!(
            name.ends_with(&format!(".{apex}")),
            "{name} is not strictly inside {apex}"
        );
        prop_assert!(name.len() - 1 <= 253, "{name} is longer than 253");
        let own = &name[..name.len() - apex.len() - 1];
        for label in own.split('.') {
            prop_assert!(
                !label.is_empty() && label.len() <= 63,
                "label {label:?} of {name}"
            );
            prop_assert!(
                label.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'_'),
                "label {label:?} of {name}"
            );
        }
        let id = set.routing.set_identifier().unwrap_or_default();
        prop_assert!(!id.is_empty() && id.len() <= 128, "SetIdentifier {id:?}");
        check_mark(set, owner, event)?;
    }
    let mut zone = StrictZone::new("ZFUZZ", &apex);
    let publish = task_changes(&[], &TaskIntent::Publish(sets.clone()));
    apply(&mut zone, event, publish)?;
    apply(&mut zone, event, task_changes(&sets, &TaskIntent::Withdraw))?;
    prop_assert!(
        zone.record_sets().is_empty(),
        "a withdrawal leaves nothing behind"
    );
    Ok(())
}

fn apply(
    zone: &mut StrictZone,
    event: &TaskEvent,
    changes: Vec<Change>,
) -> Result<(), TestCaseError> {
    let task = Unit::task(event.detail.task_id(), changes);
    let packed = pack_batches(std::slice::from_ref(&task), BatchLimits::ROUTE53);
    // One task's sets are a few short values: no change of them can outgrow a batch.
    prop_assert!(
        packed.oversized.is_empty(),
        "a task's change does not fit a ChangeBatch: {:?}",
        packed.oversized
    );
    let batches = packed.batches;
    for batch in batches {
        let sdk: Vec<_> = batch
            .changes
            .iter()
            .map(|c| ecs_srv::aws::route53::to_sdk_change(c, "ZFUZZ").expect("an SDK change"))
            .collect();
        if let Err(rejection) = zone.apply(&sdk) {
            return Err(TestCaseError::fail(format!(
                "Route 53 would refuse the plan: {rejection:?}"
            )));
        }
    }
    Ok(())
}

/// The SetIdentifier is the documented mark of one of the task's sets: this owner, the
/// task's id, a kind that fits the set's type (and, for its own name, the task's label),
/// the origin of the event's cluster, and the hash of the set's own name and type.
fn check_mark(set: &RecordSet, owner: &str, event: &TaskEvent) -> Result<(), TestCaseError> {
    let id = set.routing.set_identifier().unwrap_or_default();
    let Some(mark) = ReadMark::parse(id) else {
        return Err(TestCaseError::fail(format!("not a documented mark: {id}")));
    };
    let task_id = event.detail.task_id();
    let record_type = set.record_type.as_str();
    let kind_type = match mark.kind.as_str() {
        "svc" | "task" | "osvc" => "A",
        "svc6" | "task6" | "osvc6" => "AAAA",
        "srv" | "osrv" => "SRV",
        other => return Err(TestCaseError::fail(format!("kind {other} in {id}"))),
    };
    let own_name = set.name.split('.').next() == Some(label(task_id, 63).as_str());
    prop_assert_eq!(&mark.owner, owner, "{}", id);
    prop_assert_eq!(&mark.id, task_id, "{}", id);
    prop_assert_eq!(kind_type, record_type, "{}", id);
    prop_assert_eq!(
        mark.kind.starts_with("task"),
        own_name,
        "{} at {}",
        id,
        set.name
    );
    // `arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME`, as the event gives it.
    let arn: Vec<&str> = event.detail.cluster_arn.splitn(6, ':').collect();
    let cluster = arn[5].trim_start_matches("cluster/");
    let origin = format!(
        "{}.{}.{}",
        cluster_mark_label(cluster, arn[3], arn[4]),
        arn[3],
        arn[4]
    );
    prop_assert_eq!(mark.origin.as_deref(), Some(origin.as_str()), "{}", id);
    prop_assert_eq!(&mark.hash, &mark_hash(&set.name, record_type), "{}", id);
    Ok(())
}
