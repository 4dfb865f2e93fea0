//! `PrivateDnsZone`: a private DNS zone such as `privatelink.openai.azure.com`, where private
//! endpoints' A records live. Private DNS zones are global: their location is always `global`,
//! and every property of a zone is ARM's (record and link counts).

use super::{ArmKind, Expander, Kind};
use crate::diff::Rules;
use crate::manifest::{At, Entry};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub struct PrivateDnsZone;

/// Nothing to declare: the entry's name is the zone's DNS name.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivateDnsZoneSpec {}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &["location"],
    collections: &[],
};

impl ArmKind for PrivateDnsZone {
    fn name(&self) -> &'static str {
        "PrivateDnsZone"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/privateDnsZones"
    }
    fn api_version(&self) -> &'static str {
        "2020-06-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &["id", "name", "type", "etag", "properties"]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }
}

impl Kind for PrivateDnsZone {
    type Spec = Option<PrivateDnsZoneSpec>;

    fn expand(&'static self, entry: &Entry<Self::Spec>, cx: &mut Expander<'_>) {
        check_dns_name(cx, entry.file, &entry.name);
        let Some(placement) = cx.placement(entry, false) else {
            return;
        };
        let id = placement.resource_id(self.arm_type(), &entry.name);
        let desired = cx.resource(self, entry, id, json!({ "location": "global" }));
        cx.push(desired);
    }
}

/// A zone name: at least two dot-separated labels of 1-63 letters, digits and hyphens, no label
/// starting or ending with a hyphen, 253 characters at most.
fn check_dns_name(cx: &mut Expander<'_>, file: usize, name: &At<String>) {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let n = name.value.as_str();
    if n.len() > 253 || n.split('.').count() < 2 || !n.split('.').all(label_ok) {
        cx.error(
            file,
            name.pos,
            format!("`{n}` is not a valid private DNS zone name"),
            Some(
                "use DNS labels of letters, digits and '-' joined by '.', for example \
                 privatelink.openai.azure.com"
                    .into(),
            ),
        );
    }
}
