//! The health gate, pure: whether a running task may be published now, must be
//! withdrawn, or must be looked at again soon.
//!
//! ECS sends no event when a task's health changes, and its task state change events carry
//! no `healthStatus`: health is known only from DescribeTasks, which the event path already
//! calls to confirm RUNNING and the reconcile calls to list. Both paths hand what it said
//! to [`health_verdict`], so they gate alike.
//!
//! Only the essential containers that define a health check gate, because those are the
//! ones ECS derives the task's health from; a task without any publishes at RUNNING. A task
//! whose health is still UNKNOWN is re-checked (the event path fails its event with a
//! retryable error, so the queue or Lambda hands it back) until its health checks could
//! have settled: the start period plus interval × retries, counted from `startedAt`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

pub use crate::plan::task::definition::HealthCheckTiming;
use crate::plan::task::definition::TaskDefinitionFacts;

/// A health status as ECS reports it, for the task or one container.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HealthStatus {
    /// The checks pass.
    Healthy,
    /// The checks failed `retries` times in a row.
    Unhealthy,
    /// No verdict yet (start period), no check, or a value this build does not know.
    #[default]
    Unknown,
}

impl HealthStatus {
    /// ECS's spelling; anything but HEALTHY and UNHEALTHY is no verdict.
    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            Some("HEALTHY") => HealthStatus::Healthy,
            Some("UNHEALTHY") => HealthStatus::Unhealthy,
            _ => HealthStatus::Unknown,
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HealthStatus::Healthy => "HEALTHY",
            HealthStatus::Unhealthy => "UNHEALTHY",
            HealthStatus::Unknown => "UNKNOWN",
        })
    }
}

/// What DescribeTasks said of a task's health, and when the task started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportedHealth {
    /// The task's own `healthStatus`.
    pub task: HealthStatus,
    /// Each container's `healthStatus`, by container name.
    pub containers: BTreeMap<String, HealthStatus>,
    /// `startedAt`, from which the settle bound is counted.
    pub started_at: Option<SystemTime>,
}

/// What the gate decides for a running task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthVerdict {
    /// Healthy, no health check, or the gate is off: publish.
    Publish,
    /// ECS reports it UNHEALTHY: withdraw, even though it runs.
    Withdraw,
    /// No verdict yet, within the settle bound: look again soon.
    Pending {
        /// The settle bound of its slowest health check.
        bound: Duration,
        /// Time since `startedAt`, when known.
        waited: Option<Duration>,
    },
    /// Still no verdict past the settle bound: stop re-checking, leave it to the reconcile.
    Unsettled {
        /// The settle bound of its slowest health check.
        bound: Duration,
        /// Time since `startedAt`.
        waited: Duration,
    },
}

