//! What a client sees: every running task answered by its names, through the one answer
//! oracle (`support::answers`, the DNS front's reading of Route 53's rules), asked the way
//! a client asks (the shared name, from the deployment's region, with REGIONAL_NAMES).
//!
//! A task is answered at its own name `T.S.Z`, and at every shared name it stands at
//! (`S.Z`, `_P._tcp.S.Z`, the whole set `_P._tcp._all.S.Z`) with a share above zero. A set
//! of weight 0 is left out: Route 53 answers it only when every set beside it weighs 0.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_route53::types::ResourceRecordSet;

use super::expected::{documented, shared_name};
use super::{Layout, Routing};
use crate::simulated::tasks::TaskSpec;
use crate::support::answers::{leaf_values, AnswerIndex};

/// Checks that every task of `running` is answered by the zone `listed` as documented.
pub fn every_task_answered(
    layout: &Layout,
    listed: &[ResourceRecordSet],
    running: &[&TaskSpec],
) -> Result<(), String> {
    match unanswered(layout, listed, running).first() {
        Some(missing) => Err(missing.clone()),
        None => Ok(()),
    }
}

/// Every documented value of `tasks` that the zone `listed` never answers, in words.
pub fn unanswered(
    layout: &Layout,
    listed: &[ResourceRecordSet],
    tasks: &[&TaskSpec],
) -> Vec<String> {
    let index = AnswerIndex::of(&layout.zone_id, listed);
    let mut answers: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut missing = Vec::new();
    let wanted = documented(layout, tasks);
    for set in wanted.iter().filter(|set| set.alias.is_none()) {
        if set.routing == Routing::Weighted(0) {
            continue;
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
        missing.extend(
            set.values
                .iter()
                .filter(|value| !answered.contains(*value))
                .map(|value| {
                    format!(
                        "{asked} {} never answers {value}, a running task's ({:?})",
                        set.record_type, set.set_identifier
                    )
                }),
        );
    }
    missing
}
