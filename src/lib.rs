//! ecs-srv keeps Route 53 SRV and A records in step with running ECS tasks.
//!
//! The crate is a pure core behind a thin AWS edge. The modules, by layer:
//!
//! - **Input**: [`event`] parses and validates task state changes; [`described`] reads
//!   DescribeTasks' view through the same parser; [`config`] reads the settings.
//! - **Core** (pure, no I/O): [`resolve`] turns a running task into endpoints;
//!   [`health`] gates publication on the task's health checks;
//!   [`desired`] turns endpoints into the record sets a task should have; [`zone`] holds
//!   the snapshot of the zone and the one ownership rule; [`plan`] compares intents with
//!   the snapshot and yields exact changes, checked by [`ledger`] against Route 53's
//!   per-name rules, and [`migrate`] moves a name to a new routing policy in one unit;
//!   [`place`] puts a name's members on the flat name or the branches of its tree, and
//!   [`tree`] derives the weighted aliases at a tree's root; [`srv_sets`] derives the
//!   whole SRV sets; [`batch`] packs changes
//!   within a ChangeBatch's limits; [`naming`] and [`records`] are the vocabulary.
//! - **Edge**: [`aws`] builds the clients and counts calls; [`ecs`] does the ECS and EC2
//!   look-ups and listings; [`route53`] reads listings and sends batches; [`pacing`]
//!   spaces requests out; [`zone_cache`] keeps a single writer's view warm.
//! - **Paths**: [`publisher`] holds the long-lived state; [`resolver`] turns confirmed
//!   tasks into intents; [`write`] applies a plan; [`recheck`] withdraws what stopped
//!   while it was written; [`publish`] is the event path and [`reconcile`] the scheduled
//!   repair; [`error`] types a task's failure and says whether a retry can help.
//! - **Entry points**: [`handler`] (the Lambda), [`replay`] (events from files), and
//!   [`report`], what each of them answers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Input
pub mod config;
pub mod described;
pub mod event;

// Core
pub mod batch;
pub mod desired;
pub mod health;
pub mod ledger;
pub mod migrate;
pub mod naming;
pub mod place;
pub mod plan;
pub mod records;
pub mod resolve;
pub mod srv_sets;
pub mod task_definition;
pub mod tree;
pub mod zone;

// Edge
pub mod aws;
pub mod ecs;
pub mod pacing;
pub mod route53;
pub mod zone_cache;

// Paths
pub mod error;
pub mod publish;
pub mod publisher;
pub mod recheck;
pub mod reconcile;
pub mod resolver;
pub mod write;

// Entry points
pub mod handler;
pub mod replay;
pub mod report;
