//! The delivery designs the simulation compares: how events and the schedule reach the
//! function, the queues and mappings between, and the function's settings.

use std::time::Duration;

use super::function::FunctionSpec;
use super::mapping::{queue_url, Consumer, MappingSpec};
use super::queue::{QueueKind, QueueSpec};

/// Where EventBridge sends something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The function, invoked asynchronously.
    Direct,
    /// A queue (its index), with the message group `ecs-srv` when it is FIFO.
    Queue(usize),
}

/// The message group EventBridge's FIFO target and the packer use.
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
    /// The function that writes the zone.
    pub function: FunctionSpec,
    /// The packer, in the designs that have one.
    pub packer: Option<FunctionSpec>,
    /// Where task events go.
    pub events: Target,
    /// Where the schedule goes.
    pub schedule: Target,
}

/// Today's function timeout.
pub const TODAY_TIMEOUT: Duration = Duration::from_secs(30);
/// The function timeout of the new designs (the template's now: room for the largest
/// reconcile).
pub const NEW_TIMEOUT: Duration = Duration::from_secs(120);

/// The template's batching window on the inbox (BatchingWindowSeconds).
pub const TEMPLATE_WINDOW: Duration = Duration::from_secs(2);

/// The packer's timeout (the template's): it only reads a batch and sends a few messages.
const PACKER_TIMEOUT: Duration = Duration::from_secs(30);

/// Today's maxReceiveCount, kept where failed events come back through the event queue.
const MAX_RECEIVE_COUNT: u32 = 120;
/// The template's maxReceiveCount where per-task retries go back through a queue of their
/// own (the retry queue of design 3, the inbox of design 4).
const FEW_RECEIVES: u32 = 5;
/// The template's maxReceiveCount on the inbox: ten tries of the packer's 180 s visibility.
const INBOX_RECEIVES: u32 = 10;

/// The stack's dead-letter queue, where the function parks an event re-checked too often.
const DEAD_LETTERS: &str = "ecs-srv-dead-letters";

/// The function's settings every design shares: the template's defaults (whole SRV sets
/// on), with `flags` added.
fn function(
    reserved: Option<usize>,
    timeout: Duration,
    zone_cache_seconds: u64,
    flags: &[String],
    rate: f64,
) -> FunctionSpec {
    let mut all: Vec<String> = ["--srv-sets", "on"].map(str::to_owned).to_vec();
    all.extend_from_slice(flags);
    FunctionSpec {
        reserved_concurrency: reserved,
        timeout,
        flags: all,
        zone_cache: Duration::from_secs(zone_cache_seconds),
        charged_rate: rate,
        cold_start: Duration::from_millis(150),
        overhead: Duration::from_millis(10),
    }
}

fn standard(name: &str, visibility: Duration, max_receive_count: Option<u32>) -> QueueSpec {
    QueueSpec {
        name: name.to_owned(),
        kind: QueueKind::Standard,
        visibility_timeout: visibility,
        max_receive_count,
    }
}

/// The stack's dead-letter queue (nothing reads it) and the flag that names it.
fn dead_letters() -> (QueueSpec, [String; 2]) {
    (
        standard(DEAD_LETTERS, NEW_TIMEOUT * 6, None),
        [
            "--dead-letter-queue-url".to_owned(),
            queue_url(DEAD_LETTERS),
        ],
    )
}

/// Today's template: a standard queue, reserved concurrency 1, batches of 10 with a 5 s
/// window, a 30 s visibility timeout, the schedule invoking the function directly.
pub fn before(rate: f64) -> Design {
    Design {
        name: "before",
        summary:
            "standard queue, reserved concurrency 1, BatchSize 10, window 5 s, visibility 30 s",
        queues: vec![standard(
            "ecs-srv-events",
            TODAY_TIMEOUT,
            Some(MAX_RECEIVE_COUNT),
        )],
        mappings: vec![MappingSpec {
            queue: 0,
            function: Consumer::Writer,
            batch_size: 10,
            window: Duration::from_secs(5),
            maximum_concurrency: None,
        }],
        function: function(Some(1), TODAY_TIMEOUT, 60, &[], rate),
        packer: None,
        events: Target::Queue(0),
        schedule: Target::Direct,
    }
}

/// A standard queue read by two writers at most (MaximumConcurrency 2, its least), no
/// reserved concurrency, batches of 100 with a 5 s window, the visibility timeout six times
/// the function's, the function told its queue (it shortens the visibility of a task the
/// health gate holds), no zone cache. Failed events come back through the event queue, so
/// it keeps today's maxReceiveCount.
pub fn standard_two_writers(rate: f64) -> Design {
    let queue = "ecs-srv-events";
    let (dead, dead_flag) = dead_letters();
    let mut flags = vec!["--event-queue-url".to_owned(), queue_url(queue)];
    flags.extend(dead_flag);
    Design {
        name: "standard, two writers",
        summary: "standard queue, MaximumConcurrency 2, BatchSize 100, window 5 s, visibility 720 s (timeout 120 s), EVENT_QUEUE_URL, no zone cache",
        queues: vec![standard(queue, NEW_TIMEOUT * 6, Some(MAX_RECEIVE_COUNT)), dead],
        mappings: vec![MappingSpec {
            queue: 0,
            function: Consumer::Writer,
            batch_size: 100,
            window: Duration::from_secs(5),
            maximum_concurrency: Some(2),
        }],
        function: function(None, NEW_TIMEOUT, 0, &flags, rate),
        packer: None,
        events: Target::Queue(0),
        schedule: Target::Direct,
    }
}

