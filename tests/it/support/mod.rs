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

/// A task's set as it would stand at its tree's root (a set in branch `_bK.N` shown at
/// `N`, its mark's hash made for `N`): how tests compare trees with flat layouts.
pub fn at_tree_root(set: &ecs_srv::plan::records::RecordSet) -> ecs_srv::plan::records::RecordSet {
    use ecs_srv::plan::records::Routing;
    let root = ecs_srv::plan::tree::names::tree_root(&set.name).to_owned();
    let rename = |id: &String| ecs_srv::plan::naming::marks::rehashed(id, &root, set.record_type);
    let routing = match &set.routing {
        Routing::Weighted {
            set_identifier,
            weight,
        } => Routing::Weighted {
            set_identifier: rename(set_identifier),
            weight: *weight,
        },
        Routing::Multivalue { set_identifier } => Routing::Multivalue {
            set_identifier: rename(set_identifier),
        },
        other => other.clone(),
    };
    ecs_srv::plan::records::RecordSet {
        name: root,
        routing,
        ..set.clone()
    }
}

/// The mark ecs-srv writes on task `task`'s set of `role` at `name`, for cluster
/// `cluster` (a name) where the tests run.
pub fn task_mark(
    task: &str,
    role: ecs_srv::plan::naming::RecordRole,
    cluster: &str,
    name: &str,
) -> String {
    let cluster = ecs_srv::plan::naming::ClusterId {
        scope: config::scope(),
        name: cluster.to_owned(),
    };
    ecs_srv::plan::naming::marks::task_mark("ecs-srv", task, role, &cluster, name)
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
