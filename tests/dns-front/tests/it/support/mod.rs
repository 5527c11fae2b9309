//! Helpers shared by this crate's integration tests: a private moto server, a zone to put
//! records in, and a DNS client that speaks UDP or TCP.
#![allow(dead_code)] // each test binary uses its own subset

pub mod dns;
pub mod moto;
pub mod zone;
