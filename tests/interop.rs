//! Interop tests with the real SRV clients (HAProxy, Prometheus, srv-proxy); the tests
//! live in `tests/interop/`, one file per client, with the shared setup in its `mod.rs`.

#[path = "interop/mod.rs"]
mod interop;
mod support;
