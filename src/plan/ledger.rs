//! Route 53's rules for the sets that share a name and type, counted across every task an
//! invocation plans: no mixing of routing policies, and at most 100 weighted sets.

use std::collections::BTreeMap;

use crate::plan::naming::{parse_mark, SetMark};
use crate::plan::records::{Change, ForeignPolicy, RecordSet, RecordType, Routing};
use crate::plan::zone::ZoneSnapshot;

type NameKey = (String, RecordType);

/// Route 53 allows at most this many weighted record sets per name and type.
pub const MAX_WEIGHTED_SETS_PER_NAME: usize = 100;

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
    #[error("{name} {record_type} would hold {count} weighted record sets; Route 53 allows {MAX_WEIGHTED_SETS_PER_NAME} per name and type, and the name cannot become a tree of aliases while record sets that ecs-srv does not own share it (or past 100 branches). Move the service (docker label ecs-srv.service) or remove the foreign sets")]
    TooManyWeightedSets {
        /// The full name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// How many it would hold.
        count: usize,
    },
    /// The name holds another cluster's tasks: publishing would merge two clusters' tasks
    /// behind one name.
    #[error("{name} {record_type} holds tasks of cluster {theirs}; a task of cluster {ours} would join them behind one name. Give the service another name (docker label ecs-srv.service), or set CLUSTER_IN_NAMES=on to put the cluster in every name")]
    OtherCluster {
        /// The shared name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// The cluster of the task being published.
        ours: String,
        /// A cluster whose tasks hold the name.
        theirs: String,
    },
    /// Another deployment (another RECORD_OWNER) already publishes this very task: two
    /// stacks claim its cluster, and publishing it twice would double its weight.
    #[error("task {task_id} is already published by the deployment with RECORD_OWNER {owner}; two deployments claim its cluster. Give each stack its own clusters (ClusterArns)")]
    ClaimedElsewhere {
        /// The task.
        task_id: String,
        /// The other deployment's RECORD_OWNER.
        owner: String,
    },
    /// Route 53 keeps one TTL for all weighted sets of a name and type, and a set written
    /// with another TTL rewrites the others: ecs-srv would change somebody else's records.
    #[error("{name} {record_type} holds weighted record sets that ecs-srv does not own with TTL {theirs}; Route 53 keeps one TTL per weighted group, so writing TTL {ours} would change them. Set RECORD_TTL to {theirs}, or move the service with the docker label ecs-srv.service")]
    ForeignTtl {
        /// The shared name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// The foreign sets' TTL.
        theirs: u32,
        /// Ours.
        ours: u32,
    },
}

impl ConflictError {
    /// Whether the conflict can clear up without anybody changing the zone by hand: a full
    /// name frees a slot when one of its tasks stops, and a name another cluster holds
    /// frees up when its last task there stops.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ConflictError::TooManyWeightedSets { .. } | ConflictError::OtherCluster { .. }
        )
    }
}

/// Keeps a running count of routed sets per name and type, so that tasks planned in one
/// invocation are checked against each other as well as against the zone.
#[derive(Debug, Default)]
pub struct NameLedger {
    weighted: BTreeMap<(String, RecordType), usize>,
    foreign: BTreeMap<(String, RecordType), ForeignPolicy>,
    foreign_weighted_ttl: BTreeMap<(String, RecordType), u32>,
    /// Per shared name, how many sets each cluster's tasks hold there (every deployment's).
    clusters: BTreeMap<NameKey, BTreeMap<String, usize>>,
    /// Per shared name, how many sets of service members it holds.
    members: BTreeMap<NameKey, usize>,
    /// Tasks another deployment publishes, with its RECORD_OWNER.
    claimed: BTreeMap<String, String>,
}

