//! The flat layout the documentation promises for a set of running tasks (see the module
//! docs of `layout`): every name a tree would hold shown at its root, every whole set as
//! one set.

use std::collections::{BTreeMap, BTreeSet};

use super::marks::{label, Era};
use super::{DocumentedSet, Layout, Routing};
use crate::simulated::tasks::{host_address, Mode, TaskSpec};

/// The longest label, and the longest port label (its `_` makes the 63rd character).
const LABEL: usize = 63;
const PORT_LABEL: usize = 62;

/// The documented sets of `running`, sorted, with today's marks.
pub fn documented(layout: &Layout, running: &[&TaskSpec]) -> Vec<DocumentedSet> {
    documented_in(layout, running, Era::Today)
}

/// The documented sets of `running` as the version of `era` marked them, sorted (earlier
/// versions wrote the same names and values; latency aliases are today's only).
pub fn documented_in(layout: &Layout, running: &[&TaskSpec], era: Era) -> Vec<DocumentedSet> {
    // A one-off task keeps out of the names and types a service's tasks stand at.
    let service_held: BTreeSet<(String, String)> = running
        .iter()
        .filter(|task| !task.one_off)
        .flat_map(|task| task_sets(layout, task, era))
        .filter(|set| set.kind.starts_with("svc") || set.kind == "srv")
        .map(|set| (set.set.name, set.set.record_type))
        .collect();
    let mut sets: Vec<DocumentedSet> = running
        .iter()
        .flat_map(|task| task_sets(layout, task, era))
        .filter(|set| {
            let shared_one_off = set.kind.starts_with("osvc") || set.kind == "osrv";
            let key = (set.set.name.clone(), set.set.record_type.clone());
            !(shared_one_off && service_held.contains(&key))
        })
        .map(|set| set.set)
        .collect();
    if layout.whole_sets {
        sets.extend(whole_sets(layout, &sets));
    }
    if layout.regional && era == Era::Today {
        sets.extend(latency_aliases(layout, &sets));
    }
    sets.sort();
    sets
}

/// The labels of a task's service: `S`, then `.C` with the cluster in names, then `.R`
/// with regional names.
pub fn service_path(layout: &Layout, task: &TaskSpec) -> String {
    let mut path = label(&task.service, LABEL);
    if layout.cluster_in_names {
        path = format!(
            "{path}.{}",
            label(&task.cluster, super::marks::CLUSTER_NAME_LABEL)
        );
    }
    if layout.regional {
        path = format!("{path}.{}", layout.writer.region);
    }
    path
}

/// `T.S.Z`: the task's own name, the target of its SRV values.
pub fn task_name(layout: &Layout, task: &TaskSpec) -> String {
    format!(
        "{}.{}.{}",
        label(&task.task_id, LABEL),
        service_path(layout, task),
        layout.apex
    )
}

/// The weight of a container: its label, else DEFAULT_WEIGHT.
pub fn container_weight(layout: &Layout, weight: Option<u8>) -> i64 {
    i64::from(weight.unwrap_or(layout.default_weight))
}

/// A task's set with its kind tag.
struct KindedSet {
    kind: &'static str,
    set: DocumentedSet,
}

