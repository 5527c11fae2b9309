//! Writing task intents to the zone: exact changes, packed into as few paced batches as
//! the limits allow, with a task-by-task retry when Route 53 refuses a merged batch.
//!
//! Event invocations and reconciles both end here, so both get the same guarantees: a
//! task's failure is its own, nothing of a refused task is half-written, and every
//! request waits for the write pacer.

use std::collections::BTreeMap;

use tracing::{info, warn};

use crate::batch::{pack_batches, BatchLimits, TaskChanges};
use crate::naming::ZoneNaming;
use crate::pacing::WritePacer;
use crate::plan::{task_changes, NameLedger, TaskIntent, ZoneSnapshot};
use crate::records::Change;
use crate::report::AppliedBatch;
use crate::route53::{self, Route53Error};
use crate::srv_sets;

/// Where and how to write.
#[derive(Debug)]
pub struct ZoneWriter<'a> {
    /// The Route 53 client.
    pub route53: &'a aws_sdk_route53::Client,
    /// The hosted zone.
    pub zone_id: &'a str,
    /// Names and ownership.
    pub naming: &'a ZoneNaming,
    /// Spaces out change requests.
    pub pacer: &'a WritePacer,
    /// Whether whole SRV sets are kept too.
    pub srv_sets: bool,
}

/// What a write did.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// Tasks whose changes failed, with the reason. Every other task is done.
    pub failed: BTreeMap<String, String>,
    /// Batches Route 53 accepted, in order.
    pub batches: Vec<AppliedBatch>,
    /// Whether Route 53 refused a batch and the zone was read again; a cached view of
    /// the zone is then no longer to be trusted.
    pub zone_reread: bool,
    /// Why the whole SRV sets could not be refreshed, if they could not. The weighted
    /// records are written all the same; the next reconcile repairs the sets.
    pub srv_set_error: Option<String>,
}

