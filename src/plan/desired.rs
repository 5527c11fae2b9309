//! Pure: a running task in, the record sets it should have out. This is the documented
//! record layout (docs/records.md) in code, and the only place that builds an owned set.

use std::collections::BTreeMap;

use crate::plan::naming::marks::task_mark;
use crate::plan::naming::{ClusterId, NameTooLong, RecordRole, ZoneNaming};
use crate::plan::records::{RecordSet, Routing};
use crate::plan::task::RunningTask;

/// Routing policy of the service-wide names (`S.Z` and `_P._tcp.S.Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingPolicy {
    /// One record set per answer, drawn by the task's weight: Route 53 balances.
    Weighted,
    /// Up to eight record sets per answer: the client balances.
    Multivalue,
}

/// Record-writing settings shared by every task.
#[derive(Clone, Debug)]
pub struct RecordSettings {
    /// Names and SetIdentifiers.
    pub naming: ZoneNaming,
    /// Weighted or multivalue for the service names.
    pub policy: RoutingPolicy,
    /// TTL of every set.
    pub ttl: u32,
    /// Whether the cluster is part of the service label (`S.C.Z`), for zones that serve
    /// several clusters whose services share names.
    pub cluster_in_names: bool,
}

impl RecordSettings {
    fn routing(&self, task: &RunningTask, role: RecordRole, name: &str, weight: u8) -> Routing {
        let set_identifier = task_mark(
            self.naming.owner(),
            &task.task_id,
            role,
            &task.cluster,
            name,
        );
        match self.policy {
            RoutingPolicy::Weighted => Routing::Weighted {
                set_identifier,
                weight,
            },
            RoutingPolicy::Multivalue => Routing::Multivalue { set_identifier },
        }
    }

    /// `S.Z` (`S.C.Z`, `S.R.Z`) of a service label: the subtree its records stand in.
    pub fn service_name(
        &self,
        service_label: &str,
        cluster: &ClusterId,
    ) -> Result<String, NameTooLong> {
        self.naming
            .service_name(&self.service_path(service_label, cluster))
    }

    /// The label path of a service in names: `S`, then `.C` with the cluster in names, then
    /// `.R` with regional names.
    fn service_path(&self, service_label: &str, cluster: &ClusterId) -> String {
        let mut path = service_label.to_owned();
        if self.cluster_in_names {
            path = format!("{path}.{}", cluster.name_label());
        }
        if let Some(region) = self.naming.region_label() {
            path = format!("{path}.{region}");
        }
        path
    }

    /// One set of the task's at `name`.
    fn set(
        &self,
        task: &RunningTask,
        role: RecordRole,
        name: &str,
        weight: u8,
        value: String,
    ) -> RecordSet {
        RecordSet {
            routing: self.routing(task, role, name, weight),
            name: name.to_owned(),
            record_type: role.record_type(),
            ttl: self.ttl,
            values: vec![value],
            alias: None,
        }
    }
}

/// The record sets a running task should have, sorted.
///
/// Per service label `S` and per address the task has: `S.Z` A or AAAA (weight: the
/// highest of the task's containers in `S`) and `T.S.Z` A or AAAA; per endpoint:
/// `_P._tcp.S.Z` SRV `1 <weight × 256> <port> T.S.Z.` (see [`srv_weight`]). The per-task
/// name is a routed set of one, not a simple record: the SetIdentifier is what marks
/// every record ecs-srv owns, and a set of one answers exactly like a simple record. The
/// shared names of a one-off task carry the standalone roles, which the planner keeps out
/// of a name that a service's tasks hold.
pub fn desired_records(
    task: &RunningTask,
    settings: &RecordSettings,
) -> Result<Vec<RecordSet>, NameTooLong> {
    let naming = &settings.naming;
    let task_label = crate::plan::naming::dns_label(&task.task_id);
    let services = services_of(task);
    let mut sets = Vec::new();
    for (service, (weight, member)) in &services {
        let path = settings.service_path(service, &task.cluster);
        let service_name = naming.service_name(&path)?;
        let task_name = naming.task_name(&task_label, &path)?;
        for (address, service_role, task_role) in task_addresses(task, *member) {
            sets.push(settings.set(task, service_role, &service_name, *weight, address.clone()));
            sets.push(settings.set(task, task_role, &task_name, 1, address));
        }
    }
    for endpoint in &task.endpoints {
        let path = settings.service_path(&endpoint.service_label, &task.cluster);
        let name = naming.srv_name(&endpoint.port_label, endpoint.transport, &path)?;
        let target = naming.task_name(&task_label, &path)?;
        let member = services
            .get(endpoint.service_label.as_str())
            .is_some_and(|(_, member)| *member);
        let role = if member {
            RecordRole::ServicePort
        } else {
            RecordRole::StandalonePort
        };
        let value = format!(
            "1 {} {} {target}",
            srv_weight(endpoint.weight),
            endpoint.port
        );
        sets.push(settings.set(task, role, &name, endpoint.weight, value));
    }
    sets.sort();
    Ok(sets)
}

/// Per service label of the task: the highest weight of its endpoints there, and whether
/// any of them joins the service.
fn services_of(task: &RunningTask) -> BTreeMap<&str, (u8, bool)> {
    let mut services: BTreeMap<&str, (u8, bool)> = BTreeMap::new();
    for endpoint in &task.endpoints {
        let entry = services
            .entry(&endpoint.service_label)
            .or_insert((0, false));
        entry.0 = entry.0.max(endpoint.weight);
        entry.1 |= endpoint.joins_service;
    }
    services
}

/// The SRV weight field for a weight label (0–255): the label × 256, so 0 stays 0 and
/// 255 gives 65,280 (the field holds 65,535).
///
/// HAProxy turns an SRV weight `w` into a server weight `(w + 255) / 256`, so the labels
/// themselves (1–255) would all become 1 there; scaled, HAProxy keeps the ratios, and RFC
/// 2782 clients, which only compare weights, see the same ratios as before. The Route 53
/// routing weight of a weighted set stays the label.
pub fn srv_weight(label: u8) -> u16 {
    u16::from(label) * 256
}

/// The address records a task's names carry: A for its IPv4 address, AAAA for its IPv6
/// address, each with the roles that mark them as ours (a one-off task's shared name
/// carries the standalone role).
fn task_addresses(task: &RunningTask, member: bool) -> Vec<(String, RecordRole, RecordRole)> {
    let (shared4, shared6) = if member {
        (RecordRole::ServiceAddress, RecordRole::ServiceAddress6)
    } else {
        (
            RecordRole::StandaloneAddress,
            RecordRole::StandaloneAddress6,
        )
    };
    let ipv4 = task
        .ipv4
        .map(|ip| (ip.to_string(), shared4, RecordRole::TaskAddress));
    let ipv6 = task
        .ipv6
        .map(|ip| (ip.to_string(), shared6, RecordRole::TaskAddress6));
    ipv4.into_iter().chain(ipv6).collect()
}
