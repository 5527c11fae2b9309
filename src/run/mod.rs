//! What runs: the long-lived state of a deployment, the event path, the scheduled
//! reconcile, and the entry points that call them (the Lambda handler and replay).

pub mod commands;
pub mod delivery;
pub mod deployment;
pub mod events;
pub mod handler;
pub mod intents;
pub mod metrics;
pub mod purge;
pub mod reconcile;
pub mod replay;
pub mod report;
pub mod schedule;
pub mod status;
