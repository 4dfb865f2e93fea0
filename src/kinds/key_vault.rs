//! `KeyVault`: the vault that holds the gateway's TLS certificate. Authorization is RBAC (role
//! assignments, the default) or access policies; soft delete is always on (Azure no longer lets
//! it be turned off) with the declared retention; purge protection, public network access and
//! the network ACLs are as declared.
//!
//! Access policies are shared: the manifest owns the policies it declares (matched by object
//! ID), and a policy it does not declare belongs to someone else and is never removed. Network
//! rules are owned exclusively. What Azure makes irreversible (purge protection, the retention
//! period) is destructive to change, and so is switching the permission model.

use super::{
    ArmKind, Expander, Kind, live_ref::live_ref, user_assigned_identity::UserAssignedIdentity,
    virtual_network::VirtualNetwork,
};
use crate::diff::{FieldChange, Rules};
use crate::manifest::{At, Entry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub struct KeyVault;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyVaultSpec {
    /// The Entra ID tenant that authenticates requests to the vault.
    pub tenant_id: At<String>,
    #[serde(default)]
    pub sku: VaultSku,
    /// How data-plane access is granted: `rbac` (role assignments) or `accessPolicies`.
    #[serde(default)]
    pub authorization: At<Authorization>,
    /// In `accessPolicies` mode: the policies azrecon owns. Other policies are left alone.
    #[serde(default)]
    pub access_policies: Vec<AccessPolicy>,
    /// Days a deleted vault or secret is kept (7 to 90). Fixed when the vault is created.
    #[serde(default = "ninety")]
    pub soft_delete_retention_days: At<u32>,
    /// Nothing, not even an administrator, can purge the vault during its retention. Once on,
    /// Azure never lets it be turned off.
    #[serde(default)]
    pub purge_protection: bool,
    #[serde(default)]
    pub public_network_access: PublicNetworkAccess,
    #[serde(default)]
    pub network_acls: NetworkAcls,
}

fn ninety() -> At<u32> {
    At::new(90, Default::default())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum VaultSku {
    #[default]
    Standard,
    Premium,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Authorization {
    #[default]
    Rbac,
    AccessPolicies,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum PublicNetworkAccess {
    #[default]
    Enabled,
    Disabled,
}

/// One access policy: a principal (a `UserAssignedIdentity` entry, or an object ID) and its
/// permissions.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessPolicy {
    /// The `UserAssignedIdentity` entry whose principal the policy is for.
    pub identity: Option<At<String>>,
    /// Or the object ID of a user, group or service principal.
    pub object_id: Option<At<String>>,
    #[serde(default)]
    pub secrets: Vec<At<String>>,
    #[serde(default)]
    pub certificates: Vec<At<String>>,
    #[serde(default)]
    pub keys: Vec<At<String>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkAcls {
    /// What happens to traffic no rule matches.
    #[serde(default)]
    pub default_action: DefaultAction,
    #[serde(default)]
    pub bypass: Bypass,
    /// IPv4 addresses or CIDR prefixes allowed in.
    #[serde(default)]
    pub ip_rules: Vec<At<String>>,
    /// Subnets allowed in (they need the Microsoft.KeyVault service endpoint).
    #[serde(default)]
    pub virtual_network_rules: Vec<SubnetRule>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum DefaultAction {
    #[default]
    Allow,
    Deny,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Bypass {
    #[default]
    AzureServices,
    None,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubnetRule {
    /// The `VirtualNetwork` entry of the subnet.
    pub virtual_network: At<String>,
    pub subnet: At<String>,
}

const SECRET_PERMISSIONS: &[&str] = &[
    "all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge",
];
const CERTIFICATE_PERMISSIONS: &[&str] = &[
    "all",
    "get",
    "list",
    "delete",
    "create",
    "import",
    "update",
    "managecontacts",
    "getissuers",
    "listissuers",
    "setissuers",
    "deleteissuers",
    "manageissuers",
    "recover",
    "purge",
    "backup",
    "restore",
];
const KEY_PERMISSIONS: &[&str] = &[
    "all",
    "encrypt",
    "decrypt",
    "wrapKey",
    "unwrapKey",
    "sign",
    "verify",
    "get",
    "list",
    "create",
    "update",
    "import",
    "delete",
    "backup",
    "restore",
    "recover",
    "purge",
    "release",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
];

static RULES: Rules = Rules {
    keyed: &[
        ("properties.accessPolicies", "objectId"),
        ("properties.networkAcls.ipRules", "value"),
        ("properties.networkAcls.virtualNetworkRules", "id"),
    ],
    unordered: &[
        "properties.accessPolicies[].permissions.secrets",
        "properties.accessPolicies[].permissions.certificates",
        "properties.accessPolicies[].permissions.keys",
    ],
    case_insensitive: &[
        "properties.sku.name",
        "properties.publicNetworkAccess",
        "properties.networkAcls.bypass",
        "properties.networkAcls.defaultAction",
        "properties.accessPolicies[].tenantId",
        "properties.accessPolicies[].permissions.secrets[]",
        "properties.accessPolicies[].permissions.certificates[]",
        "properties.accessPolicies[].permissions.keys[]",
        "properties.tenantId",
    ],
    // Not `accessPolicies`: policies the manifest does not declare are someone else's.
    collections: &[
        "properties.networkAcls.ipRules",
        "properties.networkAcls.virtualNetworkRules",
    ],
};

impl ArmKind for KeyVault {
    fn name(&self) -> &'static str {
        "KeyVault"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.KeyVault/vaults"
    }
    fn api_version(&self) -> &'static str {
        "2023-07-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &[
            "id",
            "name",
            "type",
            "etag",
            "systemData",
            "properties.provisioningState",
            "properties.vaultUri",
            "properties.hsmPoolResourceId",
            "properties.privateEndpointConnections",
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }

    /// A vault GET may leave out what is at its default.
    fn normalize(&self, live: &mut Value) {
        let Some(props) = live.get_mut("properties").and_then(Value::as_object_mut) else {
            return;
        };
        for (key, default) in [
            ("enabledForDeployment", json!(false)),
            ("enabledForDiskEncryption", json!(false)),
            ("enabledForTemplateDeployment", json!(false)),
            ("enableSoftDelete", json!(true)),
            ("softDeleteRetentionInDays", json!(90)),
            ("enableRbacAuthorization", json!(false)),
            ("publicNetworkAccess", json!("Enabled")),
            ("accessPolicies", json!([])),
            ("networkAcls", json!({})),
        ] {
            if props.get(key).is_none_or(Value::is_null) {
                props.insert(key.into(), default);
            }
        }
        if let Some(acls) = props.get_mut("networkAcls").and_then(Value::as_object_mut) {
            for (key, default) in [
                ("bypass", json!("AzureServices")),
                ("defaultAction", json!("Allow")),
                ("ipRules", json!([])),
                ("virtualNetworkRules", json!([])),
            ] {
                if acls.get(key).is_none_or(Value::is_null) {
                    acls.insert(key.into(), default);
                }
            }
        }
    }

    fn destructive(&self, change: &FieldChange) -> Option<String> {
        let was_true = change.before.as_ref() == Some(&json!(true));
        match change.path.as_str() {
            "properties.enablePurgeProtection" if was_true => Some(
                "purge protection is on and can never be turned off: Azure keeps it on whatever \
                 is sent; set `purgeProtection: true` in the manifest"
                    .into(),
            ),
            "properties.softDeleteRetentionInDays" => Some(
                "the soft-delete retention is fixed when a vault is created: Azure refuses to \
                 change it; declare the vault's current retention"
                    .into(),
            ),
            "properties.enableRbacAuthorization" => Some(
                "the permission model changes: the grants of the current model (role \
                 assignments or access policies) stop applying, and readers such as the \
                 gateway lose access"
                    .into(),
            ),
            "properties.networkAcls.defaultAction"
                if change
                    .after
                    .as_ref()
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.eq_ignore_ascii_case("Allow")) =>
            {
                Some("the vault's firewall opens to every network".into())
            }
            _ => None,
        }
    }
}

impl Kind for KeyVault {
    type Spec = KeyVaultSpec;

    fn expand(&'static self, entry: &Entry<KeyVaultSpec>, cx: &mut Expander<'_>) {
        let spec = &entry.spec;
        let file = entry.file;
        check_vault_name(cx, file, &entry.name);
        let tenant = check_guid(cx, file, &spec.tenant_id, "tenantId");
        let retention = spec.soft_delete_retention_days.value;
        if !(7..=90).contains(&retention) {
            cx.error(
                file,
                spec.soft_delete_retention_days.pos,
                format!("a soft-delete retention of {retention} days is out of range"),
                Some("Key Vault keeps deleted objects for 7 to 90 days".into()),
            );
        }
        let rbac = *spec.authorization == Authorization::Rbac;
        if rbac && let Some(first) = spec.access_policies.first() {
            let pos = first
                .identity
                .as_ref()
                .or(first.object_id.as_ref())
                .map_or(spec.authorization.pos, |a| a.pos);
            cx.error(
                file,
                pos,
                "access policies are ignored by a vault in RBAC mode",
                Some(
                    "grant access with a `RoleAssignment`, or set `authorization: accessPolicies`"
                        .into(),
                ),
            );
        }
        let mut depends_on = Vec::new();
        let mut policies = Vec::new();
        for policy in &spec.access_policies {
            let object_id = match (&policy.identity, &policy.object_id) {
                (Some(identity), None) => {
                    cx.resolve(file, &UserAssignedIdentity, identity)
                        .map(|(id, _)| {
                            depends_on.push(id.clone());
                            live_ref(&id, "/properties/principalId")
                        })
                }
                (None, Some(object_id)) => {
                    check_guid(cx, file, object_id, "objectId").map(Value::String)
                }
                (identity, object_id) => {
                    let pos = identity
                        .as_ref()
                        .or(object_id.as_ref())
                        .map_or(entry.name.pos, |a| a.pos);
                    cx.error(
                        file,
                        pos,
                        "an access policy names its principal once: `identity` or `objectId`",
                        None,
                    );
                    None
                }
            };
            let permissions = json!({
                "secrets": permissions(cx, file, &policy.secrets, SECRET_PERMISSIONS, "secret"),
                "certificates": permissions(cx, file, &policy.certificates, CERTIFICATE_PERMISSIONS, "certificate"),
                "keys": permissions(cx, file, &policy.keys, KEY_PERMISSIONS, "key"),
            });
            if let (Some(object_id), Some(tenant)) = (object_id, &tenant) {
                policies.push(json!({
                    "tenantId": tenant,
                    "objectId": object_id,
                    "permissions": permissions,
                }));
            }
        }
        let acls = &spec.network_acls;
        let ip_rules: Vec<Value> = acls
            .ip_rules
            .iter()
            .filter_map(|ip| {
                let value = cx.ip_or_cidr(file, ip)?;
                if value.contains(':') {
                    cx.error(
                        file,
                        ip.pos,
                        format!("`{}` is IPv6; Key Vault firewall rules are IPv4", ip.value),
                        None,
                    );
                    return None;
                }
                // Key Vault answers a single address as a /32 prefix.
                let value = if value.contains('/') {
                    value
                } else {
                    format!("{value}/32")
                };
                Some(json!({ "value": value }))
            })
            .collect();
        let subnet_rules: Vec<Value> = acls
            .virtual_network_rules
            .iter()
            .filter_map(|rule| {
                let (vnet, _) = cx.resolve(file, &VirtualNetwork, &rule.virtual_network)?;
                Some(json!({ "id": format!("{vnet}/subnets/{}", rule.subnet.value) }))
            })
            .collect();
        let Some(placement) = cx.placement(entry, true) else {
            return;
        };
        let Some(tenant) = tenant else {
            return;
        };
        let body = json!({
            "location": placement.location,
            "properties": {
                "tenantId": tenant,
                "sku": { "family": "A", "name": spec.sku },
                "accessPolicies": policies,
                "enabledForDeployment": false,
                "enabledForDiskEncryption": false,
                "enabledForTemplateDeployment": false,
                "enableSoftDelete": true,
                "softDeleteRetentionInDays": retention,
                "enableRbacAuthorization": rbac,
                // Azure accepts only `true`; off is the property's absence.
                "enablePurgeProtection": if spec.purge_protection { json!(true) } else { Value::Null },
                "publicNetworkAccess": spec.public_network_access,
                "networkAcls": {
                    "bypass": acls.bypass,
                    "defaultAction": acls.default_action,
                    "ipRules": ip_rules,
                    "virtualNetworkRules": subnet_rules,
                },
            }
        });
        let id = placement.resource_id(self.arm_type(), &entry.name);
        let mut desired = cx.resource(self, entry, id, body);
        desired.depends_on = depends_on;
        cx.push(desired);
    }
}

fn permissions(
    cx: &mut Expander<'_>,
    file: usize,
    given: &[At<String>],
    known: &[&str],
    what: &str,
) -> Vec<String> {
    given
        .iter()
        .filter_map(
            |p| match known.iter().find(|k| k.eq_ignore_ascii_case(&p.value)) {
                Some(k) => Some((*k).to_owned()),
                None => {
                    cx.error(
                        file,
                        p.pos,
                        format!("`{}` is not a {what} permission", p.value),
                        Some(format!("one of: {}", known.join(", "))),
                    );
                    None
                }
            },
        )
        .collect()
}

/// A GUID, lower-cased, or an error at its position.
fn check_guid(cx: &mut Expander<'_>, file: usize, text: &At<String>, what: &str) -> Option<String> {
    match uuid::Uuid::parse_str(&text.value) {
        Ok(guid) => Some(guid.hyphenated().to_string()),
        Err(_) => {
            cx.error(
                file,
                text.pos,
                format!("{what} `{}` is not a GUID", text.value),
                Some("a GUID looks like 00000000-0000-0000-0000-000000000000".into()),
            );
            None
        }
    }
}

/// Vault names are DNS labels: 3 to 24 letters, digits and single hyphens, starting with a
/// letter and not ending in a hyphen.
fn check_vault_name(cx: &mut Expander<'_>, file: usize, name: &At<String>) {
    let n = &name.value;
    let ok = (3..=24).contains(&n.len())
        && n.starts_with(|c: char| c.is_ascii_alphabetic())
        && !n.ends_with('-')
        && !n.contains("--")
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        cx.error(
            file,
            name.pos,
            format!("`{n}` is not a valid Key Vault name"),
            Some(
                "use 3-24 letters, digits and single hyphens, starting with a letter and not \
                 ending with a hyphen (the name becomes <name>.vault.azure.net)"
                    .into(),
            ),
        );
    }
}
