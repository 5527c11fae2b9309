//! The log lines of a route's DNS states: one line per change of state, never one per client.
//!
//! Kept apart from [`crate::discovery`], which decides when a line is due, so that the wording an
//! operator searches for lives in one small place.

use crate::resolve::{ResolveError, SrvAnswer};

/// The health of a route's name, as logged on each change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameState {
    /// Nothing resolved yet.
    Unknown,
    /// The last resolution gave targets.
    Resolved,
    /// DNS fails, and the last good answer is in use.
    Stale,
    /// DNS fails, and there was never a good answer.
    Failing,
    /// NXDOMAIN or an empty answer: clients are closed at once.
    Gone,
}

/// A route resolves to targets, after `previous`.
pub(crate) fn resolved(route: &str, answer: &SrvAnswer, previous: NameState) {
    let targets: Vec<String> = answer
        .targets
        .iter()
        .map(|t| format!("{}={} p{} w{}", t.host, t.addr, t.priority, t.weight))
        .collect();
    tracing::info!(
        route = %route,
        previous = ?previous,
        ttl_secs = answer.ttl.as_secs(),
        targets = %targets.join(", "),
        "route resolves to {} target(s)",
        answer.targets.len()
    );
}

/// A lookup failed, and the route goes to `next_state`.
pub(crate) fn failure(route: &str, error: &ResolveError, next_state: NameState) {
    match next_state {
        NameState::Gone => tracing::warn!(
            route = %route,
            %error,
            "name is gone; closing new client connections at once"
        ),
        NameState::Stale => tracing::warn!(
            route = %route,
            %error,
            "DNS is failing; keeping the last good answer"
        ),
        _ => tracing::error!(
            route = %route,
            %error,
            "DNS is failing and there is no earlier answer; closing client connections"
        ),
    }
}
