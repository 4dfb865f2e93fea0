//! The steps of an ARM long-running operation, as pure functions: what an initial PUT/DELETE
//! response asks the client to do next, and what each poll response means. They never sleep
//! and never send; the executor loop in the client does both, so its waits can be tested with
//! a paused clock.
//!
//! The rules follow the ARM asynchronous-operation contract:
//! - `Azure-AsyncOperation` wins over `Location`; its status body ends with `status`
//!   `Succeeded`, `Failed` or `Canceled` (case-insensitive), and anything else is still running.
//! - `Location` is polled until it answers 200/201/204; 202 means still running.
//! - A response without either header, but with a non-terminal `provisioningState` (or a
//!   202), is followed by GETting the resource itself (until it is gone, for a DELETE).
//! - After a PUT succeeds through polling, the final resource comes from a GET on it.
//! - Poll URLs must stay on the origin of the resource URL: the client sends its bearer token
//!   to them.

use super::error::{ArmError, ErrorBody, OperationEnd};
use azure_core::http::headers::{
    HeaderName, Headers, RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS,
};
use azure_core::http::policies::get_retry_after;
use azure_core::time::OffsetDateTime;
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// The wait between polls when the service gives no `Retry-After`.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const LOCATION: HeaderName = HeaderName::from_static("location");

/// The mutating call whose operation is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Put,
    Delete,
}

/// What kind of URL is polled, which decides how its responses are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollVia {
    /// The `Azure-AsyncOperation` status resource.
    AsyncOperation,
    /// The `Location` URL.
    Location,
    /// The resource itself.
    Resource,
}

/// An HTTP response, as far as the step functions read it.
#[derive(Clone, Copy, Debug)]
pub struct Reply<'a> {
    pub status: u16,
    pub headers: &'a Headers,
    /// The parsed JSON body, `Null` when empty.
    pub body: &'a Value,
}

/// What a successful (2xx) initial PUT or DELETE response asks for.
#[derive(Debug, PartialEq)]
pub enum Initial {
    /// The operation is complete; for a PUT, the body is the final resource.
    Done(Value),
    /// Poll `url` after `retry_after`.
    Poll {
        url: Url,
        via: PollVia,
        retry_after: Duration,
    },
}

/// What one poll response means.
#[derive(Debug)]
pub enum PollOutcome {
    Pending { retry_after: Duration },
    Succeeded,
    Failed(ArmError),
    Canceled(ArmError),
}

/// Reads a successful initial response. `resource_url` is the resource's GET URL, polled when
/// ARM gives no operation URL; poll URLs are resolved against it and must share its origin.
/// `now` is the clock used for a `Retry-After` given as an HTTP date.
pub fn initial_outcome(
    op: Operation,
    resource_id: &str,
    resource_url: &Url,
    reply: Reply<'_>,
    now: fn() -> OffsetDateTime,
) -> Result<Initial, ArmError> {
    let retry_after = retry_after(reply.headers, now);
    let poll = |via: PollVia, header: &HeaderName| -> Result<Option<Initial>, ArmError> {
        let Some(value) = reply.headers.get_optional_str(header) else {
            return Ok(None);
        };
        let url = poll_url(value, resource_url).map_err(|reason| ArmError::Protocol {
            resource_id: resource_id.to_owned(),
            status: reply.status,
            reason: format!("{} header: {reason}", header.as_str()),
        })?;
        Ok(Some(Initial::Poll {
            url,
            via,
            retry_after,
        }))
    };
    if let Some(initial) = poll(PollVia::AsyncOperation, &AZURE_ASYNC_OPERATION)? {
        return Ok(initial);
    }
    if let Some(initial) = poll(PollVia::Location, &LOCATION)? {
        return Ok(initial);
    }
    let poll_resource = Initial::Poll {
        url: resource_url.clone(),
        via: PollVia::Resource,
        retry_after,
    };
    let state = provisioning_state(reply.body);
    match (op, state.map(terminal)) {
        _ if reply.status == 202 => Ok(poll_resource),
        (Operation::Put, Some(None)) => Ok(poll_resource),
        (Operation::Put, Some(Some(Terminal::Failed))) => Err(ended(
            resource_id,
            OperationEnd::Failed,
            PollVia::Resource,
            reply.body,
        )),
        (Operation::Put, Some(Some(Terminal::Canceled))) => Err(ended(
            resource_id,
            OperationEnd::Canceled,
            PollVia::Resource,
            reply.body,
        )),
        _ => Ok(Initial::Done(reply.body.clone())),
    }
}

