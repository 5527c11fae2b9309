//! The verdict on every task the zone or ECS knows, from the survey and the dry run, and
//! what each service's names answer (through trees and shards).

use std::collections::{BTreeMap, BTreeSet};

use crate::apply::Applied;
use crate::plan::ownership::is_legacy;
use crate::plan::records::RecordSet;
use crate::plan::tree::names::tree_root;
use crate::plan::zone::ZoneSnapshot;
use crate::plan::TaskIntent;
use crate::run::deployment::Deployment;
use crate::run::reconcile::listing::Listing;

/// What is true of one task, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "reason")]
pub enum Verdict {
    /// It runs and its records are what they should be.
    Published,
    /// It runs but ECS has not reported it healthy yet; the health gate holds it.
    WaitingForHealth(String),
    /// It cannot be published as things stand: a person must act.
    Refused(String),
    /// Publishing it fails for now; retried by the events and the reconcile.
    Failing(String),
    /// A one-off task kept to its own name: a service's tasks hold these shared names.
    KeptToItsOwnName(Vec<String>),
    /// ECS stops it; its records are withdrawn.
    Draining(String),
    /// The zone and ECS disagree, and the next reconcile repairs it.
    Drift(String),
    /// Stopped, and no record is left.
    Gone,
}

impl Verdict {
    /// Whether a person must act.
    pub fn needs_a_person(&self) -> bool {
        matches!(self, Verdict::Refused(_))
    }
}

/// One task: where it runs, what it holds, and the verdict.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TaskStatus {
    /// The task id.
    pub task: String,
    /// Its cluster's ARN, when ECS lists it.
    pub cluster: Option<String>,
    /// `lastStatus/desiredStatus`, when ECS lists it.
    pub ecs: Option<String>,
    /// The names of the records the zone holds for it.
    pub records: Vec<String>,
    /// The service names it stands under.
    pub services: Vec<String>,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// One service name `S.Z`: the tasks ECS runs under it, and what its names answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServiceStatus {
    /// `S.Z`.
    pub name: String,
    /// Tasks ECS runs whose records stand here.
    pub running: Vec<String>,
    /// Each shared name under it (`S.Z` A, `_P._tcp.S.Z` SRV, the whole set `_all`) and
    /// the tasks it answers with, through its tree's branches or its shards.
    pub answers: BTreeMap<String, Vec<String>>,
}

/// Everything `status` says.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The zone's domain.
    pub zone: String,
    /// The clusters compared.
    pub clusters: Vec<String>,
    /// Clusters ECS no longer knows, with what it said: remove them from CLUSTERS.
    pub skipped_clusters: BTreeMap<String, String>,
    /// Per service name.
    pub services: Vec<ServiceStatus>,
    /// Per task, of every task ECS lists or the zone holds.
    pub tasks: Vec<TaskStatus>,
    /// Names no one task's that are out of line (whole sets, trees).
    pub name_problems: Vec<String>,
    /// Records of an older version's marks, replaced by the next write of their task.
    pub legacy_records: usize,
    /// Whether something needs a person (the exit status says so too).
    pub needs_a_person: bool,
}

/// The verdicts and the services' answers.
pub fn explain(
    deployment: &Deployment,
    before: &ZoneSnapshot,
    listing: &Listing,
    dry_run: &Applied,
) -> Status {
    let changed: BTreeSet<&str> = dry_run
        .batches
        .iter()
        .flat_map(|batch| batch.task_ids.iter().map(String::as_str))
        .collect();
    let mut ids: BTreeSet<&str> = listing.described.keys().map(String::as_str).collect();
    ids.extend(before.owned.keys().map(String::as_str));
    let tasks: Vec<TaskStatus> = ids
        .into_iter()
        .map(|task| task_status(task, before, listing, dry_run, changed.contains(task)))
        .filter(|status| status.verdict != Verdict::Gone)
        .collect();
    let services = services(before, listing, &tasks);
    let needs_a_person = tasks.iter().any(|t| t.verdict.needs_a_person())
        || !listing.skipped_clusters.is_empty()
        || !dry_run.name_errors.is_empty();
    Status {
        zone: deployment.naming().apex().to_owned(),
        clusters: listing.clusters.clone(),
        skipped_clusters: listing.skipped_clusters.clone(),
        legacy_records: before.owned_sets().filter(|set| is_legacy(set)).count(),
        name_problems: dry_run.name_errors.clone(),
        services,
        tasks,
        needs_a_person,
    }
}

fn task_status(
    task: &str,
    before: &ZoneSnapshot,
    listing: &Listing,
    dry_run: &Applied,
    changed: bool,
) -> TaskStatus {
    let records: Vec<String> = before
        .task_records(task)
        .iter()
        .map(|set| format!("{} {}", set.name, set.record_type))
        .collect();
    let described = listing.described.get(task);
    let services = service_names(before.task_records(task), wanted(listing, task));
    TaskStatus {
        task: task.to_owned(),
        cluster: described.map(|(detail, _)| detail.cluster_arn.clone()),
        ecs: described.map(|(detail, _)| {
            format!("{:?}/{:?}", detail.last_status, detail.desired_status).to_uppercase()
        }),
        verdict: verdict(task, !records.is_empty(), listing, dry_run, changed),
        records,
        services,
    }
}

