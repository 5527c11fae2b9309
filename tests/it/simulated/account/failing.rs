//! Failing ECS and EC2 operations: the error each answers while the account says it
//! fails, in the service's own wire format, on every attempt.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;

use super::Failing;

/// ECS's JSON error for a failing operation.
pub(super) fn json_error(failing: Failing, operation: &str) -> HttpResponse {
    let (status, kind) = match failing {
        Failing::Denied => (400, "AccessDeniedException"),
        Failing::ServerError => (500, "ServerException"),
    };
    let body = format!(r#"{{"__type":"{kind}","message":"{operation} failed (simulated)"}}"#);
    HttpResponse::new(
        StatusCode::try_from(status).expect("valid status"),
        body.into(),
    )
}

/// EC2's XML error for a failing operation.
pub(super) fn xml_error(failing: Failing, operation: &str) -> HttpResponse {
    let (status, code) = match failing {
        Failing::Denied => (403, "UnauthorizedOperation"),
        Failing::ServerError => (500, "InternalError"),
    };
    let body = format!(
        r#"<?xml version="1.0"?><Response><Errors><Error><Code>{code}</Code><Message>{operation} failed (simulated)</Message></Error></Errors><RequestID>world</RequestID></Response>"#
    );
    HttpResponse::new(
        StatusCode::try_from(status).expect("valid status"),
        body.into(),
    )
}

/// A rule that answers an error for `$operation` while the account says it fails.
macro_rules! failing_rule {
    ($call:expr, $account:expr, $name:literal, $render:path) => {{
        let check = std::sync::Arc::clone(&$account);
        let answer = std::sync::Arc::clone(&$account);
        mock!($call)
            .match_requests(move |_| {
                let mut world = lock(&check);
                let fails = world.failing.contains_key($name);
                if fails {
                    world.count($name);
                }
                fails
            })
            .sequence()
            .http_response(move || {
                let failing = lock(&answer)
                    .failing
                    .get($name)
                    .copied()
                    .unwrap_or(Failing::ServerError);
                $render(failing, $name)
            })
            .repeatedly()
            .build()
    }};
}

pub(super) use failing_rule;
