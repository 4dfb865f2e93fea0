//! Resource kinds: one file per kind says everything about it (its manifest spec, ARM ID,
//! api-version, how its body is built, what ARM adds to it, what it depends on, and what counts
//! as drift beyond its fields). This file holds the `Kind` traits and the one registry of kinds.
//!
//! Adding a kind is one new file here and one line in `registry!` below.

mod application_gateway;
mod cognitive_services_account;
mod expand;
mod key_vault;
mod key_vault_certificate;
pub mod live_ref;
mod peering;
mod private_dns_zone;
mod private_dns_zone_group;
mod private_endpoint;
mod public_ip_address;
mod role_assignment;
mod user_assigned_identity;
mod virtual_network;
mod virtual_network_link;
mod waf_policy;

pub use expand::{Desired, Expander, Origin, Placement, expand};
pub use role_assignment::assignment_name;

use crate::diff::{FieldChange, Rules};
use crate::manifest::{Defaults, Entry};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a kind's live resource says about itself beyond its fields, and how to repair it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, JsonSchema)]
pub struct StatusIssue {
    pub message: String,
    pub repair: Repair,
}

/// How a status issue is repaired.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Repair {
    /// PUT the resource again with these query parameters (for example a peering resync).
    Put { query: Vec<(String, String)> },
    /// Delete the resource and create it again.
    Replace,
    /// Nothing azrecon can do; the message says who must act.
    Report,
}

/// The ARM-facing half of a kind: everything the planner and the executor need to know.
pub trait ArmKind: Sync {
    /// The kind's name in manifests (`resources.<Name>`) and plans.
    fn name(&self) -> &'static str;
    /// The ARM resource type, for example `Microsoft.Network/virtualNetworks`.
    fn arm_type(&self) -> &'static str;
    fn api_version(&self) -> &'static str;
    /// Fields that ARM fills or owns: never diffed, never sent back in a PUT.
    fn read_only(&self) -> &'static [&'static str];
    /// How the kind's body is compared: name-keyed collections, unordered lists, enums.
    fn rules(&self) -> &'static Rules;
    /// Rewrites a live body (read-only fields already stripped) into the form the kind's desired
    /// bodies use: ARM's implicit defaults made explicit, values ARM re-spells canonicalised.
    fn normalize(&self, _live: &mut Value) {}
    /// State that is drift although no field differs (a peering out of sync, a connection pending).
    fn status(&self, _live: &Value) -> Vec<StatusIssue> {
        Vec::new()
    }
    /// Why a field change is destructive, if it is.
    fn destructive(&self, _change: &FieldChange) -> Option<String> {
        None
    }
}

/// The manifest-facing half of a kind: its spec and how an entry becomes desired ARM bodies.
pub trait Kind: ArmKind + Sized + 'static {
    type Spec: DeserializeOwned + JsonSchema + std::fmt::Debug;
    /// The ARM ID other entries get when they refer to this entry by name; `None` if the kind
    /// cannot be referred to.
    fn referable_id(&self, entry: &Entry<Self::Spec>, placement: &Placement) -> Option<String> {
        Some(placement.resource_id(self.arm_type(), &entry.name))
    }
    /// Checks an entry and adds its desired resources (one, or several for a pair).
    fn expand(&'static self, entry: &Entry<Self::Spec>, cx: &mut Expander<'_>);
}

macro_rules! registry {
    ($($name:ident => $kind:path),* $(,)?) => {
        /// The manifest's `resources:` section: one list of entries per kind.
        #[derive(Debug, Default, serde::Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[allow(non_snake_case)]
        pub struct Resources {
            $(
                #[serde(default)]
                pub $name: Vec<Entry<<$kind as Kind>::Spec>>,
            )*
        }

        impl Resources {
            pub(crate) fn settle(&mut self, file: usize, defaults: &Defaults) {
                $( for entry in &mut self.$name { entry.settle(file, defaults); } )*
            }
            pub(crate) fn merge(&mut self, other: Resources) {
                $( self.$name.extend(other.$name); )*
            }
            fn index(&self, cx: &mut Expander<'_>) {
                $( for entry in &self.$name { cx.index(&$kind, entry); } )*
            }
            fn expand(&self, cx: &mut Expander<'_>) {
                $( for entry in &self.$name { $kind.expand(entry, cx); } )*
            }
        }

        /// Every kind, in registry order.
        pub static ALL: &[&dyn ArmKind] = &[$(&$kind),*];
    };
}

registry! {
    VirtualNetwork => virtual_network::VirtualNetwork,
    VirtualNetworkPeering => peering::VirtualNetworkPeering,
    WafPolicy => waf_policy::WafPolicy,
    UserAssignedIdentity => user_assigned_identity::UserAssignedIdentity,
    PublicIpAddress => public_ip_address::PublicIpAddress,
    ApplicationGateway => application_gateway::ApplicationGateway,
    CognitiveServicesAccount => cognitive_services_account::CognitiveServicesAccount,
    PrivateDnsZone => private_dns_zone::PrivateDnsZone,
    // Before PrivateEndpoint: an endpoint orders itself after its zones' links.
    VirtualNetworkLink => virtual_network_link::VirtualNetworkLink,
    PrivateEndpoint => private_endpoint::PrivateEndpoint,
    KeyVault => key_vault::KeyVault,
    RoleAssignment => role_assignment::RoleAssignment,
    KeyVaultCertificate => key_vault_certificate::KeyVaultCertificate,
}

/// The kind of the resource an ARM ID names, by the ID's resource type.
pub fn by_resource_id(id: &str) -> Option<&'static dyn ArmKind> {
    let lower = id.to_ascii_lowercase();
    let (_, rest) = lower.rsplit_once("/providers/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let types: Vec<&str> = parts.iter().skip(1).step_by(2).copied().collect();
    let arm_type = format!("{}/{}", parts.first()?, types.join("/"));
    ALL.iter()
        .copied()
        .find(|k| k.arm_type().eq_ignore_ascii_case(&arm_type))
}
