//! One running task, pure: its task definition's facts, its endpoints (address, ports,
//! names and weights), and whether its health lets it be published now.

pub mod definition;
pub mod endpoints;
pub mod health;

pub use definition::{ContainerDefinitionFacts, NetworkMode, PortMapping, TaskDefinitionFacts};
pub use endpoints::*;
