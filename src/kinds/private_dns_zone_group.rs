//! `PrivateDnsZoneGroup`: maps private DNS zones to a private endpoint, so ARM keeps the
//! endpoint's A records in those zones. It is declared inside its `PrivateEndpoint` entry (it has
//! no life apart from its endpoint), so it is an ARM kind without a manifest section of its own.
//!
//! Azure Policy often deploys zone groups itself (deploy-if-not-exists). Such a group is declared
//! as managed by policy: azrecon then owns none of its body, never writes or removes it, and
//! reports only whether it exists.

use super::ArmKind;
use crate::diff::Rules;

pub struct PrivateDnsZoneGroup;

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &[],
    collections: &["properties.privateDnsZoneConfigs"],
};

impl ArmKind for PrivateDnsZoneGroup {
    fn name(&self) -> &'static str {
        "PrivateDnsZoneGroup"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
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
            "properties.privateDnsZoneConfigs[].properties.recordSets",
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }
}

/// The name ARM's portal gives a zone's entry in a zone group: the zone name with `-` for `.`.
pub fn config_name(zone: &str) -> String {
    zone.replace('.', "-")
}
