//! Why a unit's planned changes cannot be written to this zone, in words that say what to
//! do about it.

use crate::plan::records::RecordType;

/// Route 53 allows at most this many routed (weighted, multivalue or latency) record sets
/// per name and type.
pub const MAX_ROUTED_SETS_PER_NAME: usize = 100;

/// Why a unit's planned changes cannot be written to this zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConflictError {
    /// Someone else's records use the name with another routing policy or type.
    #[error("{name} {record_type} already holds a {policy} record set that ecs-srv does not own; Route 53 cannot mix it with {ours} sets. Remove it, or move the service with the docker label ecs-srv.service")]
    ForeignName {
        /// The contested name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// The foreign set's policy (or type, for a CNAME).
        policy: &'static str,
        /// Our policy.
        ours: &'static str,
    },
    /// The name would pass Route 53's cap on routed sets.
    #[error("{name} {record_type} would hold {count} routed record sets; Route 53 allows {MAX_ROUTED_SETS_PER_NAME} per name and type, and the name cannot become a tree of aliases while record sets that ecs-srv does not own share it (or past 100 branches). Move the service (docker label ecs-srv.service) or remove the foreign sets")]
    TooManyWeightedSets {
        /// The full name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// How many it would hold.
        count: usize,
    },
    /// The name holds another cluster's tasks: publishing would merge two clusters' tasks
    /// behind one name. A cluster is its ARN: `prod` of another region or account is
    /// another cluster.
    #[error("{name} {record_type} holds tasks of cluster {theirs}; a task of cluster {ours} would join them behind one name. Give the service another name (docker label ecs-srv.service), set CLUSTER_IN_NAMES=on to put the cluster in every name, or, for clusters of several regions, REGIONAL_NAMES=on (template parameter RegionalNames) to give each region its own names under one latency-routed name")]
    OtherCluster {
        /// The shared name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// The ARN of the cluster of the task being published.
        ours: String,
        /// The ARN of a cluster whose tasks hold the name.
        theirs: String,
    },
    /// Another deployment already publishes this very task: two stacks claim its cluster,
    /// and publishing it twice would double its weight.
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
    /// A shared name holds a latency set for this region that another deployment wrote
    /// (another account in this region): Route 53 allows one per region.
    #[error("{name} {record_type} already answers region {region} through a latency record set that another deployment wrote ({holder}); Route 53 allows one per region and name. Give one of the services another name (docker label ecs-srv.service), or each stack its own RecordDomain")]
    RegionTaken {
        /// The shared name.
        name: String,
        /// Its type.
        record_type: RecordType,
        /// The region.
        region: String,
        /// The other set's SetIdentifier.
        holder: String,
    },
}

impl ConflictError {
    /// Whether the conflict can clear up without anybody changing the zone by hand: a full
    /// name frees a slot when one of its tasks stops, and a name another cluster of this
    /// region and account holds frees up when its last task there stops. A name held from
    /// another region or account stays held: that is a setting to change, not a wait.
    pub fn is_retryable(&self) -> bool {
        match self {
            ConflictError::TooManyWeightedSets { .. } => true,
            ConflictError::OtherCluster { ours, theirs, .. } => same_scope(ours, theirs),
            _ => false,
        }
    }

    /// A short, stable name of the kind of refusal, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            ConflictError::ForeignName { .. }
            | ConflictError::ForeignTtl { .. }
            | ConflictError::ClaimedElsewhere { .. } => "ForeignRecord",
            ConflictError::TooManyWeightedSets { .. } => "FullName",
            ConflictError::OtherCluster { .. } | ConflictError::RegionTaken { .. } => {
                "OtherCluster"
            }
        }
    }
}

/// Whether two cluster ARNs lie in one region and account.
fn same_scope(a: &str, b: &str) -> bool {
    let scope = |arn: &str| {
        arn.split(':')
            .skip(3)
            .take(2)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    scope(a) == scope(b)
}
