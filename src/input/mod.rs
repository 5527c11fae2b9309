//! What comes in: task state change events, parsed and validated before anything acts on
//! them, and the payloads that carry them.

pub mod event;
pub mod packed;
pub mod payload;
