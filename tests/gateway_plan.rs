//! No perpetual diff on an Application Gateway: a live body as ARM returns it (child IDs, etags,
//! states, back-references, implicit defaults, re-cased IDs and enums, children reordered) plans
//! as no-op, and each pattern reported against other tools' gateways has its own regression.

use azrecon::kinds::{Desired, expand};
use azrecon::manifest::load_str;
use azrecon::plan::{Action, Live, ResourcePlan, plan_resource};
use serde_json::{Value, json};

const GATEWAY: &str = r#"
version: 1
subscriptions: { network: 6f1c2a3b-0000-4000-8000-00000000a001 }
defaults: { subscription: network, resourceGroup: rg-hub, location: koreacentral }
resources:
  VirtualNetwork: [ { name: vnet-hub } ]
  PublicIpAddress: [ { name: pip-agw } ]
  UserAssignedIdentity: [ { name: id-agw } ]
  WafPolicy: [ { name: waf, spec: { allowlist: [203.0.113.10] } } ]
  ApplicationGateway:
    - name: agw
      spec:
        autoscale: { minCapacity: 1, maxCapacity: 3 }
        identity: id-agw
        subnet: { virtualNetwork: vnet-hub, subnet: snet-agw }
        frontend: { publicIp: pip-agw }
        frontendPorts: [ { name: port-443, port: 443 } ]
        sslCertificates:
          - { name: wildcard, keyVaultSecretId: "https://kv-edge.vault.azure.net/secrets/wildcard/" }
        listeners:
          - { name: lst-a, frontendPort: port-443, hostNames: [a.example.com], sslCertificate: wildcard }
          - { name: lst-b, frontendPort: port-443, hostNames: ["*.example.com"], sslCertificate: wildcard }
        backendPools:
          - { name: pool-krc, fqdns: [aoai-krc.openai.azure.com] }
          - { name: pool-eus2, fqdns: [aoai-eus2.openai.azure.com] }
        probes:
          - { name: probe-aoai }
        backendSettings:
          - { name: bs-krc, probe: probe-aoai }
          - { name: bs-eus2, probe: probe-aoai, path: / }
        urlPathMaps:
          - name: pm
            defaultBackendPool: pool-krc
            defaultBackendSettings: bs-krc
            pathRules:
              - { name: eastus2, paths: ["/eastus2/*"], backendPool: pool-eus2, backendSettings: bs-eus2 }
              - { name: koreacentral, paths: ["/openai/*"], backendPool: pool-krc, backendSettings: bs-krc }
        routingRules:
          - { name: rr-a, priority: 100, listener: lst-a, urlPathMap: pm }
          - { name: rr-b, priority: 200, listener: lst-b, urlPathMap: pm }
        wafPolicy: waf
"#;

fn gateway(manifest: &str) -> Desired {
    let desired =
        expand(&load_str("manifest.yaml", manifest).unwrap()).unwrap_or_else(|e| panic!("{e}"));
    desired
        .into_iter()
        .find(|d| d.kind.name() == "ApplicationGateway")
        .unwrap()
}

