//! The documented record layout (README, "Records", and the mark format), written out a
//! second time in the tests' own code: every property and scenario test compares the zone
//! with this, never with the crate's `desired_records`, `ownership`, `naming` or marks.
//!
//! In zone `Z`, for a running task `T` of service label `S`, cluster `C` and port labels
//! `P`, with the service path `S` (`S.C` with CLUSTER_IN_NAMES, then `.R`, the region,
//! with REGIONAL_NAMES):
//! - `S.Z` A (and AAAA for an IPv6 address): routed (weighted, or multivalue), weight the
//!   highest of the task's containers, kind `svc` (`svc6`);
//! - `T.S.Z` A (AAAA): routed, weight 1, kind `task` (`task6`);
//! - per container `P`, `_P._tcp.S.Z` SRV: routed, weight the container's, value
//!   `1 <weight × 256> <port> T.S.Z.`, kind `srv`;
//! - a one-off task (`family:` group) carries `osvc`, `osrv`, `osvc6` at the shared names
//!   and keeps out of a name and type where a service's task stands (this oracle reads
//!   that from the tasks running now, which is the crate's rule when one-off tasks arrive
//!   after the service's);
//! - with whole sets (SRV_SETS), per SRV name, `_P._tcp._all.S.Z` SRV, simple, every value
//!   of the tasks at the SRV name;
//! - with REGIONAL_NAMES, at each shared name without the region (`S.Z`, `_P._tcp.S.Z`,
//!   `_P._tcp._all.S.Z`) one latency alias for the region, to the regional name;
//! - every set has the TTL RECORD_TTL; the marks are in [`marks`].
//!
//! Past 100 sets a shared name is a tree and a whole set past one record set is sharded
//! ([`trees`]); reading a zone back ([`listed`]) checks each tree and folds it into its
//! name, so that the zone compares with the flat layout of [`expected`].

pub mod answered;
pub mod expected;
pub mod listed;
pub mod marks;
pub mod render;
pub mod trees;

use aws_sdk_route53::types::ResourceRecordSet;
use ecs_srv::config::{RoutingPolicy, Settings};

pub use marks::{Era, Writer};

/// How the deployment under test publishes: its settings, read from the configuration it
/// was given (inputs, not the crate's derived layout), and where it runs.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The zone apex, lower case, with the trailing dot.
    pub apex: String,
    /// The hosted zone's id: aliases aim at names of it.
    pub zone_id: String,
    /// RECORD_OWNER, region and account.
    pub writer: Writer,
    /// RECORD_TTL.
    pub ttl: i64,
    /// DEFAULT_WEIGHT: the weight of a container without a weight label.
    pub default_weight: u8,
    /// ROUTING_POLICY=multivalue.
    pub multivalue: bool,
    /// SRV_SETS=on.
    pub whole_sets: bool,
    /// CLUSTER_IN_NAMES=on.
    pub cluster_in_names: bool,
    /// REGIONAL_NAMES=on.
    pub regional: bool,
}

impl Layout {
    /// The layout of a deployment with `settings` in the simulated account's zone.
    pub fn of(settings: &Settings) -> Layout {
        assert!(
            settings.record_domain.is_empty(),
            "the oracle writes names under the zone's apex"
        );
        Layout {
            apex: super::APEX.to_owned(),
            zone_id: super::ZONE_ID.to_owned(),
            writer: Writer {
                owner: settings.record_owner.clone(),
                region: crate::support::REGION.to_owned(),
                account: crate::support::ACCOUNT.to_owned(),
            },
            ttl: i64::from(settings.record_ttl),
            default_weight: settings.default_weight,
            multivalue: settings.routing_policy == RoutingPolicy::Multivalue,
            whole_sets: settings.srv_sets,
            cluster_in_names: settings.cluster_in_names,
            regional: settings.regional_names,
        }
    }
}

/// How a documented set is routed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Routing {
    /// A weighted set of this weight.
    Weighted(i64),
    /// A multivalue answer set.
    Multivalue,
    /// A simple set (a whole SRV set).
    Simple,
    /// A latency set for this region.
    Latency(String),
}

/// One record set as the documentation describes it; a tree shows as its root's flat
/// sets, so a tree and a flat name of the same members read the same.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DocumentedSet {
    /// Name, lower case, with the trailing dot.
    pub name: String,
    /// `A`, `AAAA` or `SRV`.
    pub record_type: String,
    /// Routing.
    pub routing: Routing,
    /// The SetIdentifier, whole (its hash of the name shown).
    pub set_identifier: Option<String>,
    /// TTL; `None` for an alias.
    pub ttl: Option<i64>,
    /// The values, sorted; none for an alias.
    pub values: Vec<String>,
    /// An alias's target in the zone.
    pub alias: Option<String>,
}

/// The first differences between what the documentation promises and what the zone holds,
/// readable in a failure message; `Ok` when they are equal.
pub fn compare(expected: &[DocumentedSet], actual: &[DocumentedSet]) -> Result<(), String> {
    let missing: Vec<&DocumentedSet> = expected.iter().filter(|s| !actual.contains(s)).collect();
    let unexpected: Vec<&DocumentedSet> = actual.iter().filter(|s| !expected.contains(s)).collect();
    if missing.is_empty() && unexpected.is_empty() && expected.len() == actual.len() {
        return Ok(());
    }
    Err(format!(
        "the zone is not laid out as documented: {} sets expected, {} held; missing {:#?}; unexpected {:#?}",
        expected.len(),
        actual.len(),
        missing.iter().take(4).collect::<Vec<_>>(),
        unexpected.iter().take(4).collect::<Vec<_>>()
    ))
}

/// The whole check of a zone: beside the foreign sets (each exactly as seeded), it holds
/// exactly the documented layout of `running`, every tree and shard well formed, and every
/// running task answered by its names.
pub fn check_zone(
    layout: &Layout,
    listed: &[ResourceRecordSet],
    foreign: &[ResourceRecordSet],
    running: &[&super::tasks::TaskSpec],
) -> Result<(), String> {
    let read = listed::read_zone(layout, listed, foreign)?;
    compare(&expected::documented(layout, running), &read)?;
    answered::every_task_answered(layout, listed, running)
}
