//! The gateway against the emulator: one GET and at most one PUT per run, shared ownership that
//! keeps other writers' children, and the destructive guard.

mod common;

use azrecon::engine::{self, Outcome, RunOptions};
use common::*;
use serde_json::json;

fn opts(allow_destructive: bool) -> RunOptions {
    RunOptions {
        dry_run: false,
        allow_destructive,
        concurrency: 4,
        ..RunOptions::default()
    }
}

async fn converged(emu: &azrecon::emulator::Emulator, desired: &[azrecon::kinds::Desired]) {
    let arm = client(emu);
    seed_existing(emu, desired);
    let plan = engine::plan_live(&arm, desired, 4).await.unwrap();
    for o in engine::apply(&arm, desired, &plan, opts(false)).await {
        assert!(
            matches!(o.outcome, Outcome::Converged { .. } | Outcome::Unchanged),
            "{o:?}"
        );
    }
}

fn gateway_id(desired: &[azrecon::kinds::Desired]) -> String {
    find(desired, "ApplicationGateway/agw-openai-edge")
        .id
        .clone()
}

#[tokio::test]
async fn ten_drifted_children_cost_one_put() {
    let emu = emulator().await;
    let desired = example_manifest();
    converged(&emu, &desired).await;
    let gw = gateway_id(&desired);
    emu.update_raw(&gw, |doc| {
        let p = &mut doc["properties"];
        p["backendHttpSettingsCollection"][0]["properties"]["requestTimeout"] = json!(5);
        p["backendHttpSettingsCollection"][1]["properties"]["requestTimeout"] = json!(6);
        p["backendHttpSettingsCollection"][1]["properties"]["path"] = json!("/x");
        p["probes"][0]["properties"]["path"] = json!("/health");
        p["probes"][0]["properties"]["interval"] = json!(5);
        p["probes"][0]["properties"]["match"]["statusCodes"] = json!(["200"]);
        p["backendAddressPools"][0]["properties"]["backendAddresses"] =
            json!([{"fqdn": "other.openai.azure.com"}]);
        p["backendAddressPools"][1]["properties"]["backendAddresses"] = json!([]);
        p["requestRoutingRules"][0]["properties"]["priority"] = json!(999);
        p["httpListeners"][0]["properties"]["hostNames"] = json!(["x.example.com"]);
        p["frontendPorts"][0]["properties"]["port"] = json!(8443);
    });
    let arm = client(&emu);
    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let gw_plan = plan.resources.iter().find(|r| r.id == gw).unwrap();
    assert!(gw_plan.changes.len() >= 10, "{:#?}", gw_plan.changes);
    for o in engine::apply(&arm, &desired, &plan, opts(false)).await {
        assert!(
            matches!(o.outcome, Outcome::Converged { .. } | Outcome::Unchanged),
            "{o:?}"
        );
    }
    let writes: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.is_write())
        .collect();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert!(
        writes[0]
            .path
            .ends_with("applicationGateways/agw-openai-edge")
    );
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );
}

#[tokio::test]
async fn under_shared_ownership_foreign_children_survive() {
    let emu = emulator().await;
    let desired = shared_gateway_manifest();
    converged(&emu, &desired).await;
    let gw = gateway_id(&desired);
    // Another controller (AGIC, say) adds its own listener, rule and pool.
    emu.update_raw(&gw, |doc| {
        let p = &mut doc["properties"];
        let port = p["frontendPorts"][0]["id"].clone();
        let fip = p["frontendIPConfigurations"][0]["id"].clone();
        let settings = p["backendHttpSettingsCollection"][0]["id"].clone();
        let gw_id = doc["id"].as_str().unwrap().to_string();
        let p = &mut doc["properties"];
        p["backendAddressPools"].as_array_mut().unwrap().push(json!({
            "name": "agic-pool", "id": format!("{gw_id}/backendAddressPools/agic-pool"),
            "properties": {"backendAddresses": [{"ipAddress": "10.20.0.4"}]}}));
        p["httpListeners"].as_array_mut().unwrap().push(json!({
            "name": "agic-listener", "id": format!("{gw_id}/httpListeners/agic-listener"),
            "properties": {"frontendIPConfiguration": fip, "frontendPort": port, "protocol": "Http", "hostNames": ["app.example.org"]}}));
        p["requestRoutingRules"].as_array_mut().unwrap().push(json!({
            "name": "agic-rule", "id": format!("{gw_id}/requestRoutingRules/agic-rule"),
            "properties": {"ruleType": "Basic", "priority": 500,
                "httpListener": {"id": format!("{gw_id}/httpListeners/agic-listener")},
                "backendAddressPool": {"id": format!("{gw_id}/backendAddressPools/agic-pool")},
                "backendHttpSettings": settings}}));
        // ... and an owned child drifts at the same time.
        p["probes"][0]["properties"]["path"] = json!("/drifted");
    });
    let arm = client(&emu);
    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let gw_plan = plan.resources.iter().find(|r| r.id == gw).unwrap();
    assert_eq!(
        gw_plan.changes.len(),
        1,
        "only the owned probe differs: {:#?}",
        gw_plan.changes
    );
    assert!(gw_plan.destructive.is_empty());
    for o in engine::apply(&arm, &desired, &plan, opts(false)).await {
        assert!(
            matches!(o.outcome, Outcome::Converged { .. } | Outcome::Unchanged),
            "{o:?}"
        );
    }
    let live = emu.resource(&gw).unwrap();
    let names = |c: &str| -> Vec<String> {
        live["properties"][c]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names("httpListeners").contains(&"agic-listener".to_string()));
    assert!(names("requestRoutingRules").contains(&"agic-rule".to_string()));
    assert!(names("backendAddressPools").contains(&"agic-pool".to_string()));
    assert_eq!(live["properties"]["probes"][0]["properties"]["path"], "/");
    let put = emu
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    let sent = serde_json::to_string(put.request_body.as_ref().unwrap()).unwrap();
    assert!(
        sent.contains("agic-listener") && sent.contains("agic-rule") && sent.contains("agic-pool")
    );
}

#[tokio::test]
async fn removing_foreign_children_under_exclusive_ownership_needs_the_flag() {
    let emu = emulator().await;
    let desired = example_manifest();
    converged(&emu, &desired).await;
    let gw = gateway_id(&desired);
    emu.update_raw(&gw, |doc| {
        let id = format!(
            "{}/backendAddressPools/portal-pool",
            doc["id"].as_str().unwrap()
        );
        doc["properties"]["backendAddressPools"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "portal-pool", "id": id, "properties": {"backendAddresses": []}}));
    });
    let arm = client(&emu);
    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let outcomes = engine::apply(&arm, &desired, &plan, opts(false)).await;
    let gw_outcome = outcomes
        .iter()
        .find(|o| o.address == "ApplicationGateway/agw-openai-edge")
        .unwrap();
    assert!(
        matches!(&gw_outcome.outcome, Outcome::Refused { reasons } if reasons[0].contains("portal-pool")),
        "{gw_outcome:?}"
    );
    assert_eq!(emu.writes(), 0);

    let outcomes = engine::apply(&arm, &desired, &plan, opts(true)).await;
    let gw_outcome = outcomes
        .iter()
        .find(|o| o.address == "ApplicationGateway/agw-openai-edge")
        .unwrap();
    assert!(
        matches!(gw_outcome.outcome, Outcome::Converged { writes: 1 }),
        "{gw_outcome:?}"
    );
    let pools = emu.resource(&gw).unwrap()["properties"]["backendAddressPools"].clone();
    assert!(!pools.to_string().contains("portal-pool"));
}
