//! The apply step: one pipeline from a view of the zone and the intents of some tasks to
//! the ChangeBatches that bring the zone in line, shared by the event path, the reconcile,
//! the dry run, `status` and `purge`.
//!
//! The steps, in order ([`Applier::apply`]): plan every intent on the view (`plan`);
//! plan the whole SRV sets that follow, once; pack the units into batches, give each
//! batch its derived aliases and send it through the [`Sender`] (Route 53, or nowhere on
//! a dry run), folding each accepted batch into the view once; send each task of a refused
//! batch again on its own from a fresh read, so that one task's problem never keeps the
//! others out; bring the whole sets in line by compare-and-swap when anything was refused;
//! ask ECS once more about the tasks just published and withdraw those that stopped
//! meanwhile ([`recheck`]); and keep the view for the next invocation ([`view`]). A
//! failure is pinned to the unit it belongs to; nothing of a refused unit is half-written.

pub(crate) mod outcome;
pub(crate) mod recheck;
mod send;
pub(crate) mod sender;
pub(crate) mod view;
mod whole_sets;

use tracing::{info, warn};

pub use outcome::{Applied, AppliedBatch};
pub use sender::Sender;
pub use view::{View, ZoneCache, ZoneReader};

use crate::error::TaskError;
use crate::plan::naming::ZoneNaming;
use crate::plan::unit::{Unit, UnitKind};
use crate::plan::whole_sets::{followed_names, plan_whole_sets, WholeSetScope};
use crate::plan::zone::{Coverage, ZoneSnapshot};
use crate::plan::{plan_changes, Plan, TaskIntent};
use recheck::PublishedTasks;

/// Everything the pipeline needs: where it reads and sends, and what follows the tasks.
#[derive(Debug)]
pub struct Applier<'a> {
    /// Names and ownership.
    pub naming: &'a ZoneNaming,
    /// Where batches go; the only difference between a run and a dry run.
    pub sender: Sender<'a>,
    /// Where fresh views come from (after a refusal, for the re-check).
    pub reader: ZoneReader<'a>,
    /// Which whole SRV sets follow the task changes; `None` with `SRV_SETS=off`.
    pub whole_sets: Option<WholeSetScope>,
    /// ECS, for the re-check after the write.
    pub ecs: &'a aws_sdk_ecs::Client,
    /// Where the view is kept for the next invocation.
    pub cache: &'a ZoneCache,
}

impl Applier<'_> {
    /// Brings every task to its intent, starting from `view`; see the module docs.
    /// `locate` gives a task's cluster ARN and task ARN, for the re-check.
    pub async fn apply(
        &self,
        intents: &[(String, TaskIntent)],
        view: View,
        locate: impl Fn(&str) -> Option<(String, String)>,
    ) -> Applied {
        let View {
            snapshot,
            coverage,
            read_at,
        } = view;
        let mut applied = self.write(intents, snapshot, &coverage).await;
        let published = PublishedTasks::from_applied(self.naming, &applied, locate);
        self.withdraw_stopped_meanwhile(published, &coverage, &mut applied)
            .await;
        if self.sender.writes() {
            self.cache
                .keep(applied.zone_after.clone().map(|snapshot| View {
                    snapshot,
                    coverage,
                    read_at,
                }));
        }
        applied
    }

    /// Sends units that no intent plans (what a purge removes last), as every write sends
    /// them; a refused unit is reported by its kind.
    pub async fn apply_units(&self, units: Vec<Unit>, view: View) -> Applied {
        let mut applied = Applied::default();
        let mut snapshot = view.snapshot;
        for (unit, err) in self.send_units(&units, &mut snapshot, &mut applied).await {
            applied.name_errors.push(format!("{unit}: {err}"));
        }
        applied.zone_after = Some(snapshot);
        applied
    }

    /// Plans, sends and retries; brings the whole sets in line. `coverage` is what a fresh
    /// read reads.
    async fn write(
        &self,
        intents: &[(String, TaskIntent)],
        mut view: ZoneSnapshot,
        coverage: &Coverage,
    ) -> Applied {
        let mut applied = Applied::default();
        let plan = plan_changes(intents, &view, self.naming);
        log_plan(intents, &plan);
        applied.confined = plan.confined.clone();
        for (unit, conflict) in &plan.refused {
            match unit {
                UnitKind::Task(task) => {
                    applied
                        .failed
                        .insert(task.clone(), TaskError::Conflict(conflict.clone()));
                }
                other => applied.name_errors.push(format!("{other}: {conflict}")),
            }
        }
        // The whole sets that follow go out with the task changes, in the same requests
        // when they fit: one ChangeBatch for a deploy's events, not one plus a swap.
        let task_changes = plan.changes();
        let mut units = plan.units;
        if let Some(scope) = self.whole_sets {
            let names = followed_names(self.naming, scope, &plan.after, &task_changes);
            let whole = plan_whole_sets(self.naming, &names, &plan.after);
            whole_sets::report(&whole, &mut applied);
            units.extend(whole.units);
        }
        let refused = self.send_units(&units, &mut view, &mut applied).await;
        if refused.is_empty() {
            applied.zone_after = Some(view);
            return applied;
        }
        let Some(mut view) = self
            .retry_alone(intents, refused, coverage, &mut applied)
            .await
        else {
            return applied;
        };
        if let Some(scope) = self.whole_sets {
            self.bring_whole_sets(scope, &task_changes, &mut view, coverage, &mut applied)
                .await;
        }
        applied.zone_after = Some(view);
        applied
    }
}

/// One log line per unit decision.
fn log_plan(intents: &[(String, TaskIntent)], plan: &Plan) {
    let verb = |task: &str| {
        intents
            .iter()
            .find(|(id, _)| id == task)
            .map_or("decide", |(_, intent)| intent.verb())
    };
    for task in &plan.unchanged {
        info!(task = %task, decision = verb(task), changes = 0, "task decided; the zone already matches");
    }
    for unit in &plan.units {
        match &unit.kind {
            UnitKind::Task(task) => {
                info!(task = %task, decision = verb(task), changes = unit.changes.len(), "task decided")
            }
            other => info!(unit = %other, changes = unit.changes.len(), "name planned"),
        }
    }
    for (unit, conflict) in &plan.refused {
        warn!(unit = %unit, error = %conflict, "cannot be written");
    }
    for (task, names) in &plan.confined {
        info!(task = %task, names = ?names, "a one-off task shares its label with a service's tasks; published under its own task name only (the docker label ecs-srv.service puts it in the service on purpose)");
    }
}
