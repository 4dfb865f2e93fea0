//! The planner on small fixtures: a manifest and live ARM documents in, the rendered plan out.
//! The rendered plan is the snapshot (`cargo insta review` regenerates them).

use azrecon::kinds::expand;
use azrecon::manifest::load_str;
use azrecon::plan::{Action, Live, Plan, plan};
use azrecon::render::{HumanStyle, plan_text};
use serde_json::{Value, json};
use std::collections::HashMap;

const SUB: &str = "6f1c2a3b-0000-4000-8000-00000000a001";

const MANIFEST: &str = r#"
version: 1
subscriptions: { network: 6f1c2a3b-0000-4000-8000-00000000a001 }
defaults: { subscription: network, resourceGroup: rg-hub, location: koreacentral }
resources:
  VirtualNetwork:
    - name: vnet-hub
    - name: vnet-spoke
  VirtualNetworkPeering:
    - name: hub-spoke
      spec:
        hub: { virtualNetwork: vnet-hub, allowForwardedTraffic: true, allowGatewayTransit: true }
        spoke: { virtualNetwork: vnet-spoke, allowForwardedTraffic: true }
  WafPolicy:
    - name: waf
      spec:
        allowlist: [203.0.113.10, 198.51.100.0/28]
"#;

fn vnet_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/{name}"
    )
}
fn peering_id(vnet: &str, name: &str) -> String {
    format!("{}/virtualNetworkPeerings/{name}", vnet_id(vnet))
}
fn waf_id() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/waf"
    )
}

