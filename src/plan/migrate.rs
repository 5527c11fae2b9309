//! Changing ROUTING_POLICY on a live zone, pure.
//!
//! Route 53 cannot mix weighted and multivalue sets on one name and type. When the policy
//! changes, the first task planned under the new one would be refused at every shared
//! name until every old set there were gone, and no event would remove them: a window
//! in which new tasks cannot publish. So a name whose owned sets hold the old policy is
//! moved in one unit, in one ChangeBatch: a DELETE of every owned set there, then a CREATE
//! of each task's set under the new policy (the intent's own for a task being planned,
//! the held one converted for the others). The reconcile then corrects what a conversion
//! had to guess (a weight, going from multivalue to weighted).

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::intent::TaskIntent;
use crate::plan::naming::ZoneNaming;
use crate::plan::ownership::{ownership, Ownership};
use crate::plan::records::{Change, NameKey, RecordSet, RecordType, Routing};
use crate::plan::unit::{Unit, UnitKind};
use crate::plan::zone::ZoneSnapshot;

/// The units that move every name whose owned sets hold another policy than the one the
/// intents now write there.
pub fn policy_migrations(
    intents: &[(String, TaskIntent)],
    view: &ZoneSnapshot,
    naming: &ZoneNaming,
) -> Vec<Unit> {
    let mut wanted: BTreeMap<NameKey, &'static str> = BTreeMap::new();
    let mut desired: BTreeMap<NameKey, BTreeMap<&str, &RecordSet>> = BTreeMap::new();
    let mut withdrawn: BTreeSet<&str> = BTreeSet::new();
    for (task_id, intent) in intents {
        if let TaskIntent::Withdraw = intent {
            withdrawn.insert(task_id);
        }
        for set in intent
            .wanted()
            .iter()
            .filter(|set| set.routing != Routing::Simple)
        {
            wanted.insert(set.name_key(), set.routing.policy_name());
            desired
                .entry(set.name_key())
                .or_default()
                .insert(task_id, set);
        }
    }
    let moving: BTreeSet<NameKey> = view
        .owned_sets()
        .filter(|set| {
            wanted
                .get(&set.name_key())
                .is_some_and(|policy| *policy != set.routing.policy_name())
        })
        .map(RecordSet::name_key)
        .collect();
    moving
        .into_iter()
        .map(|key| {
            let empty = BTreeMap::new();
            let planned = desired.get(&key).unwrap_or(&empty);
            move_name(&key, wanted[&key], planned, &withdrawn, view, naming)
        })
        .collect()
}

fn move_name(
    key: &NameKey,
    policy: &str,
    planned: &BTreeMap<&str, &RecordSet>,
    withdrawn: &BTreeSet<&str>,
    view: &ZoneSnapshot,
    naming: &ZoneNaming,
) -> Unit {
    let mut deletes = Vec::new();
    let mut creates = Vec::new();
    let mut covered = BTreeSet::new();
    for (task_id, sets) in &view.owned {
        let at_name = |set: &&RecordSet| set.name == key.name && set.record_type == key.record_type;
        if sets
            .iter()
            .filter(at_name)
            .any(|set| set.routing.policy_name() == policy)
        {
            // Already moved (a task published under the new policy): its own plan keeps it.
            covered.insert(task_id.as_str());
            continue;
        }
        for held in sets.iter().filter(at_name) {
            deletes.push(Change::Delete(held.clone()));
            covered.insert(task_id.as_str());
            match planned.get(task_id.as_str()) {
                Some(set) => creates.push(Change::Create((*set).clone())),
                None if withdrawn.contains(task_id.as_str()) => {}
                None => creates.push(Change::Create(converted(held, sets, naming))),
            }
        }
    }
    for (task_id, set) in planned {
        if !covered.contains(task_id) {
            creates.push(Change::Create((*set).clone()));
        }
    }
    deletes.extend(creates);
    Unit {
        kind: UnitKind::PolicyMove(key.clone()),
        changes: deletes,
    }
}

/// A held set under the other routed policy, its mark and values kept. Going to weighted,
/// the weight is the task's SRV weight label where it has one, else 1.
fn converted(held: &RecordSet, task_sets: &[RecordSet], naming: &ZoneNaming) -> RecordSet {
    let set_identifier = held.routing.set_identifier().unwrap_or_default().to_owned();
    let routing = match held.routing {
        Routing::Weighted { .. } => Routing::Multivalue { set_identifier },
        _ => Routing::Weighted {
            set_identifier,
            weight: srv_weight_label(held)
                .or_else(|| {
                    task_sets
                        .iter()
                        .filter(|set| matches!(ownership(naming, set), Ownership::Task(_)))
                        .filter_map(srv_weight_label)
                        .max()
                })
                .unwrap_or(1),
        },
    };
    RecordSet {
        routing,
        ..held.clone()
    }
}

/// The weight label an SRV set was written with, read back from its weight field (which
/// carries the label, scaled by 256 where the label is scaled for HAProxy).
fn srv_weight_label(set: &RecordSet) -> Option<u8> {
    if set.record_type != RecordType::Srv {
        return None;
    }
    let field: u32 = set.values.first()?.split(' ').nth(1)?.parse().ok()?;
    u8::try_from(if field > 255 { field / 256 } else { field }).ok()
}
