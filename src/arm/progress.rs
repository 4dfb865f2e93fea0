//! What the client tells its caller about long-running operations while it waits on them: an
//! event when one starts, after every poll (with the status ARM reported) and when it ends. The
//! library only calls the caller's sink; how progress is shown is the caller's business.

use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One step of a long-running operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LroEvent {
    /// `PUT` or `DELETE`.
    pub method: &'static str,
    pub resource_id: String,
    /// Time since the operation's first poll was scheduled.
    pub elapsed: Duration,
    pub state: LroState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LroState {
    Started,
    /// Still running; `status` is what ARM last said (`InProgress`, `Updating`, ...).
    Running {
        status: Option<String>,
    },
    Finished {
        succeeded: bool,
    },
}

/// Where the client sends [`LroEvent`]s. Called on the polling task: it must not block.
#[derive(Clone)]
pub struct ProgressSink(Arc<dyn Fn(&LroEvent) + Send + Sync>);

impl ProgressSink {
    pub fn new(sink: impl Fn(&LroEvent) + Send + Sync + 'static) -> Self {
        ProgressSink(Arc::new(sink))
    }

    pub(crate) fn send(&self, event: &LroEvent) {
        (self.0)(event);
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressSink")
    }
}

/// The status a poll response reports: an operation resource's `status`, or the resource's
/// own `properties.provisioningState` when the poll reads the resource (a `Location` poll).
pub fn reported_status(body: &Value) -> Option<String> {
    body.get("status")
        .or_else(|| body.pointer("/properties/provisioningState"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_comes_from_the_operation_or_the_resource() {
        let cases = [
            (json!({"status": "InProgress"}), Some("InProgress")),
            (
                json!({"properties": {"provisioningState": "Updating"}}),
                Some("Updating"),
            ),
            (
                json!({"status": "Deleting", "properties": {"provisioningState": "Updating"}}),
                Some("Deleting"),
            ),
            (json!(null), None),
            (json!({"status": 3}), None),
        ];
        for (body, want) in cases {
            assert_eq!(reported_status(&body).as_deref(), want, "{body}");
        }
    }
}
