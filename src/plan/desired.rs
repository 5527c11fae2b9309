//! Pure: a running task in, the record sets it should have out. This is the documented
//! record layout (README, "Records") in code, and the only place that builds an owned set.

use std::collections::BTreeMap;

use crate::config::RoutingPolicy;
use crate::plan::naming::{NameTooLong, RecordRole, ZoneNaming};
use crate::plan::records::{RecordSet, RecordType, Routing};
use crate::plan::task::RunningTask;

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
        let set_identifier = self
            .naming
            .set_identifier(&task.task_id, role, &task.cluster, name);
        match self.policy {
            RoutingPolicy::Weighted => Routing::Weighted {
                set_identifier,
                weight,
            },
            RoutingPolicy::Multivalue => Routing::Multivalue { set_identifier },
        }
    }

    /// `S.Z` (or `S.C.Z`) of a service label: the subtree its records stand in.
    pub fn service_name(&self, service_label: &str, cluster: &str) -> Result<String, NameTooLong> {
        self.naming
            .service_name(&self.service_path(service_label, cluster))
    }

    /// The label path of a service in names: `S`, or `S.C` with the cluster in names.
    fn service_path(&self, service_label: &str, cluster: &str) -> String {
        if self.cluster_in_names {
            format!(
                "{service_label}.{}",
                crate::plan::naming::cluster_label(cluster)
            )
        } else {
            service_label.to_owned()
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
    // Per service label: the highest weight, and whether any endpoint joins the service.
    let mut services: BTreeMap<&str, (u8, bool)> = BTreeMap::new();
    for endpoint in &task.endpoints {
        let entry = services
            .entry(&endpoint.service_label)
            .or_insert((0, false));
        entry.0 = entry.0.max(endpoint.weight);
        entry.1 |= endpoint.joins_service;
    }
    let mut sets = Vec::new();
    for (service, (weight, member)) in &services {
        let path = settings.service_path(service, &task.cluster);
        let service_name = naming.service_name(&path)?;
        let task_name = naming.task_name(&task_label, &path)?;
        for (record_type, address, service_role, task_role) in task_addresses(task, *member) {
            sets.push(RecordSet {
                routing: settings.routing(task, service_role, &service_name, *weight),
                name: service_name.clone(),
                record_type,
                ttl: settings.ttl,
                values: vec![address.clone()],
                alias: None,
            });
            sets.push(RecordSet {
                routing: settings.routing(task, task_role, &task_name, 1),
                name: task_name.clone(),
                record_type,
                ttl: settings.ttl,
                values: vec![address],
                alias: None,
            });
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
        sets.push(RecordSet {
            routing: settings.routing(task, role, &name, endpoint.weight),
            name,
            record_type: RecordType::Srv,
            ttl: settings.ttl,
            values: vec![format!(
                "1 {} {} {target}",
                srv_weight(endpoint.weight),
                endpoint.port
            )],
            alias: None,
        });
    }
    sets.sort();
    Ok(sets)
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
fn task_addresses(
    task: &RunningTask,
    member: bool,
) -> Vec<(RecordType, String, RecordRole, RecordRole)> {
    let shared = |ipv4: bool| match (ipv4, member) {
        (true, true) => RecordRole::ServiceAddress,
        (true, false) => RecordRole::StandaloneAddress,
        (false, true) => RecordRole::ServiceAddress6,
        (false, false) => RecordRole::StandaloneAddress6,
    };
    let ipv4 = task.ipv4.map(|ip| {
        (
            RecordType::A,
            ip.to_string(),
            shared(true),
            RecordRole::TaskAddress,
        )
    });
    let ipv6 = task.ipv6.map(|ip| {
        (
            RecordType::Aaaa,
            ip.to_string(),
            shared(false),
            RecordRole::TaskAddress6,
        )
    });
    ipv4.into_iter().chain(ipv6).collect()
}
