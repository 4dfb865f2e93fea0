//! Application gateways as real ARM runs them: a long-running PUT that a newer PUT supersedes
//! (the earlier operation ends `Canceled`); every named child (listeners, pools, ports, path
//! rules, ...) gets its id, etag, type and provisioning state; references between children, to
//! WAF policies and to user-assigned identities are checked; Key Vault secret IDs must be secret
//! URIs; server defaults are filled; write-only certificate secrets are dropped; and GET adds the
//! back-references between children that real ARM shows.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::{
    LongRunning, PutContext, ResourceKind, default_to, objects_mut, properties_mut, reference_id,
    stable_uuid,
};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::Store;

pub(crate) struct ApplicationGateway;

const TYPE: &str = "Microsoft.Network/applicationGateways";

/// Collections of named children, addressed as `{gateway id}/{collection}/{name}`.
const SUB_RESOURCES: &[&str] = &[
    "gatewayIPConfigurations",
    "authenticationCertificates",
    "trustedRootCertificates",
    "trustedClientCertificates",
    "sslCertificates",
    "frontendIPConfigurations",
    "frontendPorts",
    "probes",
    "backendAddressPools",
    "backendHttpSettingsCollection",
    "backendSettingsCollection",
    "httpListeners",
    "listeners",
    "sslProfiles",
    "urlPathMaps",
    "requestRoutingRules",
    "routingRules",
    "rewriteRuleSets",
    "redirectConfigurations",
    "privateLinkConfigurations",
    "loadDistributionPolicies",
];

/// Path rules live inside URL path maps: `{gateway id}/urlPathMaps/{map}/pathRules/{rule}`.
const PATH_RULES: &str = "pathRules";

/// Collections GET shows as `[]` when the client sent none (per the create example).
const EMPTY_BY_DEFAULT: &[&str] = &[
    "authenticationCertificates",
    "loadDistributionPolicies",
    "listeners",
    "urlPathMaps",
    "routingRules",
    "probes",
    "redirectConfigurations",
    "privateEndpointConnections",
];

/// Read-only gateway properties: the server fills them, a client's values are ignored.
const READ_ONLY: &[&str] = &[
    "operationalState",
    "privateEndpointConnections",
    "defaultPredefinedSslPolicy",
];

/// Back-references real ARM adds to GET responses (they are not in the Azure REST API specs,
/// but every gateway read with the CLI or the portal's JSON view shows them): a child referenced
/// by another lists the referrers' IDs. Rows are (referring collection, its reference property,
/// referenced collection, back-reference property).
const BACK_REFERENCES: &[(&str, &str, &str, &str)] = &[
    (
        "httpListeners",
        "frontendIPConfiguration",
        "frontendIPConfigurations",
        "httpListeners",
    ),
    (
        "httpListeners",
        "frontendPort",
        "frontendPorts",
        "httpListeners",
    ),
    (
        "httpListeners",
        "sslCertificate",
        "sslCertificates",
        "httpListeners",
    ),
    (
        "requestRoutingRules",
        "httpListener",
        "httpListeners",
        "requestRoutingRules",
    ),
    (
        "requestRoutingRules",
        "backendAddressPool",
        "backendAddressPools",
        "requestRoutingRules",
    ),
    (
        "requestRoutingRules",
        "backendHttpSettings",
        "backendHttpSettingsCollection",
        "requestRoutingRules",
    ),
    (
        "requestRoutingRules",
        "urlPathMap",
        "urlPathMaps",
        "requestRoutingRules",
    ),
    (
        "requestRoutingRules",
        "rewriteRuleSet",
        "rewriteRuleSets",
        "requestRoutingRules",
    ),
    (
        "backendHttpSettingsCollection",
        "probe",
        "probes",
        "backendHttpSettings",
    ),
    (
        "urlPathMaps",
        "defaultBackendHttpSettings",
        "backendHttpSettingsCollection",
        "urlPathMaps",
    ),
    (
        PATH_RULES,
        "backendAddressPool",
        "backendAddressPools",
        "pathRules",
    ),
    (
        PATH_RULES,
        "backendHttpSettings",
        "backendHttpSettingsCollection",
        "pathRules",
    ),
    (PATH_RULES, "rewriteRuleSet", "rewriteRuleSets", "pathRules"),
];

