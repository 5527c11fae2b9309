//! The integration tests of ecs-srv, in one binary: the AWS SDK is linked once, moto
//! starts once, and every area shares one set of doubles.
//!
//! - `support`: the moto server and its seeding, canned-response clients, the sample
//!   events, the strict Route 53 model, and what a zone answers.
//! - `simulated`: a whole simulated account (the strict zone plus an ECS and EC2 world
//!   answered through the real SDK clients) for the reliability suite.
//! - one module per area below.
//!
//! Which double a new test should use:
//! - Route 53 must accept or refuse something, page, throttle or fail past the retry
//!   budget: the strict model (`support::strict_zone`), which holds Route 53's documented
//!   rules (`route53_rules` proves each) and reports ecs-srv's own stricter choices apart.
//! - The publisher end to end over many events, faults and properties: the simulated
//!   account (`simulated`), the strict model beside an ECS and EC2 world.
//! - One ECS or EC2 answer moto cannot give (health, networkBindings, an error):
//!   canned responses (`support::mock_aws`).
//! - The real binaries, the Lambda runtime, the demo, real ECS and EC2 shapes: moto
//!   (`support::moto`), started once by `moto-launcher`; it enforces almost none of Route
//!   53's rules, so never prove a Route 53 rule with it.
//! - What a name answers (weights, trees, latency): `support::answers`, the DNS front's
//!   rules, over any of the above's record sets.
//! - What the binary sends, as AWS reads it (who signed, which operation, on what), or
//!   an AWS answer moto never gives (throttling, a health verdict not in yet):
//!   `support::moto_proxy`, a recording proxy in front of moto; `iam` judges its record
//!   against the templates' policies.

mod simulated;
mod support;

mod batches;
mod codebase;
mod config_reference;
mod delivery;
mod e2e;
mod estate;
mod events;
mod exact_requests;
mod faults;
mod fuzz_events;
mod health;
mod iam;
mod interop;
mod invalid_events;
mod ipv6;
mod lambda_contract;
mod layout_oracle;
mod lookups;
mod name_admission;
mod packer_contract;
mod plan_labels;
mod plan_samples;
mod properties;
mod purge;
mod reconcile;
mod reconcile_listing;
mod reconcile_race;
mod refusals;
mod replay;
mod replay_large;
mod route53_rules;
mod scale;
mod setting_changes;
mod sqs_burst;
mod srv_sets;
mod status;
mod subtrees;
mod template;
mod template_env;
mod template_operations;
mod template_scanners;
mod trees;
mod upgrades;
mod version;
mod zone_role;
mod zone_view;
