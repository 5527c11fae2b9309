//! Pure: a running task in, the record sets it should have out. This is the documented
//! record layout (README, "Records") in code, and the only place that builds an owned set.

use std::collections::BTreeMap;

use crate::config::RoutingPolicy;
use crate::naming::{NameTooLong, RecordRole, ZoneNaming};
use crate::records::{RecordSet, RecordType, Routing};
use crate::resolve::RunningTask;

/// Record-writing settings shared by every task.
#[derive(Clone, Debug)]
pub struct RecordSettings {
    /// Names and SetIdentifiers.
    pub naming: ZoneNaming,
    /// Weighted or multivalue for the service names.
    pub policy: RoutingPolicy,
    /// TTL of every set.
    pub ttl: u32,
}

impl RecordSettings {
    fn routing(&self, task_id: &str, role: RecordRole, name: &str, weight: u8) -> Routing {
        let set_identifier = self.naming.set_identifier(task_id, role, name);
        match self.policy {
            RoutingPolicy::Weighted => Routing::Weighted {
                set_identifier,
                weight,
            },
            RoutingPolicy::Multivalue => Routing::Multivalue { set_identifier },
        }
    }
}

/// The record sets a running task should have, sorted.
///
/// Per service label `S` and per address the task has: `S.Z` A or AAAA (weight: the
/// highest of the task's containers in `S`) and `T.S.Z` A or AAAA; per endpoint: `_P._tcp.S.Z` SRV `1 <weight> <port> T.S.Z.`. The per-task
/// name is a routed set of one, not a simple record: the SetIdentifier is what marks
/// every record ecs-srv owns, and a set of one answers exactly like a simple record.
pub fn desired_records(
    task: &RunningTask,
    settings: &RecordSettings,
) -> Result<Vec<RecordSet>, NameTooLong> {
    let naming = &settings.naming;
    let task_label = crate::naming::dns_label(&task.task_id);
    let addresses = task_addresses(task);
    let mut service_weights: BTreeMap<&str, u8> = BTreeMap::new();
    for endpoint in &task.endpoints {
        let weight = service_weights.entry(&endpoint.service_label).or_insert(0);
        *weight = (*weight).max(endpoint.weight);
    }
    let mut sets = Vec::new();
    for (service, weight) in &service_weights {
        let service_name = naming.service_name(service)?;
        let task_name = naming.task_name(&task_label, service)?;
        for (record_type, address, service_role, task_role) in &addresses {
            sets.push(RecordSet {
                routing: settings.routing(&task.task_id, *service_role, &service_name, *weight),
                name: service_name.clone(),
                record_type: *record_type,
                ttl: settings.ttl,
                values: vec![address.clone()],
            });
            sets.push(RecordSet {
                routing: settings.routing(&task.task_id, *task_role, &task_name, 1),
                name: task_name.clone(),
                record_type: *record_type,
                ttl: settings.ttl,
                values: vec![address.clone()],
            });
        }
    }
    for endpoint in &task.endpoints {
        let name = naming.srv_name(
            &endpoint.port_label,
            endpoint.transport,
            &endpoint.service_label,
        )?;
        let target = naming.task_name(&task_label, &endpoint.service_label)?;
        sets.push(RecordSet {
            routing: settings.routing(
                &task.task_id,
                RecordRole::ServicePort,
                &name,
                endpoint.weight,
            ),
            name,
            record_type: RecordType::Srv,
            ttl: settings.ttl,
            values: vec![format!("1 {} {} {target}", endpoint.weight, endpoint.port)],
        });
    }
    sets.sort();
    Ok(sets)
}

/// The address records a task's names carry: A for its IPv4 address, AAAA for its IPv6
/// address, each with the roles that mark them as ours.
fn task_addresses(task: &RunningTask) -> Vec<(RecordType, String, RecordRole, RecordRole)> {
    let ipv4 = task.ipv4.map(|ip| {
        let roles = (RecordRole::ServiceAddress, RecordRole::TaskAddress);
        (RecordType::A, ip.to_string(), roles.0, roles.1)
    });
    let ipv6 = task.ipv6.map(|ip| {
        let roles = (RecordRole::ServiceAddress6, RecordRole::TaskAddress6);
        (RecordType::Aaaa, ip.to_string(), roles.0, roles.1)
    });
    ipv4.into_iter().chain(ipv6).collect()
}
