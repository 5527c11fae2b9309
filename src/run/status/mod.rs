//! `ecs-srv status`: why each task is (or is not) in DNS, for an operator who should not
//! need the logs or the source.
//!
//! It reads what the reconcile reads (the whole zone, then ECS's listing of the served
//! clusters) and runs the reconcile's own pipeline as a dry run ([`Mode::DryRun`]): the
//! same planner decides, nothing is written, so what `status` says is what the next
//! reconcile would do. [`explain`] turns that into a verdict per task and per service,
//! and [`render`] into words.

pub(crate) mod explain;
pub(crate) mod render;

use crate::plan::whole_sets::WholeSetScope;
use crate::run::deployment::{Deployment, Mode};
use crate::run::reconcile::{survey, ReconcileError, Survey};

pub use explain::{ServiceStatus, Status, TaskStatus, Verdict};

/// Surveys the zone and ECS and explains every task; changes nothing.
pub async fn status(deployment: &Deployment) -> Result<Status, ReconcileError> {
    let Survey { view, listing } = survey(deployment).await?;
    let before = view.snapshot.clone();
    let dry_run = deployment
        .applier(WholeSetScope::All, Mode::DryRun)
        .apply(&listing.intents, view, |task_id| {
            listing.located.get(task_id).cloned()
        })
        .await;
    Ok(explain::explain(deployment, &before, &listing, &dry_run))
}
