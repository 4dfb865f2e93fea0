//! `PublicIpAddress`: the gateway's public frontend address: Standard SKU, static, zone-redundant
//! when zones are given. A v2 gateway accepts nothing else.

use super::{ArmKind, Expander, Kind};
use crate::diff::{FieldChange, Rules};
use crate::manifest::Entry;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub struct PublicIpAddress;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PublicIpAddressSpec {
    /// Availability zones, for example ["1", "2", "3"].
    #[serde(default)]
    pub zones: Vec<String>,
    /// A DNS label: `<label>.<region>.cloudapp.azure.com`.
    pub domain_name_label: Option<String>,
}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &["zones"],
    case_insensitive: &[
        "sku.name",
        "sku.tier",
        "properties.publicIPAllocationMethod",
        "properties.publicIPAddressVersion",
    ],
    collections: &[],
};

impl ArmKind for PublicIpAddress {
    fn name(&self) -> &'static str {
        "PublicIpAddress"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/publicIPAddresses"
    }
    fn api_version(&self) -> &'static str {
        "2024-01-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &[
            "id",
            "name",
            "type",
            "etag",
            "properties.provisioningState",
            "properties.resourceGuid",
            "properties.ipAddress",
            "properties.ipConfiguration",
            "properties.dnsSettings.fqdn",
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }
    fn destructive(&self, change: &FieldChange) -> Option<String> {
        // Zones and SKU cannot change in place: ARM refuses, and a new address would be needed.
        (change.path == "zones" || change.path.starts_with("sku"))
            .then(|| format!("{} cannot change without a new address", change.path))
    }
}

impl Kind for PublicIpAddress {
    type Spec = Option<PublicIpAddressSpec>;

    fn expand(&'static self, entry: &Entry<Self::Spec>, cx: &mut Expander<'_>) {
        let Some(placement) = cx.placement(entry, true) else {
            return;
        };
        let spec = entry.spec.as_ref();
        let mut body = json!({
            "location": placement.location,
            "sku": { "name": "Standard", "tier": "Regional" },
            "properties": { "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4" },
        });
        if let Some(zones) = spec.map(|s| &s.zones).filter(|z| !z.is_empty()) {
            body["zones"] = json!(zones);
        }
        if let Some(label) = spec.and_then(|s| s.domain_name_label.as_ref()) {
            body["properties"]["dnsSettings"] = json!({ "domainNameLabel": label });
        }
        let id = placement.resource_id(self.arm_type(), &entry.name);
        let desired = cx.resource(self, entry, id, body);
        cx.push(desired);
    }
}
