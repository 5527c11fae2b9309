//! What a client sees: every running task answered by its names, through the one answer
//! oracle (`support::answers`, the DNS front's reading of Route 53's rules), asked the way
//! a client asks (the shared name, from the deployment's region, with REGIONAL_NAMES).
//!
//! A task is answered at its own name `T.S.Z`, and at every shared name it stands at
//! (`S.Z`, `_P._tcp.S.Z`, the whole set `_P._tcp._all.S.Z`) with a share above zero,
//! unless it weighs 0 beside heavier sets (Route 53 never answers those).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_route53::types::ResourceRecordSet;

use super::expected::{documented, shared_name};
use super::{DocumentedSet, Layout, Routing};
use crate::simulated::tasks::TaskSpec;
use crate::support::answers::{leaf_values, AnswerIndex};

/// Checks that every task of `running` is answered by the zone `listed` as documented.
pub fn every_task_answered(
    layout: &Layout,
    listed: &[ResourceRecordSet],
    running: &[&TaskSpec],
) -> Result<(), String> {
    let index = AnswerIndex::of(&layout.zone_id, listed);
    let mut answers: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let wanted = documented(layout, running);
    let heaviest = heaviest_weights(&wanted);
    for set in wanted.iter().filter(|set| set.alias.is_none()) {
        if let Routing::Weighted(0) = set.routing {
            let key = (set.name.clone(), set.record_type.clone());
            if heaviest.get(&key).is_some_and(|top| *top > 0) {
                continue;
            }
        }
        // A client asks the name every region shares; a task's own name has none.
        let own_name = set.set_identifier.as_deref().is_some_and(|id| {
            id.split(':')
                .nth(2)
                .is_some_and(|kind| kind.starts_with("task"))
        });
        let asked = match shared_name(layout, &set.name) {
            Some(shared) if layout.regional && !own_name => shared,
            _ => set.name.clone(),
        };
        let key = (asked.clone(), set.record_type.clone());
        let answered = answers.entry(key).or_insert_with(|| {
            index
                .shares_from(&asked, &set.record_type, Some(&layout.writer.region))
                .iter()
                .filter(|leaf| leaf.probability > 0.0)
                .flat_map(leaf_values)
                .collect()
        });
        if let Some(value) = set.values.iter().find(|value| !answered.contains(*value)) {
            return Err(format!(
                "{asked} {} never answers {value}, a running task's ({:?})",
                set.record_type, set.set_identifier
            ));
        }
    }
    Ok(())
}

/// The heaviest weight at each weighted name and type.
fn heaviest_weights(sets: &[DocumentedSet]) -> BTreeMap<(String, String), i64> {
    let mut heaviest: BTreeMap<(String, String), i64> = BTreeMap::new();
    for set in sets {
        if let Routing::Weighted(weight) = set.routing {
            let top = heaviest
                .entry((set.name.clone(), set.record_type.clone()))
                .or_default();
            *top = (*top).max(weight);
        }
    }
    heaviest
}
