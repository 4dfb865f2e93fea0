//! `RoleAssignment`: a Key Vault data-plane role granted to a `UserAssignedIdentity`, at the
//! scope of a vault or of one secret in it (`{vault}/secrets/{name}`).
//!
//! Its ARM name is a deterministic GUID, a UUID v5 of the scope, the identity and the role, so
//! that a re-run finds the assignment it made instead of creating a second one (which ARM would
//! refuse with `RoleAssignmentExists` anyway). The identity enters the name by its ARM ID, which
//! the manifest fixes; its principal ID, which only ARM knows, is a live reference in the body,
//! resolved when the identity exists.

use super::{
    ArmKind, Expander, Kind, key_vault::KeyVault, live_ref::live_ref,
    user_assigned_identity::UserAssignedIdentity,
};
use crate::diff::{FieldChange, Rules};
use crate::manifest::{At, Entry};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

pub struct RoleAssignment;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoleAssignmentSpec {
    /// The `UserAssignedIdentity` entry that gets the role.
    pub identity: At<String>,
    /// The `KeyVault` entry the role applies to.
    pub vault: At<String>,
    /// Narrows the scope to one secret of the vault (a certificate's secret has its name).
    pub secret: Option<At<String>>,
    #[serde(default)]
    pub role: Role,
}

/// Built-in Key Vault data-plane roles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Role {
    /// Reads secret contents, which is what a gateway needs for a certificate.
    #[default]
    KeyVaultSecretsUser,
    /// Reads whole certificates, their secret and key parts included.
    KeyVaultCertificateUser,
}

impl Role {
    /// The role definition's GUID, the same in every subscription.
    pub fn definition_guid(self) -> &'static str {
        match self {
            Role::KeyVaultSecretsUser => "4633458b-17de-408a-b874-0445c86b69e6",
            Role::KeyVaultCertificateUser => "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
        }
    }
}

/// The namespace of azrecon's role assignment names (UUID v5).
const NAME_NAMESPACE: Uuid = Uuid::from_u128(0x5d1c_0a6e_8f43_4b52_9e7a_3c2b_1f40_a9d8);

/// The assignment's name: the same scope, identity and role always give the same GUID.
pub fn assignment_name(scope: &str, identity_id: &str, role_definition_id: &str) -> String {
    let key = format!("{scope}|{identity_id}|{role_definition_id}").to_ascii_lowercase();
    Uuid::new_v5(&NAME_NAMESPACE, key.as_bytes()).to_string()
}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &["properties.principalType", "properties.principalId"],
    collections: &[],
};

impl ArmKind for RoleAssignment {
    fn name(&self) -> &'static str {
        "RoleAssignment"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Authorization/roleAssignments"
    }
    fn api_version(&self) -> &'static str {
        "2022-04-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &[
            "id",
            "name",
            "type",
            "etag",
            "properties.scope",
            "properties.createdOn",
            "properties.updatedOn",
            "properties.createdBy",
            "properties.updatedBy",
            "properties.delegatedManagedIdentityResourceId",
            "properties.condition",
            "properties.conditionVersion",
            "properties.description",
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }

    fn destructive(&self, change: &FieldChange) -> Option<String> {
        Some(format!(
            "{} differs, and ARM cannot change a role assignment in place (the identity was \
             probably deleted and created again): delete the assignment so that azrecon \
             creates it anew",
            change.path
        ))
    }
}

impl Kind for RoleAssignment {
    type Spec = RoleAssignmentSpec;

    fn referable_id(&self, _: &Entry<RoleAssignmentSpec>, _: &super::Placement) -> Option<String> {
        None
    }

    fn expand(&'static self, entry: &Entry<RoleAssignmentSpec>, cx: &mut Expander<'_>) {
        let spec = &entry.spec;
        let file = entry.file;
        if let Some(secret) = &spec.secret {
            let n = &secret.value;
            let ok = (1..=127).contains(&n.len())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                cx.error(
                    file,
                    secret.pos,
                    format!("`{n}` is not a valid Key Vault secret name"),
                    Some("use 1-127 letters, digits and hyphens".into()),
                );
            }
        }
        let identity = cx.resolve(file, &UserAssignedIdentity, &spec.identity);
        let vault = cx.resolve(file, &KeyVault, &spec.vault);
        let (Some((identity_id, _)), Some((vault_id, _))) = (identity, vault) else {
            return;
        };
        let scope = match &spec.secret {
            Some(secret) => format!("{vault_id}/secrets/{}", secret.value),
            None => vault_id.clone(),
        };
        let subscription = vault_id.split('/').nth(2).unwrap_or_default();
        let role_definition_id = format!(
            "/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{}",
            spec.role.definition_guid()
        );
        let name = assignment_name(&scope, &identity_id, &role_definition_id);
        let id = format!("{scope}/providers/{}/{name}", self.arm_type());
        let body = json!({
            "properties": {
                "roleDefinitionId": role_definition_id,
                "principalId": live_ref(&identity_id, "/properties/principalId"),
                // Stated so that ARM does not wait for a new identity to replicate before
                // accepting it (Microsoft's advice for managed identities).
                "principalType": "ServicePrincipal",
            }
        });
        let mut desired = cx.resource(self, entry, id, body);
        desired.depends_on = vec![identity_id, vault_id];
        cx.push(desired);
    }
}
