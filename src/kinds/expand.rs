//! Expansion: from a loaded manifest to the desired ARM resources, checking every reference.
//!
//! Pure: no I/O. Every problem found becomes a `ManifestError` with its file and position, and
//! all of them are reported together.

use super::{ArmKind, Kind};
use crate::manifest::{At, Entry, Manifest, ManifestError, ManifestErrors, Policy, Pos};
use serde_json::Value;
use std::collections::HashMap;

/// What azrecon should make true of one ARM resource.
#[derive(Clone, Debug)]
pub struct Desired {
    /// The manifest's name for it: `Kind/name`, with a side for pairs (`VirtualNetworkPeering/hub-dev:hub`).
    pub address: String,
    pub kind: &'static dyn ArmKind,
    pub id: String,
    /// The owned part of the ARM body, ARM's defaults included, so that a default changed in the
    /// portal is drift too.
    pub body: Value,
    pub policy: Policy,
    /// The resource is only referred to: it must exist, and azrecon never writes it.
    pub existing_only: bool,
    /// ARM IDs of resources that must exist before this one is written.
    pub depends_on: Vec<String>,
    /// Where the entry was written, for messages.
    pub origin: Origin,
    /// Under exclusive ownership a child the manifest does not declare is drift; under shared
    /// ownership it belongs to someone else and is left exactly as it is.
    pub exclusive: bool,
    /// Things in the entry that are allowed but probably not meant.
    pub warnings: Vec<String>,
}

/// A place in a manifest file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub pos: Pos,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

impl std::fmt::Debug for dyn ArmKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an entry lives in Azure, resolved from its aliases.
#[derive(Clone, Debug)]
pub struct Placement {
    pub subscription_id: String,
    pub resource_group: String,
    pub location: Option<String>,
}

impl Placement {
    pub fn resource_id(&self, arm_type: &str, name: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{}/{}",
            self.subscription_id, self.resource_group, arm_type, name
        )
    }
}

struct Indexed {
    id: String,
    location: Option<String>,
    at: String,
}

/// The expansion's working state: the index of referable entries, the results and the errors.
pub struct Expander<'m> {
    manifest: &'m Manifest,
    index: HashMap<(&'static str, String), Indexed>,
    desired: Vec<Desired>,
    errors: Vec<ManifestError>,
}

/// Turns a manifest into desired resources, or every error it has.
pub fn expand(manifest: &Manifest) -> Result<Vec<Desired>, ManifestErrors> {
    let mut cx = Expander {
        manifest,
        index: HashMap::new(),
        desired: Vec::new(),
        errors: Vec::new(),
    };
    cx.check_subscriptions();
    manifest.resources.index(&mut cx);
    manifest.resources.expand(&mut cx);
    super::live_ref::grants_before_use(&mut cx.desired);
    cx.check_cycles();
    if cx.errors.is_empty() {
        Ok(cx.desired)
    } else {
        cx.errors
            .sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
        Err(ManifestErrors(cx.errors))
    }
}

impl<'m> Expander<'m> {
    pub fn error(
        &mut self,
        file: usize,
        pos: Pos,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.errors.push(ManifestError {
            file: self.manifest.files[file].clone(),
            pos,
            message: message.into(),
            hint,
        });
    }

    fn check_subscriptions(&mut self) {
        let bad: Vec<_> = self
            .manifest
            .subscriptions
            .iter()
            .filter(|(_, (_, id))| uuid::Uuid::parse_str(&id.value).is_err())
            .map(|(alias, (file, id))| (alias.clone(), *file, id.clone()))
            .collect();
        for (alias, file, id) in bad {
            self.error(
                file,
                id.pos,
                format!(
                    "subscription `{alias}` has ID `{}`, which is not a GUID",
                    id.value
                ),
                Some("a subscription ID looks like 00000000-0000-0000-0000-000000000000".into()),
            );
        }
    }

