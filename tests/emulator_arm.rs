//! The ARM emulator over real HTTPS: error shapes, long-running writes, peering states, WAF
//! policy defaults, preconditions, the token endpoint, the request log, seeding and the state
//! file, and the exported traffic.

#[path = "common/oav.rs"]
mod oav;

use azrecon::emulator::{Emulator, EmulatorConfig, RequestKind, start};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-edge/providers/Microsoft.Network";
const NET: &str = "api-version=2024-01-01";

fn vnet(name: &str) -> String {
    format!("{SUB}/virtualNetworks/{name}")
}

fn peering(from: &str, to: &str) -> String {
    format!("{}/virtualNetworkPeerings/{from}-to-{to}", vnet(from))
}

struct Harness {
    emulator: Emulator,
    client: Client,
}

async fn harness_with(config: EmulatorConfig) -> Harness {
    let emulator = start(EmulatorConfig {
        retry_after_secs: 0,
        lro_polls: 2,
        ..config
    })
    .await
    .unwrap();
    let ca = reqwest::Certificate::from_pem(emulator.ca_pem().unwrap().as_bytes()).unwrap();
    let client = Client::builder().tls_certs_only([ca]).build().unwrap();
    Harness { emulator, client }
}

async fn harness() -> Harness {
    harness_with(EmulatorConfig::default()).await
}

async fn json_of(resp: reqwest::Response) -> Value {
    serde_json::from_str(&resp.text().await.unwrap()).unwrap()
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness {
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let url = if path_and_query.starts_with("http") {
            path_and_query.to_owned()
        } else {
            format!("{}{path_and_query}", self.emulator.base_url())
        };
        let mut req = self.client.request(method, url).bearer_auth("fake-token");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, id: &str) -> Answer {
        self.send(Method::GET, &format!("{id}?{NET}"), None, &[])
            .await
    }

    async fn put(&self, id: &str, body: Value) -> Answer {
        self.send(Method::PUT, &format!("{id}?{NET}"), Some(body), &[])
            .await
    }

    /// Follows `Azure-AsyncOperation` until the operation reports a terminal status.
    async fn wait(&self, answer: &Answer) -> Vec<String> {
        let url = answer
            .header("azure-asyncoperation")
            .expect("a long-running answer")
            .to_owned();
        let mut statuses = Vec::new();
        loop {
            let poll = self.send(Method::GET, &url, None, &[]).await;
            assert_eq!(poll.status, StatusCode::OK);
            let status = poll.body["status"].as_str().unwrap().to_owned();
            statuses.push(status.clone());
            if status != "InProgress" {
                return statuses;
            }
        }
    }

    async fn put_and_wait(&self, id: &str, body: Value) -> Value {
        let answer = self.put(id, body).await;
        assert!(
            answer.status.is_success(),
            "{}: {}",
            answer.status,
            answer.body
        );
        if answer.header("azure-asyncoperation").is_some() {
            self.wait(&answer).await;
        }
        self.get(id).await.body
    }

    async fn delete_and_wait(&self, id: &str) {
        let answer = self
            .send(Method::DELETE, &format!("{id}?{NET}"), None, &[])
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        self.wait(&answer).await;
    }

    async fn create_vnet(&self, name: &str, prefix: &str) -> Value {
        self.put_and_wait(
            &vnet(name),
            json!({ "location": "koreacentral", "properties": { "addressSpace": { "addressPrefixes": [prefix] } } }),
        )
        .await
    }

    async fn create_peering(&self, from: &str, to: &str) -> Value {
        self.put_and_wait(
            &peering(from, to),
            json!({ "properties": {
                "allowVirtualNetworkAccess": true,
                "allowForwardedTraffic": true,
                "remoteVirtualNetwork": { "id": vnet(to) },
            } }),
        )
        .await
    }
}

fn waf_policy_body() -> Value {
    json!({
        "location": "koreacentral",
        "properties": {
            "policySettings": { "mode": "Prevention" },
            "managedRules": { "managedRuleSets": [ { "ruleSetType": "OWASP", "ruleSetVersion": "3.2" } ] },
            "customRules": [ {
                "name": "blockOutside",
                "priority": 10,
                "ruleType": "MatchRule",
                "action": "Block",
                "matchConditions": [ {
                    "matchVariables": [ { "variableName": "RemoteAddr" } ],
                    "operator": "IPMatch",
                    "negationConditon": true,
                    "matchValues": [ "10.0.0.0/8" ]
                } ]
            } ]
        }
    })
}

