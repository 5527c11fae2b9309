//! Route 53's rules for the sets that share a name and type, counted across every task an
//! invocation plans: no mixing of routing policies, and at most 100 weighted sets.

use std::collections::BTreeMap;

use crate::records::{Change, ForeignPolicy, RecordType, Routing};
use crate::zone::ZoneSnapshot;

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
    #[error("{name} {record_type} would hold {count} weighted record sets; Route 53 allows {MAX_WEIGHTED_SETS_PER_NAME} per name and type. Split the service (docker label ecs-srv.service) or switch ROUTING_POLICY to multivalue")]
    TooManyWeightedSets {
        /// The full name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// How many it would hold.
        count: usize,
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
    /// name frees a slot when one of its tasks stops.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ConflictError::TooManyWeightedSets { .. })
    }
}

/// Keeps a running count of routed sets per name and type, so that tasks planned in one
/// invocation are checked against each other as well as against the zone.
#[derive(Debug, Default)]
pub struct NameLedger {
    weighted: BTreeMap<(String, RecordType), usize>,
    foreign: BTreeMap<(String, RecordType), ForeignPolicy>,
    foreign_weighted_ttl: BTreeMap<(String, RecordType), u32>,
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
                if let Some(ttl) = record.ttl {
                    ledger
                        .foreign_weighted_ttl
                        .entry(key.clone())
                        .or_insert(ttl);
                }
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
        Ok(())
    }
}