    /// Resolves an entry's subscription, resource group and location, reporting what is missing.
    pub fn placement<S>(&mut self, entry: &Entry<S>, needs_location: bool) -> Option<Placement> {
        let file = entry.file;
        let Some(alias) = &entry.subscription else {
            self.error(
                file,
                entry.name.pos,
                format!("`{}` has no subscription", entry.name.value),
                Some("set `subscription:` on the entry or in the file's `defaults:`".into()),
            );
            return None;
        };
        let subscription_id = self.subscription(file, alias)?;
        let Some(resource_group) = &entry.resource_group else {
            self.error(
                file,
                entry.name.pos,
                format!("`{}` has no resource group", entry.name.value),
                Some("set `resourceGroup:` on the entry or in the file's `defaults:`".into()),
            );
            return None;
        };
        check_arm_name(self, file, resource_group, "resource group");
        if needs_location && entry.location.is_none() {
            self.error(
                file,
                entry.name.pos,
                format!("`{}` has no location", entry.name.value),
                Some(
                    "set `location:` (for example koreacentral) on the entry or in `defaults:`"
                        .into(),
                ),
            );
            return None;
        }
        Some(Placement {
            subscription_id,
            resource_group: resource_group.value.clone(),
            location: entry
                .location
                .as_ref()
                .map(|l| l.value.to_ascii_lowercase()),
        })
    }

    fn subscription(&mut self, file: usize, alias: &At<String>) -> Option<String> {
        if let Some((_, id)) = self.manifest.subscriptions.get(&alias.value) {
            return Some(id.value.to_ascii_lowercase());
        }
        let known: Vec<_> = self.manifest.subscriptions.keys().cloned().collect();
        self.error(
            file,
            alias.pos,
            format!("unknown subscription alias `{}`", alias.value),
            Some(if known.is_empty() {
                "declare it under `subscriptions:`".into()
            } else {
                format!("declared aliases: {}", known.join(", "))
            }),
        );
        None
    }

    pub(super) fn index<K: Kind>(&mut self, kind: &'static K, entry: &Entry<K::Spec>) {
        check_arm_name(self, entry.file, &entry.name, kind.name());
        let key = (kind.name(), entry.name.value.to_ascii_lowercase());
        let at = self.origin(entry.file, entry.name.pos).to_string();
        if let Some(first) = self.index.get(&key) {
            let hint = Some(format!("the first is at {}", first.at));
            self.error(
                entry.file,
                entry.name.pos,
                format!("duplicate {} name `{}`", kind.name(), entry.name.value),
                hint,
            );
            return;
        }
        // Placement errors are reported once, by the kind's own expansion.
        let placement = self.quiet(|cx| cx.placement(entry, false));
        let id = placement
            .as_ref()
            .and_then(|p| kind.referable_id(entry, p))
            .unwrap_or_default();
        let location = entry
            .location
            .as_ref()
            .map(|l| l.value.to_ascii_lowercase());
        self.index.insert(key, Indexed { id, location, at });
    }

