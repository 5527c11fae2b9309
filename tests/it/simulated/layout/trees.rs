//! Trees and shards as the README documents them, checked and folded back into the flat
//! layout.
//!
//! - Past 100 sets, a shared name `N` holds only weighted aliases, `OWNER:bK:tree:R.A` with
//!   the hash of `N`, each to its branch `_bK.N` (K from 0 to 99) in the zone; a branch holds
//!   up to 100 of the members' sets, each as it would stand at `N` but for its mark's hash
//!   (of the branch's name). An alias weighs its branch's total (a weighted member its
//!   weight, a multivalue member 1, a shard its number of values), divided by the smallest
//!   power of two that brings the largest total of `N` to 255, rounded, at least 1 where the
//!   total is not 0. Every branch with members has its alias, and no alias aims at an
//!   empty branch.
//! - A whole set past one record set (400 values, 16,000 characters) is split into shards
//!   `_bK._P._tcp._all.S.Z`, simple sets within those limits, under such aliases; the
//!   shards fold back into one set once half a set holds them all.

use std::collections::{BTreeMap, BTreeSet};

use super::marks::{Era, ReadMark};
use super::{DocumentedSet, Layout, Routing};

/// Route 53's routed sets per name and type, and its largest weight.
pub const MAX_ROUTED: usize = 100;
const MAX_WEIGHT: i64 = 255;
/// One record set's values and characters, for a whole set.
pub const MAX_SET_VALUES: usize = 400;
pub const MAX_SET_CHARS: usize = 16_000;

/// `_bK.N` → `(N, K)` for a branch of a shared name: a service name, an SRV owner name or
/// a whole set (never the SRV owner of a port labelled `bK`, whose name goes on with
/// `_tcp`).
pub fn branch_of(name: &str) -> Option<(&str, usize)> {
    let (first, root) = name.split_once('.')?;
    let digits = first.strip_prefix("_b")?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    let index: usize = digits.parse().ok().filter(|_| canonical)?;
    let mut labels = root.split('.');
    let (next, after) = (labels.next()?, labels.next()?);
    let shared = !next.starts_with('_') || matches!(after, "_tcp" | "_udp");
    (shared && index < MAX_ROUTED).then_some((root, index))
}

/// The documented alias weights of one root, from its branches' totals: each total over
/// the smallest power of two that brings the largest total to 255 or less, rounded half
/// up; 0 only for a total of 0.
pub fn alias_weights(totals: &BTreeMap<usize, i64>) -> BTreeMap<usize, i64> {
    let largest = totals.values().copied().max().unwrap_or(0);
    let scale = (0..62)
        .map(|power| 1_i64 << power)
        .find(|scale| largest <= MAX_WEIGHT * scale)
        .expect("a weight total below 2^62");
    let weigh = |total: i64| match total {
        0 => 0,
        _ => ((2 * total + scale) / (2 * scale)).max(1),
    };
    totals
        .iter()
        .map(|(k, total)| (*k, weigh(*total)))
        .collect()
}

/// How much a member weighs in its branch.
pub fn member_weight(set: &DocumentedSet) -> i64 {
    match set.routing {
        Routing::Weighted(weight) => weight,
        Routing::Multivalue | Routing::Latency(_) => 1,
        Routing::Simple => set.values.len() as i64,
    }
}

/// Whether a whole set of these values fits one record set, and half of one.
fn fits(values: &[String], share: usize) -> bool {
    let chars: usize = values.iter().map(String::len).sum();
    values.len() <= MAX_SET_VALUES / share && chars <= MAX_SET_CHARS / share
}

/// Checks every tree of `sets` (the zone's sets of this deployment, in documented form)
/// and folds it into its root; checks the shards' sizes and when a whole set is sharded.
pub fn fold(layout: &Layout, sets: Vec<DocumentedSet>) -> Result<Vec<DocumentedSet>, String> {
    let (aliases, members): (Vec<DocumentedSet>, Vec<DocumentedSet>) = sets
        .into_iter()
        .partition(|set| set.alias.is_some() && matches!(set.routing, Routing::Weighted(_)));
    // (root, type) → branch → its members.
    let mut branches: BTreeMap<(String, String), BTreeMap<usize, Vec<DocumentedSet>>> =
        BTreeMap::new();
    let mut folded = Vec::new();
    for set in members {
        match branch_of(&set.name) {
            Some((root, index)) => branches
                .entry((root.to_owned(), set.record_type.clone()))
                .or_default()
                .entry(index)
                .or_default()
                .push(set),
            None => folded.push(set),
        }
    }
    let mut trees: BTreeMap<(String, String), BTreeMap<usize, i64>> = BTreeMap::new();
    for alias in aliases {
        let target = alias.alias.clone().unwrap_or_default();
        let Some((root, index)) = branch_of(&target) else {
            return Err(format!("an alias aims at no branch: {alias:?}"));
        };
        let key = (alias.name.clone(), alias.record_type.clone());
        let mark = layout
            .writer
            .branch_mark(Era::Today, &alias.name, &alias.record_type, index);
        if root != alias.name || alias.set_identifier.as_deref() != Some(mark.as_str()) {
            return Err(format!(
                "the alias is not {mark} to a branch of its name: {alias:?}"
            ));
        }
        let Routing::Weighted(weight) = alias.routing else {
            unreachable!("partitioned on weighted aliases");
        };
        trees.entry(key).or_default().insert(index, weight);
    }
    if let Some(set) = folded
        .iter()
        .find(|set| trees.contains_key(&(set.name.clone(), set.record_type.clone())))
    {
        return Err(format!(
            "a tree's root holds a set beside its aliases: {set:?}"
        ));
    }
    for (key, weights) in &trees {
        let held = branches.remove(key).unwrap_or_default();
        folded.extend(fold_tree(key, weights, held)?);
    }
    if let Some((key, _)) = branches.into_iter().next() {
        return Err(format!("branches of {key:?} without the aliases of a tree"));
    }
    merge_shards(folded, &trees)
}

