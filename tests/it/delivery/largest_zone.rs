//! Issue 27, item 6: does a reconcile of the largest zone the README promises fit the
//! function's timeout? Measured in virtual time at the default pacer, the reconcile run by
//! the real handler on the schedule, with a timeout of 15 minutes (Lambda's longest) so
//! that it is measured rather than cut.
//!
//! Two zones: one service of 3,300 tasks, the largest that fits Route 53's default quota of
//! 10,000 record sets (README, "Limits"), and ECS's largest service, 5,000 tasks (about
//! 15,150 sets, the quota raised). Each is reconciled twice: first with every record
//! missing (the events lost, or the zone emptied: the reconcile writes everything), then,
//! five minutes later, with the zone in line (what every schedule does).

use std::time::Duration;

use super::design::{Design, Target};
use super::function::FunctionSpec;
use super::world::{Happening, SimTask, Timeline};
use crate::scale::task;

/// Lambda's longest timeout.
pub const LAMBDA_MAX_TIMEOUT: Duration = Duration::from_secs(900);

/// A service of `tasks` tasks on 50 hosts, running from the start with its events lost,
/// and the schedule at 1 s and 301 s.
pub fn lost_service(tasks: usize, zone_quota: Option<usize>) -> Timeline {
    let hosts = 50;
    let mut timeline = Timeline {
        name: format!("reconcile of a {tasks}-task service"),
        hosts,
        zone_quota,
        ..Timeline::default()
    };
    for index in 0..tasks {
        timeline.tasks.push(SimTask {
            spec: task("web", 1, index, hosts),
            gated: false,
        });
        timeline.at(
            Duration::ZERO,
            Happening::Task {
                task: index,
                last: "RUNNING",
                desired: "RUNNING",
                version: 2,
                announced: false,
            },
        );
    }
    timeline.at(Duration::from_secs(1), Happening::Schedule);
    timeline.at(Duration::from_secs(301), Happening::Schedule);
    timeline.sorted()
}

/// The schedule invoking the function directly, with the template's function settings
/// (SRV sets on, the zone cache) and Lambda's longest timeout.
pub fn reconcile_only(rate: f64) -> Design {
    Design {
        name: "reconcile",
        summary: "the schedule alone, timeout 900 s so that the reconcile is measured, not cut",
        queues: Vec::new(),
        mappings: Vec::new(),
        function: FunctionSpec {
            reserved_concurrency: None,
            timeout: LAMBDA_MAX_TIMEOUT,
            flags: ["--srv-sets", "on"].map(str::to_owned).to_vec(),
            zone_cache: Duration::from_secs(60),
            charged_rate: rate,
            cold_start: Duration::from_millis(150),
            overhead: Duration::from_millis(10),
        },
        packer: None,
        events: Target::Direct,
        schedule: Target::Direct,
    }
}