/// Reads one poll response of a `via` URL for an `op` on `resource_id`.
pub fn poll_outcome(
    op: Operation,
    via: PollVia,
    resource_id: &str,
    reply: Reply<'_>,
    now: fn() -> OffsetDateTime,
) -> PollOutcome {
    let pending = PollOutcome::Pending {
        retry_after: retry_after(reply.headers, now),
    };
    let success = (200..300).contains(&reply.status);
    if op == Operation::Delete && via == PollVia::Resource && reply.status == 404 {
        return PollOutcome::Succeeded;
    }
    if !success {
        return PollOutcome::Failed(ArmError::Api {
            method: "GET",
            resource_id: resource_id.to_owned(),
            status: reply.status,
            error: Box::new(ErrorBody::from_body(reply.body)),
            retry_after: requested_wait(reply.headers, now),
        });
    }
    let state = match via {
        PollVia::Location if reply.status == 202 => return pending,
        PollVia::Location => return PollOutcome::Succeeded,
        PollVia::AsyncOperation => reply.body.get("status").and_then(Value::as_str),
        PollVia::Resource => provisioning_state(reply.body),
    };
    let end = |end: OperationEnd| ended(resource_id, end, via, reply.body);
    match (state.and_then(terminal), op, via) {
        (Some(Terminal::Failed), ..) => PollOutcome::Failed(end(OperationEnd::Failed)),
        (Some(Terminal::Canceled), ..) => PollOutcome::Canceled(end(OperationEnd::Canceled)),
        // A resource that still answers is not deleted yet, whatever its state.
        (_, Operation::Delete, PollVia::Resource) => pending,
        (Some(Terminal::Succeeded), ..) => PollOutcome::Succeeded,
        // A resource without a provisioningState has nothing left to wait for.
        (None, Operation::Put, PollVia::Resource) if state.is_none() => PollOutcome::Succeeded,
        (None, ..) => pending,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Terminal {
    Succeeded,
    Failed,
    Canceled,
}

fn terminal(state: &str) -> Option<Terminal> {
    [
        ("Succeeded", Terminal::Succeeded),
        ("Failed", Terminal::Failed),
        ("Canceled", Terminal::Canceled),
    ]
    .into_iter()
    .find(|(name, _)| name.eq_ignore_ascii_case(state))
    .map(|(_, terminal)| terminal)
}

fn provisioning_state(body: &Value) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(Value::as_str)
}

/// The error of an operation that ended `end`, read from the status body or resource `body`
/// that says so: its `error` object when present, else a description of the state.
fn ended(resource_id: &str, end: OperationEnd, via: PollVia, body: &Value) -> ArmError {
    let (what, state) = match via {
        PollVia::Resource => ("provisioningState", provisioning_state(body)),
        PollVia::AsyncOperation | PollVia::Location => (
            "operation status",
            body.get("status").and_then(Value::as_str),
        ),
    };
    let error = if body.get("error").is_some() {
        ErrorBody::from_body(body)
    } else {
        ErrorBody {
            message: format!("{what} is {}", state.unwrap_or_default()),
            ..ErrorBody::default()
        }
    };
    ArmError::Operation {
        resource_id: resource_id.to_owned(),
        end,
        error,
    }
}

/// The service's requested wait (`x-ms-retry-after-ms`, `retry-after-ms`, then `Retry-After`
/// in seconds or as an HTTP date), or [`DEFAULT_POLL_INTERVAL`].
pub fn retry_after(headers: &Headers, now: fn() -> OffsetDateTime) -> Duration {
    requested_wait(headers, now).unwrap_or(DEFAULT_POLL_INTERVAL)
}

/// The service's requested wait (`x-ms-retry-after-ms`, `retry-after-ms`, then `Retry-After`
/// in seconds or as an HTTP date), when it gave one.
pub fn requested_wait(headers: &Headers, now: fn() -> OffsetDateTime) -> Option<Duration> {
    get_retry_after(
        headers,
        now,
        &[X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS, RETRY_AFTER],
    )
    .map(|wait| Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// Whether a resource body says an operation on it is still running (`provisioningState`
/// `Creating`, `Updating` or `Deleting`, or another non-terminal state a provider reports).
/// A PUT now would race that operation; the resource is to be read again once it settles.
pub fn in_transition(body: &Value) -> Option<&str> {
    provisioning_state(body).filter(|state| terminal(state).is_none())
}

/// Resolves a poll header against the resource URL and keeps it on the same origin.
fn poll_url(value: &str, resource_url: &Url) -> Result<Url, String> {
    let url = resource_url
        .join(value)
        .map_err(|e| format!("not a URL ({e})"))?;
    if url.origin() != resource_url.origin() {
        return Err(format!(
            "points to {}, outside the endpoint {}",
            url.origin().ascii_serialization(),
            resource_url.origin().ascii_serialization()
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    /// Header pairs of a test response.
    type Pairs<'a> = Vec<(&'static str, &'a str)>;

    const ID: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/ip";

    fn fixed_now() -> OffsetDateTime {
        datetime!(2024-01-01 0:00:00 UTC)
    }

    fn resource_url() -> Url {
        Url::parse(&format!("https://arm.test{ID}?api-version=2024-01-01")).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> Headers {
        let mut headers = Headers::new();
        for (name, value) in pairs {
            headers.insert(*name, value.to_string());
        }
        headers
    }

    fn initial(
        op: Operation,
        status: u16,
        pairs: &[(&'static str, &str)],
        body: Value,
    ) -> Result<Initial, ArmError> {
        let headers = headers(pairs);
        let reply = Reply {
            status,
            headers: &headers,
            body: &body,
        };
        initial_outcome(op, ID, &resource_url(), reply, fixed_now)
    }

    fn poll(
        op: Operation,
        via: PollVia,
        status: u16,
        pairs: &[(&'static str, &str)],
        body: Value,
    ) -> PollOutcome {
        let headers = headers(pairs);
        let reply = Reply {
            status,
            headers: &headers,
            body: &body,
        };
        poll_outcome(op, via, ID, reply, fixed_now)
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn initial_outcomes() {
        use Operation::{Delete, Put};
        let op_url = "https://arm.test/subscriptions/s/providers/Microsoft.Network/locations/x/operations/1?api-version=2024-01-01";
        let loc_url = "https://arm.test/subscriptions/s/providers/Microsoft.Network/locations/x/operationResults/1";
        let done = json!({"name": "ip", "properties": {"provisioningState": "Succeeded"}});
        let updating = json!({"name": "ip", "properties": {"provisioningState": "Updating"}});
        type Case<'a> = (&'a str, Operation, u16, Pairs<'a>, Value, Initial);
        let cases: Vec<Case> = vec![
            (
                "put 200 with a final body is done",
                Put,
                200,
                vec![],
                done.clone(),
                Initial::Done(done.clone()),
            ),
            (
                "put 201 with a resource that has no provisioningState is done",
                Put,
                201,
                vec![],
                json!({"name": "zone"}),
                Initial::Done(json!({"name": "zone"})),
            ),
            (
                "put 201 with Azure-AsyncOperation polls it, Retry-After in seconds",
                Put,
                201,
                vec![("azure-asyncoperation", op_url), ("retry-after", "10")],
                updating.clone(),
                Initial::Poll {
                    url: url(op_url),
                    via: PollVia::AsyncOperation,
                    retry_after: Duration::from_secs(10),
                },
            ),
            (
                "Azure-AsyncOperation wins over Location",
                Put,
                201,
                vec![("location", loc_url), ("azure-asyncoperation", op_url)],
                updating.clone(),
                Initial::Poll {
                    url: url(op_url),
                    via: PollVia::AsyncOperation,
                    retry_after: DEFAULT_POLL_INTERVAL,
                },
            ),
            (
                "put 202 with Location polls it, Retry-After as an HTTP date",
                Put,
                202,
                vec![
                    ("location", loc_url),
                    ("retry-after", "Mon, 01 Jan 2024 00:00:07 GMT"),
                ],
                Value::Null,
                Initial::Poll {
                    url: url(loc_url),
                    via: PollVia::Location,
                    retry_after: Duration::from_secs(7),
                },
            ),
            (
                "put 201 with a non-terminal state and no header polls the resource",
                Put,
                201,
                vec![],
                updating.clone(),
                Initial::Poll {
                    url: resource_url(),
                    via: PollVia::Resource,
                    retry_after: DEFAULT_POLL_INTERVAL,
                },
            ),
            (
                "relative poll URLs resolve against the resource",
                Put,
                201,
                vec![("azure-asyncoperation", "/operations/7")],
                updating,
                Initial::Poll {
                    url: url("https://arm.test/operations/7"),
                    via: PollVia::AsyncOperation,
                    retry_after: DEFAULT_POLL_INTERVAL,
                },
            ),
            (
                "delete 200 is done",
                Delete,
                200,
                vec![],
                Value::Null,
                Initial::Done(Value::Null),
            ),
            (
                "delete 204 is done",
                Delete,
                204,
                vec![],
                Value::Null,
                Initial::Done(Value::Null),
            ),
            (
                "delete 202 with Location polls it",
                Delete,
                202,
                vec![("location", loc_url), ("retry-after", "0")],
                Value::Null,
                Initial::Poll {
                    url: url(loc_url),
                    via: PollVia::Location,
                    retry_after: Duration::ZERO,
                },
            ),
            (
                "delete 202 with Azure-AsyncOperation polls it",
                Delete,
                202,
                vec![
                    ("azure-asyncoperation", op_url),
                    ("x-ms-retry-after-ms", "250"),
                ],
                Value::Null,
                Initial::Poll {
                    url: url(op_url),
                    via: PollVia::AsyncOperation,
                    retry_after: Duration::from_millis(250),
                },
            ),
            (
                "delete 202 without headers polls the resource until it is gone",
                Delete,
                202,
                vec![],
                Value::Null,
                Initial::Poll {
                    url: resource_url(),
                    via: PollVia::Resource,
                    retry_after: DEFAULT_POLL_INTERVAL,
                },
            ),
        ];
        for (name, op, status, pairs, body, want) in cases {
            let got = initial(op, status, &pairs, body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn put_answered_with_a_failed_resource_is_an_error() {
        let cases = [
            (
                json!({"properties": {"provisioningState": "Failed"}}),
                format!("{ID}: long-running operation failed: provisioningState is Failed"),
            ),
            (
                json!({"properties": {"provisioningState": "canceled"}}),
                format!("{ID}: long-running operation was canceled: provisioningState is canceled"),
            ),
        ];
        for (body, want) in cases {
            let err = initial(Operation::Put, 200, &[], body).expect_err(&want);
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn poll_urls_off_the_endpoint_are_refused() {
        for value in [
            "https://evil.test/operations/1",
            "http://arm.test/operations/1",
            "https://arm.test:444/x",
        ] {
            let err = initial(
                Operation::Put,
                201,
                &[("azure-asyncoperation", value)],
                Value::Null,
            )
            .expect_err(value);
            assert!(matches!(err, ArmError::Protocol { .. }), "{value}: {err}");
            assert!(
                err.to_string().contains("azure-asyncoperation header"),
                "{err}"
            );
        }
    }

    /// A compact view of an outcome for table comparisons.
    fn summary(outcome: &PollOutcome) -> String {
        match outcome {
            PollOutcome::Pending { retry_after } => format!("pending {retry_after:?}"),
            PollOutcome::Succeeded => "succeeded".into(),
            PollOutcome::Failed(e) => format!("failed [{}] {e}", e.code().unwrap_or("-")),
            PollOutcome::Canceled(e) => format!("canceled [{}] {e}", e.code().unwrap_or("-")),
        }
    }

    #[test]
    fn poll_outcomes() {
        use Operation::{Delete, Put};
        use PollVia::{AsyncOperation, Location, Resource};
        let failed = json!({"status": "Failed", "error": {"code": "InternalServerError", "message": "boom"}});
        type Case<'a> = (Operation, PollVia, u16, Pairs<'a>, Value, String);
        let cases: Vec<Case> = vec![
            (
                Put,
                AsyncOperation,
                200,
                vec![],
                json!({"status": "InProgress"}),
                "pending 5s".into(),
            ),
            (
                Put,
                AsyncOperation,
                200,
                vec![("retry-after", "2")],
                json!({"status": "Accepted"}),
                "pending 2s".into(),
            ),
            (
                Put,
                AsyncOperation,
                200,
                vec![],
                json!({}),
                "pending 5s".into(),
            ),
            (
                Put,
                AsyncOperation,
                200,
                vec![],
                json!({"status": "Succeeded"}),
                "succeeded".into(),
            ),
            (
                Put,
                AsyncOperation,
                200,
                vec![],
                json!({"status": "succeeded"}),
                "succeeded".into(),
            ),
            (
                Delete,
                AsyncOperation,
                200,
                vec![],
                json!({"status": "SUCCEEDED"}),
                "succeeded".into(),
            ),
            (
                Put,
                AsyncOperation,
                200,
                vec![],
                failed.clone(),
                format!(
                    "failed [InternalServerError] {ID}: long-running operation failed: InternalServerError: boom"
                ),
            ),
            (
                Put,
                AsyncOperation,
                200,
                vec![],
                json!({"status": "failed"}),
                format!(
                    "failed [-] {ID}: long-running operation failed: operation status is failed"
                ),
            ),
            (
                Delete,
                AsyncOperation,
                200,
                vec![],
                json!({"status": "Canceled"}),
                format!(
                    "canceled [-] {ID}: long-running operation was canceled: operation status is Canceled"
                ),
            ),
            (
                Put,
                AsyncOperation,
                404,
                vec![],
                json!({"error": {"code": "NotFound", "message": "no such operation"}}),
                format!("failed [NotFound] GET {ID}: HTTP 404: NotFound: no such operation"),
            ),
            (
                Delete,
                Location,
                202,
                vec![("retry-after", "1")],
                Value::Null,
                "pending 1s".into(),
            ),
            (
                Delete,
                Location,
                200,
                vec![],
                Value::Null,
                "succeeded".into(),
            ),
            (
                Delete,
                Location,
                204,
                vec![],
                Value::Null,
                "succeeded".into(),
            ),
            (
                Put,
                Location,
                200,
                vec![],
                json!({"name": "ip"}),
                "succeeded".into(),
            ),
            (
                Delete,
                Location,
                500,
                vec![],
                json!({"error": {"code": "InternalServerError", "message": "m"}}),
                format!("failed [InternalServerError] GET {ID}: HTTP 500: InternalServerError: m"),
            ),
            (
                Put,
                Resource,
                200,
                vec![],
                json!({"properties": {"provisioningState": "Updating"}}),
                "pending 5s".into(),
            ),
            (
                Put,
                Resource,
                200,
                vec![],
                json!({"properties": {"provisioningState": "Succeeded"}}),
                "succeeded".into(),
            ),
            (
                Put,
                Resource,
                200,
                vec![],
                json!({"properties": {}}),
                "succeeded".into(),
            ),
            (
                Put,
                Resource,
                200,
                vec![],
                json!({"properties": {"provisioningState": "Failed"}}),
                format!(
                    "failed [-] {ID}: long-running operation failed: provisioningState is Failed"
                ),
            ),
            (
                Delete,
                Resource,
                200,
                vec![],
                json!({"properties": {"provisioningState": "Deleting"}}),
                "pending 5s".into(),
            ),
            (
                Delete,
                Resource,
                200,
                vec![],
                json!({"properties": {"provisioningState": "Succeeded"}}),
                "pending 5s".into(),
            ),
            (
                Delete,
                Resource,
                404,
                vec![],
                Value::Null,
                "succeeded".into(),
            ),
        ];
        for (op, via, status, pairs, body, want) in cases {
            let got = summary(&poll(op, via, status, &pairs, body.clone()));
            assert_eq!(got, want, "{op:?} {via:?} {status} {body}");
        }
    }

    #[test]
    fn failed_operation_codes_feed_the_classifier() {
        let outcome = poll(
            Operation::Put,
            PollVia::AsyncOperation,
            200,
            &[],
            json!({"status": "Failed", "error": {"code": "AnotherOperationInProgress", "message": "busy"}}),
        );
        let PollOutcome::Failed(err) = outcome else {
            panic!("a Failed status is a failure");
        };
        assert_eq!(err.disposition(), crate::arm::Disposition::Retry);
    }
}
