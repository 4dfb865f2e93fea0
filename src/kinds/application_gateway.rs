//! `ApplicationGateway`: a v2 gateway (WAF_v2 or Standard_v2) with listeners per host name,
//! path-based routing per region, backends such as Azure OpenAI accounts, and a Key Vault
//! certificate read through a user-assigned identity.
//!
//! A gateway is one ARM resource whose children (listeners, rules, pools, ...) are arrays in its
//! body, so however many children drift it costs one GET and at most one PUT. Children are
//! referred to by name in the manifest; this file builds their full sub-resource IDs.
//! Under `ownership: shared`, children the manifest does not declare belong to someone else
//! (AGIC, another team's pipeline) and are kept exactly as they are, in the diff and in the PUT.

use super::{
    ArmKind, Expander, Kind,
    public_ip_address::PublicIpAddress,
    user_assigned_identity::UserAssignedIdentity,
    virtual_network::{SubnetRef, VirtualNetwork},
    waf_policy::WafPolicy,
};
use crate::diff::{FieldChange, Rules};
use crate::manifest::{At, Entry, Pos};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashSet;

pub struct ApplicationGateway;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewaySpec {
    /// `exclusive`: children the manifest does not declare are drift (removing them is
    /// destructive). `shared`: only declared children are owned; the rest is left alone.
    #[serde(default)]
    pub ownership: Ownership,
    #[serde(default)]
    pub sku: Sku,
    pub autoscale: Autoscale,
    #[serde(default)]
    pub zones: Vec<String>,
    /// The `UserAssignedIdentity` the gateway reads Key Vault certificates with.
    pub identity: Option<At<String>>,
    /// The dedicated subnet the gateway lives in.
    pub subnet: SubnetRef,
    pub frontend: Frontend,
    pub frontend_ports: Vec<FrontendPort>,
    #[serde(default)]
    pub ssl_certificates: Vec<SslCertificate>,
    pub listeners: Vec<Listener>,
    pub backend_pools: Vec<BackendPool>,
    #[serde(default)]
    pub probes: Vec<Probe>,
    pub backend_settings: Vec<BackendSettings>,
    #[serde(default)]
    pub url_path_maps: Vec<UrlPathMap>,
    #[serde(default)]
    pub rewrite_rule_sets: Vec<RewriteRuleSet>,
    pub routing_rules: Vec<RoutingRule>,
    /// The gateway's WAF policy (a `WafPolicy` entry); needs the WAF_v2 SKU.
    pub waf_policy: Option<At<String>>,
    #[serde(default)]
    pub ssl_policy: SslPolicy,
    #[serde(default)]
    pub enable_http2: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Ownership {
    #[default]
    Exclusive,
    Shared,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[allow(non_camel_case_types)]
pub enum Sku {
    #[default]
    WAF_v2,
    Standard_v2,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Autoscale {
    pub min_capacity: At<u32>,
    pub max_capacity: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Frontend {
    /// A `PublicIpAddress` entry.
    pub public_ip: At<String>,
    /// A static private address in the gateway's subnet, for callers inside the VNets.
    pub private_ip: Option<At<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FrontendPort {
    pub name: At<String>,
    pub port: At<u16>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SslCertificate {
    pub name: At<String>,
    /// The certificate's versionless secret URI: `https://<vault>.vault.azure.net/secrets/<name>/`,
    /// so that a renewal in Key Vault reaches the gateway by itself.
    pub key_vault_secret_id: At<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FrontendChoice {
    #[default]
    Public,
    Private,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Listener {
    pub name: At<String>,
    #[serde(default)]
    pub frontend: FrontendChoice,
    pub frontend_port: At<String>,
    #[serde(default)]
    pub protocol: Protocol,
    /// Host names (multi-site), wildcards allowed in the first label: `*.example.com`.
    #[serde(default)]
    pub host_names: Vec<At<String>>,
    /// One of `sslCertificates`; required for Https.
    pub ssl_certificate: Option<At<String>>,
    /// A per-listener `WafPolicy`.
    pub waf_policy: Option<At<String>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Protocol {
    #[default]
    Https,
    Http,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendPool {
    pub name: At<String>,
    /// Backend host names, for example Azure OpenAI accounts' `<name>.openai.azure.com`.
    #[serde(default)]
    pub fqdns: Vec<String>,
    #[serde(default)]
    pub ip_addresses: Vec<At<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    pub name: At<String>,
    #[serde(default)]
    pub protocol: Protocol,
    #[serde(default = "slash")]
    pub path: String,
    #[serde(default = "thirty")]
    pub interval: u32,
    #[serde(default = "thirty")]
    pub timeout: u32,
    #[serde(default = "three")]
    pub unhealthy_threshold: u32,
    /// Status codes that count as healthy. Azure OpenAI answers 401 or 404 on bare paths.
    #[serde(default = "healthy_codes")]
    pub status_codes: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendSettings {
    pub name: At<String>,
    #[serde(default = "https_port")]
    pub port: u16,
    #[serde(default)]
    pub protocol: Protocol,
    /// `fromBackend` (the backend's own host name, as Azure OpenAI needs) or a fixed host name.
    #[serde(default)]
    pub host_name: HostName,
    /// One of `probes`.
    pub probe: Option<At<String>>,
    /// Seconds; ARM's default is 30.
    #[serde(default = "thirty")]
    pub request_timeout: u32,
    /// Replaces the path a path rule matched: with rule `/eastus2/*` and path `/`,
    /// `/eastus2/openai/x` reaches the backend as `/openai/x`.
    pub path: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum HostName {
    #[default]
    FromBackend,
    Fixed(String),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UrlPathMap {
    pub name: At<String>,
    pub default_backend_pool: At<String>,
    pub default_backend_settings: At<String>,
    pub path_rules: Vec<PathRule>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PathRule {
    pub name: At<String>,
    pub paths: Vec<At<String>>,
    pub backend_pool: At<String>,
    pub backend_settings: At<String>,
    pub rewrite_rule_set: Option<At<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RewriteRuleSet {
    pub name: At<String>,
    pub rules: Vec<RewriteRule>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RewriteRule {
    pub name: String,
    pub rule_sequence: u32,
    /// Request headers to set: name -> value (an empty value removes the header).
    #[serde(default)]
    pub request_headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub response_headers: std::collections::BTreeMap<String, String>,
    /// A new URL path, for example `/{var_uri_path_1}`.
    pub modified_path: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoutingRule {
    pub name: At<String>,
    /// 1 (first) to 20000; unique per gateway.
    pub priority: At<u32>,
    pub listener: At<String>,
    /// Path-based routing; otherwise `backendPool` + `backendSettings`.
    pub url_path_map: Option<At<String>>,
    pub backend_pool: Option<At<String>>,
    pub backend_settings: Option<At<String>>,
    pub rewrite_rule_set: Option<At<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SslPolicy {
    /// A predefined policy; the default, AppGwSslPolicy20220101, has TLS 1.2 as its minimum.
    pub policy_name: String,
}

impl Default for SslPolicy {
    fn default() -> Self {
        SslPolicy {
            policy_name: "AppGwSslPolicy20220101".into(),
        }
    }
}

fn slash() -> String {
    "/".into()
}
fn thirty() -> u32 {
    30
}
fn three() -> u32 {
    3
}
fn https_port() -> u16 {
    443
}
fn healthy_codes() -> Vec<String> {
    vec!["200-399".into()]
}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[
        "zones",
        "properties.httpListeners[].properties.hostNames",
        "properties.backendAddressPools[].properties.backendAddresses",
        "properties.probes[].properties.match.statusCodes",
        "properties.urlPathMaps[].properties.pathRules[].properties.paths",
    ],
    case_insensitive: &[
        "identity.type",
        "properties.sku.name",
        "properties.sku.tier",
        "properties.sslPolicy.policyType",
        "properties.sslPolicy.policyName",
        "properties.frontendIPConfigurations[].properties.privateIPAllocationMethod",
        "properties.httpListeners[].properties.protocol",
        "properties.httpListeners[].properties.hostNames[]",
        "properties.probes[].properties.protocol",
        "properties.backendHttpSettingsCollection[].properties.protocol",
        "properties.backendHttpSettingsCollection[].properties.cookieBasedAffinity",
        "properties.requestRoutingRules[].properties.ruleType",
        "properties.sslCertificates[].properties.keyVaultSecretId",
        "properties.backendAddressPools[].properties.backendAddresses[].fqdn",
    ],
    collections: &[
        "properties.gatewayIPConfigurations",
        "properties.frontendIPConfigurations",
        "properties.frontendPorts",
        "properties.sslCertificates",
        "properties.httpListeners",
        "properties.backendAddressPools",
        "properties.backendHttpSettingsCollection",
        "properties.probes",
        "properties.urlPathMaps",
        "properties.urlPathMaps[].properties.pathRules",
        "properties.rewriteRuleSets",
        "properties.requestRoutingRules",
    ],
};

/// Fields ARM fills or owns: identifiers, states, and the back-references it adds to GET
/// responses (a port lists its listeners, a pool its rules, ...), which a client never sends.
const READ_ONLY: &[&str] = &[
    "id",
    "name",
    "type",
    "etag",
    "identity.principalId",
    "identity.tenantId",
    "identity.userAssignedIdentities.*.principalId",
    "identity.userAssignedIdentities.*.clientId",
    "properties.provisioningState",
    "properties.resourceGuid",
    "properties.operationalState",
    "properties.defaultPredefinedSslPolicy",
    "properties.privateEndpointConnections",
    "properties.*[].etag",
    "properties.*[].type",
    "properties.*[].properties.provisioningState",
    "properties.urlPathMaps[].properties.pathRules[].etag",
    "properties.urlPathMaps[].properties.pathRules[].type",
    "properties.urlPathMaps[].properties.pathRules[].properties.provisioningState",
    "properties.frontendIPConfigurations[].properties.httpListeners",
    "properties.frontendIPConfigurations[].properties.listeners",
    "properties.frontendPorts[].properties.httpListeners",
    "properties.frontendPorts[].properties.listeners",
    "properties.sslCertificates[].properties.httpListeners",
    "properties.sslCertificates[].properties.listeners",
    "properties.sslCertificates[].properties.publicCertData",
    "properties.backendAddressPools[].properties.requestRoutingRules",
    "properties.backendAddressPools[].properties.pathRules",
    "properties.backendAddressPools[].properties.urlPathMaps",
    "properties.backendAddressPools[].properties.backendIPConfigurations",
    "properties.backendHttpSettingsCollection[].properties.requestRoutingRules",
    "properties.backendHttpSettingsCollection[].properties.urlPathMaps",
    "properties.backendHttpSettingsCollection[].properties.pathRules",
    "properties.probes[].properties.backendHttpSettings",
    "properties.httpListeners[].properties.requestRoutingRules",
    "properties.urlPathMaps[].properties.requestRoutingRules",
    "properties.rewriteRuleSets[].properties.requestRoutingRules",
    "properties.rewriteRuleSets[].properties.pathRules",
    "properties.rewriteRuleSets[].properties.urlPathMaps",
];

impl ArmKind for ApplicationGateway {
    fn name(&self) -> &'static str {
        "ApplicationGateway"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/applicationGateways"
    }
    fn api_version(&self) -> &'static str {
        "2024-01-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        READ_ONLY
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }

    /// ARM's implicit defaults and re-spellings, made explicit so they are not drift.
    fn normalize(&self, live: &mut Value) {
        // Live bodies come from the network: nothing here may assume their shape.
        let Some(props) = live.get_mut("properties") else {
            return;
        };
        for probe in child_properties(props, "probes") {
            let codes = probe.get("match").and_then(|m| m.get("statusCodes"));
            // A probe without a match answers healthy on 200-399; ARM may return no match at all.
            if codes.and_then(Value::as_array).is_none_or(Vec::is_empty) {
                probe.insert("match".into(), json!({ "statusCodes": ["200-399"] }));
            }
        }
        for listener in child_properties(props, "httpListeners") {
            // One host name may come back in the singular field.
            let single = listener
                .get("hostName")
                .and_then(Value::as_str)
                .map(str::to_string);
            let many = listener.get("hostNames").and_then(Value::as_array);
            if let (Some(host), true) = (single, many.is_none_or(Vec::is_empty)) {
                listener.insert("hostNames".into(), json!([host]));
            }
        }
        for cert in child_properties(props, "sslCertificates") {
            if let Some(id) = cert.get("keyVaultSecretId").and_then(Value::as_str) {
                let trimmed = json!(id.trim_end_matches('/'));
                cert.insert("keyVaultSecretId".into(), trimmed);
            }
        }
    }

    fn destructive(&self, change: &FieldChange) -> Option<String> {
        (change.path.starts_with("properties.sku.tier") || change.path == "properties.sku")
            .then(|| "the SKU tier changes: the gateway is rebuilt".to_string())
    }
}

/// The `properties` objects of the children in one collection (made empty when a child has
/// none); children that are not objects are skipped.
fn child_properties<'v>(
    props: &'v mut Value,
    collection: &str,
) -> impl Iterator<Item = &'v mut serde_json::Map<String, Value>> {
    props
        .get_mut(collection)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
        .filter_map(|child| {
            child
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()
        })
}

/// Names declared in one child collection, for checking references within the gateway.
struct Names<'a> {
    what: &'static str,
    names: HashSet<String>,
    list: Vec<&'a str>,
}

impl<'a> Names<'a> {
    fn new(
        what: &'static str,
        names: impl Iterator<Item = &'a At<String>>,
        file: usize,
        cx: &mut Expander<'_>,
    ) -> Self {
        let mut set = HashSet::new();
        let mut list = Vec::new();
        for name in names {
            if !set.insert(name.value.to_ascii_lowercase()) {
                cx.error(
                    file,
                    name.pos,
                    format!("duplicate {what} name `{}`", name.value),
                    None,
                );
            }
            list.push(name.value.as_str());
        }
        Names {
            what,
            names: set,
            list,
        }
    }

    /// Whether `reference` names one of them; reports it at its position if not.
    fn check(&self, reference: &At<String>, file: usize, cx: &mut Expander<'_>) -> bool {
        let ok = self.names.contains(&reference.value.to_ascii_lowercase());
        if !ok {
            cx.error(
                file,
                reference.pos,
                format!(
                    "no {} named `{}` in this gateway",
                    self.what, reference.value
                ),
                Some(if self.list.is_empty() {
                    format!("declare it under the gateway's {}", self.what)
                } else {
                    format!("declared: {}", self.list.join(", "))
                }),
            );
        }
        ok
    }
}

impl Kind for ApplicationGateway {
    type Spec = GatewaySpec;

    fn expand(&'static self, entry: &Entry<GatewaySpec>, cx: &mut Expander<'_>) {
        let spec = &entry.spec;
        let file = entry.file;
        let Some(placement) = cx.placement(entry, true) else {
            return;
        };
        let gw = placement.resource_id(self.arm_type(), &entry.name);
        let child =
            |collection: &str, name: &str| json!({ "id": format!("{gw}/{collection}/{name}") });
        let mut warnings = Vec::new();
        let mut depends_on = Vec::new();

        // References to other entries.
        let vnet = cx.resolve(file, &VirtualNetwork, &spec.subnet.virtual_network);
        let pip = cx.resolve(file, &PublicIpAddress, &spec.frontend.public_ip);
        let identity = spec
            .identity
            .as_ref()
            .and_then(|i| cx.resolve(file, &UserAssignedIdentity, i));
        let waf = spec
            .waf_policy
            .as_ref()
            .and_then(|w| cx.resolve(file, &WafPolicy, w));
        if spec.waf_policy.is_some() && spec.sku != Sku::WAF_v2 {
            let pos = spec.waf_policy.as_ref().map_or(Pos::default(), |w| w.pos);
            cx.error(
                file,
                pos,
                "a WAF policy needs the WAF_v2 SKU",
                Some("set `sku: WAF_v2`".into()),
            );
        }
        if let Some(max) = spec
            .autoscale
            .max_capacity
            .filter(|max| *max < spec.autoscale.min_capacity.value || *max > 125)
        {
            cx.error(
                file,
                spec.autoscale.min_capacity.pos,
                format!(
                    "autoscale {}..{max} is not a range Azure accepts",
                    spec.autoscale.min_capacity.value
                ),
                Some("0 <= minCapacity <= maxCapacity <= 125".into()),
            );
        }

        // Names within the gateway, and the references between its children.
        let ports = Names::new(
            "frontendPort",
            spec.frontend_ports.iter().map(|p| &p.name),
            file,
            cx,
        );
        let certs = Names::new(
            "sslCertificate",
            spec.ssl_certificates.iter().map(|c| &c.name),
            file,
            cx,
        );
        let listeners = Names::new("listener", spec.listeners.iter().map(|l| &l.name), file, cx);
        let pools = Names::new(
            "backendPool",
            spec.backend_pools.iter().map(|p| &p.name),
            file,
            cx,
        );
        let probes = Names::new("probe", spec.probes.iter().map(|p| &p.name), file, cx);
        let settings = Names::new(
            "backendSettings",
            spec.backend_settings.iter().map(|s| &s.name),
            file,
            cx,
        );
        let maps = Names::new(
            "urlPathMap",
            spec.url_path_maps.iter().map(|m| &m.name),
            file,
            cx,
        );
        let rewrites = Names::new(
            "rewriteRuleSet",
            spec.rewrite_rule_sets.iter().map(|r| &r.name),
            file,
            cx,
        );
        // Checked for duplicates only: nothing refers to a routing rule.
        Names::new(
            "routingRule",
            spec.routing_rules.iter().map(|r| &r.name),
            file,
            cx,
        );

        let mut seen_ports = HashSet::new();
        for p in &spec.frontend_ports {
            if p.port.value == 0 || !seen_ports.insert(p.port.value) {
                cx.error(
                    file,
                    p.port.pos,
                    format!("port {} is zero or used twice", p.port.value),
                    None,
                );
            }
        }
        for c in &spec.ssl_certificates {
            if let Some(warning) = check_secret_id(&c.key_vault_secret_id, file, cx) {
                warnings.push(warning);
            }
        }
        let mut listener_wafs = Vec::new();
        for l in &spec.listeners {
            ports.check(&l.frontend_port, file, cx);
            match (&l.ssl_certificate, l.protocol) {
                (Some(c), _) => {
                    certs.check(c, file, cx);
                }
                (None, Protocol::Https) => cx.error(
                    file,
                    l.name.pos,
                    format!("Https listener `{}` has no sslCertificate", l.name.value),
                    Some("name one of the gateway's sslCertificates".into()),
                ),
                (None, Protocol::Http) => {}
            }
            for host in &l.host_names {
                check_host_name(host, file, cx);
            }
            if l.frontend == FrontendChoice::Private && spec.frontend.private_ip.is_none() {
                cx.error(
                    file,
                    l.name.pos,
                    "the listener uses the private frontend, which has no privateIp",
                    None,
                );
            }
            let waf = l
                .waf_policy
                .as_ref()
                .and_then(|w| cx.resolve(file, &WafPolicy, w));
            listener_wafs.push(waf.map(|(id, _)| id));
        }
        for s in &spec.backend_settings {
            if let Some(p) = &s.probe {
                probes.check(p, file, cx);
            }
        }
        for m in &spec.url_path_maps {
            pools.check(&m.default_backend_pool, file, cx);
            settings.check(&m.default_backend_settings, file, cx);
            for r in &m.path_rules {
                pools.check(&r.backend_pool, file, cx);
                settings.check(&r.backend_settings, file, cx);
                if let Some(rw) = &r.rewrite_rule_set {
                    rewrites.check(rw, file, cx);
                }
                for path in &r.paths {
                    if !path.value.starts_with('/') {
                        cx.error(
                            file,
                            path.pos,
                            format!("path `{}` does not start with /", path.value),
                            None,
                        );
                    }
                }
            }
        }
        let mut priorities = HashSet::new();
        for r in &spec.routing_rules {
            listeners.check(&r.listener, file, cx);
            if !(1..=20000).contains(&r.priority.value) || !priorities.insert(r.priority.value) {
                cx.error(
                    file,
                    r.priority.pos,
                    format!(
                        "priority {} is outside 1..20000 or used twice",
                        r.priority.value
                    ),
                    Some("every routing rule needs its own priority".into()),
                );
            }
            match (&r.url_path_map, &r.backend_pool, &r.backend_settings) {
                (Some(m), None, None) => {
                    maps.check(m, file, cx);
                }
                (None, Some(p), Some(s)) => {
                    pools.check(p, file, cx);
                    settings.check(s, file, cx);
                }
                _ => cx.error(
                    file,
                    r.name.pos,
                    format!("routing rule `{}` needs either urlPathMap, or backendPool and backendSettings", r.name.value),
                    None,
                ),
            }
            if let Some(rw) = &r.rewrite_rule_set {
                rewrites.check(rw, file, cx);
            }
        }
        for pool in &spec.backend_pools {
            for ip in &pool.ip_addresses {
                if ip.value.parse::<std::net::IpAddr>().is_err() {
                    cx.error(
                        file,
                        ip.pos,
                        format!("`{}` is not an IP address", ip.value),
                        None,
                    );
                }
            }
        }
        let private_ip = spec.frontend.private_ip.as_ref().and_then(|ip| {
            match ip.value.parse::<std::net::IpAddr>() {
                Ok(addr) => Some(addr.to_string()),
                Err(_) => {
                    cx.error(
                        file,
                        ip.pos,
                        format!("`{}` is not an IP address", ip.value),
                        None,
                    );
                    None
                }
            }
        });
        let (Some((vnet_id, _)), Some((pip_id, _))) = (vnet, pip) else {
            return;
        };
        let subnet_id = spec.subnet.id(&vnet_id);
        depends_on.extend([vnet_id, pip_id.clone()]);

        // The body, in ARM's shape.
        let mut frontends = vec![json!({
            "name": "public",
            "properties": { "publicIPAddress": { "id": pip_id } },
        })];
        if let Some(ip) = &private_ip {
            frontends.push(json!({
                "name": "private",
                "properties": {
                    "privateIPAddress": ip,
                    "privateIPAllocationMethod": "Static",
                    "subnet": { "id": subnet_id },
                },
            }));
        }
        let listeners_json: Vec<Value> = spec
            .listeners
            .iter()
            .zip(&listener_wafs)
            .map(|(l, waf)| {
                let frontend = match l.frontend {
                    FrontendChoice::Public => "public",
                    FrontendChoice::Private => "private",
                };
                let hosts: Vec<&str> = l.host_names.iter().map(|h| h.value.as_str()).collect();
                let mut props = json!({
                    "frontendIPConfiguration": child("frontendIPConfigurations", frontend),
                    "frontendPort": child("frontendPorts", &l.frontend_port),
                    "protocol": l.protocol,
                    "hostNames": hosts,
                    // Multi-site HTTPS listeners tell sites apart by SNI.
                    "requireServerNameIndication": l.protocol == Protocol::Https && !hosts.is_empty(),
                });
                if let Some(c) = &l.ssl_certificate {
                    props["sslCertificate"] = child("sslCertificates", c);
                }
                if let Some(w) = waf {
                    props["firewallPolicy"] = json!({ "id": w });
                }
                json!({ "name": l.name.value, "properties": props })
            })
            .collect();
        let settings_json: Vec<Value> = spec
            .backend_settings
            .iter()
            .map(|s| {
                let mut props = json!({
                    "port": s.port,
                    "protocol": s.protocol,
                    "cookieBasedAffinity": "Disabled",
                    "requestTimeout": s.request_timeout,
                    "pickHostNameFromBackendAddress": s.host_name == HostName::FromBackend,
                });
                if let HostName::Fixed(host) = &s.host_name {
                    props["hostName"] = json!(host);
                }
                if let Some(p) = &s.probe {
                    props["probe"] = child("probes", p);
                }
                if let Some(path) = &s.path {
                    props["path"] = json!(path);
                }
                json!({ "name": s.name.value, "properties": props })
            })
            .collect();
        let probes_json: Vec<Value> = spec
            .probes
            .iter()
            .map(|p| {
                json!({ "name": p.name.value, "properties": {
                    "protocol": p.protocol,
                    "path": p.path,
                    "interval": p.interval,
                    "timeout": p.timeout,
                    "unhealthyThreshold": p.unhealthy_threshold,
                    "pickHostNameFromBackendHttpSettings": true,
                    "minServers": 0,
                    "match": { "statusCodes": p.status_codes },
                }})
            })
            .collect();
        let maps_json: Vec<Value> = spec
            .url_path_maps
            .iter()
            .map(|m| {
                let rules: Vec<Value> = m
                    .path_rules
                    .iter()
                    .map(|r| {
                        let paths: Vec<&str> = r.paths.iter().map(|p| p.value.as_str()).collect();
                        let mut props = json!({
                            "paths": paths,
                            "backendAddressPool": child("backendAddressPools", &r.backend_pool),
                            "backendHttpSettings": child("backendHttpSettingsCollection", &r.backend_settings),
                        });
                        if let Some(rw) = &r.rewrite_rule_set {
                            props["rewriteRuleSet"] = child("rewriteRuleSets", rw);
                        }
                        json!({ "name": r.name.value, "properties": props })
                    })
                    .collect();
                json!({ "name": m.name.value, "properties": {
                    "defaultBackendAddressPool": child("backendAddressPools", &m.default_backend_pool),
                    "defaultBackendHttpSettings": child("backendHttpSettingsCollection", &m.default_backend_settings),
                    "pathRules": rules,
                }})
            })
            .collect();
        let routing_json: Vec<Value> = spec
            .routing_rules
            .iter()
            .map(|r| {
                let mut props = json!({
                    "priority": r.priority.value,
                    "httpListener": child("httpListeners", &r.listener),
                });
                if let Some(m) = &r.url_path_map {
                    props["ruleType"] = json!("PathBasedRouting");
                    props["urlPathMap"] = child("urlPathMaps", m);
                } else {
                    props["ruleType"] = json!("Basic");
                    if let (Some(p), Some(s)) = (&r.backend_pool, &r.backend_settings) {
                        props["backendAddressPool"] = child("backendAddressPools", p);
                        props["backendHttpSettings"] = child("backendHttpSettingsCollection", s);
                    }
                }
                if let Some(rw) = &r.rewrite_rule_set {
                    props["rewriteRuleSet"] = child("rewriteRuleSets", rw);
                }
                json!({ "name": r.name.value, "properties": props })
            })
            .collect();
        let mut autoscale = json!({ "minCapacity": spec.autoscale.min_capacity.value });
        if let Some(max) = spec.autoscale.max_capacity {
            autoscale["maxCapacity"] = json!(max);
        }
        let mut body = json!({
            "location": placement.location,
            "properties": {
                "sku": { "name": spec.sku, "tier": spec.sku },
                "autoscaleConfiguration": autoscale,
                "enableHttp2": spec.enable_http2,
                "sslPolicy": { "policyType": "Predefined", "policyName": spec.ssl_policy.policy_name },
                "gatewayIPConfigurations": [{ "name": "gateway-ip", "properties": { "subnet": { "id": subnet_id } } }],
                "frontendIPConfigurations": frontends,
                "frontendPorts": spec.frontend_ports.iter().map(|p| json!({ "name": p.name.value, "properties": { "port": p.port.value } })).collect::<Vec<_>>(),
                "sslCertificates": spec.ssl_certificates.iter().map(|c| json!({ "name": c.name.value, "properties": {
                    "keyVaultSecretId": c.key_vault_secret_id.value.trim_end_matches('/') } })).collect::<Vec<_>>(),
                "httpListeners": listeners_json,
                "backendAddressPools": spec.backend_pools.iter().map(|p| {
                    let addresses: Vec<Value> = p.fqdns.iter().map(|f| json!({ "fqdn": f }))
                        .chain(p.ip_addresses.iter().map(|ip| json!({ "ipAddress": ip.value }))).collect();
                    json!({ "name": p.name.value, "properties": { "backendAddresses": addresses } })
                }).collect::<Vec<_>>(),
                "backendHttpSettingsCollection": settings_json,
                "probes": probes_json,
                "urlPathMaps": maps_json,
                "rewriteRuleSets": spec.rewrite_rule_sets.iter().map(rewrite_set_json).collect::<Vec<_>>(),
                "requestRoutingRules": routing_json,
            }
        });
        if !spec.zones.is_empty() {
            body["zones"] = json!(spec.zones);
        }
        if let Some((id, _)) = &identity {
            body["identity"] =
                json!({ "type": "UserAssigned", "userAssignedIdentities": { id.clone(): {} } });
            depends_on.push(id.clone());
        }
        if let Some((id, _)) = &waf {
            body["properties"]["firewallPolicy"] = json!({ "id": id });
            depends_on.push(id.clone());
        }
        depends_on.extend(listener_wafs.into_iter().flatten());
        let mut desired = cx.resource(self, entry, gw, body);
        desired.exclusive = spec.ownership == Ownership::Exclusive;
        desired.depends_on = depends_on;
        desired.warnings = warnings;
        cx.push(desired);
    }
}

fn rewrite_set_json(set: &RewriteRuleSet) -> Value {
    let headers = |map: &std::collections::BTreeMap<String, String>| -> Vec<Value> {
        map.iter()
            .map(|(k, v)| json!({ "headerName": k, "headerValue": v }))
            .collect()
    };
    let rules: Vec<Value> = set
        .rules
        .iter()
        .map(|r| {
            let mut action = json!({
                "requestHeaderConfigurations": headers(&r.request_headers),
                "responseHeaderConfigurations": headers(&r.response_headers),
            });
            if let Some(path) = &r.modified_path {
                action["urlConfiguration"] = json!({ "modifiedPath": path, "reroute": false });
            }
            json!({ "name": r.name, "ruleSequence": r.rule_sequence, "conditions": [], "actionSet": action })
        })
        .collect();
    json!({ "name": set.name.value, "properties": { "rewriteRules": rules } })
}

/// A Key Vault certificate must be given as its versionless secret URI. Returns a warning for a
/// form that works but is probably not meant.
fn check_secret_id(id: &At<String>, file: usize, cx: &mut Expander<'_>) -> Option<String> {
    let text = id.value.as_str();
    if text.to_ascii_lowercase().starts_with("/subscriptions/") {
        cx.error(
            file,
            id.pos,
            "this is the certificate's ARM ID; the gateway reads a Key Vault certificate through its secret",
            Some("use https://<vault>.vault.azure.net/secrets/<certificate name>/".into()),
        );
        return None;
    }
    let parsed = url::Url::parse(text).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let segments: Vec<&str> = parsed
        .as_ref()
        .and_then(|u| u.path_segments())
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let vault_host = [
        "vault.azure.net",
        "vault.usgovcloudapi.net",
        "vault.azure.cn",
    ]
    .iter()
    .any(|suffix| host.ends_with(&format!(".{suffix}")));
    let https = parsed.as_ref().is_some_and(|u| u.scheme() == "https");
    match segments.as_slice() {
        ["secrets", _] if vault_host && https => None,
        ["secrets", name, _version] if vault_host && https => Some(format!(
            "{text} names one version of secret `{name}`: renewals in Key Vault will not reach the gateway; \
             drop the version to follow the latest"
        )),
        ["certificates", ..] if vault_host => {
            cx.error(
                file,
                id.pos,
                "this is the certificate's URI; the gateway reads a Key Vault certificate through its secret",
                Some("replace /certificates/ with /secrets/".into()),
            );
            None
        }
        _ => {
            cx.error(
                file,
                id.pos,
                format!("`{text}` is not a Key Vault secret URI"),
                Some("use https://<vault>.vault.azure.net/secrets/<certificate name>/".into()),
            );
            None
        }
    }
}

/// Host names are DNS names; a wildcard may stand only for the whole first label.
fn check_host_name(host: &At<String>, file: usize, cx: &mut Expander<'_>) {
    let name = host.value.strip_prefix("*.").unwrap_or(&host.value);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
    };
    if name.contains('*') || !name.contains('.') || !name.split('.').all(label_ok) {
        cx.error(
            file,
            host.pos,
            format!("`{}` is not a host name a listener accepts", host.value),
            Some("for example api.example.com or *.example.com".into()),
        );
    }
}
