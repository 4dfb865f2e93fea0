//! Errors of the ARM client, and the one classifier that decides whether an ARM error is worth
//! retrying. Every caller asks [`classify`] (directly or through [`ArmError::disposition`]); no
//! other code keeps its own list of ARM error codes.
//!
//! Invariant: the `Display` of an error carries the resource ID, HTTP status, ARM error code and
//! message, never a token, a request body or a credential secret.

use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// What a caller should do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The condition is expected to clear by itself: try the operation again later.
    Retry,
    /// Trying again will not help: report the error.
    Final,
}

/// ARM error codes that describe a transient condition, and why waiting helps.
const RETRYABLE_CODES: &[(&str, &str)] = &[
    (
        "AnotherOperationInProgress",
        "an operation on the resource or its parent is running and will finish",
    ),
    (
        "RetryableError",
        "the resource provider itself marks the failure as transient",
    ),
    (
        "RetryableErrorDueToAnotherOperation",
        "a concurrent operation on the same resource will finish",
    ),
    (
        "ConflictingConcurrentWriteNotAllowed",
        "a concurrent write to the same resource will finish",
    ),
    (
        "ReferencedResourceNotProvisioned",
        "a referenced resource is still provisioning",
    ),
    (
        "PrincipalNotFound",
        "a new managed identity has not replicated to Entra ID yet",
    ),
    (
        "FailedIdentityOperation",
        "identity changes on the resource are still propagating",
    ),
    ("InternalServerError", "a server-side fault"),
    ("ServerTimeout", "a server-side timeout"),
    ("GatewayTimeout", "a server-side timeout"),
    (
        "ServiceUnavailable",
        "the service is temporarily unavailable",
    ),
    ("TooManyRequests", "throttling clears with time"),
];

/// HTTP statuses that are transient whatever the error code says.
pub(crate) const RETRYABLE_STATUSES: &[u16] = &[408, 429, 500, 502, 503, 504];

/// Why an ARM error code is transient, if it is one (for logs of retries).
pub fn retry_reason(code: &str) -> Option<&'static str> {
    RETRYABLE_CODES
        .iter()
        .find(|(retryable, _)| retryable.eq_ignore_ascii_case(code))
        .map(|(_, why)| *why)
}

/// Classifies an ARM error by its HTTP status (absent for a failed long-running operation, whose
/// failure arrives in a 200 status body) and its ARM error code (compared case-insensitively).
pub fn classify(status: Option<u16>, code: &str) -> Disposition {
    let transient_status = status.is_some_and(|s| RETRYABLE_STATUSES.contains(&s));
    if transient_status || retry_reason(code).is_some() {
        Disposition::Retry
    } else {
        Disposition::Final
    }
}

/// Classifies a whole ARM error object: transient when its status or any of its codes, top-level
/// or in `details`, is. ARM wraps specific conditions in generic codes (a 429 `RetryableError`
/// whose detail is `RetryableErrorDueToAnotherOperation`), so the details count too.
pub fn classify_error(status: Option<u16>, error: &ErrorBody) -> Disposition {
    let transient_code = error.codes().any(|code| retry_reason(code).is_some());
    if transient_code {
        Disposition::Retry
    } else {
        classify(status, &error.code)
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Disposition::Retry => "retryable",
            Disposition::Final => "final",
        })
    }
}

/// The `error` object of an ARM error response or of a failed operation's status body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub details: Vec<ErrorBody>,
}

/// How much of a non-JSON error body is kept as the message.
const MAX_TEXT_MESSAGE: usize = 300;

impl ErrorBody {
    /// Reads `{"error":{"code","message","details"}}`, or a bare `{"code","message"}` as some
    /// resource providers send. A body that is not JSON (a gateway's HTML page, say) arrives as
    /// a JSON string and becomes the message, shortened.
    pub fn from_body(body: &Value) -> ErrorBody {
        match body {
            Value::Object(map) => {
                let inner = map.get("error").unwrap_or(body);
                Self::from_object(inner)
            }
            Value::String(text) => ErrorBody {
                message: text.chars().take(MAX_TEXT_MESSAGE).collect(),
                ..ErrorBody::default()
            },
            _ => ErrorBody::default(),
        }
    }

