//! Long-running operations: each one answers `InProgress` a configured number of polls, then
//! finishes once; the caller applies the finished operation's effect to the store.

use std::collections::HashMap;

use super::arm_id::ArmId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OperationKind {
    Put,
    Delete,
}

#[derive(Debug)]
struct Operation {
    resource: ArmId,
    kind: OperationKind,
    polls_left: u32,
    finished: bool,
}

/// Where an operation stands after a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollState {
    InProgress,
    /// This poll finished the operation: its effect is now due.
    JustFinished,
    /// Finished by an earlier poll or write.
    Finished,
}

/// What one poll of an operation found, and which resource and write it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Poll {
    pub state: PollState,
    pub resource: ArmId,
    pub kind: OperationKind,
}

#[derive(Debug, Default)]
pub(crate) struct Operations {
    operations: HashMap<String, Operation>,
}

impl Operations {
    /// Starts an operation that reports `InProgress` for `polls` polls; returns its id.
    pub fn start(&mut self, resource: ArmId, kind: OperationKind, polls: u32) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.operations.insert(
            id.clone(),
            Operation {
                resource,
                kind,
                polls_left: polls,
                finished: false,
            },
        );
        id
    }

    /// One poll; `None` for an unknown operation id.
    pub fn poll(&mut self, id: &str) -> Option<Poll> {
        let op = self.operations.get_mut(id)?;
        let state = if op.finished {
            PollState::Finished
        } else if op.polls_left > 0 {
            op.polls_left -= 1;
            PollState::InProgress
        } else {
            op.finished = true;
            PollState::JustFinished
        };
        Some(Poll {
            state,
            resource: op.resource.clone(),
            kind: op.kind,
        })
    }

    /// Finishes the unfinished operations on `resource` at once (a new write on a resource
    /// means the earlier operation has run its course) and returns them for their effects.
    pub fn finish_pending(&mut self, resource: &ArmId) -> Vec<OperationKind> {
        let key = resource.key();
        self.operations
            .values_mut()
            .filter(|op| !op.finished && op.resource.key() == key)
            .map(|op| {
                op.finished = true;
                op.kind
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_in_progress_then_finishes_once() {
        let id = ArmId::parse("/subscriptions/s/resourceGroups/r/providers/N/t/x").unwrap();
        let mut ops = Operations::default();
        let op = ops.start(id.clone(), OperationKind::Put, 2);
        let state = |ops: &mut Operations| ops.poll(&op).map(|p| p.state);
        assert_eq!(state(&mut ops), Some(PollState::InProgress));
        assert_eq!(state(&mut ops), Some(PollState::InProgress));
        assert_eq!(state(&mut ops), Some(PollState::JustFinished));
        assert_eq!(state(&mut ops), Some(PollState::Finished));
        assert_eq!(ops.poll("nope"), None);
        assert!(ops.finish_pending(&id).is_empty());
    }
}
