//! Marks: the SetIdentifiers ecs-srv writes, and how it reads them back.
//!
//! A mark is `OWNER:ID:KIND:ORIGIN:HASH`:
//! - `OWNER` is RECORD_OWNER of the deployment that wrote it;
//! - `ID` is the task id of a task's set, `bK` for the alias to branch K of a tree, or the
//!   region of a latency alias;
//! - `KIND` is the role of a task's set ([`RecordRole`]), `tree` or `lat`;
//! - `ORIGIN` is where the set comes from: `CLUSTER.REGION.ACCOUNT` for a task's set (the
//!   cluster's name as a label) and `REGION.ACCOUNT` for an alias. A cluster is its ARN:
//!   `prod` in two regions or two accounts are two clusters, and the origin says which;
//! - `HASH` is a short hash of the set's own name and type: it makes the mark check itself
//!   (a foreign set cannot pass for ours by accident) and unique zone-wide.
//!
//! Older versions wrote `OWNER:TASK:KIND:HASH`, `OWNER:TASK:KIND:CLUSTER:HASH` and
//! `OWNER:bK:tree:HASH`, with no region or account: they read as [`Origin::Legacy`], so
//! that an upgrade recognises and replaces them (see `plan::ownership`).

use super::identity::{partition_of, ClusterId, Scope};
use super::labels::short_hash;
pub use super::labels::MAX_SET_IDENTIFIER_LEN;
use crate::plan::records::{RecordSet, RecordType};

/// The kind of a tree alias's mark.
const BRANCH_KIND: &str = "tree";
/// The kind of a latency alias's mark.
const LATENCY_KIND: &str = "lat";

/// Where a marked set comes from, as its mark says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin<'a> {
    /// A task's set: its cluster's label, region and account.
    Cluster {
        /// [`ClusterId::mark_label`] of the cluster.
        label: &'a str,
        /// The cluster's region.
        region: &'a str,
        /// The cluster's account.
        account: &'a str,
    },
    /// An alias: the region and account of the deployment that keeps it.
    Deployment {
        /// Its region.
        region: &'a str,
        /// Its account.
        account: &'a str,
    },
    /// A mark of an older version: no region or account; a task's set may carry its
    /// cluster's [`cluster_label`](crate::plan::naming::identity::cluster_label).
    Legacy {
        /// The cluster label, when the mark has one.
        cluster: Option<&'a str>,
    },
}

impl<'a> Origin<'a> {
    fn parse(field: &'a str) -> Option<Self> {
        let parts: Vec<&str> = field.split('.').collect();
        let account_ok =
            |account: &str| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        match parts[..] {
            [label, region, account] if account_ok(account) && !label.is_empty() => {
                Some(Origin::Cluster {
                    label,
                    region,
                    account,
                })
            }
            [region, account] if account_ok(account) => {
                Some(Origin::Deployment { region, account })
            }
            [cluster] if !cluster.is_empty() => Some(Origin::Legacy {
                cluster: Some(cluster),
            }),
            _ => None,
        }
    }

    /// The region and account the origin names; `None` for a legacy mark.
    pub fn scope(&self) -> Option<(&'a str, &'a str)> {
        match *self {
            Origin::Cluster {
                region, account, ..
            }
            | Origin::Deployment { region, account } => Some((region, account)),
            Origin::Legacy { .. } => None,
        }
    }
}

/// What a mark says of its set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// One of a task's sets, in this role.
    Task(RecordRole),
    /// The alias at a tree's root to this branch.
    Branch(usize),
    /// A latency alias at a shared name, to its region's name.
    Latency,
}

/// What a SetIdentifier written by any ecs-srv deployment says, whatever its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetMark<'a> {
    /// RECORD_OWNER of the deployment that wrote it.
    pub owner: &'a str,
    /// The task id, the branch (`bK`) or the region.
    pub id: &'a str,
    /// Which set it is.
    pub kind: MarkKind,
    /// Where it comes from.
    pub origin: Origin<'a>,
    /// The hash of the set's name and type.
    pub hash: &'a str,
}

impl<'a> SetMark<'a> {
    /// The task of a task's set.
    pub fn task_id(&self) -> Option<&'a str> {
        matches!(self.kind, MarkKind::Task(_)).then_some(self.id)
    }

    /// The role of a task's set.
    pub fn role(&self) -> Option<RecordRole> {
        match self.kind {
            MarkKind::Task(role) => Some(role),
            _ => None,
        }
    }

    /// Whether the hash is that of `name` and `record_type`.
    pub fn hashes(&self, name: &str, record_type: RecordType) -> bool {
        self.hash == format!("{:08x}", mark_hash(name, record_type))
    }
}

/// Reads the shape of a mark; `None` for SetIdentifiers ecs-srv did not write. Whether a
/// set is this deployment's is decided in `plan::ownership` alone.
pub fn parse_mark(set_identifier: &str) -> Option<SetMark<'_>> {
    let parts: Vec<&str> = set_identifier.split(':').collect();
    let (owner, id, kind, origin, hash) = match parts[..] {
        [owner, id, kind, hash] => (owner, id, kind, Origin::Legacy { cluster: None }, hash),
        [owner, id, kind, origin, hash] => (owner, id, kind, Origin::parse(origin)?, hash),
        _ => return None,
    };
    let kind = match kind {
        BRANCH_KIND => MarkKind::Branch(id.strip_prefix('b')?.parse().ok()?),
        LATENCY_KIND => MarkKind::Latency,
        tag => MarkKind::Task(RecordRole::from_tag(tag)?),
    };
    let hex = hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && !owner.is_empty() && !id.is_empty()).then_some(SetMark {
        owner,
        id,
        kind,
        origin,
        hash,
    })
}

