//! ecs-srv keeps Route 53 SRV, A and AAAA records in step with running ECS tasks.
//!
//! The crate is one path from input to I/O through six rooms. Each room uses only the
//! rooms listed before it (`tests/it/codebase.rs` holds the code to this order), and the
//! first three do no I/O at all:
//!
//! - [`input`] (pure): what comes in. An EventBridge event, an SQS batch (whose messages
//!   hold one event each, or many packed by the packer: [`input::packed`]), the schedule
//!   or a CloudFormation request becomes an [`input::payload::Invocation`] of parsed,
//!   validated task events; a bad one keeps its reason and never blocks the others.
//! - [`plan`] (pure): the heart. A [`plan::zone::ZoneSnapshot`] of the zone, the
//!   [`plan::TaskIntent`] of every task concerned, one ownership rule
//!   ([`plan::ownership`]) and Route 53's rules ([`plan::ledger`]) give typed units of
//!   exact changes, packed into ChangeBatches ([`plan::batch`]).
//! - [`config`] (pure): the settings, read once from flags or their environment
//!   variables and checked at start, so that a bad deployment fails before its first
//!   event.
//! - [`aws`]: the thin edge. SDK clients with their call log, Route 53 reads and paced
//!   writes, ECS and EC2 look-ups, SQS sends; nothing here decides anything.
//! - [`apply`]: one pipeline from a view of the zone and some intents to the batches
//!   sent, shared by every entry point: plan, send, split a refused batch task by task,
//!   re-check what was just published, keep the view. Its typed failures are in
//!   [`error`].
//! - [`run`]: the entry points and the long-lived [`run::deployment::Deployment`]: the
//!   event path ([`run::events`]), the reconcile, `status`, `purge`, replay, the Lambda
//!   handler and what becomes of a failed SQS message ([`run::delivery`]), with the
//!   report and the metric line each writes; and the packer ([`run::packer`]), the SQS
//!   path's second function, which gathers the inbox's events for the one writer.
//!
//! One RUNNING event, end to end (on the SQS path the packer has first packed it with the
//! events around it, and the writer reads the work queue): [`input::payload`] parses it;
//! [`run::events`] keeps the newest event per task and confirms it with DescribeTasks;
//! [`run::intents`] looks up the host or ENI addresses and the task definition and builds
//! the task's intent;
//! [`apply::Applier`] takes the view of the names it touches, [`plan::plan_changes`]
//! turns intent and view into units, [`plan::batch`] packs them and [`aws::route53`]
//! sends each ChangeBatch at the paced rate; the outcome comes back as a
//! [`run::report::InvocationReport`], its metric line and, on SQS, the messages to
//! deliver again.
// The module docs are a map for contributors and link to the internals: read them with
// `cargo doc --document-private-items`, where every link resolves.
#![allow(rustdoc::private_intra_doc_links)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::too_many_lines)]

pub mod apply;
pub mod aws;
pub mod config;
pub mod error;
pub mod input;
pub mod plan;
pub mod run;
