//! Key vaults (Microsoft.KeyVault 2023-07-01): a long-running PUT that requires `tenantId` and
//! `sku`, fills the spec's defaults (soft delete on with 90 days, RBAC off, public access on,
//! no deployment flags, no access policies) and `vaultUri`, re-spells network rules as the
//! examples show (a single IP gains `/32`, subnet IDs are lower-cased), and refuses what the
//! service refuses: turning purge protection or soft delete off, and changing the soft-delete
//! retention after creation. A vault has no etag.

use serde_json::{Map, Value, json};

use super::{
    LongRunning, PutContext, ResourceKind, default_to, objects_mut, properties_mut, strip_etag,
};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::Store;

pub(crate) struct KeyVault;

/// The data-plane URI the public cloud gives a vault, as the examples spell it.
pub(crate) fn vault_uri(name: &str) -> String {
    format!("https://{}.vault.azure.net", name.to_ascii_lowercase())
}

impl ResourceKind for KeyVault {
    fn type_name(&self, _id: &ArmId) -> String {
        "Microsoft.KeyVault/vaults".into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: true,
            delete: false,
        }
    }

    fn prepare(&self, ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        let before = ctx
            .existing
            .and_then(|doc| doc.get("properties"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let props = properties_mut(body);
        for key in ["tenantId", "sku"] {
            if props.get(key).is_none_or(Value::is_null) {
                return Err(ArmError::missing_property(key, "properties"));
            }
        }
        for key in [
            "vaultUri",
            "hsmPoolResourceId",
            "privateEndpointConnections",
        ] {
            props.remove(key);
        }
        props.retain(|_, v| !v.is_null());
        check_irreversible(&before, props)?;
        default_to(props, "accessPolicies", json!([]));
        default_to(props, "enabledForDeployment", json!(false));
        default_to(props, "enabledForDiskEncryption", json!(false));
        default_to(props, "enabledForTemplateDeployment", json!(false));
        default_to(props, "enableSoftDelete", json!(true));
        let retention = before
            .get("softDeleteRetentionInDays")
            .cloned()
            .unwrap_or_else(|| json!(90));
        default_to(props, "softDeleteRetentionInDays", retention);
        default_to(props, "enableRbacAuthorization", json!(false));
        default_to(props, "publicNetworkAccess", json!("Enabled"));
        if before.get("enablePurgeProtection") == Some(&json!(true)) {
            default_to(props, "enablePurgeProtection", json!(true));
        }
        if let Some(acls) = props.get_mut("networkAcls").and_then(Value::as_object_mut) {
            default_to(acls, "bypass", json!("AzureServices"));
            default_to(acls, "defaultAction", json!("Allow"));
            default_to(acls, "ipRules", json!([]));
            default_to(acls, "virtualNetworkRules", json!([]));
            for rule in objects_mut(acls, "ipRules") {
                if let Some(ip) = rule.get("value").and_then(Value::as_str)
                    && !ip.contains('/')
                    && ip.parse::<std::net::Ipv4Addr>().is_ok()
                {
                    let cidr = format!("{ip}/32");
                    rule.insert("value".into(), json!(cidr));
                }
            }
            for rule in objects_mut(acls, "virtualNetworkRules") {
                if let Some(id) = rule.get("id").and_then(Value::as_str) {
                    let lower = id.to_ascii_lowercase();
                    rule.insert("id".into(), json!(lower));
                }
            }
        }
        props.insert("vaultUri".into(), json!(vault_uri(ctx.id.name())));
        Ok(())
    }

    /// A vault has no etag (the spec's `Vault` has none).
    fn after_put(&self, store: &mut Store, id: &ArmId) {
        strip_etag(store, id);
    }
}

/// What Key Vault never lets a PUT undo.
fn check_irreversible(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Result<(), ArmError> {
    let was = |key: &str| before.get(key).cloned();
    if after.get("enablePurgeProtection") == Some(&json!(false)) {
        return Err(ArmError::bad_request(
            "The property \"enablePurgeProtection\" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.",
        ));
    }
    if after.get("enableSoftDelete") == Some(&json!(false)) {
        return Err(ArmError::bad_request(
            "The property \"enableSoftDelete\" has been set to false. Setting soft delete to false is no longer supported.",
        ));
    }
    if let (Some(old), Some(new)) = (
        was("softDeleteRetentionInDays"),
        after.get("softDeleteRetentionInDays"),
    ) && old.as_i64() != new.as_i64()
    {
        return Err(ArmError::bad_request(
            "The property \"softDeleteRetentionInDays\" cannot be changed once the vault is created.",
        ));
    }
    Ok(())
}
