//! ecs-srv keeps Route 53 SRV and A records in step with running ECS tasks.
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