fn verdict(
    task: &str,
    has_records: bool,
    listing: &Listing,
    dry_run: &Applied,
    changed: bool,
) -> Verdict {
    if let Some(reason) = listing.awaiting_health.get(task) {
        return Verdict::WaitingForHealth(reason.to_string());
    }
    if let Some(err) = dry_run
        .failed
        .get(task)
        .or_else(|| listing.failures.get(task))
    {
        return match err.is_retryable() {
            true => Verdict::Failing(err.to_string()),
            false => Verdict::Refused(err.to_string()),
        };
    }
    let Some((detail, _)) = listing.described.get(task) else {
        return match (has_records, listing.stopping.get(task)) {
            (true, Some(described)) => Verdict::Draining(format!(
                "ECS stops it ({described}): its records are withdrawn"
            )),
            (true, None) => Verdict::Drift("its records stand, but ECS runs it in no served cluster: the next reconcile withdraws them".into()),
            (false, _) => Verdict::Gone,
        };
    };
    if detail.wants_withdrawal() {
        return match has_records {
            true => Verdict::Draining(format!(
                "ECS stops it ({:?}, desired {:?}): its records are withdrawn",
                detail.last_status, detail.desired_status
            )),
            false => Verdict::Gone,
        };
    }
    if let Some(names) = dry_run.confined.get(task) {
        return Verdict::KeptToItsOwnName(names.clone());
    }
    match (changed, has_records) {
        (false, _) => Verdict::Published,
        (true, false) => Verdict::Drift("it runs but is not in DNS (its RUNNING event was lost or is on its way): the next reconcile publishes it".into()),
        (true, true) => Verdict::Drift("its records are not what it runs (an older mark, another address or weight): the next reconcile rewrites them".into()),
    }
}

/// The sets a listed task should hold, when it is decided to publish.
fn wanted<'a>(listing: &'a Listing, task: &str) -> &'a [RecordSet] {
    listing
        .intents
        .iter()
        .find(|(id, _)| id == task)
        .map_or(&[], |(_, intent)| match intent {
            TaskIntent::Publish(sets) => sets.as_slice(),
            TaskIntent::Withdraw => &[],
        })
}

/// The service names `S.Z` some task sets stand under: the parent of each task's own name.
fn service_names(held: &[RecordSet], wanted: &[RecordSet]) -> Vec<String> {
    let names: BTreeSet<String> = held
        .iter()
        .chain(wanted)
        .filter(|set| {
            set.mark()
                .and_then(|m| m.role())
                .is_some_and(|r| !r.is_shared_name())
        })
        .filter_map(|set| {
            set.name
                .split_once('.')
                .map(|(_, service)| service.to_owned())
        })
        .collect();
    names.into_iter().collect()
}

/// Per service: its running tasks and what its shared names answer.
fn services(before: &ZoneSnapshot, listing: &Listing, tasks: &[TaskStatus]) -> Vec<ServiceStatus> {
    let mut services: BTreeMap<String, ServiceStatus> = BTreeMap::new();
    for task in tasks {
        for name in &task.services {
            let service = services
                .entry(name.clone())
                .or_insert_with(|| ServiceStatus {
                    name: name.clone(),
                    ..ServiceStatus::default()
                });
            let runs = listing
                .described
                .get(&task.task)
                .is_some_and(|(d, _)| d.wants_publication());
            if runs {
                service.running.push(task.task.clone());
            }
        }
    }
    for (task, sets) in &before.owned {
        for set in sets.iter().filter(|s| {
            s.mark()
                .and_then(|m| m.role())
                .is_some_and(|r| r.is_shared_name())
        }) {
            answer(&mut services, tree_root(&set.name), set, task);
        }
    }
    for set in before.whole_sets.values() {
        for value in &set.values {
            let target = value.rsplit(' ').next().unwrap_or_default();
            if let Some((task, _)) = target.split_once('.') {
                answer(&mut services, tree_root(&set.name), set, task);
            }
        }
    }
    services.into_values().collect()
}

/// Counts `task` among the answers of shared name `root`, under the service it stands in.
fn answer(services: &mut BTreeMap<String, ServiceStatus>, root: &str, set: &RecordSet, task: &str) {
    let owner = services
        .keys()
        .filter(|service| root == service.as_str() || root.ends_with(&format!(".{service}")))
        .max_by_key(|service| service.len())
        .cloned();
    if let Some(service) = owner.and_then(|name| services.get_mut(&name)) {
        let tasks = service
            .answers
            .entry(format!("{root} {}", set.record_type))
            .or_default();
        if !tasks.iter().any(|t| t == task) {
            tasks.push(task.to_owned());
        }
    }
}
