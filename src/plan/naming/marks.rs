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

use super::labels::{label_within, short_hash};
use crate::plan::records::{RecordSet, RecordType};

/// Longest SetIdentifier Route 53 accepts.
pub const MAX_SET_IDENTIFIER_LEN: usize = 128;
/// The kind of a tree alias's mark.
const BRANCH_KIND: &str = "tree";
/// The kind of a latency alias's mark.
const LATENCY_KIND: &str = "lat";
/// The longest task id ECS gives (the old UUID form; new ids are 32 hex digits).
const MAX_TASK_ID_LEN: usize = 36;
/// The longest RECORD_OWNER the configuration accepts.
const MAX_OWNER_LEN: usize = 32;
/// The cluster label in older marks and in cluster-scoped names.
const LEGACY_CLUSTER_LABEL_LEN: usize = 24;

/// Where a deployment runs: its partition, region and account. Every cluster it serves
/// lies here, and every mark it writes says so.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: String,
    /// `us-east-1`, ...
    pub region: String,
    /// The 12-digit account id.
    pub account: String,
}

impl Scope {
    /// The ORIGIN of an alias's mark: `REGION.ACCOUNT`.
    fn origin(&self) -> String {
        format!("{}.{}", self.region, self.account)
    }
}

/// A cluster, by its ARN's parts: the same name in another region or account is another
/// cluster. It serializes as its ARN.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId {
    /// Where the cluster is.
    pub scope: Scope,
    /// Its name.
    pub name: String,
}

impl ClusterId {
    /// Reads `arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME`; `None` for anything else.
    pub fn from_arn(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (prefix, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
        let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
        let name = resource.strip_prefix("cluster/")?;
        let plain = |text: &str| {
            !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let valid = prefix == "arn"
            && service == "ecs"
            && plain(partition)
            && plain(region)
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && plain(name);
        valid.then(|| ClusterId {
            scope: Scope {
                partition: partition.to_owned(),
                region: region.to_owned(),
                account: account.to_owned(),
            },
            name: name.to_owned(),
        })
    }

    /// The cluster's ARN.
    pub fn arn(&self) -> String {
        let Scope {
            partition,
            region,
            account,
        } = &self.scope;
        format!(
            "arn:{partition}:ecs:{region}:{account}:cluster/{}",
            self.name
        )
    }

    /// The cluster's name as one label of a mark's ORIGIN: short enough that the longest
    /// mark (the longest owner and task id) stays within Route 53's 128 characters, and the
    /// same for every mark of the cluster, so that one cluster is always one origin.
    pub fn mark_label(&self) -> String {
        let fixed = MAX_OWNER_LEN + MAX_TASK_ID_LEN + 5 + 8 + 4 + 2 + self.scope.account.len();
        let room = MAX_SET_IDENTIFIER_LEN.saturating_sub(fixed + self.scope.region.len());
        label_within(&self.name, room.clamp(8, LEGACY_CLUSTER_LABEL_LEN))
    }

    /// The ORIGIN of its tasks' marks: `CLUSTER.REGION.ACCOUNT`.
    pub fn origin(&self) -> String {
        format!(
            "{}.{}.{}",
            self.mark_label(),
            self.scope.region,
            self.scope.account
        )
    }

    /// The cluster's label in names (CLUSTER_IN_NAMES) and in the marks of older versions.
    pub fn name_label(&self) -> String {
        cluster_label(&self.name)
    }
}

impl serde::Serialize for ClusterId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.arn())
    }
}

/// A cluster name as one DNS label of at most 24 characters (a hash keeps long names
/// apart): the `C` of cluster-scoped names, readable in the Route 53 console.
pub fn cluster_label(cluster_name: &str) -> String {
    label_within(cluster_name, LEGACY_CLUSTER_LABEL_LEN)
}

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
    /// cluster's [`cluster_label`].
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

/// Whose records are this deployment's: its RECORD_OWNER, where it runs, and the clusters
/// it serves (none named: every cluster where it runs). Data only: the rule that reads it
/// is `plan::ownership`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// RECORD_OWNER.
    pub owner: String,
    /// The deployment's partition, region and account.
    pub scope: Scope,
    /// The clusters named in CLUSTERS, all within `scope`; empty for every cluster there.
    pub clusters: Vec<ClusterId>,
}

/// The partition a region belongs to, for ARNs rebuilt from a mark's ORIGIN.
pub fn partition_of(region: &str) -> &'static str {
    [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
    ]
    .into_iter()
    .find(|(prefix, _)| region.starts_with(prefix))
    .map_or("aws", |(_, partition)| partition)
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
