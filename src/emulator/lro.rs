//! Long-running operations: each one answers `InProgress` a configured number of polls, then
//! ends once with its planned outcome (usually success; a fault can plan `Failed` or `Canceled`,
//! and a superseding write cancels it); the caller applies the ended operation's effect. Reads
//! of the resource count as polls: ARM finishes an operation whether or not its client is still
//! there to poll it (a client killed mid-operation, someone else's write).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::arm_id::ArmId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OperationKind {
    Put,
    Delete,
}

/// How an operation ends; the error is the status body's `error` object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Succeeded,
    Failed(Value),
    Canceled(Value),
}

impl Outcome {
    /// The operation status body (`Azure-AsyncOperation` URL) of an ended operation.
    pub fn status_body(&self) -> Value {
        match self {
            Outcome::Succeeded => json!({ "status": "Succeeded" }),
            Outcome::Failed(error) => json!({ "status": "Failed", "error": error }),
            Outcome::Canceled(error) => json!({ "status": "Canceled", "error": error }),
        }
    }
}

#[derive(Debug)]
struct Operation {
    resource: ArmId,
    kind: OperationKind,
    polls_left: u32,
    outcome: Outcome,
    ended: bool,
}

/// Where an operation stands after a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollState {
    InProgress,
    /// This poll ended the operation: its effect is now due.
    JustEnded,
    /// Ended by an earlier poll or write.
    Ended,
}

/// What one poll of an operation found, and which resource and write it is about.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Poll {
    pub state: PollState,
    pub resource: ArmId,
    pub kind: OperationKind,
    pub outcome: Outcome,
}

#[derive(Debug, Default)]
pub(crate) struct Operations {
    operations: HashMap<String, Operation>,
}

impl Operations {
    /// Starts an operation that reports `InProgress` for `polls` polls and then ends with
    /// `outcome`; returns its id.
    pub fn start(
        &mut self,
        resource: ArmId,
        kind: OperationKind,
        polls: u32,
        outcome: Outcome,
    ) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.operations.insert(
            id.clone(),
            Operation {
                resource,
                kind,
                polls_left: polls,
                outcome,
                ended: false,
            },
        );
        id
    }

    /// One poll; `None` for an unknown operation id.
    pub fn poll(&mut self, id: &str) -> Option<Poll> {
        let op = self.operations.get_mut(id)?;
        let state = if op.ended {
            PollState::Ended
        } else if op.polls_left > 0 {
            op.polls_left -= 1;
            PollState::InProgress
        } else {
            op.ended = true;
            PollState::JustEnded
        };
        Some(Poll {
            state,
            resource: op.resource.clone(),
            kind: op.kind,
            outcome: op.outcome.clone(),
        })
    }

    /// Time passing for the running operations on `resource`, as a read of it sees it: each
    /// advances as one poll would. Returns those that ended, for their effects.
    pub fn advance(&mut self, resource: &ArmId) -> Vec<(OperationKind, Outcome)> {
        let key = resource.key();
        let ids: Vec<String> = self
            .operations
            .iter()
            .filter(|(_, op)| !op.ended && op.resource.key() == key)
            .map(|(id, _)| id.clone())
            .collect();
        ids.iter()
            .filter_map(|id| self.poll(id))
            .filter(|poll| poll.state == PollState::JustEnded)
            .map(|poll| (poll.kind, poll.outcome))
            .collect()
    }

    /// Ends the running operations on `resource` at once with their planned outcomes (a new
    /// write on a resource means the earlier operation has run its course), running PUTs only
    /// when `puts` is set, and returns them for their effects.
    pub fn finish_pending(
        &mut self,
        resource: &ArmId,
        puts: bool,
    ) -> Vec<(OperationKind, Outcome)> {
        let key = resource.key();
        self.operations
            .values_mut()
            .filter(|op| !op.ended && op.resource.key() == key)
            .filter(|op| puts || op.kind != OperationKind::Put)
            .map(|op| {
                op.ended = true;
                (op.kind, op.outcome.clone())
            })
            .collect()
    }

    /// Cancels the running PUTs on `resource` other than the operation `by` that supersedes
    /// them; they end `Canceled` with `error(canceled, by)` and no effect of their own (the
    /// superseding write's state stands).
    pub fn supersede_puts(
        &mut self,
        resource: &ArmId,
        by: &str,
        error: impl Fn(&str, &str) -> Value,
    ) {
        let key = resource.key();
        for (id, op) in &mut self.operations {
            if id != by && !op.ended && op.kind == OperationKind::Put && op.resource.key() == key {
                op.ended = true;
                op.outcome = Outcome::Canceled(error(id, by));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource() -> ArmId {
        ArmId::parse("/subscriptions/s/resourceGroups/r/providers/N/t/x").unwrap()
    }

    #[test]
    fn reports_in_progress_then_ends_once() {
        let id = resource();
        let mut ops = Operations::default();
        let op = ops.start(id.clone(), OperationKind::Put, 2, Outcome::Succeeded);
        let state = |ops: &mut Operations| ops.poll(&op).map(|p| p.state);
        assert_eq!(state(&mut ops), Some(PollState::InProgress));
        assert_eq!(state(&mut ops), Some(PollState::InProgress));
        assert_eq!(state(&mut ops), Some(PollState::JustEnded));
        assert_eq!(state(&mut ops), Some(PollState::Ended));
        assert_eq!(ops.poll("nope"), None);
        assert!(ops.finish_pending(&id, true).is_empty());
    }

    #[test]
    fn reads_of_the_resource_advance_its_operations() {
        let id = resource();
        let mut ops = Operations::default();
        let op = ops.start(id.clone(), OperationKind::Put, 1, Outcome::Succeeded);
        assert!(ops.advance(&id).is_empty(), "one read: still running");
        assert_eq!(
            ops.advance(&id),
            [(OperationKind::Put, Outcome::Succeeded)],
            "the second read sees it end"
        );
        assert_eq!(ops.poll(&op).unwrap().state, PollState::Ended);
        assert!(ops.advance(&id).is_empty());
    }

    #[test]
    fn a_superseded_put_ends_canceled_without_effect() {
        let id = resource();
        let mut ops = Operations::default();
        let first = ops.start(id.clone(), OperationKind::Put, 2, Outcome::Succeeded);
        let second = ops.start(id.clone(), OperationKind::Put, 2, Outcome::Succeeded);
        ops.supersede_puts(&id, &second, |op, by| json!({ "canceled": op, "by": by }));
        let poll = ops.poll(&first).unwrap();
        assert_eq!(poll.state, PollState::Ended);
        assert_eq!(
            poll.outcome,
            Outcome::Canceled(json!({ "canceled": first, "by": second }))
        );
        assert_eq!(ops.poll(&second).unwrap().state, PollState::InProgress);
    }
}