    fn quiet<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let before = self.errors.len();
        let out = f(self);
        self.errors.truncate(before);
        out
    }

    /// The ARM ID (and location) of the entry of kind `kind` named by `reference`.
    pub fn resolve(
        &mut self,
        file: usize,
        kind: &dyn ArmKind,
        reference: &At<String>,
    ) -> Option<(String, Option<String>)> {
        let key = (kind.name(), reference.value.to_ascii_lowercase());
        match self.index.get(&key) {
            Some(found) if !found.id.is_empty() => Some((found.id.clone(), found.location.clone())),
            Some(_) => None, // its own placement error is reported where it is declared
            None => {
                let mut names: Vec<_> = self
                    .index
                    .keys()
                    .filter(|(k, _)| *k == kind.name())
                    .map(|(_, n)| n.clone())
                    .collect();
                names.sort();
                let hint = if names.is_empty() {
                    format!("declare it under `resources.{}`", kind.name())
                } else {
                    format!("declared {} entries: {}", kind.name(), names.join(", "))
                };
                self.error(
                    file,
                    reference.pos,
                    format!("no {} named `{}`", kind.name(), reference.value),
                    Some(hint),
                );
                None
            }
        }
    }

    pub fn origin(&self, file: usize, pos: Pos) -> Origin {
        Origin {
            file: self.manifest.files[file].clone(),
            pos,
        }
    }

    pub fn push(&mut self, desired: Desired) {
        self.desired.push(desired);
    }

    /// The desired resources expanded so far, for kinds that order themselves after another
    /// kind's resources (kinds expand in registry order).
    pub fn expanded(&self) -> &[Desired] {
        &self.desired
    }

    /// Dependencies come from references, so a cycle is a manifest error, reported at the first
    /// resource on it.
    fn check_cycles(&mut self) {
        let ids: HashMap<String, usize> = self
            .desired
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.to_ascii_lowercase(), i))
            .collect();
        let edges: Vec<Vec<usize>> = self
            .desired
            .iter()
            .map(|d| {
                d.depends_on
                    .iter()
                    .filter_map(|dep| ids.get(&dep.to_ascii_lowercase()).copied())
                    .collect()
            })
            .collect();
        if let Some(cycle) = crate::graph::find_cycle(&edges) {
            let names: Vec<_> = cycle
                .iter()
                .map(|i| self.desired[*i].address.clone())
                .collect();
            let first = &self.desired[cycle[0]];
            self.errors.push(ManifestError {
                file: first.origin.file.clone(),
                pos: first.origin.pos,
                message: format!("dependency cycle: {} -> {}", names.join(" -> "), names[0]),
                hint: Some("a resource cannot depend on itself through its references".into()),
            });
        }
    }
}

/// ARM names: 1 to 80 characters of letters, digits, `-`, `_`, `.` and `(` `)`, not ending in `.`.
pub(super) fn check_arm_name(cx: &mut Expander<'_>, file: usize, name: &At<String>, what: &str) {
    let n = &name.value;
    let ok = !n.is_empty()
        && n.len() <= 80
        && !n.ends_with('.')
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.()".contains(c));
    if !ok {
        cx.error(
            file,
            name.pos,
            format!("`{n}` is not a valid {what} name"),
            Some(
                "use 1-80 letters, digits, '-', '_', '.' or parentheses, not ending in '.'".into(),
            ),
        );
    }
}

impl Expander<'_> {
    /// A CIDR prefix (`10.0.0.0/16`) in canonical form, or an error at its position.
    pub fn cidr(&mut self, file: usize, text: &At<String>) -> Option<String> {
        match text.value.parse::<ipnet::IpNet>() {
            Ok(net) if net.trunc() == net => Some(net.to_string()),
            Ok(net) => {
                self.error(
                    file,
                    text.pos,
                    format!("`{}` has host bits set", text.value),
                    Some(format!("the network is {}", net.trunc())),
                );
                None
            }
            Err(_) => {
                self.error(
                    file,
                    text.pos,
                    format!("`{}` is not a CIDR prefix", text.value),
                    Some("write an address and a prefix length, for example 10.0.0.0/16".into()),
                );
                None
            }
        }
    }

    /// An IP address or CIDR prefix, as an IP allowlist takes it.
    pub fn ip_or_cidr(&mut self, file: usize, text: &At<String>) -> Option<String> {
        if let Ok(ip) = text.value.parse::<std::net::IpAddr>() {
            return Some(ip.to_string());
        }
        if text.value.contains('/') {
            return self.cidr(file, text);
        }
        self.error(
            file,
            text.pos,
            format!("`{}` is not an IP address or CIDR prefix", text.value),
            Some("for example 203.0.113.7 or 198.51.100.0/24".into()),
        );
        None
    }
}

impl Expander<'_> {
    /// A desired resource for an entry, with the entry's policy and position, exclusive ownership,
    /// no dependencies and no warnings; kinds adjust what differs.
    pub fn resource<S>(
        &self,
        kind: &'static dyn ArmKind,
        entry: &Entry<S>,
        id: String,
        body: Value,
    ) -> Desired {
        Desired {
            address: format!("{}/{}", kind.name(), entry.name.value),
            kind,
            id,
            body,
            policy: entry.policy,
            existing_only: false,
            depends_on: Vec::new(),
            origin: self.origin(entry.file, entry.name.pos),
            exclusive: true,
            warnings: Vec::new(),
        }
    }
}
