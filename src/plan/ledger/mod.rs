//! Route 53's rules for the sets that share a name and type, and ecs-srv's own, counted
//! across every unit one run plans: no mixing of routing policies, nothing beside a
//! CNAME, at most 100 routed sets, one TTL per weighted group, one latency set per region,
//! one cluster per name, one deployment per task.

mod conflict;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use conflict::{ConflictError, MAX_ROUTED_SETS_PER_NAME};

use crate::plan::naming::marks::{parse_mark, Origin};
use crate::plan::naming::{Identity, SetMark};
use crate::plan::records::{Change, ForeignPolicy, ForeignRecord, NameKey, RecordSet, Routing};
use crate::plan::tree::names::tree_root;
use crate::plan::zone::ZoneSnapshot;

/// Keeps a running count of the sets per name and type, so that units planned in one run
/// are checked against each other as well as against the zone.
#[derive(Debug, Default)]
pub struct NameLedger {
    /// Routed sets (weighted, multivalue, latency, aliases included) per name and type.
    routed: BTreeMap<NameKey, usize>,
    /// The routing policy of somebody else's sets, per name and type.
    foreign: BTreeMap<NameKey, ForeignPolicy>,
    /// Names where somebody else keeps a CNAME: nothing else may stand there.
    cnames: BTreeSet<String>,
    /// The TTL of somebody else's weighted sets, per name and type.
    foreign_weighted_ttl: BTreeMap<NameKey, u32>,
    /// Per shared name, how many sets each cluster's tasks hold there (every deployment's),
    /// by the cluster's ORIGIN.
    clusters: BTreeMap<NameKey, BTreeMap<String, usize>>,
    /// Per shared name, how many sets of service members it holds.
    members: BTreeMap<NameKey, usize>,
    /// Per name, the latency set of each region, by its SetIdentifier.
    latency: BTreeMap<NameKey, BTreeMap<String, String>>,
    /// Tasks another deployment publishes, with its RECORD_OWNER.
    claimed: BTreeMap<String, String>,
    /// This deployment's RECORD_OWNER.
    owner: String,
}

impl NameLedger {
    /// Counts the zone as it stands, for the deployment `identity`.
    pub fn new(snapshot: &ZoneSnapshot, identity: &Identity) -> Self {
        let mut ledger = NameLedger {
            owner: identity.owner.clone(),
            ..NameLedger::default()
        };
        for (key, aliases) in &snapshot.branches {
            *ledger.routed.entry(key.clone()).or_default() += aliases.len();
        }
        for set in snapshot.latency.values() {
            ledger.count_set(set, 1);
        }
        for set in snapshot.owned_sets() {
            ledger.count_set(set, 1);
        }
        for record in &snapshot.foreign {
            ledger.count_foreign(record);
        }
        ledger
    }

    fn count_foreign(&mut self, record: &ForeignRecord) {
        if record.record_type == "CNAME" {
            self.cnames.insert(record.name.clone());
        }
        let Some(record_type) = record.known_type() else {
            return;
        };
        let key = NameKey::new(record.name.clone(), record_type);
        if !matches!(record.policy, ForeignPolicy::Simple | ForeignPolicy::Other) {
            *self.routed.entry(key.clone()).or_default() += 1;
        }
        if let (ForeignPolicy::Weighted, Some(ttl)) = (record.policy, record.ttl) {
            self.foreign_weighted_ttl.entry(key.clone()).or_insert(ttl);
        }
        if let (Some(region), Some(id)) = (&record.region, &record.set_identifier) {
            let regions = self.latency.entry(key.clone()).or_default();
            regions.insert(region.clone(), id.clone());
        }
        if let Some(mark) = record.set_identifier.as_deref().and_then(parse_mark) {
            self.count_mark(&key, &mark, 1, false);
            if let Some(task) = mark.task_id() {
                self.claimed.insert(task.to_owned(), mark.owner.to_owned());
            }
        }
        self.foreign.entry(key).or_insert(record.policy);
    }

