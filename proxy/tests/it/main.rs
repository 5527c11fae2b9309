//! srv-proxy's integration tests, in one binary: the crate and its test doubles are linked once,
//! and every module shares one set of helpers in [`support`].
//!
//! Everything listens on 127.0.0.1 (or ::1) port 0, every wait is bounded in count and time, and
//! nothing asserts how fast something happened, with one stated exception in
//! [`stale_answers`]. The `stress` scenarios are `#[ignore]`d here and run by `make stress`.

mod data_path;
mod discovery_seam;
mod dns_states;
mod dnsmasq;
mod fuzz_srv;
mod health_check;
mod ipv6;
mod routing;
mod sigterm;
mod stale_answers;
mod stress;
mod support;
