//! Whole sets too large for one record set, split into shards `_bK._P._tcp._all.S.Z`:
//! simple sets of the same shape under the whole set's name, which becomes the root of a
//! tree whose aliases are weighted by shard size (`plan::tree`). Every target stays
//! reachable, one shard per answer; a target keeps its shard, and a new one joins where
//! the tree's one fill rule says.

use std::collections::{BTreeMap, BTreeSet};

use super::{MAX_SET_CHARS, MAX_SET_VALUES};
use crate::plan::records::RecordSet;
use crate::plan::tree::fill::branch_for;

/// Splits a whole set's values into shards that each fit one record set: values keep the
/// shard that holds them, and a new value joins the shard with the fewest values that has
/// room, or opens the lowest free one. `None` past the tree's 100 branches.
pub fn shard(
    values: &[String],
    held: &BTreeMap<usize, &RecordSet>,
) -> Option<BTreeMap<usize, Vec<String>>> {
    let wanted: BTreeSet<&String> = values.iter().collect();
    let mut shards: BTreeMap<usize, Vec<String>> = held
        .iter()
        .map(|(k, set)| {
            let kept = set.values.iter().filter(|v| wanted.contains(v)).cloned();
            (*k, kept.collect())
        })
        .collect();
    let placed: BTreeSet<String> = shards.values().flatten().cloned().collect();
    for value in values.iter().filter(|v| !placed.contains(*v)) {
        let has_room = |held: &Vec<String>| {
            held.len() < MAX_SET_VALUES
                && held.iter().map(String::len).sum::<usize>() + value.len() <= MAX_SET_CHARS
        };
        let k = branch_for(&shards, Vec::len, has_room)?;
        shards.entry(k).or_default().push(value.clone());
    }
    shards.retain(|_, values| !values.is_empty());
    for values in shards.values_mut() {
        values.sort();
    }
    Some(shards)
}
