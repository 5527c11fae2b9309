//! The weighted aliases at a tree's root, pure.
//!
//! So that every member is drawn as often as it would be from one flat name, a branch's
//! alias weight is the sum of its members' weights, scaled by one power of two per root
//! until the largest fits Route 53's 255 ([`branch_weights`]). With the default weight of 1
//! the scale is 1 and the draw is exact; otherwise the rounding error is below 0.4% of a
//! full branch. The aliases are derived state: `plan::aliases` rebuilds them for every
//! ChangeBatch from the members the zone holds once the batch applies.

use std::collections::BTreeMap;

use crate::plan::naming::marks::branch_mark;
use crate::plan::naming::ZoneNaming;
use crate::plan::records::{NameKey, RecordSet, Routing};
use crate::plan::tree::names::{branch_name, branch_of};

/// Route 53's largest weight.
const MAX_WEIGHT: u64 = 255;

/// The alias weight of each branch, from the sum of its members' weights: every sum
/// divided by the same power of two, the smallest that brings the largest to 255 or less,
/// and rounded; a branch with any weight keeps at least 1, a branch whose members all weigh
/// 0 gets 0 (Route 53 then draws it only when every branch weighs 0, as it would draw
/// weight-0 members of one flat name).
pub fn branch_weights(totals: &BTreeMap<usize, u64>) -> BTreeMap<usize, u8> {
    let largest = totals.values().copied().max().unwrap_or(0);
    let mut scale = 1u64;
    while largest.div_ceil(scale) > MAX_WEIGHT {
        scale *= 2;
    }
    totals
        .iter()
        .map(|(branch, total)| {
            let weight = match *total {
                0 => 0,
                total => ((total + scale / 2) / scale).clamp(1, MAX_WEIGHT),
            };
            (*branch, weight as u8)
        })
        .collect()
}

/// How much a member weighs in its branch: its weight when weighted, 1 when multivalue
/// (Route 53 draws those evenly), its count of values for a simple set (a shard of a
/// whole SRV set).
fn member_weight(set: &RecordSet) -> u64 {
    match set.routing {
        Routing::Weighted { weight, .. } => u64::from(weight),
        Routing::Multivalue { .. } | Routing::Latency { .. } => 1,
        Routing::Simple => set.values.len() as u64,
    }
}

/// The aliases `root` should hold, given its members (this deployment's sets at the root
/// and at its branches): one per branch that holds any.
pub fn wanted_aliases(
    naming: &ZoneNaming,
    root: &NameKey,
    members: &[RecordSet],
) -> Vec<RecordSet> {
    // A whole set still held as one simple set at the root keeps it until its shards stand
    // (Route 53 cannot hold a simple set and aliases at one name and type).
    if members
        .iter()
        .any(|set| set.name == root.name && set.routing == Routing::Simple)
    {
        return Vec::new();
    }
    let mut totals: BTreeMap<usize, u64> = BTreeMap::new();
    for set in members {
        if let Some((_, branch)) = branch_of(&set.name).filter(|(r, _)| *r == root.name) {
            *totals.entry(branch).or_default() += member_weight(set);
        }
    }
    let identity = naming.identity();
    branch_weights(&totals)
        .into_iter()
        .map(|(branch, weight)| RecordSet {
            name: root.name.clone(),
            record_type: root.record_type,
            routing: Routing::Weighted {
                set_identifier: branch_mark(
                    &identity.owner,
                    &identity.scope,
                    &root.name,
                    root.record_type,
                    branch,
                ),
                weight,
            },
            ttl: 0,
            values: Vec::new(),
            alias: Some(branch_name(&root.name, branch)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_of_weight_one_members_are_their_counts() {
        let totals = BTreeMap::from([(0, 100), (1, 37), (2, 1)]);
        assert_eq!(
            branch_weights(&totals),
            BTreeMap::from([(0, 100), (1, 37), (2, 1)])
        );
    }

    #[test]
    fn heavy_branches_share_one_scale() {
        let totals = BTreeMap::from([(0, 25_500), (1, 12_750), (2, 0), (3, 10)]);
        let weights = branch_weights(&totals);
        assert_eq!(weights[&0], 199, "25,500 / 128");
        assert_eq!(weights[&1], 100, "half of the largest stays half");
        assert_eq!(weights[&2], 0, "all members at weight 0");
        assert_eq!(weights[&3], 1, "a branch with weight is never drawn never");
    }
}