/// Every set a running task writes, its shared ones included.
fn task_sets(layout: &Layout, task: &TaskSpec, era: Era) -> Vec<KindedSet> {
    let apex = &layout.apex;
    let service_name = format!("{}.{apex}", service_path(layout, task));
    let own_name = task_name(layout, task);
    let routed = |name: &str, record_type: &str, kind: &'static str, weight: i64, value: String| {
        let mark =
            layout
                .writer
                .task_mark(era, &task.task_id, kind, &task.cluster, name, record_type);
        KindedSet {
            kind,
            set: DocumentedSet {
                name: name.to_owned(),
                record_type: record_type.to_owned(),
                routing: if layout.multivalue {
                    Routing::Multivalue
                } else {
                    Routing::Weighted(weight)
                },
                set_identifier: Some(mark),
                ttl: Some(layout.ttl),
                values: vec![value],
                alias: None,
            },
        }
    };
    let highest = task
        .containers
        .iter()
        .map(|c| container_weight(layout, c.weight))
        .max()
        .unwrap_or(i64::from(layout.default_weight));
    let ipv4 = match task.mode {
        Mode::Awsvpc => task.eni_address,
        Mode::Bridge | Mode::Host => host_address(task.host),
    };
    let one_off = task.one_off;
    let mut addresses = vec![(
        "A",
        ipv4.to_string(),
        if one_off { "osvc" } else { "svc" },
        "task",
    )];
    if let Some(ipv6) = task.ipv6.filter(|_| task.mode == Mode::Awsvpc) {
        let shared = if one_off { "osvc6" } else { "svc6" };
        addresses.push(("AAAA", ipv6.to_string(), shared, "task6"));
    }
    let mut sets = Vec::new();
    for (record_type, address, shared_kind, own_kind) in addresses {
        sets.push(routed(
            &service_name,
            record_type,
            shared_kind,
            highest,
            address.clone(),
        ));
        sets.push(routed(&own_name, record_type, own_kind, 1, address));
    }
    for container in &task.containers {
        let weight = container_weight(layout, container.weight);
        let port = match task.mode {
            Mode::Bridge => container.host_port,
            Mode::Host | Mode::Awsvpc => container.container_port,
        };
        let name = format!(
            "_{}._tcp.{service_name}",
            label(&container.name, PORT_LABEL)
        );
        let value = format!("1 {} {port} {own_name}", weight * 256);
        let kind = if one_off { "osrv" } else { "srv" };
        sets.push(routed(&name, "SRV", kind, weight, value));
    }
    sets
}

/// `_P._tcp.S.Z` → `_P._tcp._all.S.Z`.
pub fn whole_set_name(srv_name: &str) -> String {
    let (port, rest) = srv_name.split_once('.').expect("an SRV owner name");
    let (transport, rest) = rest.split_once('.').expect("an SRV owner name");
    format!("{port}.{transport}._all.{rest}")
}

/// Per SRV name that holds tasks, the simple set of every value.
fn whole_sets(layout: &Layout, sets: &[DocumentedSet]) -> Vec<DocumentedSet> {
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for set in sets.iter().filter(|set| set.record_type == "SRV") {
        values
            .entry(whole_set_name(&set.name))
            .or_default()
            .extend(set.values.iter().cloned());
    }
    values
        .into_iter()
        .map(|(name, values)| DocumentedSet {
            name,
            record_type: "SRV".to_owned(),
            routing: Routing::Simple,
            set_identifier: None,
            ttl: Some(layout.ttl),
            values: values.into_iter().collect(),
            alias: None,
        })
        .collect()
}

/// `X.R.Z` → `X.Z`: the name every region shares, for a regional name.
pub fn shared_name(layout: &Layout, regional: &str) -> Option<String> {
    let suffix = format!(".{}.{}", layout.writer.region, layout.apex);
    let prefix = regional.strip_suffix(&suffix)?;
    (!prefix.is_empty()).then(|| format!("{prefix}.{}", layout.apex))
}

/// One latency alias per shared name and type whose regional name holds sets (the
/// service names, SRV names and whole sets; a task's own name is no shared name).
fn latency_aliases(layout: &Layout, sets: &[DocumentedSet]) -> Vec<DocumentedSet> {
    let answering: BTreeSet<(String, String)> = sets
        .iter()
        .filter(|set| {
            let own = set.set_identifier.as_deref().is_some_and(|id| {
                id.split(':')
                    .nth(2)
                    .is_some_and(|kind| kind.starts_with("task"))
            });
            !own
        })
        .map(|set| (set.name.clone(), set.record_type.clone()))
        .collect();
    answering
        .into_iter()
        .filter_map(|(regional, record_type)| {
            let shared = shared_name(layout, &regional)?;
            Some(DocumentedSet {
                set_identifier: Some(layout.writer.latency_mark(&shared, &record_type)),
                name: shared,
                record_type,
                routing: Routing::Latency(layout.writer.region.clone()),
                ttl: None,
                values: Vec::new(),
                alias: Some(regional),
            })
        })
        .collect()
}