/// The predefined SSL policy ARM applies when a gateway has no `sslPolicy` (the default of the
/// api-versions from 2023-02-01 on), shown in the read-only `defaultPredefinedSslPolicy`.
const DEFAULT_SSL_POLICY: &str = "AppGwSslPolicy20220101";

/// What GET shows as `publicCertData` of a certificate: the real one is the certificate's
/// public part, base64; this is a fixed stand-in.
const PUBLIC_CERT_DATA: &str = "MIIBemulatorAAAAcGxhY2Vob2xkZXItcHVibGljLWNlcnQtZGF0YQ==";

impl ResourceKind for ApplicationGateway {
    fn type_name(&self, _id: &ArmId) -> String {
        TYPE.into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: true,
            delete: true,
        }
    }

    fn superseding_put_operation(&self) -> Option<&'static str> {
        Some("PutApplicationGatewayOperation")
    }

    fn has_resource_guid(&self) -> bool {
        true
    }

    fn prepare(&self, ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        fill_identities(ctx, body)?;
        let props = properties_mut(body);
        for key in READ_ONLY {
            props.remove(*key);
        }
        props.insert("operationalState".into(), json!("Running"));
        // ARM's defaults when omitted: HTTP/2 off, and no explicit SSL policy but the default
        // predefined one reported.
        default_to(props, "enableHttp2", json!(false));
        props.insert(
            "defaultPredefinedSslPolicy".into(),
            json!(DEFAULT_SSL_POLICY),
        );
        for key in EMPTY_BY_DEFAULT {
            default_to(props, key, json!([]));
        }
        for &(_, _, referenced, back) in BACK_REFERENCES {
            for child in objects_mut(props, referenced) {
                if let Some(child_props) =
                    child.get_mut("properties").and_then(Value::as_object_mut)
                {
                    child_props.remove(back);
                }
            }
        }
        for collection in SUB_RESOURCES {
            for item in objects_mut(props, collection) {
                let Some(name) = child_name(item) else {
                    continue;
                };
                let id = ctx.id.child(collection, &name).to_string();
                let sub_props = fill_child(item, &id, Some(collection), ctx.etag);
                fill_defaults(collection, sub_props, &id)?;
                if *collection == "urlPathMaps" {
                    for rule in objects_mut(sub_props, PATH_RULES) {
                        let Some(rule_name) = child_name(rule) else {
                            continue;
                        };
                        let rule_id = format!("{id}/{PATH_RULES}/{rule_name}");
                        // The specs give path rules no `type`.
                        fill_child(rule, &rule_id, None, ctx.etag);
                    }
                }
            }
        }
        check_references(ctx, body)
    }

    fn compose(&self, _store: &Store, _id: &ArmId, doc: &mut Value) {
        let Some(props) = doc.get_mut("properties").and_then(Value::as_object_mut) else {
            return;
        };
        let mut found: Vec<(&str, String, &str, String)> = Vec::new();
        for &(referring, property, referenced, back) in BACK_REFERENCES {
            for (collection, child) in children(props) {
                if collection != referring {
                    continue;
                }
                let (Some(by), Some(target)) = (
                    child.get("id").and_then(Value::as_str),
                    child
                        .get("properties")
                        .and_then(|p| p.get(property))
                        .and_then(|r| r.get("id"))
                        .and_then(Value::as_str),
                ) else {
                    continue;
                };
                found.push((referenced, target.to_ascii_lowercase(), back, by.to_owned()));
            }
        }
        for (referenced, target, back, by) in found {
            let child = objects_mut(props, referenced).find(|c| {
                c.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| id.eq_ignore_ascii_case(&target))
            });
            if let Some(child_props) = child
                .and_then(|c| c.get_mut("properties"))
                .and_then(Value::as_object_mut)
            {
                let list = child_props.entry(back).or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.push(json!({ "id": by }));
                }
            }
        }
    }
}

