//! The documented record layout (README, "Records"), written out a second time, apart
//! from the crate: the property tests compare the zone with this, so that names,
//! SetIdentifiers, TTL, routing and values are checked against the documentation and not
//! against the code under test.
//!
//! Per running task `T` of service label `S`, in zone `Z`:
//! - `S.Z` A, routed, weight the highest of the task's containers, SetIdentifier
//!   `OWNER:T:svc:C.R.A:<hash>` (C: the cluster's name, `demo` here; R and A: its region
//!   and account, `us-east-1` and `123456789012` here);
//! - `T.S.Z` A, routed, weight 1, `OWNER:T:task:C.R.A:<hash>`;
//! - per container `P`, `_P._tcp.S.Z` SRV, routed, weight the container's, value
//!   `1 <weight> <port> T.S.Z.`, `OWNER:T:srv:C.R.A:<hash>`;
//! - with whole sets on, per SRV name, `_P._tcp._all.S.Z` SRV, simple, every value.
//!
//! `<hash>` is the documented mark: FNV-1a (64-bit) of `"<name> <type>"`, folded to 32
//! bits, in eight hex digits. A set whose mark does not check out is a look-alike, not
//! ours.
//!
//! Past 100 sets a shared name `N` is a tree: `N` holds only weighted aliases
//! `OWNER:bK:tree:R.A:<hash of N>` to branches `_bK.N`, whose sets are the members' own, as
//! above but for the name; an alias weighs its branch's total weight (multivalue sets and
//! whole-set values count 1 each), divided by the smallest power of two that brings the
//! largest branch of `N` to 255, rounded, and at least 1 where the total is not 0. A whole
//! set past one record set is such a tree of simple shards. [`listed_zone`] folds every
//! tree back into its name, after checking each alias's weight.

use std::collections::BTreeMap;

use aws_sdk_route53::types::ResourceRecordSet;

use super::tasks::{host_address, Mode, TaskSpec};

/// Where the tasks' cluster is: the ORIGIN of their marks, `CLUSTER.REGION.ACCOUNT`.
const ORIGIN: &str = "demo.us-east-1.123456789012";
/// Where the deployment runs: the ORIGIN of its aliases' marks, `REGION.ACCOUNT`.
const DEPLOYMENT: &str = "us-east-1.123456789012";
use crate::support::sorted_values;

/// How the deployment under test publishes.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'a> {
    /// The zone apex with its trailing dot.
    pub apex: &'a str,
    /// RECORD_OWNER.
    pub owner: &'a str,
    /// RECORD_TTL.
    pub ttl: i64,
    /// ROUTING_POLICY=multivalue.
    pub multivalue: bool,
    /// SRV_SETS=on.
    pub whole_sets: bool,
}

/// One record set as the documentation describes it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DocumentedSet {
    /// Name, with the trailing dot.
    pub name: String,
    /// `A` or `SRV`.
    pub record_type: String,
    /// `weighted`, `multivalue` or `simple`.
    pub policy: &'static str,
    /// The routing weight of a weighted set.
    pub weight: Option<i64>,
    /// `OWNER:T:KIND`, the readable head of the SetIdentifier.
    pub mark: Option<String>,
    /// TTL.
    pub ttl: i64,
    /// The values, sorted.
    pub values: Vec<String>,
}

