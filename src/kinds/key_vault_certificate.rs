//! `KeyVaultCertificate`: a certificate azrecon watches but never writes. It must exist in its
//! vault (read through ARM as the certificate's secret, `Microsoft.KeyVault/vaults/secrets`,
//! whose ARM view carries metadata only, never the value), and its health (expiry) is checked on
//! the Key Vault data plane like that of every certificate a gateway uses.

use super::{ArmKind, Expander, Kind, key_vault::KeyVault};
use crate::diff::Rules;
use crate::manifest::{Entry, Policy};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub struct KeyVaultCertificate;

/// The entry's name is the certificate's name in the vault.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyVaultCertificateSpec {
    /// The `KeyVault` entry that holds it.
    pub vault: crate::manifest::At<String>,
}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &[],
    collections: &[],
};

impl ArmKind for KeyVaultCertificate {
    fn name(&self) -> &'static str {
        "KeyVaultCertificate"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.KeyVault/vaults/secrets"
    }
    fn api_version(&self) -> &'static str {
        "2023-07-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &["id", "name", "type", "location", "tags", "properties"]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }
}

impl Kind for KeyVaultCertificate {
    type Spec = KeyVaultCertificateSpec;

    fn referable_id(
        &self,
        _: &Entry<KeyVaultCertificateSpec>,
        _: &super::Placement,
    ) -> Option<String> {
        None
    }

    fn expand(&'static self, entry: &Entry<KeyVaultCertificateSpec>, cx: &mut Expander<'_>) {
        let n = &entry.name.value;
        if !(1..=127).contains(&n.len())
            || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            cx.error(
                entry.file,
                entry.name.pos,
                format!("`{n}` is not a valid Key Vault certificate name"),
                Some("use 1-127 letters, digits and hyphens".into()),
            );
        }
        let Some((vault_id, _)) = cx.resolve(entry.file, &KeyVault, &entry.spec.vault) else {
            return;
        };
        let id = format!("{vault_id}/secrets/{n}");
        let mut desired = cx.resource(self, entry, id, json!({}));
        desired.existing_only = true;
        desired.policy = Policy::Observe;
        desired.depends_on = vec![vault_id];
        cx.push(desired);
    }
}
