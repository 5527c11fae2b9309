//! ecs-srv keeps Route 53 SRV and A records in step with running ECS tasks.
//!
//! The crate is a pure planner behind a thin AWS edge. [`event`] parses task state
//! changes, [`resolve`] turns a running task into endpoints, [`plan`] turns endpoints into
//! record sets and exact changes, and [`batch`] packs the changes within Route 53's
//! limits. The edge ([`ecs`], [`route53`]) does the look-ups and writes, and [`publish`]
//! runs one invocation from events to applied changes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aws;
pub mod batch;
pub mod config;
pub mod described;
pub mod ecs;
pub mod event;
pub mod handler;
pub mod naming;
pub mod pacing;
pub mod plan;
pub mod publish;
pub mod reconcile;
pub mod records;
pub mod replay;
pub mod report;
pub mod resolve;
pub mod route53;
pub mod srv_sets;
pub mod task_definition;
pub mod write;
pub mod zone_cache;
