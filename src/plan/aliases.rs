//! Derived aliases around every ChangeBatch, pure: the weighted aliases at tree roots
//! (`tree::aliases`) and the latency aliases at shared names (`regional`).
//!
//! Aliases are never planned per task: for every ChangeBatch they are rebuilt from the
//! members the zone holds once the batch's own changes apply. Their DELETEs lead the batch
//! and their CREATEs close it, so a batch never leaves an alias aiming at nothing nor a
//! member without the alias that answers it, and every name answers throughout. Aliases
//! hold no values, so they never push a batch past Route 53's limits. The writer and the
//! dry run both send batches through [`with_aliases`].

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::batch::ChangeBatch;
use crate::plan::naming::ZoneNaming;
use crate::plan::records::{Change, NameKey, RecordSet};
use crate::plan::regional::wanted_latency_alias;
use crate::plan::tree::aliases::wanted_aliases;
use crate::plan::tree::names::tree_root;
use crate::plan::zone::ZoneSnapshot;

/// A batch with the alias changes that keep its trees and latency aliases right around it.
pub fn with_aliases(naming: &ZoneNaming, view: &ZoneSnapshot, batch: ChangeBatch) -> ChangeBatch {
    let roots: BTreeSet<NameKey> = batch
        .changes
        .iter()
        .map(Change::record_set)
        .filter(|set| set.alias.is_none())
        .map(|set| NameKey::new(tree_root(&set.name), set.record_type))
        .collect();
    if roots.is_empty() {
        return batch;
    }
    let members = members_after(view, &roots, &batch.changes);
    let (mut latency_held, mut latency_wanted) = (Vec::new(), Vec::new());
    let (mut tree_held, mut tree_wanted) = (Vec::new(), Vec::new());
    for root in &roots {
        let at_root = members.get(root).map(Vec::as_slice).unwrap_or_default();
        tree_held.extend(view.branches.get(root).into_iter().flatten().cloned());
        tree_wanted.extend(wanted_aliases(naming, root, at_root));
        if let Some(shared) = naming.shared_name(&root.name) {
            let shared = NameKey::new(shared, root.record_type);
            latency_held.extend(view.latency.get(&shared).cloned());
            latency_wanted.extend(wanted_latency_alias(naming, root, at_root));
        }
    }
    let (latency_gone, latency_new) = differences(&batch.changes, latency_held, latency_wanted);
    let (tree_gone, tree_new) = differences(&batch.changes, tree_held, tree_wanted);
    if latency_gone.is_empty()
        && latency_new.is_empty()
        && tree_gone.is_empty()
        && tree_new.is_empty()
    {
        return batch;
    }
    // Latency aliases aim at tree roots, tree aliases at branches: the outermost goes
    // first and comes last.
    let mut changes = latency_gone;
    changes.extend(tree_gone);
    changes.extend(batch.changes);
    changes.extend(tree_new);
    changes.extend(latency_new);
    ChangeBatch {
        units: batch.units,
        changes,
    }
}

/// DELETEs of the held aliases that are not wanted as they are, CREATEs of the wanted
/// ones that are not held; aliases the batch already changes count as changed.
fn differences(
    batch: &[Change],
    held: Vec<RecordSet>,
    wanted: Vec<RecordSet>,
) -> (Vec<Change>, Vec<Change>) {
    let mut held: BTreeSet<RecordSet> = held.into_iter().collect();
    for change in batch.iter().filter(|c| c.record_set().alias.is_some()) {
        match change {
            Change::Delete(old) => held.remove(old),
            Change::Create(new) => held.insert(new.clone()),
        };
    }
    let wanted: BTreeSet<RecordSet> = wanted.into_iter().collect();
    (
        held.difference(&wanted)
            .cloned()
            .map(Change::Delete)
            .collect(),
        wanted
            .difference(&held)
            .cloned()
            .map(Change::Create)
            .collect(),
    )
}

/// This deployment's members of each root (its sets and whole sets at the root and its
/// branches) once `changes` apply to `view`, without copying the view.
fn members_after(
    view: &ZoneSnapshot,
    roots: &BTreeSet<NameKey>,
    changes: &[Change],
) -> BTreeMap<NameKey, Vec<RecordSet>> {
    let root_of = |set: &RecordSet| NameKey::new(tree_root(&set.name), set.record_type);
    let mut members: BTreeMap<NameKey, Vec<RecordSet>> = BTreeMap::new();
    for set in view.owned_sets().chain(view.whole_sets.values()) {
        let root = root_of(set);
        if roots.contains(&root) {
            members.entry(root).or_default().push(set.clone());
        }
    }
    for change in changes.iter().filter(|c| c.record_set().alias.is_none()) {
        let set = change.record_set();
        let held = members.entry(root_of(set)).or_default();
        match change {
            Change::Delete(old) => held.retain(|member| member != old),
            Change::Create(new) => held.push(new.clone()),
        }
    }
    members
}
