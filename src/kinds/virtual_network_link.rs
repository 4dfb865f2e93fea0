//! `VirtualNetworkLink`: links a private DNS zone to a VNet so that the VNet's resolver answers
//! from the zone. azrecon's links never register VM records (`registrationEnabled: false`): the
//! zones hold private endpoints' records only.
//!
//! A link is a child of its zone, in the zone's subscription, while its VNet may sit in any
//! subscription.

use super::{
    ArmKind, Expander, Kind, private_dns_zone::PrivateDnsZone, virtual_network::VirtualNetwork,
};
use crate::diff::{FieldChange, Rules};
use crate::manifest::{At, Entry};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub struct VirtualNetworkLink;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VirtualNetworkLinkSpec {
    /// The `PrivateDnsZone` entry the link belongs to.
    pub zone: At<String>,
    /// The `VirtualNetwork` entry whose resolver gets the zone.
    pub virtual_network: At<String>,
}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &["location"],
    collections: &[],
};

impl ArmKind for VirtualNetworkLink {
    fn name(&self) -> &'static str {
        "VirtualNetworkLink"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
    }
    fn api_version(&self) -> &'static str {
        "2020-06-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &[
            "id",
            "name",
            "type",
            "etag",
            "properties.provisioningState",
            "properties.virtualNetworkLinkState",
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }
    fn destructive(&self, change: &FieldChange) -> Option<String> {
        // ARM refuses to re-point a link: it has to be deleted and created again.
        change
            .path
            .starts_with("properties.virtualNetwork")
            .then(|| "a link's VNet cannot change in place".into())
    }
}

impl Kind for VirtualNetworkLink {
    type Spec = VirtualNetworkLinkSpec;

    fn referable_id(&self, _: &Entry<Self::Spec>, _: &super::Placement) -> Option<String> {
        None
    }

    fn expand(&'static self, entry: &Entry<Self::Spec>, cx: &mut Expander<'_>) {
        let spec = &entry.spec;
        let zone = cx.resolve(entry.file, &PrivateDnsZone, &spec.zone);
        let vnet = cx.resolve(entry.file, &VirtualNetwork, &spec.virtual_network);
        let (Some((zone_id, _)), Some((vnet_id, _))) = (zone, vnet) else {
            return;
        };
        let body = json!({
            "location": "global",
            "properties": {
                "virtualNetwork": { "id": vnet_id },
                "registrationEnabled": false,
            }
        });
        let id = format!("{zone_id}/virtualNetworkLinks/{}", entry.name.value);
        let mut desired = cx.resource(self, entry, id, body);
        desired.depends_on = vec![zone_id, vnet_id];
        cx.push(desired);
    }
}
