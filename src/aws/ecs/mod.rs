//! The ECS and EC2 edge: look-ups with the caches a warm Lambda keeps ([`lookups`]), and
//! the task listings and states that guard against stale events ([`tasks`]).

pub mod described;
pub(crate) mod lookups;
pub(crate) mod tasks;

use aws_sdk_ecs::error::{DisplayErrorContext, SdkError};

pub use lookups::{HostAddresses, Lookups};
pub use tasks::{TaskState, ECS_DESCRIBE_BATCH};

/// A look-up that failed; the message names the call and the resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The API call failed after the SDK's retries.
    #[error("{operation} for {resource} failed: {detail}")]
    Api {
        /// The API operation.
        operation: &'static str,
        /// What was being looked up.
        resource: String,
        /// The SDK's description.
        detail: String,
    },
    /// The resource does not exist (any more).
    #[error("{operation} found no {resource}: {reason}")]
    NotFound {
        /// The API operation.
        operation: &'static str,
        /// What was being looked up.
        resource: String,
        /// Why, as far as AWS said.
        reason: String,
    },
}

pub(crate) fn api_error<E, R>(
    operation: &'static str,
    resource: impl Into<String>,
    err: SdkError<E, R>,
) -> LookupError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    LookupError::Api {
        operation,
        resource: resource.into(),
        detail: DisplayErrorContext(&err).to_string(),
    }
}

impl LookupError {
    /// A failed call may go through later; a resource that does not exist will not appear.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LookupError::Api { .. })
    }
}