fn child_name(item: &Map<String, Value>) -> Option<String> {
    item.get("name").and_then(Value::as_str).map(str::to_owned)
}

/// Gives a child its id, etag (the gateway's, as in real ARM), type (`{gateway type}/{collection}`,
/// when the spec declares one) and provisioning state; returns its properties.
fn fill_child<'a>(
    item: &'a mut Map<String, Value>,
    id: &str,
    collection: Option<&str>,
    etag: &str,
) -> &'a mut Map<String, Value> {
    item.insert("id".into(), json!(id));
    item.insert("etag".into(), json!(etag));
    if let Some(collection) = collection {
        item.insert("type".into(), json!(format!("{TYPE}/{collection}")));
    }
    let sub_props = item.entry("properties").or_insert_with(|| json!({}));
    if !sub_props.is_object() {
        *sub_props = json!({});
    }
    let sub_props = sub_props.as_object_mut().expect("just made an object");
    sub_props.insert("provisioningState".into(), json!("Succeeded"));
    sub_props
}

/// The defaults ARM fills in a child of `collection` when the client leaves them out.
fn fill_defaults(
    collection: &str,
    props: &mut Map<String, Value>,
    id: &str,
) -> Result<(), ArmError> {
    match collection {
        "frontendIPConfigurations" if !props.contains_key("privateIPAddress") => {
            default_to(props, "privateIPAllocationMethod", json!("Dynamic"));
        }
        "backendAddressPools" => {
            default_to(props, "backendAddresses", json!([]));
            // Read-only: the NICs and scale sets that joined the pool; none here.
            props.insert("backendIPConfigurations".into(), json!([]));
        }
        // The create example and the service's documented defaults: no session affinity, a
        // 30-second request timeout, the host header not taken from the backend.
        "backendHttpSettingsCollection" => {
            default_to(props, "cookieBasedAffinity", json!("Disabled"));
            default_to(props, "requestTimeout", json!(30));
            default_to(props, "pickHostNameFromBackendAddress", json!(false));
        }
        // ARM now adds the default healthy range to a probe sent without `match` (Terraform's
        // acceptance tests broke on it in 2024), and reports minServers 0 and host-name picking
        // off when omitted.
        "probes" => {
            let has_codes = props
                .get("match")
                .and_then(|m| m.get("statusCodes"))
                .is_some();
            if !has_codes {
                let matched = props.entry("match").or_insert_with(|| json!({}));
                if let Some(matched) = matched.as_object_mut() {
                    matched.insert("statusCodes".into(), json!(["200-399"]));
                }
            }
            default_to(props, "pickHostNameFromBackendHttpSettings", json!(false));
            default_to(props, "minServers", json!(0));
        }
        // SNI is required for an HTTPS listener with host names (multi-site), not otherwise.
        "httpListeners" => {
            let https = props
                .get("protocol")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case("Https"));
            let named = props.get("hostName").is_some_and(|h| h.is_string())
                || props
                    .get("hostNames")
                    .and_then(Value::as_array)
                    .is_some_and(|h| !h.is_empty());
            default_to(props, "requireServerNameIndication", json!(https && named));
            default_to(props, "hostNames", json!([]));
        }
        // Write-only secrets are never returned; GET shows the public part instead.
        "sslCertificates" => {
            props.remove("data");
            props.remove("password");
            if let Some(secret) = props.get("keyVaultSecretId").and_then(Value::as_str)
                && !is_secret_uri(secret)
            {
                return Err(ArmError::invalid_key_vault_secret_id(secret, id));
            }
            props.insert("publicCertData".into(), json!(PUBLIC_CERT_DATA));
        }
        _ => {}
    }
    Ok(())
}

/// Whether `uri` is `https://{vault}.{domain}/secrets/{name}` with an optional version.
fn is_secret_uri(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    url.scheme() == "https"
        && url.host_str().is_some_and(|h| h.contains('.'))
        && matches!(segments.as_slice(), ["secrets", _] | ["secrets", _, _])
}