fn app_gateway_body(waf: &str) -> Value {
    let agw = format!("{SUB}/applicationGateways/agw-edge");
    json!({
        "location": "koreacentral",
        "properties": {
            "sku": { "name": "WAF_v2", "tier": "WAF_v2", "capacity": 2 },
            "gatewayIPConfigurations": [ { "name": "gw-ip", "properties": { "subnet": { "id": format!("{}/subnets/agw", vnet("hub")) } } } ],
            "frontendIPConfigurations": [ { "name": "fe-private", "properties": { "privateIPAddress": "10.0.1.10", "privateIPAllocationMethod": "Static", "subnet": { "id": format!("{}/subnets/agw", vnet("hub")) } } } ],
            "frontendPorts": [ { "name": "port-443", "properties": { "port": 443 } } ],
            "backendAddressPools": [ { "name": "pool", "properties": { "backendAddresses": [ { "ipAddress": "10.1.0.4" } ] } } ],
            "backendHttpSettingsCollection": [ { "name": "settings", "properties": { "port": 80, "protocol": "Http", "cookieBasedAffinity": "Disabled" } } ],
            "httpListeners": [ { "name": "listener", "properties": {
                "frontendIPConfiguration": { "id": format!("{agw}/frontendIPConfigurations/fe-private") },
                "frontendPort": { "id": format!("{agw}/frontendPorts/port-443") },
                "protocol": "Http" } } ],
            "requestRoutingRules": [ { "name": "rule", "properties": {
                "ruleType": "Basic", "priority": 100,
                "httpListener": { "id": format!("{agw}/httpListeners/listener") },
                "backendAddressPool": { "id": format!("{agw}/backendAddressPools/pool") },
                "backendHttpSettings": { "id": format!("{agw}/backendHttpSettingsCollection/settings") } } } ],
            "firewallPolicy": { "id": waf }
        }
    })
}

#[tokio::test]
async fn missing_resource_is_a_404_with_an_arm_error_body() {
    let h = harness().await;
    let answer = h.get(&vnet("absent")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body["error"]["code"], "ResourceNotFound");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("virtualNetworks/absent")
    );

    let orphan = h
        .put(
            &peering("absent", "other"),
            json!({ "properties": { "remoteVirtualNetwork": { "id": vnet("other") } } }),
        )
        .await;
    assert_eq!(orphan.status, StatusCode::NOT_FOUND);
    assert_eq!(orphan.body["error"]["code"], "ParentResourceNotFound");
}

#[tokio::test]
async fn requests_need_an_api_version_a_bearer_token_and_json() {
    let h = harness().await;
    let no_version = h.send(Method::GET, &vnet("a"), None, &[]).await;
    assert_eq!(no_version.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_version.body["error"]["code"],
        "MissingApiVersionParameter"
    );

    let url = format!("{}{}?{NET}", h.emulator.base_url(), vnet("a"));
    let anonymous = h.client.get(url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body = json_of(anonymous).await;
    assert_eq!(body["error"]["code"], "AuthenticationFailed");

    let url = format!("{}{}?{NET}", h.emulator.base_url(), vnet("a"));
    let garbled = h
        .client
        .put(url)
        .bearer_auth("t")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbled.status(), StatusCode::BAD_REQUEST);
    let body = json_of(garbled).await;
    assert_eq!(body["error"]["code"], "InvalidRequestContent");
}

