//! The heart of ecs-srv, and pure: running tasks in, record sets out; record sets wanted
//! against record sets held, exact changes out.
//!
//! Changes are exact by construction. A set that must change is deleted with the content
//! the zone holds and created anew in the same batch, so a concurrent writer makes the
//! batch fail instead of being overwritten. A withdrawal deletes what the zone holds for
//! the task, never what an event says it should hold.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::RoutingPolicy;
use crate::naming::{NameTooLong, RecordRole, ZoneNaming};
use crate::records::{Change, ForeignPolicy, ForeignRecord, RecordSet, RecordType, Routing};
use crate::resolve::RunningTask;

/// Route 53 allows at most this many weighted record sets per name and type.
pub const MAX_WEIGHTED_SETS_PER_NAME: usize = 100;

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
/// Per service label `S`: `S.Z` A (weight: the highest of the task's containers in `S`)
/// and `T.S.Z` A; per endpoint: `_P._tcp.S.Z` SRV `1 <weight> <port> T.S.Z.`. The per-task
/// name is a routed set of one, not a simple record: the SetIdentifier is what marks
/// every record ecs-srv owns, and a set of one answers exactly like a simple record.
pub fn desired_records(
    task: &RunningTask,
    settings: &RecordSettings,
) -> Result<Vec<RecordSet>, NameTooLong> {
    let naming = &settings.naming;
    let task_label = crate::naming::dns_label(&task.task_id);
    let address = task.address.to_string();
    let mut service_weights: BTreeMap<&str, u8> = BTreeMap::new();
    for endpoint in &task.endpoints {
        let weight = service_weights.entry(&endpoint.service_label).or_insert(0);
        *weight = (*weight).max(endpoint.weight);
    }
    let mut sets = Vec::new();
    for (service, weight) in &service_weights {
        let service_name = naming.service_name(service)?;
        let task_name = naming.task_name(&task_label, service)?;
        sets.push(RecordSet {
            routing: settings.routing(
                &task.task_id,
                RecordRole::ServiceAddress,
                &service_name,
                *weight,
            ),
            name: service_name,
            record_type: RecordType::A,
            ttl: settings.ttl,
            values: vec![address.clone()],
        });
        sets.push(RecordSet {
            routing: settings.routing(&task.task_id, RecordRole::TaskAddress, &task_name, 1),
            name: task_name,
            record_type: RecordType::A,
            ttl: settings.ttl,
            values: vec![address.clone()],
        });
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
            values: vec![format!(
                "1 {} {} {target}",
                srv_weight(endpoint.weight),
                endpoint.port
            )],
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

/// What the zone holds, split into the sets ecs-srv owns (by task) and the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneSnapshot {
    /// Owned sets, by task id.
    pub owned: BTreeMap<String, Vec<RecordSet>>,
    /// Whole SRV sets ecs-srv keeps (`SRV_SETS=on`), by name.
    pub srv_sets: BTreeMap<String, RecordSet>,
    /// Everything else in the zone: never changed, but in the way of some names.
    pub foreign: Vec<ForeignRecord>,
}

impl ZoneSnapshot {
    /// Sorts listed sets into owned and foreign using the naming scheme.
    pub fn from_listing(
        naming: &ZoneNaming,
        owned_candidates: Vec<RecordSet>,
        foreign: Vec<ForeignRecord>,
    ) -> Self {
        let mut snapshot = ZoneSnapshot {
            foreign,
            ..ZoneSnapshot::default()
        };
        for set in owned_candidates {
            if crate::srv_sets::is_owned_set(&set, naming.apex()) {
                snapshot.srv_sets.insert(set.name.clone(), set);
                continue;
            }
            let task = set
                .routing
                .set_identifier()
                .and_then(|id| naming.owned_task_id(&set.name, set.record_type, id))
                .map(str::to_owned);
            match task {
                Some(task_id) => snapshot.owned.entry(task_id).or_default().push(set),
                None => snapshot.foreign.push(ForeignRecord::of(&set)),
            }
        }
        for sets in snapshot.owned.values_mut() {
            // A listing that repeats a set (moto re-lists a page it cannot resume
            // inside) must not count it twice.
            sets.sort();
            sets.dedup();
        }
        snapshot
    }

    /// The zone as it will be once `changes` (all of owned sets) are applied.
    pub fn with_changes(&self, naming: &ZoneNaming, changes: &[Change]) -> ZoneSnapshot {
        let mut after = self.clone();
        for change in changes {
            let set = change.record_set();
            let Some(task_id) = set
                .routing
                .set_identifier()
                .and_then(|id| naming.owned_task_id(&set.name, set.record_type, id))
            else {
                continue;
            };
            let sets = after.owned.entry(task_id.to_owned()).or_default();
            match change {
                Change::Delete(old) => sets.retain(|held| held != old),
                Change::Create(new) => sets.push(new.clone()),
            }
        }
        after.owned.retain(|_, sets| !sets.is_empty());
        after
    }

    /// The owned sets of one task, empty when it has none.
    pub fn task_records(&self, task_id: &str) -> &[RecordSet] {
        self.owned
            .get(task_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// What should become of one task's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskIntent {
    /// The task runs: it should have exactly these sets.
    Publish(Vec<RecordSet>),
    /// The task is draining or gone: it should have none.
    Withdraw,
}

/// The exact changes that take one task from what the zone holds to what it should hold:
/// DELETE of each held set that is not wanted as it is, CREATE of each wanted set that is
/// not held as it is. Changes come in record-key order, and a set that changes appears
/// as its DELETE directly followed by its CREATE, so the pair can never be split apart.
pub fn task_changes(held: &[RecordSet], intent: &TaskIntent) -> Vec<Change> {
    let wanted: &[RecordSet] = match intent {
        TaskIntent::Publish(sets) => sets,
        TaskIntent::Withdraw => &[],
    };
    let held_set: BTreeSet<&RecordSet> = held.iter().collect();
    let wanted_set: BTreeSet<&RecordSet> = wanted.iter().collect();
    let mut changes: Vec<Change> = held_set
        .difference(&wanted_set)
        .map(|set| Change::Delete((*set).clone()))
        .chain(
            wanted_set
                .difference(&held_set)
                .map(|set| Change::Create((*set).clone())),
        )
        .collect();
    changes.sort_by_key(|change| {
        (
            change.record_set().key(),
            matches!(change, Change::Create(_)),
        )
    });
    changes
}

/// Why a task's planned changes cannot be written to this zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConflictError {
    /// Someone else's records use the name with another routing policy.
    #[error("{name} {record_type} already holds a {policy} record set that ecs-srv does not own; Route 53 cannot mix it with {ours} sets. Remove it, or move the service with the docker label ecs-srv.service")]
    ForeignName {
        /// The contested name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// The foreign set's policy.
        policy: &'static str,
        /// Our policy.
        ours: &'static str,
    },
    /// The name would pass Route 53's cap on weighted sets.
    #[error("{name} {record_type} would hold {count} weighted record sets; Route 53 allows {MAX_WEIGHTED_SETS_PER_NAME} per name and type. Split the service (docker label ecs-srv.service) or switch ROUTING_POLICY to multivalue")]
    TooManyWeightedSets {
        /// The full name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// How many it would hold.
        count: usize,
    },
}

/// Keeps a running count of routed sets per name and type, so that tasks planned in one
/// invocation are checked against each other as well as against the zone.
#[derive(Debug, Default)]
pub struct NameLedger {
    weighted: BTreeMap<(String, RecordType), usize>,
    foreign: BTreeMap<(String, RecordType), ForeignPolicy>,
}

impl NameLedger {
    /// Counts the zone as it stands.
    pub fn new(snapshot: &ZoneSnapshot) -> Self {
        let mut ledger = NameLedger::default();
        for set in snapshot.owned.values().flatten() {
            if matches!(set.routing, Routing::Weighted { .. }) {
                *ledger
                    .weighted
                    .entry((set.name.clone(), set.record_type))
                    .or_default() += 1;
            }
        }
        for record in &snapshot.foreign {
            let Some(record_type) = record.known_type() else {
                continue;
            };
            let key = (record.name.clone(), record_type);
            if record.policy == ForeignPolicy::Weighted {
                *ledger.weighted.entry(key.clone()).or_default() += 1;
            }
            ledger.foreign.entry(key).or_insert(record.policy);
        }
        ledger
    }

    /// Checks one task's changes and, when they fit, counts them in.
    pub fn admit(&mut self, changes: &[Change]) -> Result<(), ConflictError> {
        let mut delta: BTreeMap<(String, RecordType), isize> = BTreeMap::new();
        for change in changes {
            let set = change.record_set();
            let key = (set.name.clone(), set.record_type);
            if let Some(policy) = self.foreign.get(&key) {
                if !policy.mixes_with(&set.routing) {
                    return Err(ConflictError::ForeignName {
                        name: set.name.clone(),
                        record_type: set.record_type,
                        policy: policy.name(),
                        ours: set.routing.policy_name(),
                    });
                }
            }
            if matches!(set.routing, Routing::Weighted { .. }) {
                let step = match change {
                    Change::Create(_) => 1,
                    Change::Delete(_) => -1,
                };
                *delta.entry(key).or_default() += step;
            }
        }
        for (key, step) in &delta {
            let count = self.weighted.get(key).copied().unwrap_or(0) as isize + step;
            if *step > 0 && count > MAX_WEIGHTED_SETS_PER_NAME as isize {
                return Err(ConflictError::TooManyWeightedSets {
                    name: key.0.clone(),
                    record_type: key.1,
                    count: count as usize,
                });
            }
        }
        for (key, step) in delta {
            let entry = self.weighted.entry(key).or_default();
            *entry = (*entry as isize + step).max(0) as usize;
        }
        Ok(())
    }
}
