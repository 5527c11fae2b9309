//! The seam between the proxy and DNS.
//!
//! The proxy never talks to a DNS library directly: it asks a [`Resolve`] for the targets of an
//! SRV name. Production uses hickory (see [`crate::hickory`]); unit tests hand in fixed answers,
//! so that picking, retries and caching can be tested without a network.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// One place a connection can go: an SRV record whose target name has been turned into an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvTarget {
    /// The SRV target name, kept for logs so that an operator can match it to a task.
    pub host: Arc<str>,
    /// The address to connect to: the target's first address, with the SRV port.
    pub addr: SocketAddr,
    /// RFC 2782 priority: lower values are tried first.
    pub priority: u16,
    /// RFC 2782 weight: the relative share among targets of the same priority.
    pub weight: u16,
}

impl AsRef<SrvTarget> for SrvTarget {
    fn as_ref(&self) -> &SrvTarget {
        self
    }
}

/// A usable SRV answer: at least one target, and how long it may be cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvAnswer {
    /// The targets, in the order the server gave them.
    pub targets: Vec<SrvTarget>,
    /// The smallest TTL among the records used; zero means "resolve again for every connection".
    pub ttl: Duration,
}

/// Why a name gave no targets.
///
/// The two variants call for opposite reactions, which is why they are kept apart: a name that is
/// gone must close clients at once, while a DNS outage must keep the last good answer.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    /// NXDOMAIN, no SRV records, or only the "service not available" target `.`.
    #[error("{name} has no SRV targets (NXDOMAIN or an empty answer)")]
    NotFound {
        /// The SRV name that was looked up.
        name: String,
    },
    /// The lookup itself failed: timeout, SERVFAIL, REFUSED, or no address for any target.
    #[error("DNS lookup of {name} failed: {reason}")]
    Unavailable {
        /// The SRV name that was looked up.
        name: String,
        /// What the resolver reported, for the log line.
        reason: String,
    },
}

/// A boxed resolution future, so that [`Resolve`] stays object safe (`Arc<dyn Resolve>`).
pub type Resolving<'a> = Pin<Box<dyn Future<Output = Result<SrvAnswer, ResolveError>> + Send + 'a>>;

/// Turns an SRV name into targets with addresses.
///
/// Implementations do no caching of their own: [`crate::discovery`] owns the TTL, the stale
/// answer and the state-change logs, so that every resolver behaves the same way.
pub trait Resolve: Send + Sync {
    /// Resolves `name` (an SRV owner name such as `_web._tcp._all.web.ecs.internal`).
    fn resolve_srv<'a>(&'a self, name: &'a str) -> Resolving<'a>;
}
