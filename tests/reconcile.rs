//! The reconcile loop end to end against the emulator: dry runs write nothing, an empty world
//! converges, a converged world costs reads only, and injected drift is found and fixed.

mod common;

use azrecon::engine::{self, Outcome, RunOptions};
use azrecon::plan::Action;
use common::*;
use serde_json::json;

fn opts(dry_run: bool) -> RunOptions {
    RunOptions {
        dry_run,
        allow_destructive: false,
        concurrency: 4,
        ..RunOptions::default()
    }
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let outcomes = engine::apply(&arm, &desired, &plan, opts(true)).await;
    assert!(plan.drifted());
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.outcome, Outcome::Reported | Outcome::Unchanged))
    );
    assert_eq!(emu.writes(), 0, "{:#?}", emu.requests());
    assert_eq!(emu.reads(), desired.len());
}

#[tokio::test]
async fn empty_world_converges_then_costs_one_get_per_resource() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let outcomes = reconcile(&arm, &desired).await;
    assert_settled(&outcomes);
    let creates = desired.iter().filter(|d| !d.existing_only).count();
    assert_eq!(emu.writes(), creates, "one PUT per created resource");

    // Both sides of every pair are connected once the second side exists.
    for d in desired
        .iter()
        .filter(|d| d.kind.name() == "VirtualNetworkPeering")
    {
        let live = emu.resource(&d.id).unwrap();
        assert_eq!(
            live["properties"]["peeringState"], "Connected",
            "{}",
            d.address
        );
    }

    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    assert!(
        !plan.drifted(),
        "{}",
        azrecon::render::plan_text(&plan, Default::default())
    );
    let outcomes = engine::apply(&arm, &desired, &plan, opts(false)).await;
    assert_settled(&outcomes);
    assert_eq!(emu.writes(), 0);
    assert_eq!(
        emu.reads(),
        desired.len(),
        "an unchanged resource costs exactly one GET"
    );
}

#[tokio::test]
async fn allowlist_drift_is_reported_then_corrected() {
    let (emu, arm, desired) = converged_example().await;

    let waf = find(&desired, "WafPolicy/waf-openai-edge");
    emu.update_raw(&waf.id, |doc| {
        doc["properties"]["customRules"][0]["matchConditions"][0]["matchValues"][0] =
            json!("192.0.2.66");
    });
    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let drifted: Vec<_> = plan
        .resources
        .iter()
        .filter(|r| r.drifted())
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(drifted, vec!["WafPolicy/waf-openai-edge"]);
    let outcomes = engine::apply(&arm, &desired, &plan, opts(false)).await;
    assert_settled(&outcomes);
    assert_eq!(emu.writes(), 1);
    let values = &emu.resource(&waf.id).unwrap()["properties"]["customRules"][0]["matchConditions"]
        [0]["matchValues"];
    assert!(!values.as_array().unwrap().contains(&json!("192.0.2.66")));
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );
}

#[tokio::test]
async fn deleted_peering_side_is_recreated_and_reconnected() {
    let (emu, arm, desired) = converged_example().await;

    // Someone deletes the spoke side in the portal: ARM marks the hub side Disconnected.
    let spoke = find(&desired, "VirtualNetworkPeering/hub-dev:spoke");
    let hub = find(&desired, "VirtualNetworkPeering/hub-dev:hub");
    arm.delete(&spoke.id, "2024-01-01").await.unwrap();
    assert_eq!(
        emu.resource(&hub.id).unwrap()["properties"]["peeringState"],
        "Disconnected"
    );

    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let action = |address: &str| {
        plan.resources
            .iter()
            .find(|r| r.address == address)
            .unwrap()
            .action
    };
    assert_eq!(
        action("VirtualNetworkPeering/hub-dev:spoke"),
        Action::Create
    );
    assert_eq!(action("VirtualNetworkPeering/hub-dev:hub"), Action::Replace);
    assert_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    for d in [hub, spoke] {
        assert_eq!(
            emu.resource(&d.id).unwrap()["properties"]["peeringState"],
            "Connected",
            "{}",
            d.address
        );
    }
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );
}

#[tokio::test]
async fn peering_out_of_sync_is_resynced() {
    let (emu, arm, desired) = converged_example().await;

    let hub = find(&desired, "VirtualNetworkPeering/hub-eus2:hub");
    emu.update_raw(&hub.id, |doc| {
        doc["properties"]["peeringSyncLevel"] = json!("RemoteNotInSync")
    });
    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    assert!(plan.drifted());
    assert_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    let puts: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.is_write())
        .collect();
    assert_eq!(puts.len(), 1);
    assert!(
        puts[0].query.contains("syncRemoteAddressSpace=true"),
        "{}",
        puts[0].query
    );
    assert_eq!(
        emu.resource(&hub.id).unwrap()["properties"]["peeringSyncLevel"],
        "FullyInSync"
    );
}

#[tokio::test]
async fn a_missing_vnet_is_a_clear_error_and_blocks_only_its_dependents() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let stg = find(&desired, "VirtualNetwork/vnet-stg-krc");
    emu.remove_raw(&stg.id);
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let missing = plan
        .resources
        .iter()
        .find(|r| r.address == "VirtualNetwork/vnet-stg-krc")
        .unwrap();
    assert_eq!(missing.action, Action::Missing);
    assert!(missing.reason.as_ref().unwrap().contains("does not exist"));
    let outcomes = engine::apply(&arm, &desired, &plan, opts(false)).await;
    for o in &outcomes {
        let blocked = o.address.starts_with("VirtualNetworkPeering/hub-stg")
            || o.address == "VirtualNetwork/vnet-stg-krc"
            || (o.address.starts_with("VirtualNetworkLink/") && o.address.ends_with("-stg-krc"));
        let not_applied = matches!(o.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. });
        assert_eq!(blocked, not_applied, "{}: {:?}", o.address, o.outcome);
    }
}

#[tokio::test]
async fn a_concurrent_writer_is_not_clobbered() {
    let (emu, arm, desired) = converged_example().await;
    let waf = find(&desired, "WafPolicy/waf-openai-edge");
    emu.update_raw(&waf.id, |doc| {
        doc["properties"]["policySettings"]["mode"] = json!("Detection")
    });
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();

    // Between plan and apply, another writer tags the policy through ARM: its etag changes.
    let mut theirs = emu.resource(&waf.id).unwrap();
    theirs["tags"] = json!({"owner": "secops"});
    for field in ["id", "name", "type", "etag"] {
        theirs.as_object_mut().unwrap().remove(field);
    }
    arm.put(&waf.id, "2024-01-01", &theirs, &Default::default())
        .await
        .unwrap();

    emu.clear_log();
    assert_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    let live = emu.resource(&waf.id).unwrap();
    assert_eq!(
        live["tags"]["owner"], "secops",
        "the other writer's change survives"
    );
    assert_eq!(live["properties"]["policySettings"]["mode"], "Prevention");
    let statuses: Vec<u16> = emu
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses.first(),
        Some(&412),
        "the stale PUT is refused by its If-Match: {statuses:?}"
    );
    assert_eq!(statuses.len(), 2);
}