#[tokio::test]
async fn long_running_put_answers_201_updating_then_polls_to_succeeded() {
    let h = harness().await;
    let answer = h
        .put(&vnet("hub"), json!({ "location": "koreacentral", "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } }))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.body["properties"]["provisioningState"], "Updating");
    assert_eq!(answer.body["type"], "Microsoft.Network/virtualNetworks");
    assert_eq!(answer.body["id"], vnet("hub"));
    assert!(answer.body["etag"].as_str().unwrap().starts_with("W/\""));
    assert!(answer.body["properties"]["resourceGuid"].is_string());
    assert_eq!(answer.header("retry-after"), Some("0"));
    let operation = answer.header("azure-asyncoperation").unwrap();
    assert!(operation.starts_with(&format!(
        "{}/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Network/locations/koreacentral/operations/",
        h.emulator.base_url()
    )));
    assert!(operation.ends_with("?api-version=2024-01-01"));

    assert_eq!(
        h.wait(&answer).await,
        ["InProgress", "InProgress", "Succeeded"]
    );
    let live = h.get(&vnet("HUB")).await.body;
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
    assert_eq!(live["name"], "hub", "the casing of the first PUT is kept");
    assert_ne!(live["etag"], answer.body["etag"]);
    assert_eq!(live["properties"]["subnets"], json!([]));
    assert_eq!(live["properties"]["virtualNetworkPeerings"], json!([]));

    let update = h
        .put(
            &vnet("hub"),
            json!({ "location": "koreacentral", "properties": {} }),
        )
        .await;
    assert_eq!(update.status, StatusCode::OK);
}

#[tokio::test]
async fn peering_both_sides_connects_them() {
    let h = harness().await;
    h.create_vnet("hub", "10.0.0.0/16").await;
    h.create_vnet("spoke", "10.1.0.0/16").await;

    let first = h.create_peering("hub", "spoke").await;
    assert_eq!(first["properties"]["peeringState"], "Initiated");
    assert_eq!(first["properties"]["peeringSyncLevel"], "RemoteNotInSync");
    assert_eq!(
        first["type"],
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
    );
    assert_eq!(
        first["properties"]["remoteAddressSpace"]["addressPrefixes"],
        json!(["10.1.0.0/16"])
    );
    assert_eq!(
        first["properties"]["remoteVirtualNetworkAddressSpace"]["addressPrefixes"],
        json!(["10.1.0.0/16"])
    );
    assert_eq!(first["properties"]["doNotVerifyRemoteGateways"], false);
    assert_eq!(first["properties"]["useRemoteGateways"], false);

    let second = h.create_peering("spoke", "hub").await;
    let first = h.get(&peering("hub", "spoke")).await.body;
    for side in [&first, &second] {
        assert_eq!(side["properties"]["peeringState"], "Connected");
        assert_eq!(side["properties"]["peeringSyncLevel"], "FullyInSync");
        assert_eq!(side["properties"]["provisioningState"], "Succeeded");
    }

    let hub = h.get(&vnet("hub")).await.body;
    let listed = hub["properties"]["virtualNetworkPeerings"]
        .as_array()
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], peering("hub", "spoke"));

    let list = h
        .get(&format!("{}/virtualNetworkPeerings", vnet("spoke")))
        .await
        .body;
    assert_eq!(list["value"][0]["name"], "spoke-to-hub");
}

#[tokio::test]
async fn peering_to_a_missing_network_is_rejected() {
    let h = harness().await;
    h.create_vnet("hub", "10.0.0.0/16").await;
    let answer = h
        .put(
            &peering("hub", "ghost"),
            json!({ "properties": { "remoteVirtualNetwork": { "id": vnet("ghost") } } }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body["error"]["code"],
        "InvalidGlobalResourceReference"
    );
}

#[tokio::test]
async fn deleting_one_side_disconnects_the_other() {
    let h = harness().await;
    h.create_vnet("hub", "10.0.0.0/16").await;
    h.create_vnet("spoke", "10.1.0.0/16").await;
    h.create_peering("hub", "spoke").await;
    h.create_peering("spoke", "hub").await;

    let answer = h
        .send(
            Method::DELETE,
            &format!("{}?{NET}", peering("hub", "spoke")),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    assert!(
        answer
            .header("location")
            .unwrap()
            .contains("/operationResults/")
    );
    assert_eq!(
        h.get(&peering("hub", "spoke")).await.body["properties"]["provisioningState"],
        "Deleting"
    );
    h.wait(&answer).await;

    assert_eq!(
        h.get(&peering("hub", "spoke")).await.status,
        StatusCode::NOT_FOUND
    );
    let other = h.get(&peering("spoke", "hub")).await.body;
    assert_eq!(other["properties"]["peeringState"], "Disconnected");
    assert_eq!(
        h.get(&vnet("hub")).await.body["properties"]["virtualNetworkPeerings"],
        json!([])
    );

    let gone = h
        .send(
            Method::DELETE,
            &format!("{}?{NET}", peering("hub", "spoke")),
            None,
            &[],
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn sync_remote_address_space_refreshes_a_stale_peering() {
    let h = harness().await;
    h.create_vnet("hub", "10.0.0.0/16").await;
    h.create_vnet("spoke", "10.1.0.0/16").await;
    h.create_peering("hub", "spoke").await;
    h.create_peering("spoke", "hub").await;

    h.put_and_wait(
        &vnet("spoke"),
        json!({ "location": "koreacentral", "properties": { "addressSpace": { "addressPrefixes": ["10.1.0.0/16", "10.2.0.0/16"] } } }),
    )
    .await;
    let stale = h.get(&peering("hub", "spoke")).await.body;
    assert_eq!(stale["properties"]["peeringSyncLevel"], "LocalNotInSync");
    assert_eq!(
        stale["properties"]["remoteAddressSpace"]["addressPrefixes"],
        json!(["10.1.0.0/16"])
    );
    assert_eq!(
        stale["properties"]["remoteVirtualNetworkAddressSpace"]["addressPrefixes"],
        json!(["10.1.0.0/16", "10.2.0.0/16"])
    );
    assert_eq!(
        h.get(&peering("spoke", "hub")).await.body["properties"]["peeringSyncLevel"],
        "RemoteNotInSync"
    );

    let body = json!({ "properties": { "remoteVirtualNetwork": { "id": vnet("spoke") }, "allowForwardedTraffic": true } });
    let answer = h
        .send(
            Method::PUT,
            &format!(
                "{}?{NET}&syncRemoteAddressSpace=true",
                peering("hub", "spoke")
            ),
            Some(body),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    h.wait(&answer).await;
    let synced = h.get(&peering("hub", "spoke")).await.body;
    assert_eq!(synced["properties"]["peeringSyncLevel"], "FullyInSync");
    assert_eq!(
        synced["properties"]["remoteAddressSpace"]["addressPrefixes"],
        json!(["10.1.0.0/16", "10.2.0.0/16"])
    );
    assert_eq!(
        h.get(&peering("spoke", "hub")).await.body["properties"]["peeringSyncLevel"],
        "FullyInSync"
    );
}

#[tokio::test]
async fn waf_policy_put_is_synchronous_and_fills_server_defaults() {
    let h = harness().await;
    let id = format!("{SUB}/ApplicationGatewayWebApplicationFirewallPolicies/waf-edge");
    let answer = h.put(&id, waf_policy_body()).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert!(answer.header("azure-asyncoperation").is_none());
    let props = &answer.body["properties"];
    assert_eq!(props["provisioningState"], "Succeeded");
    assert_eq!(props["resourceState"], "Enabled");
    assert_eq!(props["applicationGateways"], json!([]));
    assert_eq!(
        props["policySettings"],
        json!({
            "mode": "Prevention",
            "state": "Enabled",
            "requestBodyCheck": true,
            "requestBodyEnforcement": true,
            "maxRequestBodySizeInKb": 128,
            "requestBodyInspectLimitInKB": 128,
            "fileUploadEnforcement": true,
            "fileUploadLimitInMb": 100,
        })
    );
    assert_eq!(props["managedRules"]["exclusions"], json!([]));
    assert_eq!(
        props["managedRules"]["managedRuleSets"][0]["ruleGroupOverrides"],
        json!([])
    );
    assert_eq!(props["customRules"][0]["state"], "Enabled");
    assert_eq!(
        props["customRules"][0]["matchConditions"][0]["negationConditon"],
        true
    );
    assert_eq!(
        answer.body["type"],
        "Microsoft.Network/applicationgatewaywebapplicationfirewallpolicies"
    );

    let again = h.put(&id, waf_policy_body()).await;
    assert_eq!(again.status, StatusCode::OK);

    let missing = h
        .put(&id, json!({ "location": "koreacentral", "properties": {} }))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.body["error"]["code"], "InvalidRequestFormat");
}

#[tokio::test]
async fn application_gateway_fills_sub_resources_and_back_references_its_waf_policy() {
    let h = harness().await;
    let waf = format!("{SUB}/ApplicationGatewayWebApplicationFirewallPolicies/waf-edge");
    let agw = format!("{SUB}/applicationGateways/agw-edge");
    let orphan = h.put(&agw, app_gateway_body(&waf)).await;
    assert_eq!(
        orphan.status,
        StatusCode::BAD_REQUEST,
        "the WAF policy must exist first"
    );

    h.put(&waf, waf_policy_body()).await;
    let answer = h.put(&agw, app_gateway_body(&waf)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.body["properties"]["provisioningState"], "Updating");
    h.wait(&answer).await;
    let live = h.get(&agw).await.body;
    let props = &live["properties"];
    assert_eq!(props["provisioningState"], "Succeeded");
    assert_eq!(props["operationalState"], "Running");
    assert_eq!(
        props["httpListeners"][0]["id"],
        format!("{agw}/httpListeners/listener")
    );
    assert_eq!(props["httpListeners"][0]["etag"], live["etag"]);
    assert_eq!(
        props["frontendPorts"][0]["properties"]["provisioningState"],
        "Succeeded"
    );
    assert_eq!(props["probes"], json!([]));

    let policy = h.get(&waf).await.body;
    assert_eq!(
        policy["properties"]["applicationGateways"],
        json!([ { "id": agw } ])
    );
}

#[tokio::test]
async fn if_match_and_if_none_match_guard_puts() {
    let h = harness().await;
    let id = format!("{SUB}/ApplicationGatewayWebApplicationFirewallPolicies/waf-edge");
    let created = h.put(&id, waf_policy_body()).await;
    let etag = created.body["etag"].as_str().unwrap().to_owned();

    let path = format!("{id}?{NET}");
    let stale = h
        .send(
            Method::PUT,
            &path,
            Some(waf_policy_body()),
            &[("if-match", "W/\"stale\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.body["error"]["code"], "PreconditionFailed");

    let exists = h
        .send(
            Method::PUT,
            &path,
            Some(waf_policy_body()),
            &[("if-none-match", "*")],
        )
        .await;
    assert_eq!(exists.status, StatusCode::PRECONDITION_FAILED);

    let current = h
        .send(
            Method::PUT,
            &path,
            Some(waf_policy_body()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(current.status, StatusCode::OK);
    assert_ne!(current.body["etag"], etag, "every write gets a new etag");
}

#[tokio::test]
async fn token_endpoint_checks_the_identity_header() {
    let h = harness().await;
    let plain = Client::new();
    let url = format!(
        "{}?api-version=2019-08-01&resource=https://management.azure.com",
        h.emulator.identity_endpoint()
    );
    assert!(url.starts_with("http://127.0.0.1:"));

    let ok = plain
        .get(&url)
        .header("x-identity-header", h.emulator.identity_header())
        .header("metadata", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let token = json_of(ok).await;
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["resource"], "https://management.azure.com");
    assert!(
        token["access_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert!(token["expires_on"].as_str().unwrap().parse::<u64>().is_ok());

    let refused = plain.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let log = h.emulator.requests();
    assert!(log.iter().all(|r| r.kind == RequestKind::Identity));
    assert!(log.iter().all(|r| {
        r.request_headers
            .iter()
            .all(|(_, v)| v != Emulator::IDENTITY_HEADER)
    }));
    assert_eq!((h.emulator.reads(), h.emulator.writes()), (0, 0));
}

#[tokio::test]
async fn request_log_counts_arm_writes_and_reads_only() {
    let h = harness().await;
    h.create_vnet("hub", "10.0.0.0/16").await; // PUT, 3 polls, GET
    h.get(&vnet("hub")).await;
    let admin = format!("{}/_emulator/requests", h.emulator.base_url());
    let logged = json_of(h.client.get(&admin).send().await.unwrap()).await;
    assert_eq!(
        logged.as_array().unwrap().len(),
        6,
        "the admin call itself is logged after it answers"
    );

    assert_eq!(h.emulator.writes(), 1);
    assert_eq!(h.emulator.reads(), 2);
    let put = &h.emulator.requests()[0];
    assert!(put.is_write());
    assert_eq!(put.status, 201);
    assert_eq!(
        put.request_body.as_ref().unwrap()["location"],
        "koreacentral"
    );
    assert!(
        put.request_headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "<redacted>")
    );
    assert_eq!(
        h.emulator
            .requests()
            .iter()
            .filter(|r| r.kind == RequestKind::LroPoll)
            .count(),
        3
    );

    h.emulator.clear_log();
    assert_eq!(h.emulator.requests().len(), 0);
}

#[tokio::test]
async fn raw_injection_serves_documents_as_given() {
    let h = harness().await;
    let doc = json!({
        "name": "legacy", "id": vnet("legacy"), "type": "Microsoft.Network/virtualNetworks", "location": "koreacentral",
        "properties": { "provisioningState": "Succeeded", "addressSpace": { "addressPrefixes": ["10.9.0.0/16"] },
            "virtualNetworkPeerings": [ { "name": "legacy-to-hub", "id": peering("legacy", "hub"),
                "properties": { "peeringState": "Connected", "remoteVirtualNetwork": { "id": vnet("hub") } } } ] }
    });
    h.emulator.put_raw(&vnet("legacy"), doc);
    assert_eq!(
        h.get(&peering("legacy", "hub")).await.body["properties"]["peeringState"],
        "Connected"
    );
    h.emulator.update_raw(&peering("legacy", "hub"), |d| {
        d["properties"]["peeringState"] = json!("Disconnected")
    });
    let live = h.get(&vnet("legacy")).await.body;
    assert_eq!(
        live["properties"]["virtualNetworkPeerings"][0]["properties"]["peeringState"],
        "Disconnected"
    );
    assert_eq!(h.emulator.resource(&vnet("LEGACY")).unwrap(), live);
    h.emulator.remove_raw(&vnet("legacy"));
    assert!(h.emulator.resource(&peering("legacy", "hub")).is_none());
}

#[tokio::test]
async fn seed_dir_and_state_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seed");
    std::fs::create_dir(&seeds).unwrap();
    let hub = json!({ "name": "hub", "id": vnet("hub"), "type": "Microsoft.Network/virtualNetworks", "location": "koreacentral",
        "properties": { "provisioningState": "Succeeded", "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } });
    let spoke = json!({ "name": "spoke", "id": vnet("spoke"), "type": "Microsoft.Network/virtualNetworks", "location": "koreacentral",
        "properties": { "provisioningState": "Succeeded", "addressSpace": { "addressPrefixes": ["10.1.0.0/16"] } } });
    std::fs::write(seeds.join("hub.json"), hub.to_string()).unwrap();
    std::fs::write(seeds.join("spokes.json"), json!([spoke]).to_string()).unwrap();
    let state = dir.path().join("state.json");

    let config = EmulatorConfig {
        seed_dir: Some(seeds.clone()),
        state_file: Some(state.clone()),
        ..Default::default()
    };
    let h = harness_with(config.clone()).await;
    let served = h.get(&vnet("hub")).await.body;
    assert_eq!(
        served["properties"]["addressSpace"],
        hub["properties"]["addressSpace"]
    );
    h.create_peering("hub", "spoke").await;
    h.emulator.shutdown().await;
    assert!(state.exists());

    // The state file wins over the seeds on the next start.
    std::fs::remove_file(seeds.join("spokes.json")).unwrap();
    let h = harness_with(config).await;
    let peering = h.get(&peering("hub", "spoke")).await.body;
    assert_eq!(peering["properties"]["peeringState"], "Initiated");
    assert_eq!(peering["properties"]["provisioningState"], "Succeeded");
    assert_eq!(h.get(&vnet("spoke")).await.status, StatusCode::OK);
    h.emulator.shutdown().await;
}

/// Validates the emulator's answers against the Azure REST API specs with Microsoft's oav.
/// Needs npm and the specs: run with `OAV_CHECK=/path/to/oav-check cargo test -- --ignored`.
#[tokio::test]
#[ignore = "needs the oav-check script (OAV_CHECK) and npm"]
async fn recorded_traffic_passes_oav() {
    let h = harness().await;
    h.create_vnet("hub", "10.0.0.0/16").await;
    h.create_vnet("spoke", "10.1.0.0/16").await;
    h.create_peering("hub", "spoke").await;
    h.create_peering("spoke", "hub").await;
    let waf = format!("{SUB}/ApplicationGatewayWebApplicationFirewallPolicies/waf-edge");
    h.put(&waf, waf_policy_body()).await;
    h.put_and_wait(
        &format!("{SUB}/applicationGateways/agw-edge"),
        app_gateway_body(&waf),
    )
    .await;
    h.get(&waf).await;
    h.get(&vnet("absent")).await;
    h.delete_and_wait(&peering("hub", "spoke")).await;

    let dir = tempfile::tempdir().unwrap();
    let written = h.emulator.write_traffic(dir.path()).unwrap();
    assert!(written >= 10);
    oav::assert_valid(dir.path());
}
