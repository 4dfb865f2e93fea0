//! The manifest: the desired state as people write it (YAML, v1), loaded strictly.
//!
//! A manifest is one file or a folder of files merged. Subscriptions are named by alias; resources
//! are grouped by kind under `resources:`, and refer to each other by name, never by ARM ID.
//! This module only parses and checks positions; turning entries into ARM bodies is `expand`'s job.

mod at;
mod error;
mod load;

pub use at::{At, Pos};
pub use error::{ManifestError, ManifestErrors};
pub use load::{load_path, load_str};

use crate::kinds::Resources;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One manifest file as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "azrecon manifest v1")]
pub struct ManifestFile {
    /// The manifest format version. Only `1` exists.
    pub version: At<u32>,
    /// Subscription aliases (for example `network`, `dev`, `prd`) and their subscription IDs.
    #[serde(default)]
    pub subscriptions: BTreeMap<String, At<String>>,
    /// Values used by every entry of this file that does not set its own.
    #[serde(default)]
    pub defaults: Defaults,
    /// Desired resources, grouped by kind. `azrecon kinds` lists the kinds.
    #[serde(default)]
    pub resources: Resources,
}

/// Per-file defaults for an entry's placement.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Defaults {
    pub subscription: Option<At<String>>,
    pub resource_group: Option<At<String>>,
    pub location: Option<At<String>>,
}

/// What azrecon may do to a resource.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Policy {
    /// Create and update it (the default).
    #[default]
    Manage,
    /// Report its drift; never write it.
    Observe,
}

/// One resource entry: where it lives and what it should be. `spec` is the kind's own part.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Entry<S> {
    /// The resource's name in Azure, and how other entries refer to it.
    pub name: At<String>,
    /// Subscription alias; falls back to `defaults.subscription`.
    pub subscription: Option<At<String>>,
    pub resource_group: Option<At<String>>,
    pub location: Option<At<String>>,
    #[serde(default)]
    pub policy: Policy,
    pub spec: S,
    /// Index of the file the entry came from, set after parsing.
    #[serde(skip)]
    #[schemars(skip)]
    pub file: usize,
}

impl<S> Entry<S> {
    /// Records the entry's file and fills what it leaves unset from that file's defaults.
    pub fn settle(&mut self, file: usize, defaults: &Defaults) {
        self.file = file;
        fill(&mut self.subscription, &defaults.subscription);
        fill(&mut self.resource_group, &defaults.resource_group);
        fill(&mut self.location, &defaults.location);
    }
}

fn fill(slot: &mut Option<At<String>>, default: &Option<At<String>>) {
    if slot.is_none() {
        slot.clone_from(default);
    }
}

/// A whole manifest: every file's content merged, with the files kept for error positions.
#[derive(Debug, Default)]
pub struct Manifest {
    pub files: Vec<String>,
    pub subscriptions: BTreeMap<String, (usize, At<String>)>,
    pub resources: Resources,
}

/// The JSON Schema of a manifest file, for editors (yaml-language-server) and docs.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ManifestFile)).expect("a schema is plain JSON")
}