impl ZoneWriter<'_> {
    /// Reads the whole zone.
    pub async fn read(&self) -> Result<ZoneSnapshot, Route53Error> {
        route53::read_zone(self.route53, self.zone_id, self.naming).await
    }

    /// The exact changes for each task against `snapshot`, checked against foreign names
    /// and the weighted-set cap; tasks that cannot be written come back as failures.
    pub fn plan(
        &self,
        intents: &[(String, TaskIntent)],
        snapshot: &ZoneSnapshot,
    ) -> (Vec<TaskChanges>, BTreeMap<String, String>) {
        let mut ledger = NameLedger::new(snapshot);
        let mut planned = Vec::new();
        let mut failed = BTreeMap::new();
        for (task_id, intent) in intents {
            let changes = task_changes(snapshot.task_records(task_id), intent);
            let decision = match intent {
                TaskIntent::Publish(_) => "publish",
                TaskIntent::Withdraw => "withdraw",
            };
            if changes.is_empty() {
                info!(task = %task_id, decision, changes = 0, "task decided; the zone already matches");
                continue;
            }
            match ledger.admit(&changes) {
                Ok(()) => {
                    info!(task = %task_id, decision, changes = changes.len(), "task decided");
                    planned.push(TaskChanges {
                        task_id: task_id.clone(),
                        changes,
                    });
                }
                Err(conflict) => {
                    warn!(task = %task_id, decision, error = %conflict, "task cannot be written");
                    failed.insert(task_id.clone(), conflict.to_string());
                }
            }
        }
        (planned, failed)
    }

    /// Brings every task to its intent, starting from `snapshot`, then refreshes the
    /// whole SRV sets the changes touched.
    pub async fn apply(
        &self,
        intents: &[(String, TaskIntent)],
        snapshot: ZoneSnapshot,
    ) -> WriteOutcome {
        let mut outcome = WriteOutcome::default();
        let (planned, failed) = self.plan(intents, &snapshot);
        outcome.failed.extend(failed);
        let refused = self.send_all(&planned, &mut outcome.batches).await;
        let mut touched: Vec<Change> = outcome
            .batches
            .iter()
            .flat_map(|b| b.changes.clone())
            .collect();
        if !refused.is_empty() {
            outcome.zone_reread = true;
            match self.read().await {
                Err(err) => outcome
                    .failed
                    .extend(refused.into_iter().map(|(id, first)| {
                        (
                            id,
                            format!("{first}; then the zone could not be re-read: {err}"),
                        )
                    })),
                Ok(fresh) => {
                    for (task_id, first_error) in refused {
                        let Some((_, intent)) = intents.iter().find(|(id, _)| *id == task_id)
                        else {
                            continue;
                        };
                        let (alone, conflict) =
                            self.plan(&[(task_id.clone(), intent.clone())], &fresh);
                        if let Some(reason) = conflict.into_values().next() {
                            outcome.failed.insert(task_id, reason);
                            continue;
                        }
                        let before = outcome.batches.len();
                        if let Some((_, err)) = self
                            .send_all(&alone, &mut outcome.batches)
                            .await
                            .into_iter()
                            .next()
                        {
                            warn!(task = %task_id, first_error, "task refused on its own too");
                            outcome.failed.insert(task_id, err);
                        }
                        touched.extend(
                            outcome.batches[before..]
                                .iter()
                                .flat_map(|b| b.changes.clone()),
                        );
                    }
                }
            }
        }
        if self.srv_sets && !touched.is_empty() {
            self.refresh_srv_sets(&touched, &mut outcome).await;
        }
        outcome
    }

    /// Sends the batches; returns the tasks of those Route 53 refused, with the reason.
    async fn send_all(
        &self,
        tasks: &[TaskChanges],
        applied: &mut Vec<AppliedBatch>,
    ) -> Vec<(String, String)> {
        let batches = match pack_batches(tasks, BatchLimits::ROUTE53) {
            Ok(batches) => batches,
            Err(err) => {
                return tasks
                    .iter()
                    .map(|t| (t.task_id.clone(), err.to_string()))
                    .collect()
            }
        };
        let mut refused = Vec::new();
        for batch in batches {
            match self
                .send(
                    &batch.changes,
                    &format!("ecs-srv: {} task(s)", batch.task_ids.len()),
                )
                .await
            {
                Ok(change_id) => applied.push(AppliedBatch {
                    change_id,
                    task_ids: batch.task_ids,
                    changes: batch.changes,
                }),
                Err(err) => {
                    warn!(tasks = batch.task_ids.len(), error = %err, "change batch refused");
                    refused.extend(batch.task_ids.into_iter().map(|id| (id, err.to_string())));
                }
            }
        }
        refused
    }

    /// One paced ChangeResourceRecordSets.
    pub async fn send(&self, changes: &[Change], comment: &str) -> Result<String, Route53Error> {
        self.pacer.ready().await;
        let change_id = route53::send_batch(self.route53, self.zone_id, changes, comment).await?;
        info!(
            change_id,
            changes = changes.len(),
            comment,
            "change batch applied"
        );
        Ok(change_id)
    }

    /// Rewrites the whole SRV set of every service port whose weighted sets changed, by
    /// compare-and-swap: DELETE of the set as read, CREATE of the new one, in one batch.
    /// A conflict (someone changed the set in between) re-reads and tries again.
    async fn refresh_srv_sets(&self, touched: &[Change], outcome: &mut WriteOutcome) {
        let names = srv_sets::weighted_names_in(touched.iter().map(Change::record_set));
        self.swap_srv_sets(&names, outcome).await;
    }

    /// Brings the whole SRV sets of `names` (weighted SRV names) in line with the zone.
    pub async fn swap_srv_sets(
        &self,
        names: &std::collections::BTreeSet<String>,
        outcome: &mut WriteOutcome,
    ) {
        for attempt in 1..=srv_sets::MAX_SWAP_ATTEMPTS {
            let snapshot = match self.read().await {
                Ok(snapshot) => snapshot,
                Err(err) => {
                    outcome.srv_set_error = Some(format!(
                        "whole SRV sets not refreshed, the zone could not be read: {err}"
                    ));
                    return;
                }
            };
            let swaps = match srv_sets::swaps_for(names, &snapshot) {
                Ok(swaps) => swaps,
                Err(err) => {
                    outcome.srv_set_error = Some(err.to_string());
                    return;
                }
            };
            if swaps.is_empty() {
                return;
            }
            match self.send(&swaps, "ecs-srv: whole SRV sets").await {
                Ok(change_id) => {
                    outcome.batches.push(AppliedBatch {
                        change_id,
                        task_ids: Vec::new(),
                        changes: swaps,
                    });
                    return;
                }
                Err(err) if err.is_rejection() && attempt < srv_sets::MAX_SWAP_ATTEMPTS => {
                    warn!(attempt, error = %err, "whole SRV set changed under us; re-reading");
                }
                Err(err) => {
                    outcome.srv_set_error = Some(format!("whole SRV sets not refreshed: {err}"));
                    return;
                }
            }
        }
    }
}
