//! Sending planned units: packed into as few batches as the limits allow, each with its
//! derived aliases, each accepted batch folded into the view once; and the task-by-task
//! retry when Route 53 refuses a merged batch.

use tracing::{info, warn};

use super::{Applied, AppliedBatch, Applier};
use crate::aws::route53::Route53Error;
use crate::error::TaskError;
use crate::plan::aliases::with_aliases;
use crate::plan::batch::{pack_batches, BatchLimits, ChangeBatch};
use crate::plan::unit::{Unit, UnitKind};
use crate::plan::zone::{Coverage, ZoneSnapshot};
use crate::plan::{plan_changes, TaskIntent};

impl Applier<'_> {
    /// Packs and sends units, folding every accepted batch into `view`; returns the units
    /// of the batches Route 53 refused, with the reason.
    pub(super) async fn send_units(
        &self,
        units: &[Unit],
        view: &mut ZoneSnapshot,
        applied: &mut Applied,
    ) -> Vec<(UnitKind, Route53Error)> {
        let packed = pack_batches(units, BatchLimits::ROUTE53);
        for oversized in packed.oversized {
            match oversized.unit.task_id() {
                Some(task) => {
                    applied
                        .failed
                        .insert(task.to_owned(), TaskError::Oversized(oversized));
                }
                None => applied.name_errors.push(format!(
                    "{}: does not fit one ChangeBatch and cannot be swapped atomically",
                    oversized.unit
                )),
            }
        }
        let mut refused = Vec::new();
        for batch in packed.batches {
            let units = batch.units.clone();
            if let Err(err) = self.send_batch(batch, view, applied).await {
                warn!(units = units.len(), error = %err, "change batch refused");
                refused.extend(units.into_iter().map(|unit| (unit, err.clone())));
            }
        }
        refused
    }

    /// Sends one batch with its derived aliases; on success folds it into `view` and
    /// records it.
    pub(super) async fn send_batch(
        &self,
        batch: ChangeBatch,
        view: &mut ZoneSnapshot,
        applied: &mut Applied,
    ) -> Result<(), Route53Error> {
        let batch = with_aliases(self.naming, view, batch);
        let tasks = batch.task_ids();
        let comment = match tasks.len() {
            0 => "ecs-srv: names".to_owned(),
            n => format!("ecs-srv: {n} task(s)"),
        };
        let change_id = self.sender.send(&batch.changes, &comment).await?;
        info!(
            change_id,
            changes = batch.changes.len(),
            comment,
            "change batch applied"
        );
        view.apply_changes(self.naming, &batch.changes);
        applied.batches.push(AppliedBatch {
            change_id,
            task_ids: tasks,
            changes: batch.changes,
            applied_at: std::time::SystemTime::now(),
        });
        Ok(())
    }

    /// Re-reads the zone and sends each refused task on its own, so that one task's
    /// problem never keeps the others out. Returns the fresh view, or `None` when the
    /// zone could not be read again (every refused task then fails). Other refused units
    /// (trees, policy moves, whole sets) are planned again with the tasks or by the whole
    /// sets' own compare-and-swap.
    pub(super) async fn retry_alone(
        &self,
        intents: &[(String, TaskIntent)],
        refused: Vec<(UnitKind, Route53Error)>,
        coverage: &Coverage,
        applied: &mut Applied,
    ) -> Option<ZoneSnapshot> {
        let refused: Vec<(String, Route53Error)> = refused
            .into_iter()
            .filter_map(|(unit, err)| Some((unit.task_id()?.to_owned(), err)))
            .collect();
        let mut view = match self.reader.read(coverage).await {
            Ok(fresh) => fresh,
            Err(err) => {
                warn!(error = %err, "the zone could not be re-read after a refused batch");
                for (task_id, first) in refused {
                    applied.failed.insert(task_id, TaskError::Route53(first));
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
                applied
                    .failed
                    .insert(task_id, TaskError::Conflict(conflict));
                continue;
            }
            let again = self.send_units(&alone.units, &mut view, applied).await;
            if let Some((_, err)) = again.into_iter().next() {
                warn!(task = %task_id, first_error = %first, "task refused on its own too");
                applied.failed.insert(task_id, TaskError::Route53(err));
            }
        }
        Some(view)
    }
}
