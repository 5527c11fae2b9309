//! The Route 53 write path: a [`plan_changes`] plan sent as few paced batches as the
//! limits allow, a task-by-task retry when Route 53 refuses a merged batch, and then the
//! whole SRV sets by compare-and-swap.
//!
//! Event invocations and reconciles both end here, so both get the same guarantees: a
//! task's failure is its own, nothing of a refused task is half-written, every request
//! waits for the pacer, and the caller learns what the zone holds afterwards (to keep a
//! cached view true).

pub mod recheck;
pub mod view;

use std::collections::BTreeMap;

use tracing::{info, warn};

use crate::aws::route53::pacing::WritePacer;
use crate::aws::route53::{self, Route53Error};
use crate::error::TaskError;
use crate::plan::batch::{pack_batches, BatchLimits, ChangeBatch, TaskChanges};
use crate::plan::naming::ZoneNaming;
use crate::plan::records::Change;
use crate::plan::whole_sets::{plan_whole_sets, WholeSetScope, MAX_SWAP_ATTEMPTS};
use crate::plan::zone::{Coverage, ZoneListing, ZoneSnapshot};
use crate::plan::{plan_changes, Plan, TaskIntent};
use crate::run::report::AppliedBatch;

/// Where and how to write.
#[derive(Debug)]
pub struct ZoneWriter<'a> {
    /// The Route 53 client.
    pub route53: &'a aws_sdk_route53::Client,
    /// The hosted zone.
    pub zone_id: &'a str,
    /// Names and ownership.
    pub naming: &'a ZoneNaming,
    /// Spaces out requests.
    pub pacer: &'a WritePacer,
    /// Which whole SRV sets follow the task changes; `None` with `SRV_SETS=off`.
    pub whole_sets: Option<WholeSetScope>,
    /// What a read reads: the whole zone, or the subtrees of the services at hand.
    pub coverage: Coverage,
}

/// What a write did.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// Tasks whose changes failed, with the reason. Every other task is done.
    pub failed: BTreeMap<String, TaskError>,
    /// Batches Route 53 accepted, in order.
    pub batches: Vec<AppliedBatch>,
    /// The zone as it stands after the write, when it is known: the view the write
    /// started from (or re-read after a refusal) with every accepted batch folded in.
    pub zone_after: Option<ZoneSnapshot>,
    /// Why whole SRV sets were not brought in line, one line per problem. The task
    /// records are written all the same.
    pub whole_set_errors: Vec<String>,
    /// Whole SRV sets the write left served as shards (too many targets for one set).
    pub sharded_whole_sets: Vec<crate::plan::whole_sets::ShardedSet>,
}

impl WriteOutcome {
    /// Every change Route 53 accepted, in order.
    pub fn applied_changes(&self) -> Vec<Change> {
        applied_changes(&self.batches)
    }
}

/// Every change of some accepted batches, in order.
pub fn applied_changes(batches: &[AppliedBatch]) -> Vec<Change> {
    batches
        .iter()
        .flat_map(|b| b.changes.iter().cloned())
        .collect()
}

