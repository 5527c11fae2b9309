//! The stack's purge on deletion: a CloudFormation custom resource backed by this same
//! function. On `Delete` it runs the purge and answers CloudFormation; on `Create` and
//! `Update` it only answers. The answer is a PUT of a small JSON document to the
//! pre-signed `ResponseURL` the request carries; a stack waits for it (up to an hour), so
//! the function answers even when the purge fails, and says why.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tracing::{error, info};

use super::purge;
use crate::run::deployment::{Deployment, Mode};

/// How long the answer to CloudFormation may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// Whether a payload is a CloudFormation custom resource request.
pub fn is_stack_request(payload: &Value) -> bool {
    [
        "RequestType",
        "ResponseURL",
        "StackId",
        "RequestId",
        "LogicalResourceId",
    ]
    .iter()
    .all(|field| payload.get(field).is_some_and(Value::is_string))
}

/// Handles a custom resource request and answers CloudFormation; returns the answer.
pub async fn answer_stack(deployment: &Deployment, request: Value) -> Value {
    let field = |name: &str| {
        request
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let physical_id = format!(
        "ecs-srv-purge-{}-{}",
        deployment.settings.hosted_zone_id, deployment.settings.record_owner
    );
    let (status, reason) = match field("RequestType") {
        "Delete" => match purge(deployment, Mode::Write).await {
            Ok(report) if report.left == 0 && report.failures.is_empty() => (
                "SUCCESS",
                format!(
                    "withdrew {} record sets of {} tasks",
                    report.owned_sets, report.tasks
                ),
            ),
            Ok(report) => (
                "FAILED",
                format!(
                    "{} record sets left; first problem: {}",
                    report.left,
                    report
                        .failures
                        .values()
                        .chain(&report.name_errors)
                        .next()
                        .map_or("none reported", String::as_str)
                ),
            ),
            Err(err) => ("FAILED", format!("the zone could not be read: {err}")),
        },
        other => (
            "SUCCESS",
            format!("{other}: nothing to do until the stack is deleted"),
        ),
    };
    let answer = json!({
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": field("StackId"),
        "RequestId": field("RequestId"),
        "LogicalResourceId": field("LogicalResourceId"),
        "NoEcho": false,
        "Data": {},
    });
    match put(field("ResponseURL"), &answer).await {
        Ok(()) => info!(status, reason = %reason, "answered CloudFormation"),
        Err(err) => {
            error!(error = %err, "could not answer CloudFormation; the stack waits for its timeout")
        }
    }
    answer
}

/// PUTs the answer to the pre-signed URL, as CloudFormation asks: an empty content type.
async fn put(url: &str, answer: &Value) -> Result<(), String> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|err| format!("no TLS roots: {err}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let body = answer.to_string();
    let request = hyper::Request::put(url)
        .header("content-type", "")
        .header("content-length", body.len())
        .body(Full::new(Bytes::from(body)))
        .map_err(|err| format!("bad ResponseURL {url:?}: {err}"))?;
    let response = tokio::time::timeout(ANSWER_TIMEOUT, client.request(request))
        .await
        .map_err(|_| format!("no answer from the ResponseURL within {ANSWER_TIMEOUT:?}"))?
        .map_err(|err| format!("PUT to the ResponseURL failed: {err}"))?;
    let status = response.status();
    let _ = response.into_body().collect().await;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the ResponseURL answered {status}"))
    }
}
