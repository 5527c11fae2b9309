//! Shared test support: a moto server per test binary, SDK clients pointed at it, helpers
//! that seed a small AWS account (VPC, instances, cluster, tasks, a zone), the sample
//! events retargeted at it, and canned-response clients and a strict Route 53 model for
//! where moto is too lax.

pub mod accounts;
pub mod answers;
pub mod config;
pub mod events;
pub mod http;
pub mod mock_aws;
pub mod moto;
pub mod moto_proxy;
pub mod runtime_api;
pub mod seed;
pub mod signed_request;
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

/// The mark ecs-srv writes on task `task`'s set of `role` at `name`, for cluster
/// `cluster` (a name) where the tests run: the documented mark, built by the tests' own
/// rules (`simulated::layout::marks`), not the crate's.
pub fn task_mark(
    task: &str,
    role: ecs_srv::plan::naming::RecordRole,
    cluster: &str,
    name: &str,
) -> String {
    use crate::simulated::layout::marks::{Era, Writer};
    use ecs_srv::plan::naming::RecordRole::*;
    let (kind, record_type) = match role {
        ServiceAddress => ("svc", "A"),
        TaskAddress => ("task", "A"),
        ServicePort => ("srv", "SRV"),
        StandaloneAddress => ("osvc", "A"),
        StandalonePort => ("osrv", "SRV"),
        ServiceAddress6 => ("svc6", "AAAA"),
        TaskAddress6 => ("task6", "AAAA"),
        StandaloneAddress6 => ("osvc6", "AAAA"),
    };
    let writer = Writer {
        owner: "ecs-srv".to_owned(),
        region: REGION.to_owned(),
        account: ACCOUNT.to_owned(),
    };
    writer.task_mark(Era::Today, task, kind, cluster, name, record_type)
}

/// The naming of a default deployment (owner `ecs-srv`) for zone `apex`, where the tests
/// run.
pub fn naming(apex: &str) -> ecs_srv::plan::naming::ZoneNaming {
    naming_of(apex, "ecs-srv")
}

/// The naming of a deployment with RECORD_OWNER `owner` for zone `apex`.
pub fn naming_of(apex: &str, owner: &str) -> ecs_srv::plan::naming::ZoneNaming {
    let identity = ecs_srv::plan::naming::Identity {
        owner: owner.to_owned(),
        scope: config::scope(),
        clusters: Vec::new(),
    };
    ecs_srv::plan::naming::ZoneNaming::new(apex, identity, false)
}