/// The packer, sending into the FIFO queue `work`. It makes no Route 53 request; its
/// clients are built like the writer's, with a pacer at the same `rate`.
fn packer(work: &str, rate: f64) -> FunctionSpec {
    FunctionSpec {
        reserved_concurrency: None,
        timeout: PACKER_TIMEOUT,
        flags: vec!["--pack-into-queue-url".to_owned(), queue_url(work)],
        zone_cache: Duration::ZERO,
        charged_rate: rate,
        cold_start: Duration::from_millis(150),
        overhead: Duration::from_millis(10),
    }
}

/// The FIFO queue of one message group the writer reads, with its redrive.
fn work_queue(name: &str) -> QueueSpec {
    QueueSpec {
        name: name.to_owned(),
        kind: QueueKind::Fifo {
            content_based_deduplication: true,
        },
        visibility_timeout: NEW_TIMEOUT * 6,
        max_receive_count: Some(FEW_RECEIVES),
    }
}

/// The writer's settings on a FIFO queue: re-checks go to `inbox`, and the single writer's
/// zone cache.
fn fifo_writer(inbox: &str, reserved: Option<usize>, rate: f64) -> FunctionSpec {
    let (_, dead_flag) = dead_letters();
    let mut flags = vec!["--inbox-queue-url".to_owned(), queue_url(inbox)];
    flags.extend(dead_flag);
    function(reserved, NEW_TIMEOUT, 60, &flags, rate)
}

/// The design main's template had: task events straight into a FIFO queue with one message
/// group (one batch at a time, in order, of 10 at most), the schedule through it too, and
/// the single writer's zone cache; re-checks wait, delayed, on a standard queue that the
/// packer (no batching window, MaximumConcurrency 2) reads and sends on into the FIFO
/// queue. (Main's relay was the writer itself, one message per re-check; the packer packs
/// the re-checks of a moment into one message.)
pub fn fifo_one_writer(rate: f64) -> Design {
    let (events, retries) = ("ecs-srv-events.fifo", "ecs-srv-retries");
    let (dead, _) = dead_letters();
    Design {
        name: "FIFO, one writer",
        summary: "EventBridge -> FIFO queue (one group), BatchSize 10, visibility 720 s (timeout 120 s); re-checks delayed on a standard queue, packed on by the packer (no window, MaximumConcurrency 2); schedule through the FIFO queue; zone cache 60 s",
        queues: vec![
            work_queue(events),
            standard(retries, PACKER_TIMEOUT * 6, Some(FEW_RECEIVES)),
            dead,
        ],
        mappings: vec![
            MappingSpec {
                queue: 0,
                function: Consumer::Writer,
                batch_size: 10,
                window: Duration::ZERO,
                maximum_concurrency: None,
            },
            MappingSpec {
                queue: 1,
                function: Consumer::Packer,
                batch_size: 10,
                window: Duration::ZERO,
                maximum_concurrency: Some(2),
            },
        ],
        function: fifo_writer(retries, None, rate),
        packer: Some(packer(events, rate)),
        events: Target::Queue(0),
        schedule: Target::Queue(0),
    }
}

/// The template's design: "gathered FIFO". EventBridge puts task events on a standard
/// inbox, which the packer reads in batches of up to 1,000 gathered for `window`
/// (MaximumConcurrency 2); it keeps the newest event of each task and packs them into the
/// FIFO work queue (one message group), whose batches of 10 packed messages the writer
/// reads one at a time, with reserved concurrency 1: one execution environment writes, so
/// its zone cache stays exact. Re-checks go back to the inbox with their delay, packed; the
/// schedule goes through the work queue.
pub fn gathered_fifo(rate: f64, window: Duration) -> Design {
    let (inbox, work) = ("ecs-srv-inbox", "ecs-srv-work.fifo");
    let (dead, _) = dead_letters();
    Design {
        name: "gathered FIFO",
        summary: "EventBridge -> standard inbox -> packer (BatchSize 1,000, window, MaximumConcurrency 2, timeout 30 s, visibility 180 s) -> FIFO work queue (one group) -> writer (BatchSize 10, reserved concurrency 1, timeout 120 s, visibility 720 s); re-checks back to the inbox, packed, with their delay; schedule through the work queue; zone cache 60 s",
        queues: vec![
            standard(inbox, PACKER_TIMEOUT * 6, Some(INBOX_RECEIVES)),
            work_queue(work),
            dead,
        ],
        mappings: vec![
            MappingSpec {
                queue: 0,
                function: Consumer::Packer,
                batch_size: 1_000,
                window,
                maximum_concurrency: Some(2),
            },
            MappingSpec {
                queue: 1,
                function: Consumer::Writer,
                batch_size: 10,
                window: Duration::ZERO,
                maximum_concurrency: None,
            },
        ],
        function: fifo_writer(inbox, Some(1), rate),
        packer: Some(packer(work, rate)),
        events: Target::Queue(0),
        schedule: Target::Queue(1),
    }
}
