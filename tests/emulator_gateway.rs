//! The emulator's application gateways against real ARM's behaviour: a full two-region gateway
//! (path map, WAF policy, Key Vault certificate, user-assigned identity) read back with child
//! IDs, types, etags, defaults and back-references; reference checks; and a PUT superseded by a
//! newer one ending `Canceled`.

mod common;

use azrecon::emulator::Emulator;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const RG: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-edge";
const NET: &str = "api-version=2024-01-01";
const MSI: &str = "api-version=2023-01-31";

fn net(path: &str) -> String {
    format!("{RG}/providers/Microsoft.Network/{path}")
}

fn gateway_id() -> String {
    net("applicationGateways/agw-edge")
}

fn waf_id() -> String {
    net("ApplicationGatewayWebApplicationFirewallPolicies/waf-edge")
}

fn identity_id() -> String {
    format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-agw")
}

fn child(collection: &str, name: &str) -> Value {
    json!({ "id": format!("{}/{collection}/{name}", gateway_id()) })
}

struct Harness {
    emulator: Emulator,
    client: Client,
}

struct Answer {
    status: StatusCode,
    async_operation: Option<String>,
    body: Value,
}

impl Harness {
    async fn new() -> Harness {
        let emulator = common::emulator().await;
        let ca = reqwest::Certificate::from_pem(emulator.ca_pem().unwrap().as_bytes()).unwrap();
        let client = Client::builder().tls_certs_only([ca]).build().unwrap();
        Harness { emulator, client }
    }

    async fn send(&self, method: Method, url: &str, body: Option<&Value>) -> Answer {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.emulator.base_url())
        };
        let mut req = self.client.request(method, url).bearer_auth("fake-token");
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let async_operation = resp
            .headers()
            .get("azure-asyncoperation")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            async_operation,
            body,
        }
    }

    async fn put(&self, id: &str, query: &str, body: &Value) -> Answer {
        self.send(Method::PUT, &format!("{id}?{query}"), Some(body))
            .await
    }

    async fn get(&self, id: &str) -> Value {
        self.send(Method::GET, &format!("{id}?{NET}"), None)
            .await
            .body
    }

    async fn poll(&self, answer: &Answer) -> Value {
        let url = answer.async_operation.as_deref().expect("long-running");
        self.send(Method::GET, url, None).await.body
    }

    /// Polls until the operation leaves `InProgress`; returns its final status body.
    async fn wait(&self, answer: &Answer) -> Value {
        loop {
            let status = self.poll(answer).await;
            if status["status"] != "InProgress" {
                return status;
            }
        }
    }

    /// PUTs a gateway that must be refused with 400; returns the error code and message.
    async fn refused(&self, body: Value) -> (String, String) {
        let answer = self.put(&gateway_id(), NET, &body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        let text = |key: &str| answer.body["error"][key].as_str().unwrap().to_owned();
        (text("code"), text("message"))
    }

    async fn seed_dependencies(&self) {
        let identity = self
            .put(&identity_id(), MSI, &json!({ "location": "koreacentral" }))
            .await;
        assert_eq!(identity.status, StatusCode::CREATED, "{}", identity.body);
        let waf = json!({
            "location": "koreacentral",
            "properties": {
                "policySettings": { "mode": "Prevention", "state": "Enabled" },
                "managedRules": { "managedRuleSets": [ { "ruleSetType": "OWASP", "ruleSetVersion": "3.2" } ] }
            }
        });
        let waf = self.put(&waf_id(), NET, &waf).await;
        assert_eq!(waf.status, StatusCode::CREATED, "{}", waf.body);
    }
}

