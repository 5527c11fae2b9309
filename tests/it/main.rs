//! The integration tests of ecs-srv, in one binary: the AWS SDK is linked once, moto
//! starts once, and every area shares one set of doubles.
//!
//! - `support`: the moto server and its seeding, canned-response clients, the sample
//!   events, and the strict Route 53 model.
//! - `simulated`: a whole simulated account (the strict zone plus an ECS and EC2 world
//!   answered through the real SDK clients) for the reliability suite.
//! - one module per area below.

mod simulated;
mod support;

mod batches;
mod codebase;
mod delivery;
mod e2e;
mod events;
mod faults;
mod fuzz_events;
mod health;
mod interop;
mod invalid_events;
mod ipv6;
mod lookups;
mod mocks;
mod plan_samples;
mod properties;
mod reconcile;
mod reconcile_race;
mod replay;
mod replay_large;
mod safe_defaults;
mod scale;
mod sqs_burst;
mod srv_sets;
mod strict_zone;
mod subtrees;
mod template;
mod template_env;
mod template_operations;
mod template_scanners;
mod trees;
mod version;
mod zone_role;
