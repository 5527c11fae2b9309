//! The check after the write, on every path alike.
//!
//! A task is confirmed running, then looked up, planned and written, paced and perhaps
//! throttled; its drain and stop can complete in between, and their events find nothing
//! to withdraw yet. So the tasks a write just published are asked about once more (one
//! DescribeTasks per 100 of a cluster), and any that no longer runs is withdrawn at once.
//! A stop handled after this check finds the records and withdraws them itself.

use std::collections::BTreeMap;

use tracing::info;

use super::{Applied, Applier};
use crate::aws::ecs::tasks::task_states;
use crate::error::TaskError;
use crate::plan::naming::ZoneNaming;
use crate::plan::zone::{created_for_tasks, Coverage};
use crate::plan::TaskIntent;

/// The tasks a write created records for, by cluster ARN: task id → task ARN.
#[derive(Debug, Default)]
pub struct PublishedTasks(BTreeMap<String, BTreeMap<String, String>>);

impl PublishedTasks {
    /// The tasks with created sets in `applied`; `locate` gives a task's cluster and ARN.
    pub fn from_applied(
        naming: &ZoneNaming,
        applied: &Applied,
        locate: impl Fn(&str) -> Option<(String, String)>,
    ) -> Self {
        let mut published = PublishedTasks::default();
        for task_id in created_for_tasks(naming, &applied.changes()) {
            if let Some((cluster, arn)) = locate(&task_id) {
                published.0.entry(cluster).or_default().insert(task_id, arn);
            }
        }
        published
    }
}

impl Applier<'_> {
    /// Asks ECS about every published task and withdraws those that stopped meanwhile,
    /// starting from the zone as the write left it. Failures are pinned to their tasks.
    pub(super) async fn withdraw_stopped_meanwhile(
        &self,
        published: PublishedTasks,
        coverage: &Coverage,
        applied: &mut Applied,
    ) {
        let stopped = self.stopped_meanwhile(published, applied).await;
        if stopped.is_empty() {
            return;
        }
        info!(
            tasks = stopped.len(),
            "tasks stopped while they were published; withdrawing them"
        );
        let view = match applied.zone_after.take() {
            Some(view) => Ok(view),
            None => self.reader.read(coverage).await,
        };
        let view = match view {
            Ok(view) => view,
            Err(err) => {
                for task_id in stopped {
                    let unreadable = TaskError::ZoneUnreadable(err.clone());
                    applied
                        .failed
                        .insert(task_id, TaskError::StoppedMeanwhile(Box::new(unreadable)));
                }
                return;
            }
        };
        let withdrawals: Vec<(String, TaskIntent)> = stopped
            .into_iter()
            .map(|task_id| (task_id, TaskIntent::Withdraw))
            .collect();
        let mut second = self.write(&withdrawals, view, coverage).await;
        for (task_id, err) in std::mem::take(&mut second.failed) {
            applied
                .failed
                .insert(task_id, TaskError::StoppedMeanwhile(Box::new(err)));
        }
        applied.absorb(second);
    }

    /// The published tasks ECS no longer reports running.
    async fn stopped_meanwhile(
        &self,
        published: PublishedTasks,
        applied: &mut Applied,
    ) -> Vec<String> {
        let mut stopped = Vec::new();
        for (cluster, tasks) in published.0 {
            let arns: Vec<String> = tasks.values().cloned().collect();
            match task_states(self.ecs, &cluster, &arns).await {
                Ok(states) => stopped.extend(
                    tasks
                        .into_iter()
                        .filter(|(_, arn)| !states.get(arn).is_some_and(|state| state.is_running()))
                        .map(|(task_id, _)| task_id),
                ),
                Err(err) => {
                    for task_id in tasks.into_keys() {
                        applied
                            .failed
                            .insert(task_id, TaskError::NotRechecked(err.clone()));
                    }
                }
            }
        }
        stopped
    }
}
