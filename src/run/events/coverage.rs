//! The part of the zone an invocation reads: the subtree of every service name its tasks'
//! records stand under, so that its cost follows its tasks, not the zone.

use std::collections::{BTreeMap, BTreeSet};

use tracing::warn;

use crate::input::event::TaskStateChange;
use crate::plan::records::RecordSet;
use crate::plan::zone::Coverage;
use crate::plan::TaskIntent;
use crate::run::deployment::Deployment;
use crate::run::intents::service_names;

/// The subtrees the intents can touch: a published task's service names from its records,
/// a withdrawn one's from its task definition (with REGIONAL_NAMES, the shared names too).
/// Should a withdrawn task's definition not be known, the whole zone.
pub(super) async fn coverage(
    deployment: &Deployment,
    latest: &BTreeMap<String, &TaskStateChange>,
    intents: &[(String, TaskIntent)],
) -> Coverage {
    let mut roots = BTreeSet::new();
    for (task_id, intent) in intents {
        let published: Vec<String> = service_names_of(deployment, intent.wanted());
        if !published.is_empty() {
            roots.extend(published);
            continue;
        }
        // A withdrawal, or a task that publishes nothing now (every container opted out):
        // what it may still hold stands under its definition's service names.
        let Some(detail) = latest.get(task_id) else {
            return Coverage::Zone;
        };
        match service_names(deployment, detail).await {
            Ok(names) => roots.extend(names),
            Err(err) => {
                warn!(task = %task_id, error = %err, "the task's service names are not known; reading the whole zone to withdraw it");
                return Coverage::Zone;
            }
        }
    }
    Coverage::Subtrees(outermost(roots))
}

/// The service names `S.Z` of some task sets (the parent of each task name `T.S.Z`), and
/// with REGIONAL_NAMES their shared names.
fn service_names_of(deployment: &Deployment, sets: &[RecordSet]) -> Vec<String> {
    let mut names = Vec::new();
    for set in sets {
        let own_name = set
            .mark()
            .and_then(|mark| mark.role())
            .is_some_and(|role| !role.is_shared_name());
        if let Some((_, service)) = set.name.split_once('.').filter(|_| own_name) {
            names.extend(deployment.naming().shared_name(service));
            names.push(service.to_owned());
        }
    }
    names
}

/// Names without those under another of them: a subtree read reads what lies below.
fn outermost(roots: BTreeSet<String>) -> BTreeSet<String> {
    roots
        .iter()
        .filter(|root| {
            !roots
                .iter()
                .any(|other| other != *root && root.ends_with(&format!(".{other}")))
        })
        .cloned()
        .collect()
}
