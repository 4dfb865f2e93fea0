//! The resource store: ARM documents keyed by lower-cased resource ID, kept in ID order, plus
//! loading seed documents and saving/loading the state file (written atomically).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::EmulatorError;
use super::arm_id::ArmId;

/// ARM documents exactly as stored; what GET adds on top (back-references) is composed on read.
#[derive(Debug, Default, Clone)]
pub(crate) struct Store {
    docs: BTreeMap<String, Value>,
}

impl Store {
    pub fn get(&self, id: &ArmId) -> Option<&Value> {
        self.docs.get(&id.key())
    }

    pub fn get_mut(&mut self, id: &ArmId) -> Option<&mut Value> {
        self.docs.get_mut(&id.key())
    }

    /// Looks a resource up by an ID string taken from a document (any casing).
    pub fn get_str(&self, id: &str) -> Option<&Value> {
        self.docs
            .get(&id.trim_end_matches('/').to_ascii_lowercase())
    }

    pub fn insert(&mut self, id: &ArmId, doc: Value) {
        self.docs.insert(id.key(), doc);
    }

    pub fn remove(&mut self, id: &ArmId) -> Option<Value> {
        self.docs.remove(&id.key())
    }

    /// The direct children of `parent` of one type, in ID order.
    pub fn children(&self, parent: &ArmId, type_segment: &str) -> Vec<&Value> {
        let prefix = format!("{}/{}/", parent.key(), type_segment.to_ascii_lowercase());
        self.docs
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains('/'))
            .map(|(_, v)| v)
            .collect()
    }

    /// IDs (as stored in the documents) of every resource nested below `id`, deepest first.
    pub fn descendants(&self, id: &ArmId) -> Vec<ArmId> {
        let prefix = format!("{}/", id.key());
        let mut out: Vec<ArmId> = self
            .docs
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(_, v)| doc_id(v))
            .collect();
        out.sort_by_key(|id| std::cmp::Reverse(id.segments.len()));
        out
    }

    /// Documents of one resource type (namespace/type path, any casing).
    pub fn of_type<'a>(&'a self, type_path: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.docs.values().filter(move |doc| {
            doc_id(doc).is_some_and(|id| id.type_path().eq_ignore_ascii_case(type_path))
        })
    }

    pub fn documents(&self) -> impl Iterator<Item = &Value> {
        self.docs.values()
    }

    /// Stores documents that carry their own `id`, as they would come back from GET.
    pub fn load(&mut self, docs: Vec<Value>, source: &Path) -> Result<(), EmulatorError> {
        for doc in docs {
            let id = doc_id(&doc).ok_or_else(|| EmulatorError::Seed {
                path: source.to_path_buf(),
                reason: "a document has no valid ARM resource `id`".into(),
            })?;
            self.insert(&id, doc);
        }
        Ok(())
    }
}

/// The parsed `id` of a document.
pub(crate) fn doc_id(doc: &Value) -> Option<ArmId> {
    doc.get("id").and_then(Value::as_str).and_then(ArmId::parse)
}

/// Reads a file holding one ARM document or a JSON array of them.
pub(crate) fn read_documents(path: &Path) -> Result<Vec<Value>, EmulatorError> {
    let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| EmulatorError::Seed {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(match value {
        Value::Array(docs) => docs,
        doc => vec![doc],
    })
}

/// Every `*.json` file directly in `dir`, sorted by name so seeding is deterministic.
pub(crate) fn seed_files(dir: &Path) -> Result<Vec<PathBuf>, EmulatorError> {
    let io_err = |source| EmulatorError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Writes the whole store as a JSON array next to `path`, then renames it into place, so a
/// reader never sees a half-written file.
pub(crate) fn save_state(store: &Store, path: &Path) -> io::Result<()> {
    let docs: Vec<&Value> = store.documents().collect();
    let text = serde_json::to_vec_pretty(&docs).map_err(io::Error::other)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(s: &str) -> ArmId {
        ArmId::parse(s).unwrap()
    }

    #[test]
    fn children_are_direct_and_case_insensitive() {
        let vnet =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/V1";
        let mut store = Store::default();
        for p in ["a", "b"] {
            let pid = format!("{vnet}/virtualNetworkPeerings/{p}");
            store.insert(&id(&pid), json!({ "id": pid }));
        }
        let other = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v10/virtualNetworkPeerings/c";
        store.insert(&id(other), json!({ "id": other }));
        let lower = id(&vnet.to_ascii_lowercase());
        assert_eq!(store.children(&lower, "VIRTUALNETWORKPEERINGS").len(), 2);
        assert_eq!(store.descendants(&lower).len(), 2);
    }
}