impl RecordSet {
    /// What the set's SetIdentifier says, when ecs-srv (any deployment of it) wrote it.
    pub fn mark(&self) -> Option<SetMark<'_>> {
        self.routing.set_identifier().and_then(parse_mark)
    }
}

/// The mark of one of a task's sets.
pub fn task_mark(
    owner: &str,
    task_id: &str,
    role: RecordRole,
    cluster: &ClusterId,
    name: &str,
) -> String {
    format!(
        "{owner}:{task_id}:{}:{}:{:08x}",
        role.tag(),
        cluster.origin(),
        mark_hash(name, role.record_type())
    )
}

/// The mark of a tree's alias to branch `index` of `root`.
pub fn branch_mark(
    owner: &str,
    scope: &Scope,
    root: &str,
    record_type: RecordType,
    index: usize,
) -> String {
    format!(
        "{owner}:b{index}:{BRANCH_KIND}:{}:{:08x}",
        scope.origin(),
        mark_hash(root, record_type)
    )
}

/// The mark of a deployment's latency alias at a shared name.
pub fn latency_mark(owner: &str, scope: &Scope, name: &str, record_type: RecordType) -> String {
    format!(
        "{owner}:{}:{LATENCY_KIND}:{}:{:08x}",
        scope.region,
        scope.origin(),
        mark_hash(name, record_type)
    )
}

/// The same mark for the set moved to `name` (a tree's root or one of its branches).
pub fn rehashed(set_identifier: &str, name: &str, record_type: RecordType) -> String {
    match set_identifier.rsplit_once(':') {
        Some((head, _)) => format!("{head}:{:08x}", mark_hash(name, record_type)),
        None => set_identifier.to_owned(),
    }
}

fn mark_hash(name: &str, record_type: RecordType) -> u32 {
    short_hash(&format!("{name} {record_type}"))
}

/// Which of a task's records a set is. Its tag sits in the SetIdentifier for the humans
/// reading the Route 53 console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordRole {
    /// `S.Z` A: a service member's weighted address.
    ServiceAddress,
    /// `T.S.Z` A: the task's own address, the SRV target.
    TaskAddress,
    /// `_P._tcp.S.Z` SRV: one port of a service member.
    ServicePort,
    /// `S.Z` A of a one-off or scheduled task, where no service holds the name.
    StandaloneAddress,
    /// `_P._tcp.S.Z` SRV of a one-off or scheduled task, where no service holds the name.
    StandalonePort,
    /// `S.Z` AAAA: the service's weighted IPv6 address.
    ServiceAddress6,
    /// `T.S.Z` AAAA: the task's own IPv6 address, the SRV target over IPv6.
    TaskAddress6,
    /// `S.Z` AAAA of a one-off or scheduled task, where no service holds the name.
    StandaloneAddress6,
}

impl RecordRole {
    const ALL: [RecordRole; 8] = [
        RecordRole::ServiceAddress,
        RecordRole::TaskAddress,
        RecordRole::ServicePort,
        RecordRole::StandaloneAddress,
        RecordRole::StandalonePort,
        RecordRole::ServiceAddress6,
        RecordRole::TaskAddress6,
        RecordRole::StandaloneAddress6,
    ];

    fn tag(self) -> &'static str {
        match self {
            RecordRole::ServiceAddress => "svc",
            RecordRole::TaskAddress => "task",
            RecordRole::ServicePort => "srv",
            RecordRole::StandaloneAddress => "osvc",
            RecordRole::StandalonePort => "osrv",
            RecordRole::ServiceAddress6 => "svc6",
            RecordRole::TaskAddress6 => "task6",
            RecordRole::StandaloneAddress6 => "osvc6",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.tag() == tag)
    }

    /// The record type a set of this role has.
    pub fn record_type(self) -> RecordType {
        match self {
            RecordRole::ServicePort | RecordRole::StandalonePort => RecordType::Srv,
            RecordRole::ServiceAddress
            | RecordRole::TaskAddress
            | RecordRole::StandaloneAddress => RecordType::A,
            RecordRole::ServiceAddress6
            | RecordRole::TaskAddress6
            | RecordRole::StandaloneAddress6 => RecordType::Aaaa,
        }
    }

    /// Whether the set sits at a name every task of the service shares (`S.Z`,
    /// `_P._tcp.S.Z`), as opposed to the task's own `T.S.Z`.
    pub fn is_shared_name(self) -> bool {
        !matches!(self, RecordRole::TaskAddress | RecordRole::TaskAddress6)
    }

    /// Whether the set is a service member's: such a name is the service's, and one-off
    /// tasks keep out of it.
    pub fn is_service_member(self) -> bool {
        matches!(
            self,
            RecordRole::ServiceAddress | RecordRole::ServicePort | RecordRole::ServiceAddress6
        )
    }

    /// Whether the set is a one-off task's set at a shared name.
    pub fn is_standalone_shared(self) -> bool {
        self.is_shared_name() && !self.is_service_member()
    }
}

impl Origin<'_> {
    /// The cluster a task's mark comes from, as its ARN (the name as the mark holds it,
    /// shortened for long names), or as words for an older version's mark.
    pub fn cluster_description(&self, owner: &str) -> String {
        match *self {
            Origin::Cluster {
                label,
                region,
                account,
            } => format!(
                "arn:{}:ecs:{region}:{account}:cluster/{label}",
                partition_of(region)
            ),
            Origin::Legacy {
                cluster: Some(label),
            } => format!("{label} (marked by an older version of RECORD_OWNER {owner})"),
            Origin::Legacy { cluster: None } | Origin::Deployment { .. } => {
                format!("of RECORD_OWNER {owner}")
            }
        }
    }
}
