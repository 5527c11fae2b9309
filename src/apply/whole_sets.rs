//! Whole SRV sets after a refusal: planned again from the zone as it then stands and
//! written by compare-and-swap (each DELETE names the set as read), a few times at most.
//! When nothing was refused, the sets went out with the task changes and this never runs.

use tracing::warn;

use super::{Applied, Applier};
use crate::plan::batch::{pack_batches, BatchLimits};
use crate::plan::records::Change;
use crate::plan::whole_sets::{
    followed_names, plan_whole_sets, WholeSetPlan, WholeSetScope, MAX_SWAP_ATTEMPTS,
};
use crate::plan::zone::{Coverage, ZoneSnapshot};

/// Logs and reports what a whole-set plan leaves out of line: sets too large even for
/// shards, and sets served as shards.
pub(super) fn report(plan: &WholeSetPlan, applied: &mut Applied) {
    for too_large in &plan.too_large {
        let problem = too_large.to_string();
        if !applied.name_errors.contains(&problem) {
            warn!(set = %too_large.name, values = too_large.count, "whole SRV set not written: {too_large}");
            applied.name_errors.push(problem);
        }
    }
    for refusal in &plan.refused {
        let problem = refusal.to_string();
        if !applied.name_errors.contains(&problem) {
            warn!("whole SRV set not written: {refusal}");
            applied.name_errors.push(problem);
        }
    }
    for sharded in &plan.sharded {
        warn!(set = %sharded.name, targets = sharded.targets, shards = sharded.shards, "{sharded}");
    }
    applied.sharded_whole_sets = plan.sharded.clone();
}

impl Applier<'_> {
    /// Brings the whole sets that follow `task_changes` in line with `view`. A refusal
    /// means somebody changed a set in between: the zone is re-read and the sets planned
    /// again.
    pub(super) async fn bring_whole_sets(
        &self,
        scope: WholeSetScope,
        task_changes: &[Change],
        view: &mut ZoneSnapshot,
        coverage: &Coverage,
        applied: &mut Applied,
    ) {
        for attempt in 1..=MAX_SWAP_ATTEMPTS {
            let names = followed_names(self.naming, scope, view, task_changes);
            let plan = plan_whole_sets(self.naming, &names, view);
            report(&plan, applied);
            let packed = pack_batches(&plan.units, BatchLimits::ROUTE53);
            for oversized in &packed.oversized {
                applied.name_errors.push(format!(
                    "{}: does not fit one ChangeBatch and cannot be swapped atomically",
                    oversized.unit
                ));
            }
            let mut conflict = None;
            for batch in packed.batches {
                if let Err(err) = self.send_batch(batch, view, applied).await {
                    conflict = Some(err);
                    break;
                }
            }
            let Some(err) = conflict else { return };
            if !err.is_rejection() || attempt == MAX_SWAP_ATTEMPTS {
                applied
                    .name_errors
                    .push(format!("whole SRV sets not refreshed: {err}"));
                return;
            }
            warn!(attempt, error = %err, "a whole SRV set changed under us; re-reading");
            match self.reader.read(coverage).await {
                Ok(fresh) => *view = fresh,
                Err(err) => {
                    applied.name_errors.push(format!(
                        "whole SRV sets not refreshed, the zone could not be re-read: {err}"
                    ));
                    return;
                }
            }
        }
    }
}
