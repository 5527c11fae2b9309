//! What a Route 53 call that did not succeed says, and whether trying again can help.

use aws_sdk_route53::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// A Route 53 call that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Route53Error {
    /// Route 53 understood the request and refused it (InvalidChangeBatch, InvalidInput,
    /// NoSuchHostedZone...). Sending it again would fail again.
    #[error("Route 53 {operation} on zone {zone_id} was rejected ({code}): {message}")]
    Rejected {
        /// The API operation.
        operation: &'static str,
        /// The hosted zone.
        zone_id: String,
        /// Route 53's error code.
        code: String,
        /// Route 53's message.
        message: String,
    },
    /// The call failed after the SDK's retries: throttled throughout, network, timeout.
    #[error("Route 53 {operation} on zone {zone_id} failed after retries: {detail}")]
    Unavailable {
        /// The API operation.
        operation: &'static str,
        /// The hosted zone.
        zone_id: String,
        /// The SDK's description.
        detail: String,
    },
    /// The listing repeated a page, so the zone cannot be read completely.
    #[error("ListResourceRecordSets on zone {zone_id} returned the page starting at {start} twice; refusing to loop")]
    PagingLoop {
        /// The hosted zone.
        zone_id: String,
        /// Where the repeated page started.
        start: String,
    },
    /// A response was missing something Route 53 always sends, or a value was unusable.
    #[error("Route 53 {operation} on zone {zone_id}: {problem}")]
    Malformed {
        /// The API operation.
        operation: &'static str,
        /// The hosted zone.
        zone_id: String,
        /// What was wrong.
        problem: String,
    },
}

/// Route 53's words for a compare-and-swap that lost: the set is there already, gone, or
/// holds other values than the DELETE named.
fn is_concurrent_change(message: &str) -> bool {
    [
        "but it already exists",
        "but it was not found",
        "do not match the current values",
    ]
    .iter()
    .any(|words| message.contains(words))
}

impl Route53Error {
    /// Whether the request itself was refused, as opposed to not getting through.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Route53Error::Rejected { .. })
    }

    /// Whether sending again later may succeed: throttling and outages pass, and so does a
    /// listing that looped or a batch refused because the zone changed under it (a CREATE
    /// of a set that now exists, a DELETE of one that is gone or changed: another writer,
    /// such as a reconcile, got there first, and the next attempt plans from a fresh read).
    /// Any other refused request or a malformed answer will not change.
    pub fn is_retryable(&self) -> bool {
        match self {
            Route53Error::Unavailable { .. } | Route53Error::PagingLoop { .. } => true,
            Route53Error::Rejected { code, message, .. } => {
                code == "InvalidChangeBatch" && is_concurrent_change(message)
            }
            Route53Error::Malformed { .. } => false,
        }
    }

    pub(crate) fn from_sdk<E>(
        operation: &'static str,
        zone_id: &str,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let SdkError::ServiceError(service) = &err {
            let code = service.err().code().unwrap_or("Unknown").to_owned();
            let throttled = matches!(
                code.as_str(),
                "Throttling" | "PriorRequestNotComplete" | "ThrottlingException"
            );
            if !throttled && !service.raw().status().is_server_error() {
                return Route53Error::Rejected {
                    operation,
                    zone_id: zone_id.to_owned(),
                    message: service.err().message().unwrap_or_default().to_owned(),
                    code,
                };
            }
        }
        Route53Error::Unavailable {
            operation,
            zone_id: zone_id.to_owned(),
            detail: DisplayErrorContext(&err).to_string(),
        }
    }
}
