//! A count of every request the AWS clients send, by `Service.Operation`.
//!
//! The count comes from an SDK interceptor that sees each attempt as it goes on the wire,
//! retries included. Tests use it to prove that a warm cache made no call, the reports
//! carry it, the metrics read Route 53 requests and throttles from it, and the benchmarks
//! read calls per event from it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_ecs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;

/// The pseudo-operation under which retried attempts of a service are counted
/// (`Route53.Retried`): each is also counted under its own operation.
pub const RETRIED: &str = "Retried";

/// Counts requests by `Service.Operation`, every attempt separately.
#[derive(Clone, Debug, Default)]
pub struct ApiCallLog {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl ApiCallLog {
    /// A copy of the counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests made since `before` (an earlier [`Self::snapshot`]), leaving out
    /// operations that were not called.
    pub fn since(&self, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        self.snapshot()
            .into_iter()
            .filter_map(|(operation, count)| {
                let delta = count - before.get(&operation).copied().unwrap_or(0);
                (delta > 0).then_some((operation, delta))
            })
            .collect()
    }

    /// Requests to one operation, such as `EC2.DescribeInstances`.
    pub fn count(&self, operation: &str) -> u64 {
        self.snapshot().get(operation).copied().unwrap_or(0)
    }

    /// Requests to one service (`ECS`, `EC2`, `Route53`), all operations together.
    pub fn count_service(&self, service: &str) -> u64 {
        let prefix = format!("{service}.");
        let retried = format!("{service}.{RETRIED}");
        self.snapshot()
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix) && **key != retried)
            .map(|(_, count)| count)
            .sum()
    }

    fn record(&self, operation: String) {
        *self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(operation)
            .or_default() += 1;
    }
}

impl Intercept for ApiCallLog {
    fn name(&self) -> &'static str {
        "ApiCallLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = match cfg.load::<Metadata>() {
            Some(meta) => format!("{}.{}", service_short_name(meta.service()), meta.name()),
            None => "unknown".to_owned(),
        };
        // A second or later attempt is the SDK retrying: throttled, PriorRequestNotComplete
        // or a transient failure of the attempt before.
        let retry = cfg
            .load::<RequestAttempts>()
            .is_some_and(|attempts| attempts.attempts() > 1);
        if retry {
            let service = key.split('.').next().unwrap_or_default().to_owned();
            self.record(format!("{service}.{RETRIED}"));
        }
        self.record(key);
        Ok(())
    }
}

/// The SDK names services by their model ids (`ECS`, `EC2`, `Route 53`); keep them short
/// and without spaces for logs and tables.
fn service_short_name(service: &str) -> &str {
    match service {
        "Route 53" => "Route53",
        other => other,
    }
}