    /// Counts one of this deployment's sets in (`step` 1) or out (-1).
    fn count_set(&mut self, set: &RecordSet, step: isize) {
        let key = set.name_key();
        if set.routing.is_routed() || matches!(set.routing, Routing::Latency { .. }) {
            bump(self.routed.entry(key.clone()).or_default(), step);
        }
        if let Routing::Latency {
            region,
            set_identifier,
        } = &set.routing
        {
            let regions = self.latency.entry(key.clone()).or_default();
            match step {
                1 => regions.insert(region.clone(), set_identifier.clone()),
                _ => regions.remove(region),
            };
        }
        if let Some(mark) = set.mark() {
            self.count_mark(&key, &mark, step, true);
        }
    }

    /// Counts a task's mark at its shared name: its cluster (by ORIGIN; an older version's
    /// mark of this deployment names no region and is left out, as it is being replaced)
    /// and whether it is a service member's.
    fn count_mark(&mut self, key: &NameKey, mark: &SetMark<'_>, step: isize, ours: bool) {
        let Some(role) = mark.role().filter(|role| role.is_shared_name()) else {
            return;
        };
        // A branch's sets count at the name they stand for.
        let root = NameKey::new(tree_root(&key.name), key.record_type);
        if let Some(cluster) = cluster_key(mark, ours) {
            let clusters = self.clusters.entry(root.clone()).or_default();
            bump(clusters.entry(cluster).or_default(), step);
            clusters.retain(|_, count| *count > 0);
        }
        if role.is_service_member() {
            bump(self.members.entry(root).or_default(), step);
        }
    }

    /// Whether a service member's set stands at the set's name: a one-off task's shared
    /// sets keep out of such a name.
    pub fn holds_service(&self, set: &RecordSet) -> bool {
        let root = NameKey::new(tree_root(&set.name), set.record_type);
        self.members.get(&root).is_some_and(|count| *count > 0)
    }

    /// Checks one unit's changes (of task `task_id`, when it is a task's) and, when they
    /// fit, counts them in.
    pub fn admit(
        &mut self,
        task_id: Option<&str>,
        changes: &[Change],
    ) -> Result<(), ConflictError> {
        let creates = changes.iter().any(|c| matches!(c, Change::Create(_)));
        if let Some(task_id) = task_id.filter(|_| creates) {
            if let Some(owner) = self.claimed.get(task_id) {
                return Err(ConflictError::ClaimedElsewhere {
                    task_id: task_id.to_owned(),
                    owner: owner.clone(),
                });
            }
        }
        for change in changes {
            self.check_change(change)?;
        }
        self.check_capacity(changes)?;
        for change in changes {
            let step = if matches!(change, Change::Create(_)) {
                1
            } else {
                -1
            };
            self.count_set(change.record_set(), step);
        }
        Ok(())
    }

    fn check_change(&self, change: &Change) -> Result<(), ConflictError> {
        let set = change.record_set();
        let key = set.name_key();
        if self.cnames.contains(&set.name) {
            return Err(ConflictError::ForeignName {
                name: set.name.clone(),
                record_type: set.record_type,
                policy: "CNAME",
                ours: set.routing.policy_name(),
            });
        }
        if let Some(policy) = self
            .foreign
            .get(&key)
            .filter(|p| !p.mixes_with(&set.routing))
        {
            return Err(ConflictError::ForeignName {
                name: set.name.clone(),
                record_type: set.record_type,
                policy: policy.name(),
                ours: set.routing.policy_name(),
            });
        }
        let Change::Create(new) = change else {
            return Ok(());
        };
        self.check_cluster(&key, new)?;
        self.check_region(&key, new)?;
        match self.foreign_weighted_ttl.get(&key) {
            Some(theirs)
                if matches!(new.routing, Routing::Weighted { .. }) && new.ttl != *theirs =>
            {
                Err(ConflictError::ForeignTtl {
                    name: new.name.clone(),
                    record_type: new.record_type,
                    theirs: *theirs,
                    ours: new.ttl,
                })
            }
            _ => Ok(()),
        }
    }

