//! The delivery designs the simulation compares: how events and the schedule reach the
//! function, the queues and mappings between, and the function's settings.

use std::time::Duration;

use super::function::FunctionSpec;
use super::mapping::{queue_url, MappingSpec};
use super::queue::{QueueKind, QueueSpec};

/// Where EventBridge sends something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The function, invoked asynchronously.
    Direct,
    /// A queue (its index), with the message group `ecs-srv` when it is FIFO.
    Queue(usize),
}

/// The message group EventBridge's FIFO target and the function's relay use.
pub const MESSAGE_GROUP: &str = "ecs-srv";

/// One design.
#[derive(Clone, Debug)]
pub struct Design {
    /// A short name for tables.
    pub name: &'static str,
    /// What it is, in a line.
    pub summary: &'static str,
    /// Its queues.
    pub queues: Vec<QueueSpec>,
    /// Its event source mappings.
    pub mappings: Vec<MappingSpec>,
    /// The function.
    pub function: FunctionSpec,
    /// Where task events go.
    pub events: Target,
    /// Where the schedule goes.
    pub schedule: Target,
}

/// The template's function timeout, which every design keeps.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The template's maxReceiveCount.
const MAX_RECEIVE_COUNT: u32 = 120;

/// The function's settings every design shares: the template's defaults (whole SRV sets
/// on), with `flags` added.
fn function(
    reserved: Option<usize>,
    zone_cache_seconds: u64,
    flags: &[String],
    rate: f64,
) -> FunctionSpec {
    let mut all: Vec<String> = ["--srv-sets", "on"].map(str::to_owned).to_vec();
    all.extend_from_slice(flags);
    FunctionSpec {
        reserved_concurrency: reserved,
        timeout: FUNCTION_TIMEOUT,
        flags: all,
        zone_cache: Duration::from_secs(zone_cache_seconds),
        charged_rate: rate,
        cold_start: Duration::from_millis(150),
        overhead: Duration::from_millis(10),
    }
}

fn standard(name: &str, visibility: Duration) -> QueueSpec {
    QueueSpec {
        name: name.to_owned(),
        kind: QueueKind::Standard,
        visibility_timeout: visibility,
        max_receive_count: Some(MAX_RECEIVE_COUNT),
    }
}

/// Today's template: a standard queue, reserved concurrency 1, batches of 10 with a 5 s
/// window, a 30 s visibility timeout, the schedule invoking the function directly.
pub fn before(rate: f64) -> Design {
    Design {
        name: "before",
        summary:
            "standard queue, reserved concurrency 1, BatchSize 10, window 5 s, visibility 30 s",
        queues: vec![standard("ecs-srv-events", Duration::from_secs(30))],
        mappings: vec![MappingSpec {
            queue: 0,
            batch_size: 10,
            window: Duration::from_secs(5),
            maximum_concurrency: None,
        }],
        function: function(Some(1), 60, &[], rate),
        events: Target::Queue(0),
        schedule: Target::Direct,
    }
}

/// A standard queue read by two writers at most (MaximumConcurrency 2, its least), no
/// reserved concurrency, batches of 100 with a 5 s window, the visibility timeout six times
/// the function's, the function told its queue (it shortens the visibility of a task the
/// health gate holds), no zone cache.
pub fn standard_two_writers(rate: f64) -> Design {
    let queue = "ecs-srv-events";
    Design {
        name: "standard, two writers",
        summary: "standard queue, MaximumConcurrency 2, BatchSize 100, window 5 s, visibility 180 s, EVENT_QUEUE_URL, no zone cache",
        queues: vec![standard(queue, FUNCTION_TIMEOUT * 6)],
        mappings: vec![MappingSpec {
            queue: 0,
            batch_size: 100,
            window: Duration::from_secs(5),
            maximum_concurrency: Some(2),
        }],
        function: function(None, 0, &["--event-queue-url".to_owned(), queue_url(queue)], rate),
        events: Target::Queue(0),
        schedule: Target::Direct,
    }
}

/// A FIFO queue with one message group (one batch at a time, in order, of 10 at most), a
/// standard retry queue whose mapping relays delayed re-checks back into it, the schedule
/// through the FIFO queue too, and the single writer's zone cache.
pub fn fifo_one_writer(rate: f64) -> Design {
    let (events, retries) = ("ecs-srv-events.fifo", "ecs-srv-retries");
    Design {
        name: "FIFO, one writer",
        summary: "FIFO queue (one group), BatchSize 10, visibility 180 s; retry queue (MaximumConcurrency 2) relaying into it; schedule through the FIFO queue; zone cache 60 s",
        queues: vec![
            QueueSpec {
                name: events.to_owned(),
                kind: QueueKind::Fifo {
                    content_based_deduplication: true,
                },
                visibility_timeout: FUNCTION_TIMEOUT * 6,
                max_receive_count: Some(MAX_RECEIVE_COUNT),
            },
            standard(retries, FUNCTION_TIMEOUT * 6),
        ],
        mappings: vec![
            MappingSpec {
                queue: 0,
                batch_size: 10,
                window: Duration::ZERO,
                maximum_concurrency: None,
            },
            MappingSpec {
                queue: 1,
                batch_size: 10,
                window: Duration::ZERO,
                maximum_concurrency: Some(2),
            },
        ],
        function: function(
            None,
            60,
            &[
                "--event-queue-url".to_owned(),
                queue_url(events),
                "--retry-queue-url".to_owned(),
                queue_url(retries),
            ],
            rate,
        ),
        events: Target::Queue(0),
        schedule: Target::Queue(0),
    }
}