    /// Its code and the codes of its details, depth first.
    pub fn codes(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        Box::new(
            std::iter::once(self.code.as_str())
                .filter(|c| !c.is_empty())
                .chain(self.details.iter().flat_map(ErrorBody::codes)),
        )
    }

    fn from_object(value: &Value) -> ErrorBody {
        let text = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let details = value
            .get("details")
            .and_then(Value::as_array)
            .map(|items| items.iter().map(Self::from_object).collect())
            .unwrap_or_default();
        ErrorBody {
            code: text("code"),
            message: text("message"),
            details,
        }
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code.is_empty(), self.message.is_empty()) {
            (false, false) => write!(f, "{}: {}", self.code, self.message)?,
            (false, true) => f.write_str(&self.code)?,
            (true, false) => f.write_str(&self.message)?,
            (true, true) => f.write_str("no error details")?,
        }
        if !self.details.is_empty() {
            f.write_str(" (")?;
            for (i, detail) in self.details.iter().enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                write!(f, "{detail}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// How a long-running operation ended without success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationEnd {
    Failed,
    Canceled,
}

impl fmt::Display for OperationEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OperationEnd::Failed => "failed",
            OperationEnd::Canceled => "was canceled",
        })
    }
}

/// An error of the ARM client. Each variant that concerns a resource carries its ID.
#[derive(Debug, thiserror::Error)]
pub enum ArmError {
    /// ARM answered with an error status.
    #[error("{method} {resource_id}: HTTP {status}: {error}")]
    Api {
        method: &'static str,
        resource_id: String,
        status: u16,
        // Boxed: errors travel in every `Result` of the client and should stay small.
        error: Box<ErrorBody>,
        /// The wait the answer asked for (`Retry-After` and its millisecond variants).
        retry_after: Option<Duration>,
    },
    /// A long-running operation ended Failed or Canceled.
    #[error("{resource_id}: long-running operation {end}: {error}")]
    Operation {
        resource_id: String,
        end: OperationEnd,
        error: ErrorBody,
    },
    /// A long-running operation was still running when the client stopped waiting.
    #[error("{resource_id}: long-running operation still running after {waited:?}")]
    LroTimeout {
        resource_id: String,
        waited: Duration,
    },
    /// An operation on the resource was still running when the client stopped waiting for it
    /// to settle before planning a write.
    #[error(
        "{resource_id}: still {state} after {waited:?}: another operation on it has not finished"
    )]
    StillRunning {
        resource_id: String,
        state: String,
        waited: Duration,
    },
    /// The request did not get an HTTP response (connection, TLS, I/O), even after the
    /// pipeline's retries.
    #[error("{resource_id}: request failed: {source}")]
    Transport {
        resource_id: String,
        #[source]
        source: azure_core::Error,
    },
    /// No access token could be obtained for the request.
    #[error("{resource_id}: could not obtain an access token: {source}")]
    Auth {
        resource_id: String,
        #[source]
        source: azure_core::Error,
    },
    /// ARM answered, but not in a way the ARM contract allows.
    #[error("{resource_id}: unexpected response (HTTP {status}): {reason}")]
    Protocol {
        resource_id: String,
        status: u16,
        reason: String,
    },
    /// A credential could not be built (missing environment variables, bad tenant ID, ...).
    #[error("cannot set up the {mode} credential: {source}")]
    Credential {
        mode: &'static str,
        #[source]
        source: azure_core::Error,
    },
    /// The client options are unusable.
    #[error("invalid ARM client configuration: {0}")]
    Config(String),
}

