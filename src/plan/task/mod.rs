//! One running task, pure: its task definition's facts, its endpoints (address, ports,
//! names and weights), and whether its health lets it be published now.

pub(crate) mod definition;
pub(crate) mod endpoints;
pub(crate) mod health;

pub use definition::{ContainerDefinitionFacts, NetworkMode, PortMapping, TaskDefinitionFacts};
pub use endpoints::*;