impl ZoneWriter<'_> {
    /// Reads what the writer covers: one request per 300 record sets, each paced like a
    /// write, since reads and writes spend the same account-wide budget.
    pub async fn read(&self) -> Result<ZoneSnapshot, Route53Error> {
        self.read_part(&self.coverage).await
    }

    /// Reads part of the zone: all of it, or each subtree from its first name to its last.
    pub async fn read_part(&self, coverage: &Coverage) -> Result<ZoneSnapshot, Route53Error> {
        let listing = match coverage {
            Coverage::Zone => route53::read_zone(self.route53, self.zone_id, self.pacer).await?,
            Coverage::Subtrees(roots) => {
                let mut listing = ZoneListing::default();
                for root in roots {
                    let part =
                        route53::read_subtree(self.route53, self.zone_id, self.pacer, root).await?;
                    listing.sets.extend(part.sets);
                    listing.others.extend(part.others);
                }
                listing
            }
        };
        Ok(ZoneSnapshot::from_listing(self.naming, listing))
    }

    /// The same writer, reading `coverage`.
    pub fn covering(self, coverage: Coverage) -> Self {
        ZoneWriter { coverage, ..self }
    }

    /// Brings every task to its intent, starting from `snapshot`, then the whole SRV sets.
    pub async fn apply(
        &self,
        intents: &[(String, TaskIntent)],
        snapshot: ZoneSnapshot,
    ) -> WriteOutcome {
        let mut outcome = WriteOutcome::default();
        let initial = snapshot.clone();
        let mut view = snapshot;
        let plan = plan_changes(intents, &view, self.naming);
        log_plan(intents, &plan);
        outcome.failed.extend(
            plan.refused
                .iter()
                .map(|(task, conflict)| (task.clone(), TaskError::Conflict(conflict.clone()))),
        );
        // The whole sets that follow go out with the task changes, in the same requests
        // when they fit: one ChangeBatch for a deploy's events, not one plus a swap. Should a
        // batch be refused, the sets are planned again below from what the zone then holds.
        let planned: Vec<Change> = plan.changes();
        let mut units = plan.tasks;
        if let Some(scope) = self.whole_sets {
            let after = view.with_changes(self.naming, &planned);
            let whole = plan_whole_sets(self.naming, scope, &initial, &planned, &after);
            units.extend(whole.units);
        }
        let refused = self.send_tasks(&units, &mut view, &mut outcome).await;
        let view = if refused.is_empty() {
            Some(view)
        } else {
            self.retry_alone(intents, refused, &mut outcome).await
        };
        let Some(mut view) = view else {
            return outcome;
        };
        if let Some(scope) = self.whole_sets {
            self.write_whole_sets(scope, &initial, &planned, &mut view, &mut outcome)
                .await;
        }
        outcome.zone_after = Some(view);
        outcome
    }

    /// Re-reads the zone and sends each refused task on its own, so that one task's
    /// problem never keeps the others out. Returns the fresh view, or `None` when the
    /// zone could not be read again (every refused task then fails).
    async fn retry_alone(
        &self,
        intents: &[(String, TaskIntent)],
        refused: Vec<(String, Route53Error)>,
        outcome: &mut WriteOutcome,
    ) -> Option<ZoneSnapshot> {
        let mut view = match self.read().await {
            Ok(fresh) => fresh,
            Err(err) => {
                warn!(error = %err, "the zone could not be re-read after a refused batch");
                for (task_id, first) in refused {
                    outcome.failed.insert(task_id, TaskError::Route53(first));
                }
                return None;
            }
        };
        for (task_id, first) in refused {
            let Some((_, intent)) = intents.iter().find(|(id, _)| *id == task_id) else {
                continue;
            };
            let alone = plan_changes(&[(task_id.clone(), intent.clone())], &view, self.naming);
            if let Some((_, conflict)) = alone.refused.into_iter().next() {
                outcome
                    .failed
                    .insert(task_id, TaskError::Conflict(conflict));
                continue;
            }
            let again = self.send_tasks(&alone.tasks, &mut view, outcome).await;
            if let Some((_, err)) = again.into_iter().next() {
                warn!(task = %task_id, first_error = %first, "task refused on its own too");
                outcome.failed.insert(task_id, TaskError::Route53(err));
            }
        }
        Some(view)
    }

    /// Packs and sends the tasks' changes, folding every accepted batch into `view`;
    /// returns the tasks of the batches Route 53 refused, with the reason.
    async fn send_tasks(
        &self,
        tasks: &[TaskChanges],
        view: &mut ZoneSnapshot,
        outcome: &mut WriteOutcome,
    ) -> Vec<(String, Route53Error)> {
        let packed = pack_batches(tasks, BatchLimits::ROUTE53);
        for oversized in packed.oversized {
            outcome
                .failed
                .insert(oversized.task_id.clone(), TaskError::Oversized(oversized));
        }
        let mut refused = Vec::new();
        for batch in packed.batches {
            // The aliases of the trees the batch touches follow it, in the same request.
            let batch = crate::plan::tree::aliases::with_branches(self.naming, view, batch);
            let comment = format!("ecs-srv: {} task(s)", batch.task_ids.len());
            if let Err(err) = self
                .send_batch(batch.clone(), &comment, view, outcome)
                .await
            {
                warn!(tasks = batch.task_ids.len(), error = %err, "change batch refused");
                refused.extend(batch.task_ids.into_iter().map(|id| (id, err.clone())));
            }
        }
        refused
    }

    /// Brings the whole sets in line with `view`, by compare-and-swap: each set's DELETE
    /// names it as read. A refusal means somebody changed a set in between: the zone is
    /// re-read and the sets planned again, a few times at most.
    /// `task_changes` are the planned task changes: their names say which sets follow,
    /// whether or not Route 53 took each of them; the sets follow what `view` holds.
    async fn write_whole_sets(
        &self,
        scope: WholeSetScope,
        initial: &ZoneSnapshot,
        task_changes: &[Change],
        view: &mut ZoneSnapshot,
        outcome: &mut WriteOutcome,
    ) {
        if scope == WholeSetScope::Touched && task_changes.is_empty() {
            return;
        }
        for attempt in 1..=MAX_SWAP_ATTEMPTS {
            let plan = plan_whole_sets(self.naming, scope, initial, task_changes, view);
            if attempt == 1 {
                for too_large in &plan.too_large {
                    warn!(set = %too_large.name, values = too_large.count, "whole SRV set not written: {too_large}");
                    outcome.whole_set_errors.push(too_large.to_string());
                }
                for sharded in &plan.sharded {
                    warn!(set = %sharded.name, targets = sharded.targets, shards = sharded.shards, "{sharded}");
                }
                outcome.sharded_whole_sets = plan.sharded.clone();
            }
            let swaps = plan.units;
            if swaps.is_empty() {
                return;
            }
            let packed = pack_batches(&swaps, BatchLimits::ROUTE53);
            for oversized in &packed.oversized {
                outcome.whole_set_errors.push(format!(
                    "whole SRV set {} does not fit one ChangeBatch and cannot be swapped atomically",
                    oversized.task_id
                ));
            }
            let mut conflict = None;
            for mut batch in packed.batches {
                batch.task_ids.clear();
                let batch = crate::plan::tree::aliases::with_branches(self.naming, view, batch);
                if let Err(err) = self
                    .send_batch(batch, "ecs-srv: whole SRV sets", view, outcome)
                    .await
                {
                    conflict = Some(err);
                    break;
                }
            }
            let Some(err) = conflict else { return };
            if !err.is_rejection() || attempt == MAX_SWAP_ATTEMPTS {
                outcome
                    .whole_set_errors
                    .push(format!("whole SRV sets not refreshed: {err}"));
                return;
            }
            warn!(attempt, error = %err, "a whole SRV set changed under us; re-reading");
            match self.read().await {
                Ok(fresh) => *view = fresh,
                Err(err) => {
                    outcome.whole_set_errors.push(format!(
                        "whole SRV sets not refreshed, the zone could not be re-read: {err}"
                    ));
                    return;
                }
            }
        }
    }

    /// Sends one batch, paced; on success folds it into `view` and records it.
    async fn send_batch(
        &self,
        batch: ChangeBatch,
        comment: &str,
        view: &mut ZoneSnapshot,
        outcome: &mut WriteOutcome,
    ) -> Result<(), Route53Error> {
        self.pacer.ready().await;
        let change_id =
            route53::send_batch(self.route53, self.zone_id, &batch.changes, comment).await?;
        info!(
            change_id,
            changes = batch.changes.len(),
            comment,
            "change batch applied"
        );
        *view = view.with_changes(self.naming, &batch.changes);
        outcome.batches.push(AppliedBatch {
            change_id,
            task_ids: batch.task_ids,
            changes: batch.changes,
        });
        Ok(())
    }
}

/// One log line per task decision.
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
    for task in &plan.tasks {
        info!(task = %task.task_id, decision = verb(&task.task_id), changes = task.changes.len(), "task decided");
    }
    for (task, conflict) in &plan.refused {
        warn!(task = %task, decision = verb(task), error = %conflict, "task cannot be written");
    }
    for (task, names) in &plan.confined {
        info!(task = %task, names = ?names, "a one-off task shares its label with a service's tasks; published under its own task name only (the docker label ecs-srv.service puts it in the service on purpose)");
    }
}