/// The seed's gateway: two regions behind one path map, a wildcard certificate from Key Vault,
/// the WAF policy and a user-assigned identity.
fn seed_gateway() -> Value {
    let subnet = net("virtualNetworks/vnet-hub/subnets/snet-agw");
    let pool = |name: &str, fqdn: &str| json!({ "name": name, "properties": { "backendAddresses": [ { "fqdn": fqdn } ] } });
    let settings = |name: &str| {
        json!({ "name": name, "properties": {
            "port": 443, "protocol": "Https", "pickHostNameFromBackendAddress": true,
            "probe": child("probes", "probe-openai") } })
    };
    let path_rule = |name: &str, path: &str, region: &str| {
        json!({ "name": name, "properties": {
            "paths": [path],
            "backendAddressPool": child("backendAddressPools", &format!("pool-{region}")),
            "backendHttpSettings": child("backendHttpSettingsCollection", &format!("settings-{region}")),
            "rewriteRuleSet": child("rewriteRuleSets", "strip-region") } })
    };
    json!({
        "location": "koreacentral",
        "identity": { "type": "UserAssigned", "userAssignedIdentities": { identity_id(): {} } },
        "zones": ["1", "2", "3"],
        "properties": {
            "sku": { "name": "WAF_v2", "tier": "WAF_v2" },
            "autoscaleConfiguration": { "minCapacity": 1, "maxCapacity": 4 },
            "gatewayIPConfigurations": [ { "name": "gw-ip", "properties": { "subnet": { "id": subnet } } } ],
            "sslCertificates": [ { "name": "wildcard", "properties": {
                "keyVaultSecretId": "https://kv-edge.vault.azure.net/secrets/wildcard-example-com/" } } ],
            "frontendIPConfigurations": [
                { "name": "fe-public", "properties": { "publicIPAddress": { "id": net("publicIPAddresses/pip-agw") } } },
                { "name": "fe-private", "properties": { "privateIPAddress": "10.0.1.10",
                    "privateIPAllocationMethod": "Static", "subnet": { "id": subnet } } }
            ],
            "frontendPorts": [
                { "name": "port-443", "properties": { "port": 443 } },
                { "name": "port-80", "properties": { "port": 80 } }
            ],
            "backendAddressPools": [
                pool("pool-eastus2", "aoai-eastus2.openai.azure.com"),
                pool("pool-koreacentral", "aoai-koreacentral.openai.azure.com")
            ],
            "backendHttpSettingsCollection": [ settings("settings-eastus2"), settings("settings-koreacentral") ],
            "probes": [ { "name": "probe-openai", "properties": {
                "protocol": "Https", "path": "/", "interval": 30, "timeout": 30, "unhealthyThreshold": 3,
                "pickHostNameFromBackendHttpSettings": true } } ],
            "httpListeners": [
                { "name": "listener-https", "properties": {
                    "frontendIPConfiguration": child("frontendIPConfigurations", "fe-public"),
                    "frontendPort": child("frontendPorts", "port-443"),
                    "protocol": "Https",
                    "sslCertificate": child("sslCertificates", "wildcard"),
                    "hostNames": ["*.example.com"],
                    "firewallPolicy": { "id": waf_id() } } },
                { "name": "listener-http", "properties": {
                    "frontendIPConfiguration": child("frontendIPConfigurations", "fe-public"),
                    "frontendPort": child("frontendPorts", "port-80"),
                    "protocol": "Http" } }
            ],
            "urlPathMaps": [ { "name": "regions", "properties": {
                "defaultBackendAddressPool": child("backendAddressPools", "pool-koreacentral"),
                "defaultBackendHttpSettings": child("backendHttpSettingsCollection", "settings-koreacentral"),
                "pathRules": [
                    path_rule("eastus2", "/eastus2/*", "eastus2"),
                    path_rule("openai", "/openai/*", "koreacentral")
                ] } } ],
            "requestRoutingRules": [
                { "name": "rule-https", "properties": {
                    "ruleType": "PathBasedRouting", "priority": 100,
                    "httpListener": child("httpListeners", "listener-https"),
                    "urlPathMap": child("urlPathMaps", "regions") } },
                { "name": "rule-http", "properties": {
                    "ruleType": "Basic", "priority": 200,
                    "httpListener": child("httpListeners", "listener-http"),
                    "backendAddressPool": child("backendAddressPools", "pool-koreacentral"),
                    "backendHttpSettings": child("backendHttpSettingsCollection", "settings-koreacentral") } }
            ],
            "rewriteRuleSets": [ { "name": "strip-region", "properties": { "rewriteRules": [ {
                "name": "strip", "ruleSequence": 100,
                "conditions": [ { "variable": "var_uri_path", "pattern": "^/[a-z0-9]+/(.*)$", "ignoreCase": true } ],
                "actionSet": { "urlConfiguration": { "modifiedPath": "/{var_uri_path_1}", "reroute": false } } } ] } } ],
            "sslPolicy": { "policyType": "Predefined", "policyName": "AppGwSslPolicy20220101" },
            "firewallPolicy": { "id": waf_id() }
        }
    })
}

