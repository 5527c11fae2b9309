//! Names past Route 53's 100 sets per name and type: trees of weighted aliases.

pub mod aliases;
pub mod placement;