fn vnet(name: &str) -> Value {
    json!({"id": vnet_id(name), "name": name, "type": "Microsoft.Network/virtualNetworks", "location": "koreacentral",
           "properties": {"provisioningState": "Succeeded", "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
}

/// A peering as ARM returns it: server-filled fields, IDs re-cased.
fn peering(
    local: &str,
    remote: &str,
    forwarded: bool,
    transit: bool,
    state: &str,
    sync: &str,
) -> Value {
    let name = format!("{local}-to-{remote}");
    json!({
        "id": peering_id(local, &name), "name": name, "etag": "W/\"1\"",
        "type": "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        "properties": {
            "provisioningState": "Succeeded", "resourceGuid": "00000000-0000-0000-0000-000000000001",
            "peeringState": state, "peeringSyncLevel": sync,
            "remoteVirtualNetwork": {"id": vnet_id(remote).to_uppercase()},
            "allowVirtualNetworkAccess": true, "allowForwardedTraffic": forwarded,
            "allowGatewayTransit": transit, "useRemoteGateways": false, "doNotVerifyRemoteGateways": false,
            "peerCompleteVnets": true,
            "remoteAddressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "remoteVirtualNetworkAddressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "remoteVirtualNetworkEncryption": {"enabled": false, "enforcement": "AllowUnencrypted"}
        }
    })
}

/// A WAF policy as ARM returns it, with its defaults, back-references and enum casing.
fn waf(allow: &[&str], mode: &str) -> Value {
    json!({
        "id": waf_id(), "name": "waf", "etag": "W/\"7\"", "location": "koreacentral",
        "type": "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies",
        "properties": {
            "provisioningState": "Succeeded", "resourceState": "Enabled",
            "applicationGateways": [{"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/applicationGateways/agw"}],
            "policySettings": {"state": "Enabled", "mode": mode, "requestBodyCheck": true, "requestBodyInspectLimitInKB": 128,
                "requestBodyEnforcement": true, "maxRequestBodySizeInKb": 128, "fileUploadEnforcement": true, "fileUploadLimitInMb": 100},
            "customRules": [{"name": "AllowlistOnly", "etag": "W/\"7\"", "priority": 1, "ruleType": "MatchRule", "action": "Block", "state": "Enabled",
                "matchConditions": [{"matchVariables": [{"variableName": "RemoteAddr"}], "operator": "IPMatch",
                    "negationConditon": true, "matchValues": allow, "transforms": []}]}],
            "managedRules": {"exclusions": [], "managedRuleSets": [{"ruleSetType": "OWASP", "ruleSetVersion": "3.2", "ruleGroupOverrides": []}]}
        }
    })
}

fn connected_world() -> Vec<Value> {
    vec![
        vnet("vnet-hub"),
        vnet("vnet-spoke"),
        peering(
            "vnet-hub",
            "vnet-spoke",
            true,
            true,
            "Connected",
            "FullyInSync",
        ),
        peering(
            "vnet-spoke",
            "vnet-hub",
            true,
            false,
            "Connected",
            "FullyInSync",
        ),
        waf(&["198.51.100.0/28", "203.0.113.10"], "Prevention"),
    ]
}

fn plan_for(manifest: &str, live: &[Value]) -> Plan {
    let desired = expand(&load_str("manifest.yaml", manifest).unwrap()).unwrap();
    let mut map: HashMap<String, Option<Live>> = HashMap::new();
    for doc in live {
        let id = doc["id"].as_str().unwrap().to_ascii_lowercase();
        map.insert(
            id,
            Some(Live {
                body: doc.clone(),
                etag: doc["etag"].as_str().map(str::to_string),
            }),
        );
    }
    plan(&desired, &map)
}

fn check(live: &[Value]) -> (Plan, String) {
    let plan = plan_for(MANIFEST, live);
    let text = plan_text(&plan, HumanStyle::default());
    (plan, text)
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.resources
        .iter()
        .map(|r| (r.address.clone(), r.action))
        .collect()
}

#[test]
fn converged_world_has_no_false_drift() {
    let (plan, text) = check(&connected_world());
    assert!(!plan.drifted(), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn empty_world_creates_in_dependency_order() {
    let (plan, text) = check(&[vnet("vnet-hub"), vnet("vnet-spoke")]);
    let order: Vec<_> = plan.resources.iter().map(|r| r.address.as_str()).collect();
    let hub = order
        .iter()
        .position(|a| *a == "VirtualNetworkPeering/hub-spoke:hub")
        .unwrap();
    let spoke = order
        .iter()
        .position(|a| *a == "VirtualNetworkPeering/hub-spoke:spoke")
        .unwrap();
    assert!(hub < spoke, "{order:?}");
    insta::assert_snapshot!(text);
}

#[test]
fn allowlist_ip_changed_in_the_portal_is_drift() {
    let mut world = connected_world();
    world[4] = waf(&["198.51.100.0/28", "203.0.113.99"], "Prevention");
    let (plan, text) = check(&world);
    assert_eq!(
        actions(&plan)
            .iter()
            .filter(|(_, a)| *a == Action::Update)
            .count(),
        1,
        "{text}"
    );
    let put = plan.resources.iter().find_map(|r| r.put.as_ref()).unwrap();
    assert_eq!(put.if_match.as_deref(), Some("W/\"7\""));
    // The PUT body keeps what ARM owns out, and what the manifest does not mention in.
    assert!(
        put.body.get("etag").is_none() && put.body["properties"].get("provisioningState").is_none()
    );
    assert_eq!(
        put.body["properties"]["policySettings"]["requestBodyInspectLimitInKB"],
        128
    );
    insta::assert_snapshot!(text);
}

#[test]
fn mode_switched_to_detection_in_the_portal_is_fixed_without_being_destructive() {
    let mut world = connected_world();
    world[4] = waf(&["198.51.100.0/28", "203.0.113.10"], "Detection");
    let (plan, text) = check(&world);
    let waf = plan
        .resources
        .iter()
        .find(|r| r.kind == "WafPolicy")
        .unwrap();
    assert_eq!(waf.action, Action::Update);
    assert!(waf.destructive.is_empty(), "{text}");
}

#[test]
fn enum_casing_from_arm_is_not_drift() {
    let mut world = connected_world();
    world[4] = waf(&["198.51.100.0/28", "203.0.113.10"], "prevention");
    world[4]["properties"]["customRules"][0]["action"] = json!("block");
    world[4]["properties"]["customRules"][0]["matchConditions"][0]["operator"] = json!("IpMatch");
    let (plan, text) = check(&world);
    assert!(!plan.drifted(), "{text}");
}

#[test]
fn a_custom_rule_added_in_the_portal_is_destructive_to_remove() {
    let mut world = connected_world();
    world[4]["properties"]["customRules"].as_array_mut().unwrap().push(json!({
        "name": "AllowEveryone", "priority": 2, "ruleType": "MatchRule", "action": "Allow",
        "matchConditions": [{"matchVariables": [{"variableName": "RemoteAddr"}], "operator": "IPMatch", "matchValues": ["0.0.0.0/0"]}]
    }));
    let (plan, text) = check(&world);
    let waf = plan
        .resources
        .iter()
        .find(|r| r.kind == "WafPolicy")
        .unwrap();
    assert_eq!(
        waf.destructive,
        vec!["properties.customRules[AllowEveryone] is removed"]
    );
    insta::assert_snapshot!(text);
}

#[test]
fn out_of_sync_peering_is_resynced_with_the_query_flag() {
    let mut world = connected_world();
    world[2] = peering(
        "vnet-hub",
        "vnet-spoke",
        true,
        true,
        "Connected",
        "RemoteNotInSync",
    );
    let (plan, text) = check(&world);
    let hub = plan
        .resources
        .iter()
        .find(|r| r.address.ends_with(":hub"))
        .unwrap();
    assert_eq!(hub.action, Action::Update);
    assert!(hub.changes.is_empty());
    assert_eq!(
        hub.put.as_ref().unwrap().query,
        vec![("syncRemoteAddressSpace".to_string(), "true".to_string())]
    );
    insta::assert_snapshot!(text);
}

#[test]
fn deleted_side_is_created_and_the_disconnected_side_replaced() {
    let mut world = connected_world();
    world[2] = peering(
        "vnet-hub",
        "vnet-spoke",
        true,
        true,
        "Disconnected",
        "FullyInSync",
    );
    world.remove(3);
    let (plan, text) = check(&world);
    let got = actions(&plan);
    assert!(
        got.contains(&(
            "VirtualNetworkPeering/hub-spoke:hub".into(),
            Action::Replace
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "VirtualNetworkPeering/hub-spoke:spoke".into(),
            Action::Create
        )),
        "{got:?}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn a_missing_vnet_blocks_its_peerings() {
    let world = vec![
        vnet("vnet-hub"),
        waf(&["198.51.100.0/28", "203.0.113.10"], "Prevention"),
    ];
    let (plan, text) = check(&world);
    let got = actions(&plan);
    assert!(
        got.contains(&("VirtualNetwork/vnet-spoke".into(), Action::Missing)),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "VirtualNetworkPeering/hub-spoke:hub".into(),
            Action::Blocked
        )),
        "{got:?}"
    );
    assert!(plan.has_errors());
    insta::assert_snapshot!(text);
}

#[test]
fn observed_resources_report_drift_but_plan_no_write() {
    let manifest = MANIFEST.replace(
        "    - name: waf\n",
        "    - name: waf\n      policy: observe\n",
    );
    let mut world = connected_world();
    world[4] = waf(&["203.0.113.99"], "Prevention");
    let plan = plan_for(&manifest, &world);
    let waf = plan
        .resources
        .iter()
        .find(|r| r.kind == "WafPolicy")
        .unwrap();
    assert_eq!(waf.action, Action::Update);
    assert!(!waf.writable());
}

#[test]
fn json_plan_is_versioned_and_stable() {
    let mut world = connected_world();
    world[4] = waf(&["198.51.100.0/28", "203.0.113.99"], "Prevention");
    let plan = plan_for(MANIFEST, &world);
    let json: Value = serde_json::from_str(&azrecon::render::plan_json(&plan)).unwrap();
    assert_eq!(json["formatVersion"], "1");
    insta::assert_json_snapshot!(json);
}

const PRIVATE: &str = r#"
version: 1
subscriptions:
  network: 6f1c2a3b-0000-4000-8000-00000000a001
  prd: 6f1c2a3b-0000-4000-8000-00000000f001
defaults: { subscription: network, resourceGroup: rg-hub, location: koreacentral }
resources:
  VirtualNetwork:
    - name: vnet-hub
  CognitiveServicesAccount:
    - { name: aoai-partner, subscription: prd, resourceGroup: rg-openai }
  PrivateDnsZone:
    - name: privatelink.openai.azure.com
  PrivateEndpoint:
    - name: pe-aoai-partner
      spec:
        account: aoai-partner
        subnet: { virtualNetwork: vnet-hub, subnet: snet-pe }
        approval: manual
        requestMessage: network team, for the edge gateway
        privateDnsZoneGroup:
          zones: [privatelink.openai.azure.com]
          managedBy: policy
"#;

/// A manual private endpoint as ARM returns it, awaiting the account owner's approval.
fn pending_endpoint() -> Value {
    let account = "/subscriptions/6f1c2a3b-0000-4000-8000-00000000f001/resourceGroups/rg-openai/providers/Microsoft.CognitiveServices/accounts/aoai-partner";
    let pe = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/privateEndpoints/pe-aoai-partner"
    );
    json!({
        "id": pe, "name": "pe-aoai-partner", "type": "Microsoft.Network/privateEndpoints",
        "location": "koreacentral", "etag": "W/\"1\"",
        "properties": {
            "provisioningState": "Succeeded",
            "privateLinkServiceConnections": [],
            "manualPrivateLinkServiceConnections": [{
                "name": "pe-aoai-partner", "id": format!("{pe}/manualPrivateLinkServiceConnections/pe-aoai-partner"),
                "etag": "W/\"1\"", "type": "Microsoft.Network/privateEndpoints/privateLinkServiceConnections",
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateLinkServiceId": account.to_uppercase(),
                    "groupIds": ["account"],
                    "requestMessage": "network team, for the edge gateway",
                    "privateLinkServiceConnectionState": {"status": "Pending", "description": "Awaiting approval", "actionsRequired": "None"}
                }
            }],
            "subnet": {"id": format!("{}/subnets/snet-pe", vnet_id("vnet-hub"))},
            "networkInterfaces": [{"id": format!("/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/networkInterfaces/pe-aoai-partner.nic.0a1b2c3d")}],
            "customDnsConfigs": [{"fqdn": "aoai-partner.openai.azure.com", "ipAddresses": ["10.0.1.4"]}],
            "applicationSecurityGroups": [],
            "ipConfigurations": []
        }
    })
}

#[test]
fn pending_approval_and_a_zone_group_policy_has_not_deployed_are_reported() {
    let zone = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
    );
    let live = [
        vnet("vnet-hub"),
        json!({"id": "/subscriptions/6f1c2a3b-0000-4000-8000-00000000f001/resourceGroups/rg-openai/providers/Microsoft.CognitiveServices/accounts/aoai-partner",
               "name": "aoai-partner", "type": "Microsoft.CognitiveServices/accounts", "kind": "OpenAI",
               "properties": {"provisioningState": "Succeeded"}}),
        json!({"id": zone, "name": "privatelink.openai.azure.com", "type": "Microsoft.Network/privateDnsZones",
               "location": "global", "etag": "3b2f0c1e-0000-4000-8000-000000000001",
               "properties": {"provisioningState": "Succeeded", "numberOfRecordSets": 1}}),
        pending_endpoint(),
    ];
    let plan = plan_for(PRIVATE, &live);
    assert!(plan.drifted());
    assert!(
        plan.resources
            .iter()
            .all(|r| r.put.is_none() || !r.writable()),
        "nothing is written"
    );
    insta::assert_snapshot!(plan_text(&plan, HumanStyle::default()));
}
