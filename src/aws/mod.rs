//! The AWS edge: the clients and their call counter ([`clients`], [`calls`]), Route 53
//! reads and writes with their pacing ([`route53`]), and the ECS and EC2 look-ups with
//! their caches ([`ecs`]), and SQS sends ([`sqs`]). Nothing here decides anything; the
//! plan does.

pub(crate) mod calls;
pub(crate) mod clients;
pub mod ecs;
pub mod route53;
pub mod sqs;

pub use calls::ApiCallLog;
pub use clients::{sdk_config, AwsClients, IdentityError, MAX_ATTEMPTS};
