//! `UserAssignedIdentity`: the managed identity the Application Gateway reads its Key Vault
//! certificate with. ARM gives it a principal and a client ID; azrecon owns only its placement.

use super::{ArmKind, Expander, Kind};
use crate::diff::Rules;
use crate::manifest::Entry;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub struct UserAssignedIdentity;

/// Nothing to declare beyond the entry's placement.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAssignedIdentitySpec {}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &[],
    collections: &[],
};

impl ArmKind for UserAssignedIdentity {
    fn name(&self) -> &'static str {
        "UserAssignedIdentity"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    }
    fn api_version(&self) -> &'static str {
        "2023-01-31"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &["id", "name", "type", "etag", "systemData", "properties"]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }
}

impl Kind for UserAssignedIdentity {
    type Spec = Option<UserAssignedIdentitySpec>;

    fn expand(&'static self, entry: &Entry<Self::Spec>, cx: &mut Expander<'_>) {
        let Some(placement) = cx.placement(entry, true) else {
            return;
        };
        let id = placement.resource_id(self.arm_type(), &entry.name);
        let desired = cx.resource(self, entry, id, json!({ "location": placement.location }));
        cx.push(desired);
    }
}
