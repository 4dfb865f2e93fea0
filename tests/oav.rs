//! The whole example topology's traffic — what azrecon sends and what the emulator answers,
//! through a reconcile from empty, the demo's drift and its repair — validated against the
//! Azure REST API specs with Microsoft's oav. Exchanges the specs held here cannot judge are
//! listed in `common/oav.rs` with the reason.

mod common;

use azrecon::engine::{self, RunOptions};
use common::*;
use serde_json::json;

#[tokio::test]
#[ignore = "needs the oav-check script (OAV_CHECK) and npm"]
async fn the_example_reconcile_traffic_passes_oav() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let apply = RunOptions {
        dry_run: false,
        ..RunOptions::default()
    };
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    engine::apply(&arm, &desired, &plan, apply).await;
    // Drift of each kind the demo shows, and its repair.
    arm.delete(
        &find(&desired, "VirtualNetworkPeering/hub-prd:spoke").id,
        "2024-01-01",
    )
    .await
    .unwrap();
    emu.update_raw(&find(&desired, "WafPolicy/waf-openai-edge").id, |doc| {
        doc["properties"]["customRules"][0]["matchConditions"][0]["matchValues"] =
            json!(["192.0.2.66"]);
    });
    emu.update_raw(
        &find(&desired, "ApplicationGateway/agw-openai-edge").id,
        |doc| {
            doc["properties"]["probes"][0]["properties"]["match"]["statusCodes"] =
                json!(["200-399"]);
        },
    );
    emu.update_raw(
        &find(&desired, "VirtualNetworkPeering/hub-dev:hub").id,
        |doc| {
            doc["properties"]["peeringSyncLevel"] = json!("LocalNotInSync");
        },
    );
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    engine::apply(&arm, &desired, &plan, apply).await;
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );

    let dir = tempfile::tempdir().unwrap();
    emu.write_traffic(dir.path()).unwrap();
    let kept = oav::prune(dir.path());
    assert!(kept >= 40, "{kept} exchanges to validate");
    oav::assert_valid(dir.path());
}
