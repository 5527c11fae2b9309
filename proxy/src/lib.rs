//! srv-proxy: a tiny TCP ambassador driven by DNS SRV records.
//!
//! It runs beside a client that cannot read SRV records (a sidecar in the same ECS task, or on a
//! host), listens locally, and forwards each connection to one target of an SRV name, chosen per
//! RFC 2782. The pieces, in the order a connection meets them:
//!
//! - [`server`]: worker threads and graceful drain, with one connection limit for all of them;
//! - [`listeners`]: a listener per worker on each route's address (`SO_REUSEPORT`);
//! - [`accept`]: a route's accept loop and the life of one client connection;
//! - [`connect`]: pick a target, connect, retry elsewhere, re-resolve;
//! - [`discovery`]: stale-while-revalidate answers, one lookup in flight, state-change logs;
//! - [`answer`]: an answer's targets with their metric handles and ejection records;
//! - [`resolve`]: the [`resolve::Resolve`] seam, with [`hickory`] behind it in production;
//! - [`picker`] and [`ejection`]: RFC 2782 choice and passive ejection;
//! - [`relay`]: the byte copy with half-close and idle timeout, on sockets that `socket` opens;
//! - [`metrics`] and [`metrics_http`]: Prometheus `/metrics` and `/health`;
//! - [`health`]: the proxy's view of its own health, and the `srv-proxy health` probe.
//!
//! The binary is a thin shell around [`app::run_cli`]; tests drive [`server::serve`] in-process
//! with listeners bound to `127.0.0.1:0`.

// The map above links to the internals: read it with `cargo doc --document-private-items`.
#![allow(rustdoc::private_intra_doc_links)]
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![warn(clippy::too_many_lines)]

mod accept;
mod admission;
pub mod answer;
pub mod app;
pub mod config;
pub mod connect;
pub mod discovery;
pub mod ejection;
pub mod health;
pub mod hickory;
pub mod listeners;
pub mod logging;
pub mod metrics;
pub mod metrics_http;
pub mod picker;
pub mod relay;
pub mod resolve;
pub mod server;
mod socket;
mod state_log;