fn named<'a>(props: &'a Value, collection: &str, name: &str) -> &'a Value {
    props[collection]
        .as_array()
        .unwrap_or_else(|| panic!("no {collection}"))
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {collection}/{name}"))
}

fn ids(list: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    out.sort_unstable();
    out
}

fn gw(path: &str) -> String {
    format!("{}/{path}", gateway_id())
}

#[tokio::test]
async fn seed_gateway_reads_back_like_real_arm() {
    let h = Harness::new().await;
    h.seed_dependencies().await;
    let created = h.put(&gateway_id(), NET, &seed_gateway()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["properties"]["provisioningState"], "Updating");
    assert_eq!(
        h.get(&gateway_id()).await["properties"]["provisioningState"],
        "Updating",
        "still running between polls"
    );
    assert_eq!(h.wait(&created).await, json!({ "status": "Succeeded" }));

    let live = h.get(&gateway_id()).await;
    let p = &live["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["operationalState"], "Running");
    assert!(p["resourceGuid"].as_str().is_some_and(|g| g.len() == 36));

    // Children: id, the gateway's etag, type and provisioning state; path rules too.
    let listener = named(p, "httpListeners", "listener-https");
    assert_eq!(listener["id"], gw("httpListeners/listener-https"));
    assert_eq!(listener["etag"], live["etag"]);
    assert_eq!(
        listener["type"],
        "Microsoft.Network/applicationGateways/httpListeners"
    );
    assert_eq!(listener["properties"]["provisioningState"], "Succeeded");
    let rule = named(
        &named(p, "urlPathMaps", "regions")["properties"],
        "pathRules",
        "eastus2",
    );
    assert_eq!(rule["id"], gw("urlPathMaps/regions/pathRules/eastus2"));
    assert_eq!(rule["properties"]["provisioningState"], "Succeeded");
    assert_eq!(rule["etag"], live["etag"]);

    // Server defaults.
    let settings = &named(p, "backendHttpSettingsCollection", "settings-eastus2")["properties"];
    assert_eq!(settings["cookieBasedAffinity"], "Disabled");
    assert_eq!(settings["requestTimeout"], 30);
    assert_eq!(settings["pickHostNameFromBackendAddress"], true, "as sent");
    let probe = &named(p, "probes", "probe-openai")["properties"];
    assert_eq!(probe["match"], json!({ "statusCodes": ["200-399"] }));
    assert_eq!(probe["minServers"], 0);
    assert_eq!(
        probe["pickHostNameFromBackendHttpSettings"], true,
        "as sent"
    );
    assert_eq!(listener["properties"]["requireServerNameIndication"], true);
    assert_eq!(
        listener["properties"]["hostNames"],
        json!(["*.example.com"])
    );
    let http = &named(p, "httpListeners", "listener-http")["properties"];
    assert_eq!(http["requireServerNameIndication"], false);
    assert_eq!(http["hostNames"], json!([]));
    assert_eq!(p["enableHttp2"], false);
    assert_eq!(p["defaultPredefinedSslPolicy"], "AppGwSslPolicy20220101");
    assert_eq!(
        named(p, "frontendIPConfigurations", "fe-public")["properties"]["privateIPAllocationMethod"],
        "Dynamic"
    );

    // Key Vault certificate: the secret ID as sent, the public part filled, no secrets.
    let cert = &named(p, "sslCertificates", "wildcard")["properties"];
    assert_eq!(
        cert["keyVaultSecretId"],
        "https://kv-edge.vault.azure.net/secrets/wildcard-example-com/"
    );
    assert!(
        cert["publicCertData"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(cert.get("data").is_none() && cert.get("password").is_none());

    // The identity, with the identity resource's own principal and client IDs.
    let identity = h.get(&identity_id()).await;
    assert_eq!(
        live["identity"]["userAssignedIdentities"][identity_id()],
        json!({
            "principalId": identity["properties"]["principalId"],
            "clientId": identity["properties"]["clientId"],
        })
    );
    assert!(identity["properties"]["principalId"].is_string());

    // Back-references.
    let backrefs = |collection: &str, name: &str, key: &str| {
        ids(&named(p, collection, name)["properties"][key])
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        backrefs("frontendIPConfigurations", "fe-public", "httpListeners"),
        [
            gw("httpListeners/listener-http"),
            gw("httpListeners/listener-https")
        ]
    );
    assert_eq!(
        backrefs("frontendPorts", "port-443", "httpListeners"),
        [gw("httpListeners/listener-https")]
    );
    assert_eq!(
        backrefs("sslCertificates", "wildcard", "httpListeners"),
        [gw("httpListeners/listener-https")]
    );
    assert_eq!(
        backrefs("httpListeners", "listener-https", "requestRoutingRules"),
        [gw("requestRoutingRules/rule-https")]
    );
    assert_eq!(
        backrefs("urlPathMaps", "regions", "requestRoutingRules"),
        [gw("requestRoutingRules/rule-https")]
    );
    assert_eq!(
        backrefs(
            "backendAddressPools",
            "pool-koreacentral",
            "requestRoutingRules"
        ),
        [gw("requestRoutingRules/rule-http")]
    );
    assert_eq!(
        backrefs("backendAddressPools", "pool-eastus2", "pathRules"),
        [gw("urlPathMaps/regions/pathRules/eastus2")]
    );
    assert_eq!(
        named(p, "backendAddressPools", "pool-eastus2")["properties"]["backendIPConfigurations"],
        json!([])
    );
    assert_eq!(
        backrefs(
            "backendHttpSettingsCollection",
            "settings-koreacentral",
            "urlPathMaps"
        ),
        [gw("urlPathMaps/regions")]
    );
    assert_eq!(
        backrefs(
            "backendHttpSettingsCollection",
            "settings-koreacentral",
            "pathRules"
        ),
        [gw("urlPathMaps/regions/pathRules/openai")]
    );
    assert_eq!(
        backrefs(
            "backendHttpSettingsCollection",
            "settings-koreacentral",
            "requestRoutingRules"
        ),
        [gw("requestRoutingRules/rule-http")]
    );
    assert_eq!(
        backrefs("probes", "probe-openai", "backendHttpSettings"),
        [
            gw("backendHttpSettingsCollection/settings-eastus2"),
            gw("backendHttpSettingsCollection/settings-koreacentral")
        ]
    );
    assert_eq!(
        backrefs("rewriteRuleSets", "strip-region", "pathRules"),
        [
            gw("urlPathMaps/regions/pathRules/eastus2"),
            gw("urlPathMaps/regions/pathRules/openai")
        ]
    );
    let policy = h.get(&waf_id()).await;
    assert_eq!(
        policy["properties"]["httpListeners"],
        json!([ { "id": gw("httpListeners/listener-https") } ])
    );
}

#[tokio::test]
async fn a_get_body_put_back_reads_back_the_same() {
    let h = Harness::new().await;
    h.seed_dependencies().await;
    let created = h.put(&gateway_id(), NET, &seed_gateway()).await;
    h.wait(&created).await;
    let before = h.get(&gateway_id()).await;

    // Back-references, ids, etags and read-only fields sent back are ignored, not stored twice.
    let again = h.put(&gateway_id(), NET, &before).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    h.wait(&again).await;
    let after = h.get(&gateway_id()).await;
    // Children share the gateway's etag, so the documents match once it is blanked out.
    let without_etag = |doc: &Value| {
        let etag = doc["etag"].as_str().unwrap();
        let uuid = etag.trim_start_matches("W/\"").trim_end_matches('"');
        serde_json::from_str::<Value>(&doc.to_string().replace(uuid, "ETAG")).unwrap()
    };
    assert_ne!(before["etag"], after["etag"]);
    assert_eq!(without_etag(&before), without_etag(&after));
}

#[tokio::test]
async fn references_are_checked_like_arm() {
    let h = Harness::new().await;
    h.seed_dependencies().await;

    let mut body = seed_gateway();
    body["properties"]["frontendPorts"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["name"] != "port-443");
    let (code, message) = h.refused(body).await;
    assert_eq!(code, "InvalidResourceReference");
    assert!(
        message.starts_with(&format!(
            "Resource {} referenced by resource {} was not found.",
            gw("frontendPorts/port-443"),
            gw("httpListeners/listener-https")
        )),
        "{message}"
    );

    let mut body = seed_gateway();
    body["properties"]["requestRoutingRules"][1]["properties"]["httpListener"] =
        child("httpListeners", "nope");
    assert_eq!(h.refused(body).await.0, "InvalidResourceReference");

    let mut body = seed_gateway();
    body["properties"]["urlPathMaps"][0]["properties"]["pathRules"][0]["properties"]["backendAddressPool"] =
        child("backendAddressPools", "pool-westeurope");
    let (code, message) = h.refused(body).await;
    assert_eq!(code, "InvalidResourceReference");
    assert!(message.contains("pathRules/eastus2"), "{message}");

    let mut body = seed_gateway();
    body["properties"]["urlPathMaps"][0]["properties"]["defaultBackendHttpSettings"] =
        child("backendHttpSettingsCollection", "gone");
    assert_eq!(h.refused(body).await.0, "InvalidResourceReference");

    let mut body = seed_gateway();
    body["properties"]["httpListeners"][0]["properties"]["firewallPolicy"] =
        json!({ "id": net("ApplicationGatewayWebApplicationFirewallPolicies/absent") });
    assert_eq!(h.refused(body).await.0, "InvalidResourceReference");

    let mut body = seed_gateway();
    body["properties"]["firewallPolicy"] =
        json!({ "id": net("ApplicationGatewayWebApplicationFirewallPolicies/absent") });
    assert_eq!(h.refused(body).await.0, "InvalidGlobalResourceReference");

    let mut body = seed_gateway();
    body["properties"]["sslCertificates"][0]["properties"]["keyVaultSecretId"] =
        json!("https://kv-edge.vault.azure.net/certificates/wildcard-example-com/");
    let (code, message) = h.refused(body).await;
    assert_eq!(
        code,
        "ApplicationGatewaySslCertificateInvalidKeyVaultSecretId"
    );
    assert!(
        message.contains("doesn't properly reference a secret"),
        "{message}"
    );

    let mut body = seed_gateway();
    body["identity"]["userAssignedIdentities"] = json!({
        format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/absent"): {}
    });
    assert_eq!(h.refused(body).await.0, "FailedIdentityOperation");

    assert_eq!(h.emulator.resource(&gateway_id()), None, "nothing stored");
}

#[tokio::test]
async fn a_put_superseded_by_a_newer_one_ends_canceled() {
    let h = Harness::new().await;
    h.seed_dependencies().await;
    let first = h.put(&gateway_id(), NET, &seed_gateway()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(h.poll(&first).await, json!({ "status": "InProgress" }));

    let mut newer = seed_gateway();
    newer["properties"]["frontendPorts"][1]["properties"]["port"] = json!(8080);
    let second = h.put(&gateway_id(), NET, &newer).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["properties"]["provisioningState"], "Updating");

    let canceled = h.poll(&first).await;
    assert_eq!(canceled["status"], "Canceled");
    assert_eq!(canceled["error"]["code"], "Canceled");
    assert_eq!(canceled["error"]["message"], "Operation was canceled.");
    let detail = &canceled["error"]["details"][0];
    assert_eq!(detail["code"], "CanceledAndSupersededDueToAnotherOperation");
    assert!(
        detail["message"]
            .as_str()
            .unwrap()
            .starts_with("Operation PutApplicationGatewayOperation ("),
        "{detail}"
    );
    assert_eq!(
        h.get(&gateway_id()).await["properties"]["provisioningState"],
        "Updating",
        "the newer operation still runs"
    );

    assert_eq!(h.wait(&second).await, json!({ "status": "Succeeded" }));
    let live = h.get(&gateway_id()).await;
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        named(&live["properties"], "frontendPorts", "port-80")["properties"]["port"],
        8080,
        "the newer write wins"
    );
    assert_eq!(h.poll(&first).await["status"], "Canceled", "and stays so");
}