/// The objects of an optional JSON array.
fn objects(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// Every child with its collection (`pathRules` for the rules inside URL path maps).
fn children(props: &Map<String, Value>) -> Vec<(&str, &Map<String, Value>)> {
    let mut out = Vec::new();
    for collection in SUB_RESOURCES {
        for child in objects(props.get(*collection)) {
            out.push((*collection, child));
            if *collection == "urlPathMaps" {
                let rules = objects(child.get("properties").and_then(|p| p.get(PATH_RULES)));
                out.extend(rules.map(|rule| (PATH_RULES, rule)));
            }
        }
    }
    out
}

/// The `{"id": ...}` references in a child's properties, one level deep (single references and
/// lists of them), with the property name.
fn references(child: &Map<String, Value>) -> Vec<(&str, &str)> {
    let Some(props) = child.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in props {
        if key == PATH_RULES {
            continue;
        }
        match value {
            Value::Object(_) => out.extend(id_of(value).map(|id| (key.as_str(), id))),
            Value::Array(items) => {
                out.extend(
                    items
                        .iter()
                        .filter_map(|item| id_of(item))
                        .map(|id| (key.as_str(), id)),
                );
            }
            _ => {}
        }
    }
    out
}

fn id_of(value: &Value) -> Option<&str> {
    value.get("id").and_then(Value::as_str)
}

/// ARM's checks of what a gateway refers to: children must exist in the same body, WAF
/// policies (of the gateway, a listener or a path rule) in the store.
fn check_references(ctx: &PutContext<'_>, body: &Value) -> Result<(), ArmError> {
    if let Some(policy) = reference_id(body, "firewallPolicy")
        && ctx.store.get_str(policy).is_none()
    {
        return Err(ArmError::invalid_reference(policy, ctx.id));
    }
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    let children = children(props);
    let known: HashSet<String> = children
        .iter()
        .filter_map(|(_, c)| c.get("id").and_then(Value::as_str))
        .map(str::to_ascii_lowercase)
        .collect();
    let own_prefix = format!("{}/", ctx.id.key());
    for (_, child) in &children {
        let by = child.get("id").and_then(Value::as_str).unwrap_or_default();
        for (property, target) in references(child) {
            let lower = target.trim_end_matches('/').to_ascii_lowercase();
            if lower.starts_with(&own_prefix) && !known.contains(&lower) {
                return Err(ArmError::invalid_resource_reference(target, by));
            }
            if property == "firewallPolicy" && ctx.store.get_str(target).is_none() {
                return Err(ArmError::invalid_resource_reference(target, by));
            }
        }
    }
    Ok(())
}

/// Checks that every user-assigned identity exists and fills the `principalId` and `clientId`
/// GET shows for it (the identity's own, when it has them).
fn fill_identities(ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
    let Some(identities) = body
        .get_mut("identity")
        .and_then(|i| i.get_mut("userAssignedIdentities"))
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    for (identity_id, value) in identities.iter_mut() {
        let identity = ctx
            .store
            .get_str(identity_id)
            .ok_or_else(|| ArmError::identity_not_found(identity_id, ctx.id))?;
        let field = |name: &str| {
            identity
                .get("properties")
                .and_then(|p| p.get(name))
                .cloned()
                .unwrap_or_else(|| json!(stable_uuid(&format!("{name}:{identity_id}"))))
        };
        *value = json!({ "principalId": field("principalId"), "clientId": field("clientId") });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_uris_need_the_secrets_path() {
        assert!(is_secret_uri(
            "https://kv-edge.vault.azure.net/secrets/wildcard/"
        ));
        assert!(is_secret_uri(
            "https://kv-edge.vault.azure.net/secrets/wildcard/0123456789abcdef"
        ));
        assert!(!is_secret_uri(
            "https://kv-edge.vault.azure.net/certificates/wildcard/"
        ));
        assert!(!is_secret_uri(
            "http://kv-edge.vault.azure.net/secrets/wildcard"
        ));
        assert!(!is_secret_uri(
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/kv"
        ));
    }
}