/// Decides a running task by its health; `gate` off publishes everything that runs.
///
/// The task's own status is ECS's verdict over its essential containers; when it has none
/// yet, the checked essential containers' statuses stand in (any UNHEALTHY withdraws, all
/// HEALTHY publishes), so a task whose containers already passed is not held back.
pub fn health_verdict(
    gate: bool,
    definition: &TaskDefinitionFacts,
    reported: &ReportedHealth,
    now: SystemTime,
) -> HealthVerdict {
    let checked: Vec<_> = definition
        .containers
        .iter()
        .filter(|c| c.essential)
        .filter_map(|c| Some((c.name.as_str(), c.health_check?)))
        .collect();
    if !gate || checked.is_empty() {
        return HealthVerdict::Publish;
    }
    let status = match reported.task {
        HealthStatus::Unknown => {
            let statuses: Vec<HealthStatus> = checked
                .iter()
                .map(|(name, _)| reported.containers.get(*name).copied().unwrap_or_default())
                .collect();
            if statuses.contains(&HealthStatus::Unhealthy) {
                HealthStatus::Unhealthy
            } else if statuses.iter().all(|s| *s == HealthStatus::Healthy) {
                HealthStatus::Healthy
            } else {
                HealthStatus::Unknown
            }
        }
        known => known,
    };
    match status {
        HealthStatus::Healthy => HealthVerdict::Publish,
        HealthStatus::Unhealthy => HealthVerdict::Withdraw,
        HealthStatus::Unknown => {
            let bound = checked
                .iter()
                .map(|(_, timing)| timing.settle_bound())
                .max()
                .unwrap_or_default();
            let waited = reported
                .started_at
                .map(|at| now.duration_since(at).unwrap_or_default());
            match waited {
                Some(waited) if waited > bound => HealthVerdict::Unsettled { bound, waited },
                _ => HealthVerdict::Pending { bound, waited },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::task::definition::{ContainerDefinitionFacts, NetworkMode};

    fn definition(containers: &[(&str, bool, Option<HealthCheckTiming>)]) -> TaskDefinitionFacts {
        TaskDefinitionFacts {
            arn: "arn:aws:ecs:us-east-1:1:task-definition/web:1".to_owned(),
            family: "web".to_owned(),
            network_mode: NetworkMode::Awsvpc,
            containers: containers
                .iter()
                .map(|(name, essential, health_check)| ContainerDefinitionFacts {
                    name: (*name).to_owned(),
                    labels: BTreeMap::new(),
                    port_mappings: Vec::new(),
                    essential: *essential,
                    health_check: *health_check,
                })
                .collect(),
        }
    }

    fn reported(task: HealthStatus, containers: &[(&str, HealthStatus)]) -> ReportedHealth {
        ReportedHealth {
            task,
            containers: containers
                .iter()
                .map(|(n, s)| ((*n).to_owned(), *s))
                .collect(),
            started_at: Some(SystemTime::UNIX_EPOCH),
        }
    }

    const CHECK: Option<HealthCheckTiming> = Some(HealthCheckTiming {
        interval: Duration::from_secs(10),
        retries: 2,
        start_period: Duration::from_secs(60),
    });

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn defaults_follow_ecs() {
        let timing = HealthCheckTiming::from_definition(None, None, None);
        assert_eq!(timing.settle_bound(), Duration::from_secs(90));
        assert_eq!(CHECK.unwrap().settle_bound(), Duration::from_secs(80));
    }

    #[test]
    fn only_checked_essential_containers_gate() {
        use HealthStatus::*;
        let unchecked = definition(&[("app", true, None), ("side", false, CHECK)]);
        assert_eq!(
            health_verdict(true, &unchecked, &reported(Unknown, &[]), at(5)),
            HealthVerdict::Publish
        );
        let checked = definition(&[("app", true, CHECK), ("side", false, None)]);
        assert_eq!(
            health_verdict(false, &checked, &reported(Unhealthy, &[]), at(5)),
            HealthVerdict::Publish,
            "the gate off publishes whatever runs"
        );
        for (task, containers, verdict) in [
            (Healthy, vec![], HealthVerdict::Publish),
            (Unhealthy, vec![("app", Healthy)], HealthVerdict::Withdraw),
            (Unknown, vec![("app", Healthy)], HealthVerdict::Publish),
            (Unknown, vec![("app", Unhealthy)], HealthVerdict::Withdraw),
            (Unknown, vec![("side", Healthy)], pending(5)),
        ] {
            assert_eq!(
                health_verdict(true, &checked, &reported(task, &containers), at(5)),
                verdict,
                "{task} {containers:?}"
            );
        }
    }

    fn pending(waited: u64) -> HealthVerdict {
        HealthVerdict::Pending {
            bound: Duration::from_secs(80),
            waited: Some(Duration::from_secs(waited)),
        }
    }

    #[test]
    fn re_checks_stop_past_the_settle_bound() {
        let checked = definition(&[("app", true, CHECK)]);
        let unknown = reported(HealthStatus::Unknown, &[]);
        assert_eq!(
            health_verdict(true, &checked, &unknown, at(80)),
            pending(80)
        );
        assert_eq!(
            health_verdict(true, &checked, &unknown, at(81)),
            HealthVerdict::Unsettled {
                bound: Duration::from_secs(80),
                waited: Duration::from_secs(81)
            }
        );
        let no_start = ReportedHealth {
            started_at: None,
            ..unknown
        };
        assert!(matches!(
            health_verdict(true, &checked, &no_start, at(10_000)),
            HealthVerdict::Pending { waited: None, .. }
        ));
    }
}
