//! The timelines the designs are run over: a burst of 200 events, the 1,000-task rolling
//! deploy of `scale::rolling_deploy` in time, and a handful of tasks for `make test`.
//! Every timeline has the template's reconcile schedule (every 5 minutes), its first tick
//! while the events are still being written.

use std::time::Duration;

use super::world::{Happening, SimTask, Timeline};
use crate::scale::task;

/// The template's ReconcileSchedule.
const SCHEDULE_EVERY: Duration = Duration::from_secs(300);

fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds)
}

fn running(timeline: &mut Timeline, at: Duration, task: usize) {
    timeline.at(at, moved(task, "RUNNING", "RUNNING", 2));
}

/// ECS moves a task, and EventBridge sees it.
fn moved(task: usize, last: &'static str, desired: &'static str, version: u64) -> Happening {
    Happening::Task {
        task,
        last,
        desired,
        version,
        announced: true,
    }
}

/// ECS asks the task to stop (it drains), then it stops `stop_after` later.
fn stop(timeline: &mut Timeline, at: Duration, task: usize, stop_after: Duration) {
    timeline.at(at, moved(task, "RUNNING", "STOPPED", 3));
    timeline.at(at + stop_after, moved(task, "STOPPED", "STOPPED", 4));
}

/// 200 tasks start within 2 seconds on 20 hosts: 100 of `web` without health checks, 100
/// of `api` whose health checks pass 5 to 20 seconds after RUNNING.
pub fn burst() -> Timeline {
    burst_of(200)
}

/// `tasks` tasks start, one every 10 ms, on 20 hosts: every other one of `web` without
/// health checks, the others of `api`, whose health checks pass 5 to 20 seconds after
/// RUNNING.
pub fn burst_of(tasks: usize) -> Timeline {
    let hosts = 20;
    let mut timeline = Timeline {
        name: format!("burst of {tasks} events"),
        hosts,
        ..Timeline::default()
    };
    for index in 0..tasks {
        let gated = index % 2 == 1;
        let (service, revision) = if gated { ("api", 2) } else { ("web", 1) };
        timeline.tasks.push(SimTask {
            spec: task(service, revision, index, hosts),
            gated,
        });
        let at = secs(index as f64 * 0.01);
        running(&mut timeline, at, index);
        if gated {
            let healthy = at + secs(5.0 + (index % 16) as f64);
            timeline.at(healthy, Happening::Healthy { task: index });
        }
    }
    timeline.schedule(secs(15.0), SCHEDULE_EVERY, secs(900.0));
    timeline.sorted()
}

/// The rolling deploy of a 1,000-task service on 50 hosts, in time: the old tasks start
/// over 2 minutes (ECS's service launch rate, about 500 a minute) and are published; five
/// minutes later the new ones start over 2 minutes, each passing its health checks 10 to
/// 30 seconds after RUNNING; as each new task turns HEALTHY, ECS drains an old one (5 s
/// later), which stops 30 s after that.
pub fn rolling_deploy() -> Timeline {
    let (tasks, hosts) = (1_000, 50);
    let mut timeline = Timeline {
        name: "rolling deploy of 1,000 tasks".to_owned(),
        hosts,
        ..Timeline::default()
    };
    let launch = |index: usize| secs(index as f64 * 0.12);
    for index in 0..tasks {
        timeline.tasks.push(SimTask {
            spec: task("web", 1, index, hosts),
            gated: false,
        });
        running(&mut timeline, launch(index), index);
    }
    for index in 0..tasks {
        let new = tasks + index;
        timeline.tasks.push(SimTask {
            spec: task("web", 2, new, hosts),
            gated: true,
        });
        let started = secs(300.0) + launch(index);
        running(&mut timeline, started, new);
        let healthy = started + secs(10.0 + (index % 21) as f64);
        timeline.at(healthy, Happening::Healthy { task: new });
        stop(&mut timeline, healthy + secs(5.0), index, secs(30.0));
    }
    timeline.schedule(secs(15.0), SCHEDULE_EVERY, secs(1_800.0));
    timeline.sorted()
}

/// Six tasks for `make test`: three start without health checks, three whose checks pass
/// 12 seconds after RUNNING; two of the first stop a minute later.
pub fn handful() -> Timeline {
    let hosts = 2;
    let mut timeline = Timeline {
        name: "a handful of tasks".to_owned(),
        hosts,
        ..Timeline::default()
    };
    for index in 0..6 {
        let gated = index >= 3;
        timeline.tasks.push(SimTask {
            spec: task("web", if gated { 2 } else { 1 }, index, hosts),
            gated,
        });
        let at = secs(index as f64 * 0.2);
        running(&mut timeline, at, index);
        if gated {
            timeline.at(at + secs(12.0), Happening::Healthy { task: index });
        }
    }
    stop(&mut timeline, secs(60.0), 0, secs(30.0));
    stop(&mut timeline, secs(61.0), 1, secs(30.0));
    timeline.schedule(secs(45.0), SCHEDULE_EVERY, secs(120.0));
    timeline.sorted()
}
