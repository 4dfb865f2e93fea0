//! The Entra ID directory as role assignments see it: a principal exists when a stored managed
//! identity carries it as its `principalId`. A just-created identity takes a while to replicate
//! to Entra ID, so its first lookups can miss; `replication_misses` says how many, for tests
//! that prove `PrincipalNotFound` is retried.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value;

use super::store::Store;

const IDENTITIES: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

#[derive(Debug, Default)]
pub(crate) struct Directory {
    /// How many lookups of each principal miss before it is found.
    pub replication_misses: u32,
    /// Lookups so far, by lower-cased principal ID. A cell, because a lookup happens while a
    /// PUT only reads the rest of the state.
    lookups: RefCell<HashMap<String, u32>>,
}

impl Directory {
    /// Whether the directory finds `principal_id` now.
    pub fn finds(&self, store: &Store, principal_id: &str) -> bool {
        let exists = store.of_type(IDENTITIES).any(|doc| {
            doc.get("properties")
                .and_then(|p| p.get("principalId"))
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case(principal_id))
        });
        if !exists {
            return false;
        }
        let mut lookups = self.lookups.borrow_mut();
        let seen = lookups
            .entry(principal_id.to_ascii_lowercase())
            .or_default();
        *seen += 1;
        *seen > self.replication_misses
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::arm_id::ArmId;
    use serde_json::json;

    #[test]
    fn a_new_principal_is_missed_while_it_replicates() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";
        let mut store = Store::default();
        store.insert(
            &ArmId::parse(id).unwrap(),
            json!({ "id": id, "properties": { "principalId": "P1" } }),
        );
        let directory = Directory {
            replication_misses: 2,
            ..Directory::default()
        };
        assert!(!directory.finds(&store, "p1"));
        assert!(!directory.finds(&store, "p1"));
        assert!(directory.finds(&store, "p1"));
        assert!(!directory.finds(&store, "unknown"));
    }
}
