//! Names past Route 53's 100 sets per name and type, pure.
//!
//! Route 53 holds at most 100 weighted (or multivalue) record sets per name and type; its
//! documented way past that is a tree of weighted aliases. A shared name `N` (`S.Z`,
//! `_P._tcp.S.Z`) that outgrows 100 members becomes a *root*: it holds one weighted alias
//! per *branch* `_bK.N` (K from 0 to 99), and each branch holds up to 100 of the members'
//! own sets, exactly as `N` held them before. A query for `N` draws a branch by the alias
//! weights, then a member of the branch by the members' weights. So that every member is
//! drawn as often as it would be from one flat name, a branch's alias weight is the sum of
//! its members' weights, scaled by one power of two per root until the largest fits
//! Route 53's 255 ([`branch_weights`]). With the default weight of 1 the scale is 1 and
//! the draw is exact; otherwise the rounding error is below 0.4% of a full branch.
//!
//! The aliases are derived state, like the whole SRV sets: they are never planned per
//! task, but rebuilt for every ChangeBatch from what the zone holds once the batch's task
//! changes apply ([`with_branches`]). Their DELETEs lead the batch and their CREATEs close
//! it, so a batch never leaves an alias aiming at an empty branch nor a branch without its
//! alias, and `N` answers throughout. Where members go is decided in `place.rs`.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::batch::ChangeBatch;
use crate::plan::naming::{branch_name, branch_of, tree_root, ZoneNaming};
use crate::plan::records::{Change, RecordSet, RecordType, Routing};
use crate::plan::zone::ZoneSnapshot;

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
        Routing::Multivalue { .. } => 1,
        Routing::Simple => set.values.len() as u64,
    }
}

/// The aliases root `root` should hold for type `record_type` in `zone`: one per branch
/// that holds any of this deployment's sets.
pub fn wanted_aliases(
    naming: &ZoneNaming,
    zone: &ZoneSnapshot,
    root: &str,
    record_type: RecordType,
) -> Vec<RecordSet> {
    // A whole set still held as one simple set at the root keeps it until its shards stand
    // (Route 53 cannot hold a simple set and aliases at one name and type).
    if zone.whole_sets.contains_key(root) {
        return Vec::new();
    }
    let mut totals: BTreeMap<usize, u64> = BTreeMap::new();
    let members = zone.owned_sets().chain(zone.whole_sets.values());
    for set in members.filter(|set| set.record_type == record_type) {
        if let Some((_, branch)) = branch_of(&set.name).filter(|(r, _)| *r == root) {
            *totals.entry(branch).or_default() += member_weight(set);
        }
    }
    branch_weights(&totals)
        .into_iter()
        .map(|(branch, weight)| RecordSet {
            name: root.to_owned(),
            record_type,
            routing: Routing::Weighted {
                set_identifier: naming.branch_set_identifier(root, record_type, branch),
                weight,
            },
            ttl: 0,
            values: Vec::new(),
            alias: Some(branch_name(root, branch)),
        })
        .collect()
}

/// The alias changes that follow `changes` made to `before`: DELETEs of the aliases that
/// change or go (to lead the batch) and CREATEs of the new ones (to close it). Only the
/// roots the changes touch are looked at, so the cost follows the batch, not the zone.
pub fn branch_changes(
    naming: &ZoneNaming,
    before: &ZoneSnapshot,
    changes: &[Change],
) -> (Vec<Change>, Vec<Change>) {
    let roots: BTreeSet<(String, RecordType)> = changes
        .iter()
        .map(Change::record_set)
        .filter(|set| set.alias.is_none())
        .map(|set| (tree_root(&set.name).to_owned(), set.record_type))
        .collect();
    let after = before.with_changes(naming, changes);
    let (mut leading, mut trailing) = (Vec::new(), Vec::new());
    for (root, record_type) in roots {
        let held: BTreeSet<&RecordSet> = before
            .branches
            .get(&(root.clone(), record_type))
            .into_iter()
            .flatten()
            .collect();
        let wanted = wanted_aliases(naming, &after, &root, record_type);
        let wanted: BTreeSet<&RecordSet> = wanted.iter().collect();
        leading.extend(
            held.difference(&wanted)
                .map(|set| Change::Delete((*set).clone())),
        );
        trailing.extend(
            wanted
                .difference(&held)
                .map(|set| Change::Create((*set).clone())),
        );
    }
    (leading, trailing)
}

/// A batch of task changes with the alias changes that keep its trees right around it.
/// Aliases hold no values, so they never push a batch past Route 53's limits.
pub fn with_branches(naming: &ZoneNaming, view: &ZoneSnapshot, batch: ChangeBatch) -> ChangeBatch {
    let (leading, trailing) = branch_changes(naming, view, &batch.changes);
    if leading.is_empty() && trailing.is_empty() {
        return batch;
    }
    let mut changes = leading;
    changes.extend(batch.changes);
    changes.extend(trailing);
    ChangeBatch {
        task_ids: batch.task_ids,
        changes,
    }
}

/// The batches a plan becomes, each with its alias changes, as the writer sends them when
/// Route 53 accepts every one: what a dry run reports.
pub fn planned_batches(
    naming: &ZoneNaming,
    before: &ZoneSnapshot,
    batches: Vec<ChangeBatch>,
) -> Vec<ChangeBatch> {
    let mut view = before.clone();
    batches
        .into_iter()
        .map(|batch| {
            let batch = with_branches(naming, &view, batch);
            view.apply_changes(naming, &batch.changes);
            batch
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
