//! A clean uninstall: `ecs-srv purge` withdraws every record this deployment owns (its
//! tasks' sets, the trees' aliases and branches, the whole SRV sets and their shards, the
//! latency aliases) and never a record of anybody else, through the same pipeline as every
//! write (`--dry-run` sends nothing and reports the batches). The stack runs it when it is
//! deleted ([`stack`]), so that deleting the stack leaves the zone as it found it.

pub(crate) mod stack;

use std::collections::BTreeMap;

use tracing::info;

pub use stack::{answer_stack, is_stack_request};

use crate::apply::{AppliedBatch, View};
use crate::aws::route53::Route53Error;
use crate::plan::records::Change;
use crate::plan::unit::{Unit, UnitKind};
use crate::plan::whole_sets::WholeSetScope;
use crate::plan::zone::{Coverage, ZoneSnapshot};
use crate::plan::TaskIntent;
use crate::run::deployment::{Deployment, Mode};

/// What a purge found and did.
#[derive(Debug, Default, serde::Serialize)]
pub struct PurgeReport {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// Tasks with records before the purge.
    pub tasks: usize,
    /// Record sets this deployment owned before the purge.
    pub owned_sets: usize,
    /// The batches sent (or, on a dry run, that would be).
    pub batches: Vec<AppliedBatch>,
    /// Tasks whose records could not be withdrawn, with the reason.
    pub failures: BTreeMap<String, String>,
    /// Names that could not be brought down, one line per problem.
    pub name_errors: Vec<String>,
    /// Record sets this deployment still owns afterwards (0 when the purge is complete).
    pub left: usize,
    /// AWS requests the purge made, by `Service.Operation`.
    pub api_calls: BTreeMap<String, u64>,
}

/// Withdraws every record this deployment owns; see the module docs.
pub async fn purge(deployment: &Deployment, mode: Mode) -> Result<PurgeReport, Route53Error> {
    let calls_before = deployment.clients.calls.snapshot();
    let view = deployment.reader().view(Coverage::Zone).await?;
    let owned_sets = owned_count(&view.snapshot);
    let intents: Vec<(String, TaskIntent)> = view
        .snapshot
        .owned
        .keys()
        .map(|task| (task.clone(), TaskIntent::Withdraw))
        .collect();
    let tasks = intents.len();
    let applier = deployment.applier(WholeSetScope::All, mode);
    let mut applied = applier.apply(&intents, view, |_| None).await;
    // Whatever no task change reached (an alias left aiming at an empty branch, a whole set
    // of nobody's tasks): removed in one last unit, outermost first.
    if let Some(mut after) = applied.zone_after.take() {
        let sweep = leftovers(&after);
        if !sweep.changes.is_empty() {
            let rest = applier
                .apply_units(
                    vec![sweep],
                    View {
                        snapshot: after.clone(),
                        coverage: Coverage::Zone,
                        read_at: std::time::Instant::now(),
                    },
                )
                .await;
            after = rest.zone_after.clone().unwrap_or(after);
            applied.absorb(rest);
        }
        applied.zone_after = Some(after);
    }
    let left = applied.zone_after.as_ref().map_or(owned_sets, owned_count);
    info!(
        tasks,
        owned_sets,
        left,
        dry_run = mode == Mode::DryRun,
        "purge finished"
    );
    Ok(PurgeReport {
        dry_run: mode == Mode::DryRun,
        tasks,
        owned_sets,
        failures: applied
            .failed
            .iter()
            .map(|(task, err)| (task.clone(), err.to_string()))
            .collect(),
        name_errors: applied.name_errors,
        batches: applied.batches,
        left,
        api_calls: deployment.clients.calls.since(&calls_before),
    })
}

/// Record sets this deployment owns in `zone`.
fn owned_count(zone: &ZoneSnapshot) -> usize {
    zone.owned_sets().count()
        + zone.whole_sets.len()
        + zone.branches.values().map(Vec::len).sum::<usize>()
        + zone.latency.len()
}

/// The DELETE of everything this deployment still owns, outermost first: latency
/// aliases, tree aliases, whole sets and shards, then any task's set.
fn leftovers(zone: &ZoneSnapshot) -> Unit {
    let changes = zone
        .latency
        .values()
        .chain(zone.branches.values().flatten())
        .chain(zone.whole_sets.values())
        .chain(zone.owned_sets())
        .cloned()
        .map(Change::Delete)
        .collect();
    Unit {
        kind: UnitKind::Purge,
        changes,
    }
}
