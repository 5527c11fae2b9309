//! The lag from a task event to its records, under Lambda's real SQS semantics, for each
//! delivery design (issue 27, items 5 and 6).
//!
//! A discrete-event simulation in virtual time that drives the real handler
//! (`ecs_srv::run::handler::handle`, its planner and apply pipeline) with real SDK clients
//! answered by the doubles: Route 53 by the strict model, ECS and EC2 by the simulated
//! account, SQS by the run's queues. The parts, from the outside in:
//!
//! - [`world`] and [`scenario`]: what ECS does and when (tasks start, pass their health
//!   checks, drain, stop; the reconcile schedule fires), and EventBridge putting each event
//!   on its way.
//! - [`queue`]: SQS queues, standard and FIFO, as the SQS developer guide describes them.
//! - [`mapping`]: the SQS event source mapping as the Lambda developer guide describes it
//!   (pollers and their scaling, the batching window, throttling beyond reserved
//!   concurrency, MaximumConcurrency, partial batch responses, FIFO message groups).
//! - [`function`]: execution environments, reserved concurrency, the timeout, and the
//!   handler itself.
//! - [`clock`], [`sdk`] and [`route53`]: virtual time, and the seams where an invocation
//!   spends it (request latencies, the pacer at the default rate, the SDK's backoff, the
//!   account's Route 53 budget).
//! - [`sim`]: the driver; [`lag`] and [`report`]: the figures.
//! - [`design`]: the designs compared.
//!
//! The tests here run a handful of tasks through each design and check the simulator's
//! own semantics; `bench` (ignored, run by `make bench`) runs the 200-event burst and the
//! 1,000-task rolling deploy and writes the figures to the file named by
//! `DELIVERY_FIGURES`. No assert is on time: lag is a figure, not a pass mark.

mod clock;
mod design;
mod function;
mod lag;
mod mapping;
mod queue;
mod report;
mod route53;
mod scenario;
mod sdk;
mod sim;
mod world;

use std::time::Duration;

use crate::scale::default_request_rate;

#[tokio::test]
async fn before_a_handful_of_tasks_converges_with_the_health_gate_held() {
    let design = design::before(default_request_rate());
    let timeline = scenario::handful();
    let run = report::simulate(&design, &timeline, Duration::from_secs(900)).await;
    println!("{:#}", run.figures);
    assert!(!run.cut_short, "the run settles");
    assert!(
        run.zone_correct,
        "the zone ends as the running tasks need it"
    );
    assert_eq!(run.lags.never, 0, "every change reaches the zone");
    assert_eq!(
        run.lags.before_healthy, 0,
        "the gate holds tasks until HEALTHY"
    );
    assert_eq!(run.lags.healthy.len(), 3, "three gated tasks");
}

#[tokio::test]
#[ignore = "bench: run by make bench"]
async fn trial_burst_before() {
    let design = design::before(default_request_rate());
    for timeline in [scenario::burst(), scenario::rolling_deploy()] {
        let run = report::simulate(&design, &timeline, Duration::from_secs(3600)).await;
        println!("{:#}", run.figures);
    }
}
