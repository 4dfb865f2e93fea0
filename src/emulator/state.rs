//! The emulator's mutable state (store, running operations, settings) and the operations on it
//! that more than one entry point shares: the GET view of a resource, raw injection, finishing a
//! long-running write and deleting with children.

use serde_json::{Value, json};

use super::arm_id::ArmId;
use super::directory::Directory;
use super::lro::{OperationKind, Operations, Outcome};
use super::store::{Store, doc_id};
use super::types::{kind_for, update_stored};
use super::vault::Certificates;

/// Fixed for the emulator's lifetime.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub lro_polls: u32,
    pub retry_after_secs: u32,
    /// Where ARM is served, for the operation URLs in response headers.
    pub base_url: String,
}

#[derive(Debug)]
pub(crate) struct EmulatorState {
    pub store: Store,
    pub operations: Operations,
    pub settings: Settings,
    pub directory: Directory,
    /// The Key Vault data plane's certificates.
    pub certificates: Certificates,
}

impl EmulatorState {
    /// The resource as GET returns it: the stored document plus its kind's composed fields.
    pub fn view(&self, id: &ArmId) -> Option<Value> {
        let mut doc = self.store.get(id)?.clone();
        kind_for(id).compose(&self.store, id, &mut doc);
        Some(doc)
    }

    /// A read of the resource: its running operations advance (ending those that are due),
    /// then the GET view. Says too whether an operation ended, changing the store.
    pub fn read(&mut self, id: &ArmId) -> (Option<Value>, bool) {
        let ended = self.operations.advance(id);
        for (kind, outcome) in &ended {
            self.complete(id, *kind, outcome);
        }
        (self.view(id), !ended.is_empty())
    }

    /// Stores a document verbatim (nested children split out as their kind says).
    pub fn put_raw(&mut self, id: &ArmId, mut doc: Value) {
        let children = kind_for(id).split_children(&mut doc);
        self.store.insert(id, doc);
        for child in children {
            if let Some(child_id) = doc_id(&child) {
                self.store.insert(&child_id, child);
            }
        }
    }

    /// Removes a resource and its children without any of ARM's side effects.
    pub fn remove_raw(&mut self, id: &ArmId) {
        for child in self.store.descendants(id) {
            self.store.remove(&child);
        }
        self.store.remove(id);
    }

    /// Applies the effect of an ended long-running write. A write that failed or was canceled
    /// leaves the resource `Failed` (Microsoft.Network's provisioning states have no
    /// `Canceled`); a failed delete keeps the resource.
    pub fn complete(&mut self, id: &ArmId, kind: OperationKind, outcome: &Outcome) {
        let state = match (kind, outcome) {
            (OperationKind::Delete, Outcome::Succeeded) => return self.delete_now(id),
            (OperationKind::Put, Outcome::Succeeded) => "Succeeded",
            (_, Outcome::Failed(_) | Outcome::Canceled(_)) => "Failed",
        };
        update_stored(&mut self.store, id, |doc| {
            if let Some(props) = doc.get_mut("properties").and_then(Value::as_object_mut) {
                props.insert("provisioningState".into(), json!(state));
            }
        });
    }

    /// Deletes a resource and its children, each with its kind's effects on other resources.
    pub fn delete_now(&mut self, id: &ArmId) {
        for child in self.store.descendants(id).into_iter().chain([id.clone()]) {
            if let Some(doc) = self.store.remove(&child) {
                kind_for(&child).after_delete(&mut self.store, &doc);
            }
        }
    }

    /// Ends the running operations on a resource before a new write on it; running PUTs are
    /// left alone when `keep_puts` is set (the new write cancels them instead).
    pub fn settle(&mut self, id: &ArmId, keep_puts: bool) {
        for (kind, outcome) in self.operations.finish_pending(id, !keep_puts) {
            self.complete(id, kind, &outcome);
        }
    }

    /// Documents loaded from a state file may have been saved mid-operation: those operations
    /// are taken as finished.
    pub fn settle_loaded(&mut self) {
        let unsettled: Vec<(ArmId, OperationKind)> = self
            .store
            .documents()
            .filter_map(|doc| {
                let state = doc.get("properties")?.get("provisioningState")?.as_str()?;
                let kind = match state {
                    "Updating" | "Creating" => OperationKind::Put,
                    "Deleting" => OperationKind::Delete,
                    _ => return None,
                };
                Some((doc_id(doc)?, kind))
            })
            .collect();
        for (id, kind) in unsettled {
            self.complete(&id, kind, &Outcome::Succeeded);
        }
    }
}