impl ArmError {
    /// Whether another writer got there first: a PUT refused by its `If-Match` (412), or a
    /// long-running operation canceled because a later one on the same resource replaced it.
    /// The body that was sent is stale; the caller must read again and plan again.
    pub fn superseded(&self) -> bool {
        matches!(self, ArmError::Api { status: 412, .. })
            || matches!(
                self,
                ArmError::Operation {
                    end: OperationEnd::Canceled,
                    ..
                }
            )
    }

    /// Whether retrying the operation may help, by the one classifier.
    pub fn disposition(&self) -> Disposition {
        match self {
            ArmError::Api { status, error, .. } => classify_error(Some(*status), error),
            ArmError::Operation { error, .. } => classify_error(None, error),
            ArmError::Transport { source, .. } => match source.kind() {
                azure_core::error::ErrorKind::Io | azure_core::error::ErrorKind::Connection => {
                    Disposition::Retry
                }
                _ => Disposition::Final,
            },
            ArmError::LroTimeout { .. }
            | ArmError::StillRunning { .. }
            | ArmError::Auth { .. }
            | ArmError::Protocol { .. }
            | ArmError::Credential { .. }
            | ArmError::Config(_) => Disposition::Final,
        }
    }

    /// The resource the failed call was about, when there was one.
    pub fn resource_id(&self) -> Option<&str> {
        match self {
            ArmError::Api { resource_id, .. }
            | ArmError::Operation { resource_id, .. }
            | ArmError::LroTimeout { resource_id, .. }
            | ArmError::StillRunning { resource_id, .. }
            | ArmError::Transport { resource_id, .. }
            | ArmError::Auth { resource_id, .. }
            | ArmError::Protocol { resource_id, .. } => Some(resource_id),
            ArmError::Credential { .. } | ArmError::Config(_) => None,
        }
    }

