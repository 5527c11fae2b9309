//! Shared test support: a moto server per test binary, SDK clients pointed at it, helpers
//! that seed a small AWS account (VPC, instances, cluster, tasks, a zone), the sample
//! events retargeted at it, and canned-response clients and a strict Route 53 model for
//! where moto is too lax.

pub mod answers;
pub mod config;
pub mod events;
pub mod mock_aws;
pub mod moto;
pub mod seed;
pub mod strict_zone;
pub mod zone;

pub use events::*;
pub use moto::*;
pub use seed::*;
pub use zone::*;

/// The account moto's resources live in.
pub const ACCOUNT: &str = "123456789012";
/// The region the tests use.
pub const REGION: &str = "us-east-1";