/// The zone's owned sets the documentation promises for `running`, sorted.
pub fn documented_zone(layout: &Layout, running: &[&TaskSpec]) -> Vec<DocumentedSet> {
    let mut sets = Vec::new();
    let mut whole: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let policy = if layout.multivalue {
        "multivalue"
    } else {
        "weighted"
    };
    let routed =
        |name: String, record_type: &str, weight: i64, mark: String, value: String| DocumentedSet {
            name,
            record_type: record_type.to_owned(),
            policy,
            weight: (!layout.multivalue).then_some(weight),
            mark: Some(mark),
            ttl: layout.ttl,
            values: vec![value],
        };
    for task in running {
        let (service, id, owner, apex) = (&task.service, &task.task_id, layout.owner, layout.apex);
        let address = match task.mode {
            Mode::Awsvpc => task.eni_address,
            Mode::Bridge | Mode::Host => host_address(task.host),
        };
        let highest = task
            .containers
            .iter()
            .map(|c| i64::from(c.weight.unwrap_or(1)))
            .max()
            .unwrap_or(1);
        let target = format!("{id}.{service}.{apex}");
        sets.push(routed(
            format!("{service}.{apex}"),
            "A",
            highest,
            format!("{owner}:{id}:svc:{ORIGIN}"),
            address.to_string(),
        ));
        sets.push(routed(
            target.clone(),
            "A",
            1,
            format!("{owner}:{id}:task:{ORIGIN}"),
            address.to_string(),
        ));
        for container in &task.containers {
            let weight = i64::from(container.weight.unwrap_or(1));
            let port = match task.mode {
                Mode::Bridge => container.host_port,
                Mode::Host | Mode::Awsvpc => container.container_port,
            };
            let value = format!("1 {} {port} {target}", srv_weight_field(weight));
            let port_name = format!("_{}._tcp.{service}.{apex}", container.name);
            whole
                .entry(format!("_{}._tcp._all.{service}.{apex}", container.name))
                .or_default()
                .push(value.clone());
            sets.push(routed(
                port_name,
                "SRV",
                weight,
                format!("{owner}:{id}:srv:{ORIGIN}"),
                value,
            ));
        }
    }
    if layout.whole_sets {
        for (name, mut values) in whole {
            values.sort();
            sets.push(DocumentedSet {
                name,
                record_type: "SRV".to_owned(),
                policy: "simple",
                weight: None,
                mark: None,
                ttl: layout.ttl,
                values,
            });
        }
    }
    sets.sort();
    sets
}

/// The SRV weight field for a container's weight label, as the README documents it: the
/// label × 256, so that HAProxy keeps the ratios.
fn srv_weight_field(label: i64) -> i64 {
    label * 256
}

/// The zone's sets that carry `layout.owner`'s mark (or sit at a whole-set name), in the
/// documented form.
pub fn listed_zone(layout: &Layout, listed: &[ResourceRecordSet]) -> Vec<DocumentedSet> {
    check_trees(layout, listed);
    let mut sets: Vec<DocumentedSet> = listed
        .iter()
        .filter(|set| set.alias_target().is_none())
        .filter_map(|set| {
            let name = set.name().to_ascii_lowercase();
            let whole_set = set.set_identifier().is_none() && name.contains("._all.");
            let record_type = set.r#type().as_str();
            let ours = set.set_identifier().is_some_and(|id| {
                id.starts_with(&format!("{}:", layout.owner))
                    && id.ends_with(&format!(":{:08x}", mark_hash(&name, record_type)))
            });
            if !(ours || whole_set) {
                return None;
            }
            let policy = match (set.weight(), set.multi_value_answer()) {
                (Some(_), _) => "weighted",
                (None, Some(true)) => "multivalue",
                _ => "simple",
            };
            let mark = set
                .set_identifier()
                .and_then(|id| id.rsplit_once(':'))
                .map(|(head, _)| head.to_owned());
            Some(DocumentedSet {
                name: branch_root(&name).unwrap_or(&name).to_owned(),
                record_type: set.r#type().as_str().to_owned(),
                policy,
                weight: set.weight(),
                mark,
                ttl: set.ttl().unwrap_or(-1),
                values: sorted_values(set),
            })
        })
        .collect();
    // The shards of a whole set are one whole set.
    let mut merged: BTreeMap<String, DocumentedSet> = BTreeMap::new();
    sets.retain(|set| {
        if set.policy != "simple" {
            return true;
        }
        let whole = merged
            .entry(set.name.clone())
            .or_insert_with(|| DocumentedSet {
                values: Vec::new(),
                ..set.clone()
            });
        whole.values.extend(set.values.iter().cloned());
        whole.values.sort();
        false
    });
    sets.extend(merged.into_values());
    sets.sort();
    sets
}

