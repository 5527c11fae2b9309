//! `status` in words: per service, what ECS runs and what its names answer, then every
//! task that is not simply published, with the reason; or one task in full.

use std::fmt::Write;

use super::explain::{Status, TaskStatus, Verdict};

/// The whole status, as an operator reads it.
pub fn text(status: &Status) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "zone {} — clusters: {}",
        status.zone,
        status.clusters.join(", ")
    );
    for (cluster, reason) in &status.skipped_clusters {
        let _ = writeln!(
            out,
            "  cluster {cluster} skipped: {reason}; remove it from CLUSTERS (ClusterArns)"
        );
    }
    for service in &status.services {
        let _ = writeln!(out, "\n{}", service.name);
        let _ = writeln!(out, "  ECS runs {} task(s)", service.running.len());
        for (name, tasks) in &service.answers {
            let _ = writeln!(out, "  {name} answers {} task(s)", tasks.len());
        }
        let mut published = 0;
        for task in status
            .tasks
            .iter()
            .filter(|t| t.services.contains(&service.name))
        {
            match &task.verdict {
                Verdict::Published => published += 1,
                verdict => {
                    let _ = writeln!(out, "  {}: {}", task.task, words(verdict));
                }
            }
        }
        let _ = writeln!(out, "  {published} task(s) published as they run");
    }
    for task in status.tasks.iter().filter(|t| t.services.is_empty()) {
        let _ = writeln!(out, "\n{}: {}", task.task, words(&task.verdict));
    }
    for problem in &status.name_problems {
        let _ = writeln!(out, "\nname problem: {problem}");
    }
    if status.legacy_records > 0 {
        let _ = writeln!(out, "\n{} record set(s) carry an older version's mark; each task's next write replaces them", status.legacy_records);
    }
    let _ = writeln!(
        out,
        "\n{}",
        if status.needs_a_person {
            "needs a person: yes (see the refusals above)"
        } else {
            "needs a person: no"
        }
    );
    out
}

/// One task in full: where it runs, what it holds, and the verdict.
pub fn task(task: &TaskStatus) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "task {}", task.task);
    let _ = writeln!(
        out,
        "  cluster: {}",
        task.cluster
            .as_deref()
            .unwrap_or("not listed by ECS in a served cluster")
    );
    let _ = writeln!(out, "  ECS: {}", task.ecs.as_deref().unwrap_or("-"));
    let _ = writeln!(
        out,
        "  services: {}",
        if task.services.is_empty() {
            "-".to_owned()
        } else {
            task.services.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "  records: {}",
        if task.records.is_empty() {
            "none".to_owned()
        } else {
            task.records.join(", ")
        }
    );
    let _ = writeln!(out, "  {}", words(&task.verdict));
    out
}

/// A verdict in words.
pub fn words(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Published => "published as it runs".to_owned(),
        Verdict::WaitingForHealth(reason) => format!("waiting for health: {reason}"),
        Verdict::Refused(reason) => format!("refused (a person must act): {reason}"),
        Verdict::Failing(reason) => format!("failing for now, retried: {reason}"),
        Verdict::KeptToItsOwnName(names) => format!(
            "a one-off task kept to its own name: a service's tasks hold {} (the docker label ecs-srv.service puts it in the service on purpose)",
            names.join(", ")
        ),
        Verdict::Draining(reason) => format!("withdrawn and draining: {reason}"),
        Verdict::Drift(reason) => format!("drift: {reason}"),
        Verdict::Gone => "stopped; no record left".to_owned(),
    }
}