/// A set as it stands for its tree's root: a member of branch `_bK.N` shown at `N`, its
/// mark's hash made for `N`; any other set as it is.
pub fn at_root(mut set: DocumentedSet) -> DocumentedSet {
    let Some((root, _)) = branch_of(&set.name) else {
        return set;
    };
    let root = root.to_owned();
    if let Some(mark) = set.set_identifier.as_deref().and_then(ReadMark::parse) {
        set.set_identifier = Some(mark.rehashed(&root, &set.record_type));
    }
    set.name = root;
    set
}

/// Checks one tree's aliases against its branches and returns its members at the root.
fn fold_tree(
    (root, record_type): &(String, String),
    weights: &BTreeMap<usize, i64>,
    branches: BTreeMap<usize, Vec<DocumentedSet>>,
) -> Result<Vec<DocumentedSet>, String> {
    let aimed: BTreeSet<usize> = weights.keys().copied().collect();
    let held: BTreeSet<usize> = branches.keys().copied().collect();
    if aimed != held {
        return Err(format!(
            "{root} {record_type}: aliases to branches {aimed:?}, members in branches {held:?}"
        ));
    }
    let totals: BTreeMap<usize, i64> = branches
        .iter()
        .map(|(index, members)| (*index, members.iter().map(member_weight).sum()))
        .collect();
    let documented = alias_weights(&totals);
    if *weights != documented {
        return Err(format!(
            "{root} {record_type}: alias weights {weights:?}, documented {documented:?} for totals {totals:?}"
        ));
    }
    let mut folded = Vec::new();
    for (index, members) in branches {
        if members.len() > MAX_ROUTED {
            return Err(format!("branch {index} of {root} holds {}", members.len()));
        }
        let shards = members
            .iter()
            .filter(|set| set.routing == Routing::Simple)
            .count();
        if shards > 1 || (shards == 1 && members.len() > 1) {
            return Err(format!(
                "branch {index} of {root} mixes a shard with other sets"
            ));
        }
        folded.extend(members.into_iter().map(at_root));
    }
    Ok(folded)
}

/// Shards of one whole set become that set; each shard fits one record set, and a whole
/// set is sharded exactly when it must be (past one record set) or may be (past half).
fn merge_shards(
    sets: Vec<DocumentedSet>,
    trees: &BTreeMap<(String, String), BTreeMap<usize, i64>>,
) -> Result<Vec<DocumentedSet>, String> {
    let mut whole: BTreeMap<String, Vec<DocumentedSet>> = BTreeMap::new();
    let mut out = Vec::new();
    for set in sets {
        if set.routing != Routing::Simple {
            out.push(set);
            continue;
        }
        whole.entry(set.name.clone()).or_default().push(set);
    }
    for (name, parts) in whole {
        let sharded = trees.contains_key(&(name.clone(), "SRV".to_owned()));
        for part in parts.iter() {
            if part.ttl != parts[0].ttl {
                return Err(format!("{name}: shards with other TTLs: {parts:?}"));
            }
            if !fits(&part.values, 1) {
                return Err(format!(
                    "{name}: a set or shard past one record set: {} values",
                    part.values.len()
                ));
            }
        }
        let mut values: Vec<String> = parts.iter().flat_map(|p| p.values.clone()).collect();
        values.sort();
        let count = values.len();
        values.dedup();
        if values.len() != count {
            return Err(format!("{name}: a target stands in two shards"));
        }
        if sharded && fits(&values, 2) {
            return Err(format!(
                "{name}: {} values in shards fit half a set and should be one set",
                values.len()
            ));
        }
        let mut merged = parts[0].clone();
        merged.values = values;
        out.push(merged);
    }
    out.sort();
    Ok(out)
}
