//! dns-front's integration tests, in one binary: one moto for all of them, real DNS on
//! loopback, one module per area.
//!
//! - `answers`: Route 53's answer rules over UDP and TCP, negative answers, freshness.
//! - `alias_trees`: trees of weighted aliases, as Route 53 serves more than 100 sets.
//! - `large_answers`: a whole SRV set too big for UDP, asked with `dig`.
//! - `binary`: the `dns-front` binary as a script starts it.
//! - `latency`: latency names answered by the asking side's region.
//! - `support`: the shared moto, a zone to write into, a DNS client.

mod alias_trees;
mod answers;
mod binary;
mod large_answers;
mod latency;
mod support;
