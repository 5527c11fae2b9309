//! Who a deployment is: where it runs ([`Scope`]), the clusters it serves ([`ClusterId`]:
//! a cluster is its ARN), and whose records are its own ([`Identity`]).

use super::labels::{label_within, MAX_SET_IDENTIFIER_LEN};
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
    pub fn origin(&self) -> String {
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