/// What ARM does to a gateway body between PUT and GET.
fn as_arm_returns(desired: &Desired) -> Value {
    let mut live = desired.body.clone();
    let gw = desired.id.to_uppercase();
    live["id"] = json!(gw);
    live["name"] = json!("agw");
    live["etag"] = json!("W/\"42\"");
    live["type"] = json!("Microsoft.Network/applicationGateways");
    let props = live["properties"].as_object_mut().unwrap();
    props.insert("provisioningState".into(), json!("Succeeded"));
    props.insert("operationalState".into(), json!("Running"));
    props.insert(
        "resourceGuid".into(),
        json!("00000000-0000-0000-0000-00000000abcd"),
    );
    props.insert(
        "defaultPredefinedSslPolicy".into(),
        json!("AppGwSslPolicy20220101"),
    );
    props.insert("authenticationCertificates".into(), json!([]));
    props.insert("trustedRootCertificates".into(), json!([]));
    props.insert("redirectConfigurations".into(), json!([]));
    for (collection, children) in props.iter_mut() {
        let Some(children) = children.as_array_mut() else {
            continue;
        };
        // ARM keeps its own order; manifests have theirs.
        children.reverse();
        for child in children.iter_mut() {
            let name = child["name"].as_str().unwrap().to_string();
            child["id"] = json!(format!("{gw}/{collection}/{name}"));
            child["etag"] = json!("W/\"42\"");
            child["type"] = json!(format!(
                "Microsoft.Network/applicationGateways/{collection}"
            ));
            child["properties"]["provisioningState"] = json!("Succeeded");
            recase_ids(child);
        }
    }
    // Back-references real ARM adds to GET responses.
    live["properties"]["frontendPorts"][0]["properties"]["httpListeners"] =
        json!([{"id": format!("{gw}/httpListeners/lst-a")}]);
    live["properties"]["backendAddressPools"][0]["properties"]["requestRoutingRules"] =
        json!([{"id": format!("{gw}/requestRoutingRules/rr-a")}]);
    live["properties"]["backendAddressPools"][0]["properties"]["backendIPConfigurations"] =
        json!([]);
    live["properties"]["probes"][0]["properties"]["backendHttpSettings"] =
        json!([{"id": format!("{gw}/backendHttpSettingsCollection/bs-krc")}]);
    live["properties"]["sslCertificates"][0]["properties"]["publicCertData"] = json!("MIIB...");
    live["properties"]["sslCertificates"][0]["properties"]["httpListeners"] =
        json!([{"id": format!("{gw}/httpListeners/lst-a")}]);
    // Enums re-cased.
    live["properties"]["sku"]["tier"] = json!("waf_v2");
    live["properties"]["requestRoutingRules"][0]["properties"]["ruleType"] =
        json!("pathBasedRouting");
    live["identity"]["principalId"] = json!("11111111-1111-1111-1111-111111111111");
    live
}

fn recase_ids(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "id" {
                    if let Some(s) = v.as_str() {
                        *v = json!(s.to_lowercase());
                    }
                } else {
                    recase_ids(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(recase_ids),
        _ => {}
    }
}

fn plan(desired: &Desired, live: Value) -> ResourcePlan {
    plan_resource(
        desired,
        Some(&Live {
            body: live,
            etag: Some("W/\"42\"".into()),
        }),
    )
}

fn assert_no_drift(desired: &Desired, live: Value) {
    let p = plan(desired, live);
    assert_eq!(p.action, Action::NoOp, "{:#?}", p.changes);
}

#[test]
fn a_gateway_as_arm_returns_it_has_no_drift() {
    let gw = gateway(GATEWAY);
    assert_no_drift(&gw, as_arm_returns(&gw));
}

#[test]
fn omitted_request_timeout_is_not_drift_but_a_changed_one_is() {
    let gw = gateway(GATEWAY);
    let live = as_arm_returns(&gw);
    assert_no_drift(&gw, live.clone());
    let mut changed = live;
    let bs = changed["properties"]["backendHttpSettingsCollection"]
        .as_array_mut()
        .unwrap();
    bs.iter_mut()
        .for_each(|s| s["properties"]["requestTimeout"] = json!(20));
    let p = plan(&gw, changed);
    let paths: Vec<_> = p.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "properties.backendHttpSettingsCollection[bs-krc].properties.requestTimeout",
            "properties.backendHttpSettingsCollection[bs-eus2].properties.requestTimeout"
        ]
    );
}

#[test]
fn rule_order_is_not_drift() {
    let gw = gateway(GATEWAY);
    let mut live = as_arm_returns(&gw);
    for collection in ["requestRoutingRules", "httpListeners", "urlPathMaps"] {
        live["properties"][collection]
            .as_array_mut()
            .unwrap()
            .reverse();
    }
    live["properties"]["urlPathMaps"][0]["properties"]["pathRules"]
        .as_array_mut()
        .unwrap()
        .reverse();
    assert_no_drift(&gw, live);
}

#[test]
fn probe_match_defaults_are_not_drift() {
    let gw = gateway(GATEWAY);
    for arm_form in [
        json!(null),
        json!({}),
        json!({"statusCodes": []}),
        json!({"statusCodes": ["200-399"], "body": ""}),
    ] {
        let mut live = as_arm_returns(&gw);
        let probe = &mut live["properties"]["probes"][0]["properties"];
        if arm_form.is_null() {
            probe.as_object_mut().unwrap().remove("match");
        } else {
            probe["match"] = arm_form;
        }
        assert_no_drift(&gw, live);
    }
}