/// `_bK.N` → `N` for a branch of a tree at a shared name (a service name or an SRV owner,
/// never a port labelled `bK`, whose name goes on with `_tcp`).
fn branch_root(name: &str) -> Option<&str> {
    let (first, rest) = name.split_once('.')?;
    let digits = first.strip_prefix("_b")?;
    let numbered = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let mut labels = rest.split('.');
    let (next, after) = (labels.next()?, labels.next()?);
    let shared = !next.starts_with('_') || matches!(after, "_tcp" | "_udp");
    (numbered && shared).then_some(rest)
}

/// The documented alias weights of one root: each branch's total over the root's scale.
fn alias_weights(totals: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    let largest = totals.values().copied().max().unwrap_or(0);
    let mut scale = 1;
    while (largest + scale - 1) / scale > 255 {
        scale *= 2;
    }
    totals
        .iter()
        .map(|(branch, total)| {
            let weight = if *total == 0 {
                0
            } else {
                ((total + scale / 2) / scale).clamp(1, 255)
            };
            (branch.clone(), weight)
        })
        .collect()
}

/// Checks every alias of `owner` in `listed` against the documented weights, and that no
/// root mixes aliases with sets of its own.
fn check_trees(layout: &Layout, listed: &[ResourceRecordSet]) {
    // (root, type) → branch → total weight of its members.
    let mut totals: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for set in listed.iter().filter(|set| set.alias_target().is_none()) {
        let name = set.name().to_ascii_lowercase();
        let Some(root) = branch_root(&name) else {
            continue;
        };
        let weight = match (set.weight(), set.multi_value_answer(), set.set_identifier()) {
            (Some(weight), _, _) => weight,
            (None, _, Some(_)) => 1,
            (None, _, None) => set.resource_records().len() as i64,
        };
        *totals
            .entry((root.to_owned(), set.r#type().as_str().to_owned()))
            .or_default()
            .entry(name.clone())
            .or_default() += weight;
    }
    let mut aliases: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for set in listed {
        let Some(alias) = set.alias_target() else {
            continue;
        };
        let name = set.name().to_ascii_lowercase();
        let record_type = set.r#type().as_str();
        let mark = format!("{}:", layout.owner);
        let id = set.set_identifier().unwrap_or_default();
        let branch = alias.dns_name().to_ascii_lowercase();
        let index = branch
            .split_once('.')
            .map(|(first, _)| first.trim_start_matches('_'))
            .unwrap_or_default();
        assert_eq!(
            id,
            format!(
                "{mark}{index}:tree:{DEPLOYMENT}:{:08x}",
                mark_hash(&name, record_type)
            ),
            "the alias to {branch} carries the documented mark"
        );
        assert_eq!(
            branch_root(&branch),
            Some(name.as_str()),
            "an alias aims at its own branch"
        );
        aliases
            .entry((name, record_type.to_owned()))
            .or_default()
            .insert(branch, set.weight().expect("a weighted alias"));
    }
    for (root, weights) in &aliases {
        let expected = alias_weights(totals.get(root).unwrap_or(&BTreeMap::new()));
        assert_eq!(
            weights, &expected,
            "the aliases of {root:?} weigh their branches"
        );
        let own_sets = listed.iter().any(|set| {
            set.alias_target().is_none()
                && set.name().eq_ignore_ascii_case(&root.0)
                && set.r#type().as_str() == root.1
        });
        assert!(!own_sets, "the root {root:?} holds aliases only");
    }
    for (root, branches) in &totals {
        let aliased = aliases.get(root).map_or(0, BTreeMap::len);
        assert_eq!(
            aliased,
            branches.len(),
            "every branch of {root:?} has its alias"
        );
        for branch in branches.keys() {
            let members = listed
                .iter()
                .filter(|set| {
                    set.name().eq_ignore_ascii_case(branch) && set.r#type().as_str() == root.1
                })
                .count();
            assert!(members <= 100, "{branch} holds {members} sets");
        }
    }
}

/// The documented hash of a mark: FNV-1a over the bytes, folded to 32 bits.
fn mark_hash(name: &str, record_type: &str) -> u32 {
    let hash = format!("{name} {record_type}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    (hash ^ (hash >> 32)) as u32
}
