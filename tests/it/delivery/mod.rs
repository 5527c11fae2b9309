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
//! - [`design`]: the designs compared; [`largest_zone`]: the reconcile of the largest zones
//!   (item 6).
//!
//! Where the guides give no figure the model picks one and says so where it is defined: the
//! backoff of a throttled batch (1 s doubling to 8 s), pollers lost per throttle (one),
//! request latencies, a cold start, EventBridge's delay, and no gap between one FIFO batch
//! and the next. Two things the handler keeps on the wall clock are kept in virtual time
//! here: the zone cache's age ([`function`]), and the health gate's settle bound, made
//! longer than any run so that a waiting task is only ever "not healthy yet".
//!
//! `make test` runs the tests here and in [`semantics`]: a handful of tasks through each
//! design, and the simulator's own semantics. [`bench`] (ignored, run by `make bench`) runs
//! the 200-event burst, the 1,000-task rolling deploy and the largest zones, and writes the
//! figures to the file named by `DELIVERY_FIGURES`. No assert is on time: lag is a figure,
//! not a pass mark. For a look inside a run: `DELIVERY_TRACE` prints every invocation as it
//! ends, `DELIVERY_TRACE_TASK=<task id>` a task's states batch by batch, `DELIVERY_LOG` sets
//! a tracing filter for the handler's own log (`ecs_srv=info`).

mod bench;
mod clock;
mod design;
mod function;
mod lag;
mod largest_zone;
mod mapping;
mod queue;
mod report;
mod route53;
mod scenario;
mod sdk;
mod semantics;
mod sim;
mod sqs;
mod world;

use std::time::Duration;

use crate::scale::default_request_rate;

/// What a design's functions asked of SQS in a run, by queue.
fn sent_to(figures: &serde_json::Value, queue: &str) -> u64 {
    figures["sqs"]["sent"][queue].as_u64().unwrap_or(0)
}

/// The name of the queue a function's flag names.
fn queue_named(spec: &function::FunctionSpec, flag: &str) -> String {
    let at = spec.flags.iter().position(|f| f == flag);
    let url = at
        .and_then(|at| spec.flags.get(at + 1))
        .expect("the flag is given");
    url.rsplit('/').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn every_design_converges_on_a_handful_of_tasks_through_its_own_retry_path() {
    let rate = default_request_rate();
    let timeline = scenario::handful();
    let designs = [
        design::before(rate),
        design::standard_two_writers(rate),
        design::fifo_one_writer(rate),
        design::gathered_fifo(rate, Duration::from_secs(2)),
    ];
    for design in &designs {
        let run = report::simulate(design, &timeline, Duration::from_secs(900)).await;
        let f = &run.figures;
        assert!(!run.cut_short, "{}: the run settles: {f:#}", design.name);
        assert!(
            run.zone_correct,
            "{}: the zone ends as the running tasks need it: {f:#}",
            design.name
        );
        assert_eq!(
            run.lags.never, 0,
            "{}: every change reaches the zone: {f:#}",
            design.name
        );
        assert_eq!(
            run.lags.unexpected, 0,
            "{}: no change nobody asked for: {f:#}",
            design.name
        );
        assert_eq!(
            run.lags.before_healthy, 0,
            "{}: the gate holds tasks until HEALTHY",
            design.name
        );
        assert_eq!(
            run.lags.healthy.len(),
            3,
            "{}: three gated tasks published",
            design.name
        );
        assert_eq!(
            run.throttled, 0,
            "{}: six events throttle nothing: {f:#}",
            design.name
        );
        let visibility_changes = f["sqs"]["visibility_changes"].as_u64().unwrap_or(0);
        match (&design.packer, design.function.reserved_concurrency) {
            // Today: a waiting task comes back after the queue's visibility timeout.
            (None, Some(_)) => assert_eq!(visibility_changes, 0, "{f:#}"),
            // Standard queue: the function shortens the waiting message's visibility.
            (None, None) => assert!(visibility_changes >= 3, "{f:#}"),
            // With a packer: the wait goes back to its queue, delayed and packed, and the
            // packer sends it on into the FIFO queue.
            (Some(packer), _) => {
                let waits = queue_named(&design.function, "--inbox-queue-url");
                let work = queue_named(packer, "--pack-into-queue-url");
                assert!(sent_to(f, &waits) >= 1 && sent_to(f, &work) >= 1, "{f:#}");
                assert_eq!(visibility_changes, 0, "{f:#}");
            }
        }
    }
}