    /// The HTTP status ARM answered with, when the error came from an error response.
    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Api { status, .. } | ArmError::Protocol { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The wait ARM asked for before trying again, when it asked.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ArmError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The ARM error code, when ARM gave one.
    pub fn code(&self) -> Option<&str> {
        let error: &ErrorBody = match self {
            ArmError::Api { error, .. } => error,
            ArmError::Operation { error, .. } => error,
            _ => return None,
        };
        (!error.code.is_empty()).then_some(error.code.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classify_table() {
        use Disposition::{Final, Retry};
        let cases: &[(Option<u16>, &str, Disposition)] = &[
            (Some(409), "AnotherOperationInProgress", Retry),
            (None, "AnotherOperationInProgress", Retry),
            (Some(409), "anotheroperationinprogress", Retry),
            (Some(400), "RetryableError", Retry),
            (Some(409), "RetryableErrorDueToAnotherOperation", Retry),
            (Some(409), "ConflictingConcurrentWriteNotAllowed", Retry),
            (Some(400), "ReferencedResourceNotProvisioned", Retry),
            (Some(400), "PrincipalNotFound", Retry),
            (Some(400), "FailedIdentityOperation", Retry),
            (None, "InternalServerError", Retry),
            (None, "TooManyRequests", Retry),
            (Some(429), "", Retry),
            (Some(408), "SomethingUnknown", Retry),
            (Some(500), "", Retry),
            (Some(502), "", Retry),
            (Some(503), "", Retry),
            (Some(504), "", Retry),
            (Some(400), "InvalidParameter", Final),
            (Some(400), "InvalidRequestFormat", Final),
            (Some(403), "AuthorizationFailed", Final),
            (Some(401), "InvalidAuthenticationToken", Final),
            (Some(404), "ResourceNotFound", Final),
            (Some(409), "Conflict", Final),
            (Some(412), "PreconditionFailed", Final),
            (None, "", Final),
            (
                None,
                "ApplicationGatewaySubnetCannotBeUsedByOtherResources",
                Final,
            ),
        ];
        for (status, code, want) in cases {
            assert_eq!(classify(*status, code), *want, "{status:?} {code:?}");
        }
    }

    #[test]
    fn details_count_in_the_classification() {
        let another_operation = ErrorBody::from_body(&json!({"error": {
            "code": "RetryableError",
            "message": "A retryable error occurred.",
            "details": [{"code": "RetryableErrorDueToAnotherOperation",
                "message": "Operation PutVirtualNetworkOperation (x) was canceled."}]}}));
        assert_eq!(
            another_operation.codes().collect::<Vec<_>>(),
            ["RetryableError", "RetryableErrorDueToAnotherOperation"]
        );
        assert_eq!(classify_error(None, &another_operation), Disposition::Retry);
        let wrapped = ErrorBody::from_body(&json!({"error": {
            "code": "BadRequest", "message": "m",
            "details": [{"code": "ReferencedResourceNotProvisioned", "message": "subnet"}]}}));
        assert_eq!(classify_error(Some(400), &wrapped), Disposition::Retry);
        let invalid = ErrorBody::from_body(&json!({"error": {
            "code": "BadRequest", "message": "m",
            "details": [{"code": "InvalidParameter", "message": "x"}]}}));
        assert_eq!(classify_error(Some(400), &invalid), Disposition::Final);
        assert_eq!(Disposition::Retry.to_string(), "retryable");
        assert_eq!(Disposition::Final.to_string(), "final");
    }

    #[test]
    fn error_body_shapes() {
        let cases = [
            (
                json!({"error": {"code": "InvalidParameter", "message": "bad sku",
                    "details": [{"code": "Inner", "message": "why"}]}}),
                ErrorBody {
                    code: "InvalidParameter".into(),
                    message: "bad sku".into(),
                    details: vec![ErrorBody {
                        code: "Inner".into(),
                        message: "why".into(),
                        details: vec![],
                    }],
                },
            ),
            (
                json!({"status": "Failed", "error": {"code": "RetryableError", "message": "m"}}),
                ErrorBody {
                    code: "RetryableError".into(),
                    message: "m".into(),
                    details: vec![],
                },
            ),
            (
                json!({"code": "BadRequest", "message": "flat"}),
                ErrorBody {
                    code: "BadRequest".into(),
                    message: "flat".into(),
                    details: vec![],
                },
            ),
            (
                json!("<html>bad gateway</html>"),
                ErrorBody {
                    message: "<html>bad gateway</html>".into(),
                    ..ErrorBody::default()
                },
            ),
            (Value::Null, ErrorBody::default()),
        ];
        for (body, want) in cases {
            assert_eq!(ErrorBody::from_body(&body), want, "{body}");
        }
    }

    #[test]
    fn long_text_bodies_are_shortened() {
        let body = Value::String("x".repeat(10_000));
        assert_eq!(ErrorBody::from_body(&body).message.len(), MAX_TEXT_MESSAGE);
    }

    #[test]
    fn display_names_resource_status_code_and_message() {
        let err = ArmError::Api {
            method: "PUT",
            resource_id: "/subscriptions/s/resourceGroups/rg".into(),
            status: 400,
            error: Box::new(ErrorBody::from_body(
                &json!({"error": {"code": "InvalidParameter",
                "message": "bad", "details": [{"code": "A", "message": "b"}]}}),
            )),
            retry_after: None,
        };
        assert_eq!(
            err.to_string(),
            "PUT /subscriptions/s/resourceGroups/rg: HTTP 400: InvalidParameter: bad (A: b)"
        );
        assert_eq!(err.code(), Some("InvalidParameter"));
        assert_eq!(err.status(), Some(400));
        assert_eq!(err.disposition(), Disposition::Final);

        let failed = ArmError::Operation {
            resource_id: "/x".into(),
            end: OperationEnd::Failed,
            error: ErrorBody::from_body(
                &json!({"error": {"code": "RetryableError", "message": "m"}}),
            ),
        };
        assert_eq!(
            failed.to_string(),
            "/x: long-running operation failed: RetryableError: m"
        );
        assert_eq!(failed.disposition(), Disposition::Retry);
    }
}