impl NameLedger {
    /// Counts the zone as it stands; `owner` is this deployment's RECORD_OWNER.
    pub fn new(snapshot: &ZoneSnapshot, owner: &str) -> Self {
        let mut ledger = NameLedger::default();
        for ((root, record_type), aliases) in &snapshot.branches {
            *ledger
                .weighted
                .entry((root.clone(), *record_type))
                .or_default() += aliases.len();
        }
        for set in snapshot.owned.values().flatten() {
            let key = (set.name.clone(), set.record_type);
            if matches!(set.routing, Routing::Weighted { .. }) {
                *ledger.weighted.entry(key.clone()).or_default() += 1;
            }
            if let Some(mark) = set.routing.set_identifier().and_then(parse_mark) {
                ledger.count_mark(&key, &mark, 1);
            }
        }
        for record in &snapshot.foreign {
            let Some(record_type) = record.known_type() else {
                continue;
            };
            let key = (record.name.clone(), record_type);
            if record.policy == ForeignPolicy::Weighted {
                *ledger.weighted.entry(key.clone()).or_default() += 1;
                if let Some(ttl) = record.ttl {
                    ledger
                        .foreign_weighted_ttl
                        .entry(key.clone())
                        .or_insert(ttl);
                }
            }
            if let Some(mark) = record.set_identifier.as_deref().and_then(parse_mark) {
                if mark.owner != owner {
                    ledger.count_mark(&key, &mark, 1);
                    ledger
                        .claimed
                        .insert(mark.task_id.to_owned(), mark.owner.to_owned());
                }
            }
            ledger.foreign.entry(key).or_insert(record.policy);
        }
        ledger
    }

    fn count_mark(&mut self, key: &NameKey, mark: &SetMark<'_>, step: isize) {
        let bump = |count: &mut usize| *count = (*count as isize + step).max(0) as usize;
        if !mark.role.is_shared_name() {
            return;
        }
        // A branch's sets count at the name they stand for.
        let key = &(crate::plan::naming::tree_root(&key.0).to_owned(), key.1);
        if let Some(cluster) = mark.cluster {
            let clusters = self.clusters.entry(key.clone()).or_default();
            bump(clusters.entry(cluster.to_owned()).or_default());
            clusters.retain(|_, count| *count > 0);
        }
        if mark.role.is_service_member() {
            bump(self.members.entry(key.clone()).or_default());
        }
    }

    /// Whether a service member's set stands at the set's name: a one-off task's shared
    /// sets keep out of such a name.
    pub fn holds_service(&self, set: &RecordSet) -> bool {
        self.members
            .get(&(
                crate::plan::naming::tree_root(&set.name).to_owned(),
                set.record_type,
            ))
            .is_some_and(|count| *count > 0)
    }

    /// Checks one task's changes and, when they fit, counts them in.
    pub fn admit(&mut self, task_id: &str, changes: &[Change]) -> Result<(), ConflictError> {
        let creates = changes.iter().any(|c| matches!(c, Change::Create(_)));
        if let Some(owner) = self.claimed.get(task_id).filter(|_| creates) {
            return Err(ConflictError::ClaimedElsewhere {
                task_id: task_id.to_owned(),
                owner: owner.clone(),
            });
        }
        let mut delta: BTreeMap<(String, RecordType), isize> = BTreeMap::new();
        for change in changes {
            let set = change.record_set();
            let key = (set.name.clone(), set.record_type);
            if let Change::Create(new) = change {
                self.check_cluster(&key, new)?;
            }
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
            if let (Change::Create(new), Some(theirs)) =
                (change, self.foreign_weighted_ttl.get(&key))
            {
                if matches!(new.routing, Routing::Weighted { .. }) && new.ttl != *theirs {
                    return Err(ConflictError::ForeignTtl {
                        name: new.name.clone(),
                        record_type: new.record_type,
                        theirs: *theirs,
                        ours: new.ttl,
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
        for change in changes {
            let set = change.record_set();
            let step = if matches!(change, Change::Create(_)) {
                1
            } else {
                -1
            };
            if let Some(mark) = set.routing.set_identifier().and_then(parse_mark) {
                self.count_mark(&(set.name.clone(), set.record_type), &mark, step);
            }
        }
        Ok(())
    }

    /// A shared name holds one cluster's tasks: another cluster's task is refused.
    fn check_cluster(&self, key: &NameKey, new: &RecordSet) -> Result<(), ConflictError> {
        let Some(mark) = new.routing.set_identifier().and_then(parse_mark) else {
            return Ok(());
        };
        let (Some(ours), true) = (mark.cluster, mark.role.is_shared_name()) else {
            return Ok(());
        };
        let root = (crate::plan::naming::tree_root(&key.0).to_owned(), key.1);
        let theirs = self
            .clusters
            .get(&root)
            .and_then(|clusters| clusters.keys().find(|cluster| *cluster != ours));
        match theirs {
            Some(theirs) => Err(ConflictError::OtherCluster {
                name: key.0.clone(),
                record_type: key.1,
                ours: ours.to_owned(),
                theirs: theirs.clone(),
            }),
            None => Ok(()),
        }
    }
}
