//! `VirtualNetworkPeering`: a hub <-> spoke pair declared once, created on both sides, across
//! subscriptions and regions (global peering).
//!
//! Beyond its fields, a peering drifts when its address spaces are out of sync (repaired by a PUT
//! with `?syncRemoteAddressSpace=true`) or when it is `Disconnected` because its remote side was
//! deleted (repaired by deleting and creating it again: ARM cannot reconnect it in place).

use super::{
    ArmKind, Desired, Expander, Kind, Repair, StatusIssue, virtual_network::VirtualNetwork,
};
use crate::diff::Rules;
use crate::manifest::{At, Entry};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

pub struct VirtualNetworkPeering;

/// The pair. Each side is the peering resource that lives in that side's VNet.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PeeringSpec {
    pub hub: PeeringSide,
    pub spoke: PeeringSide,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PeeringSide {
    /// The `VirtualNetwork` entry this side lives in.
    pub virtual_network: At<String>,
    /// The peering's ARM name; defaults to `<this vnet>-to-<remote vnet>`.
    pub name: Option<At<String>>,
    #[serde(default = "yes")]
    pub allow_virtual_network_access: bool,
    #[serde(default)]
    pub allow_forwarded_traffic: bool,
    #[serde(default)]
    pub allow_gateway_transit: bool,
    #[serde(default)]
    pub use_remote_gateways: At<bool>,
}

fn yes() -> bool {
    true
}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &[],
    collections: &[],
};

impl ArmKind for VirtualNetworkPeering {
    fn name(&self) -> &'static str {
        "VirtualNetworkPeering"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
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
            "properties.peeringState",
            "properties.peeringSyncLevel",
            "properties.remoteVirtualNetworkEncryption",
            "properties.remoteAddressSpace",
            "properties.remoteVirtualNetworkAddressSpace",
            "properties.localAddressSpace",
            "properties.localVirtualNetworkAddressSpace",
            "properties.remoteBgpCommunities",
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }

    fn status(&self, live: &Value) -> Vec<StatusIssue> {
        let props = &live["properties"];
        let state = props["peeringState"].as_str().unwrap_or_default();
        if state.eq_ignore_ascii_case("Disconnected") {
            return vec![StatusIssue {
                message:
                    "peeringState is Disconnected: its remote side was deleted; a disconnected \
                          peering is deleted and created again"
                        .into(),
                repair: Repair::Replace,
            }];
        }
        match props["peeringSyncLevel"].as_str() {
            Some(level)
                if state.eq_ignore_ascii_case("Connected")
                    && !level.eq_ignore_ascii_case("FullyInSync") =>
            {
                vec![StatusIssue {
                    message: format!(
                        "peeringSyncLevel is {level}: an address space changed; resync it"
                    ),
                    repair: Repair::Put {
                        query: vec![("syncRemoteAddressSpace".into(), "true".into())],
                    },
                }]
            }
            _ => Vec::new(),
        }
    }
}

impl Kind for VirtualNetworkPeering {
    type Spec = PeeringSpec;

    fn referable_id(&self, _: &Entry<PeeringSpec>, _: &super::Placement) -> Option<String> {
        None
    }

    fn expand(&'static self, entry: &Entry<PeeringSpec>, cx: &mut Expander<'_>) {
        let spec = &entry.spec;
        let file = entry.file;
        if spec.hub.use_remote_gateways.value && spec.spoke.use_remote_gateways.value {
            cx.error(
                file,
                spec.spoke.use_remote_gateways.pos,
                "both sides use remote gateways",
                Some("only one side of a peering can use the other side's gateway".into()),
            );
        }
        for (side, other) in [(&spec.hub, &spec.spoke), (&spec.spoke, &spec.hub)] {
            if side.use_remote_gateways.value && !other.allow_gateway_transit {
                cx.error(
                    file,
                    side.use_remote_gateways.pos,
                    "useRemoteGateways needs allowGatewayTransit on the other side",
                    Some(
                        "set `allowGatewayTransit: true` on the side whose VNet has the gateway"
                            .into(),
                    ),
                );
            }
        }
        if spec
            .hub
            .virtual_network
            .value
            .eq_ignore_ascii_case(&spec.spoke.virtual_network.value)
        {
            cx.error(
                file,
                spec.spoke.virtual_network.pos,
                "a VNet cannot be peered with itself",
                Some("hub and spoke must name different VirtualNetwork entries".into()),
            );
            return;
        }
        let hub = cx.resolve(file, &VirtualNetwork, &spec.hub.virtual_network);
        let spoke = cx.resolve(file, &VirtualNetwork, &spec.spoke.virtual_network);
        let (Some((hub_vnet, _)), Some((spoke_vnet, _))) = (hub, spoke) else {
            return;
        };
        let hub_id = side_id(&hub_vnet, &spec.hub, &spec.spoke);
        let spoke_id = side_id(&spoke_vnet, &spec.spoke, &spec.hub);
        let sides = [
            (
                "hub",
                &spec.hub,
                &hub_vnet,
                &spoke_vnet,
                hub_id.clone(),
                vec![],
            ),
            (
                "spoke",
                &spec.spoke,
                &spoke_vnet,
                &hub_vnet,
                spoke_id,
                vec![hub_id],
            ),
        ];
        for (label, side, local, remote, id, after) in sides {
            let body = json!({
                "properties": {
                    "allowVirtualNetworkAccess": side.allow_virtual_network_access,
                    "allowForwardedTraffic": side.allow_forwarded_traffic,
                    "allowGatewayTransit": side.allow_gateway_transit,
                    "useRemoteGateways": side.use_remote_gateways.value,
                    "remoteVirtualNetwork": { "id": remote },
                }
            });
            let mut depends_on = vec![local.clone(), remote.clone()];
            depends_on.extend(after);
            cx.push(Desired {
                address: format!("{}/{}:{label}", self.name(), entry.name.value),
                kind: self,
                id,
                body,
                policy: entry.policy,
                existing_only: false,
                depends_on,
                origin: cx.origin(file, side.virtual_network.pos),
                exclusive: true,
                warnings: Vec::new(),
            });
        }
    }
}

fn side_id(vnet_id: &str, side: &PeeringSide, other: &PeeringSide) -> String {
    let name = side.name.as_ref().map_or_else(
        || {
            format!(
                "{}-to-{}",
                side.virtual_network.value, other.virtual_network.value
            )
        },
        |n| n.value.clone(),
    );
    format!("{vnet_id}/virtualNetworkPeerings/{name}")
}
