//! `VirtualNetwork`: a VNet that other entries refer to. azrecon never creates or changes VNets;
//! it checks that they exist and, when the manifest states an address space, reports drift from it.

use super::{ArmKind, Expander, Kind};
use crate::diff::Rules;
use crate::manifest::{At, Entry};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub struct VirtualNetwork;

/// What the manifest expects of an existing VNet.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VirtualNetworkSpec {
    /// The address prefixes the VNet should have, for example `10.0.0.0/16`.
    #[serde(default)]
    pub address_space: Vec<At<String>>,
}

/// A subnet of a `VirtualNetwork` entry, as gateways and private endpoints name theirs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubnetRef {
    /// The `VirtualNetwork` entry.
    pub virtual_network: At<String>,
    /// The subnet's name in that VNet.
    pub subnet: At<String>,
}

impl SubnetRef {
    /// The subnet's ARM ID, given its VNet's.
    pub fn id(&self, vnet_id: &str) -> String {
        format!("{vnet_id}/subnets/{}", self.subnet.value)
    }
}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &["properties.addressSpace.addressPrefixes"],
    case_insensitive: &[],
    collections: &[],
};

impl ArmKind for VirtualNetwork {
    fn name(&self) -> &'static str {
        "VirtualNetwork"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/virtualNetworks"
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
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }
}

impl Kind for VirtualNetwork {
    type Spec = Option<VirtualNetworkSpec>;

    fn expand(&'static self, entry: &Entry<Self::Spec>, cx: &mut Expander<'_>) {
        let Some(placement) = cx.placement(entry, false) else {
            return;
        };
        let mut body = json!({});
        if let Some(spec) = entry.spec.as_ref().filter(|s| !s.address_space.is_empty()) {
            let prefixes: Vec<String> = spec
                .address_space
                .iter()
                .filter_map(|p| cx.cidr(entry.file, p))
                .collect();
            body = json!({ "properties": { "addressSpace": { "addressPrefixes": prefixes } } });
        }
        let id = placement.resource_id(self.arm_type(), &entry.name);
        let mut desired = cx.resource(self, entry, id, body);
        desired.policy = crate::manifest::Policy::Observe;
        desired.existing_only = true;
        cx.push(desired);
    }
}
