//! Helpers shared by this crate's integration tests: the binary's moto server, a zone to
//! put records in, and a DNS client that speaks UDP or TCP.

pub mod dns;
pub mod moto;
pub mod zone;
