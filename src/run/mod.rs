//! What runs: the long-lived state of a deployment, the event path, the scheduled
//! reconcile, and the entry points that call them (the Lambda handler, the packer and
//! replay).

pub mod commands;
pub(crate) mod delivery;
pub mod deployment;
pub mod events;
pub mod handler;
pub(crate) mod intents;
pub(crate) mod metrics;
pub mod packer;
pub mod purge;
pub mod reconcile;
pub(crate) mod replay;
pub mod report;
pub(crate) mod schedule;
pub mod status;