#[test]
fn key_vault_secret_ids_compare_as_the_same_secret() {
    let gw = gateway(GATEWAY);
    for arm_form in [
        "https://kv-edge.vault.azure.net/secrets/wildcard",
        "https://kv-edge.vault.azure.net/secrets/wildcard/",
        "https://KV-EDGE.vault.azure.net/secrets/wildcard/",
    ] {
        let mut live = as_arm_returns(&gw);
        live["properties"]["sslCertificates"][0]["properties"]["keyVaultSecretId"] =
            json!(arm_form);
        assert_no_drift(&gw, live);
    }
    let mut pinned = as_arm_returns(&gw);
    pinned["properties"]["sslCertificates"][0]["properties"]["keyVaultSecretId"] =
        json!("https://kv-edge.vault.azure.net/secrets/wildcard/0123456789abcdef0123456789abcdef");
    assert_eq!(
        plan(&gw, pinned).action,
        Action::Update,
        "a pinned version is a real difference"
    );
}

#[test]
fn write_only_certificate_fields_are_never_diffed() {
    let gw = gateway(GATEWAY);
    let mut live = as_arm_returns(&gw);
    // ARM never returns `data` or `password`; a body that lacks them is not drift.
    live["properties"]["sslCertificates"][0]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("keyVaultSecretId");
    let p = plan(&gw, live);
    assert_eq!(p.changes.len(), 1);
    assert!(
        !serde_json::to_string(&p.put.unwrap().body)
            .unwrap()
            .contains("password")
    );
}

#[test]
fn a_portal_edit_to_a_listener_is_drift() {
    let gw = gateway(GATEWAY);
    let mut live = as_arm_returns(&gw);
    let listeners = live["properties"]["httpListeners"].as_array_mut().unwrap();
    let a = listeners.iter_mut().find(|l| l["name"] == "lst-a").unwrap();
    a["properties"]["hostNames"] = json!(["evil.example.net"]);
    let p = plan(&gw, live);
    assert_eq!(p.action, Action::Update);
    assert_eq!(
        p.changes[0].path,
        "properties.httpListeners[lst-a].properties.hostNames"
    );
}

#[test]
fn foreign_children_are_drift_only_under_exclusive_ownership() {
    let foreign = |gw: &Desired| {
        let mut live = as_arm_returns(gw);
        let props = &mut live["properties"];
        props["httpListeners"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "agic-listener", "properties": {"protocol": "Http"}}));
        props["backendAddressPools"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "agic-pool", "properties": {}}));
        live
    };
    let exclusive = gateway(GATEWAY);
    let p = plan(&exclusive, foreign(&exclusive));
    assert_eq!(p.action, Action::Update);
    assert_eq!(
        p.destructive,
        vec![
            "properties.httpListeners[agic-listener] is removed",
            "properties.backendAddressPools[agic-pool] is removed"
        ]
    );
    let shared = gateway(&GATEWAY.replace(
        "      spec:\n        autoscale",
        "      spec:\n        ownership: shared\n        autoscale",
    ));
    assert_no_drift(&shared, foreign(&shared));
}

#[test]
fn sku_tier_change_is_destructive() {
    let gw = gateway(
        &GATEWAY
            .replace(
                "        autoscale:",
                "        sku: Standard_v2\n        autoscale:",
            )
            .replace("        wafPolicy: waf\n", ""),
    );
    let p = plan(&gw, as_arm_returns(&gateway(GATEWAY)));
    assert!(
        p.destructive.iter().any(|d| d.contains("SKU tier")),
        "{:?}",
        p.destructive
    );
}

#[test]
fn a_versioned_secret_uri_warns_and_a_certificate_id_is_refused() {
    let versioned = GATEWAY.replace(
        "secrets/wildcard/\"",
        "secrets/wildcard/0123456789abcdef0123456789abcdef\"",
    );
    assert!(
        gateway(&versioned).warnings[0]
            .contains("renewals in Key Vault will not reach the gateway")
    );
    let arm_id = GATEWAY.replace(
        "\"https://kv-edge.vault.azure.net/secrets/wildcard/\"",
        "/subscriptions/6f1c2a3b-0000-4000-8000-00000000a001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-edge/certificates/wildcard",
    );
    let errors = expand(&load_str("manifest.yaml", &arm_id).unwrap())
        .unwrap_err()
        .to_string();
    assert!(errors.contains("certificate's ARM ID"), "{errors}");
}