    /// At most 100 routed sets per name and type once the changes apply.
    fn check_capacity(&self, changes: &[Change]) -> Result<(), ConflictError> {
        let mut delta: BTreeMap<NameKey, isize> = BTreeMap::new();
        for change in changes {
            let set = change.record_set();
            if set.routing.is_routed() || matches!(set.routing, Routing::Latency { .. }) {
                let step = if matches!(change, Change::Create(_)) {
                    1
                } else {
                    -1
                };
                *delta.entry(set.name_key()).or_default() += step;
            }
        }
        for (key, step) in delta.into_iter().filter(|(_, step)| *step > 0) {
            let count = self.routed.get(&key).copied().unwrap_or(0) as isize + step;
            if count > MAX_ROUTED_SETS_PER_NAME as isize {
                return Err(ConflictError::TooManyWeightedSets {
                    name: key.name,
                    record_type: key.record_type,
                    count: count as usize,
                });
            }
        }
        Ok(())
    }

    /// A shared name holds one cluster's tasks: another cluster's task is refused.
    fn check_cluster(&self, key: &NameKey, new: &RecordSet) -> Result<(), ConflictError> {
        let Some(mark) = new
            .mark()
            .filter(|m| m.role().is_some_and(|r| r.is_shared_name()))
        else {
            return Ok(());
        };
        let Some(ours) = cluster_key(&mark, true) else {
            return Ok(());
        };
        let root = NameKey::new(tree_root(&key.name), key.record_type);
        let theirs = self
            .clusters
            .get(&root)
            .and_then(|clusters| clusters.keys().find(|cluster| **cluster != ours));
        match theirs {
            Some(theirs) => Err(ConflictError::OtherCluster {
                name: key.name.clone(),
                record_type: key.record_type,
                ours: mark.origin.cluster_description(&self.owner),
                theirs: describe_cluster_key(theirs),
            }),
            None => Ok(()),
        }
    }

    /// One latency set per region per name and type.
    fn check_region(&self, key: &NameKey, new: &RecordSet) -> Result<(), ConflictError> {
        let Routing::Latency {
            region,
            set_identifier,
        } = &new.routing
        else {
            return Ok(());
        };
        match self
            .latency
            .get(key)
            .and_then(|regions| regions.get(region))
        {
            Some(holder) if holder != set_identifier => Err(ConflictError::RegionTaken {
                name: key.name.clone(),
                record_type: key.record_type,
                region: region.clone(),
                holder: holder.clone(),
            }),
            _ => Ok(()),
        }
    }
}

fn bump(count: &mut usize, step: isize) {
    *count = (*count as isize + step).max(0) as usize;
}

/// How the ledger tells clusters apart: a mark's ORIGIN (`CLUSTER.REGION.ACCOUNT`). An
/// older version's mark names no region: this deployment's own are being replaced and
/// are left out; another deployment's count as their cluster when they name one (the
/// first version's marks named none, and say nothing of clusters).
fn cluster_key(mark: &SetMark<'_>, ours: bool) -> Option<String> {
    match mark.origin {
        Origin::Cluster {
            label,
            region,
            account,
        } => Some(format!("{label}.{region}.{account}")),
        Origin::Legacy {
            cluster: Some(label),
        } if !ours => Some(format!("legacy:{}:{label}", mark.owner)),
        _ => None,
    }
}

/// A cluster key in the words of [`ConflictError::OtherCluster`].
fn describe_cluster_key(key: &str) -> String {
    if let Some(rest) = key.strip_prefix("legacy:") {
        let (owner, label) = rest.split_once(':').unwrap_or((rest, "-"));
        return Origin::Legacy {
            cluster: Some(label),
        }
        .cluster_description(owner);
    }
    let parts: Vec<&str> = key.split('.').collect();
    match parts[..] {
        [label, region, account] => Origin::Cluster {
            label,
            region,
            account,
        }
        .cluster_description(""),
        _ => key.to_owned(),
    }
}
