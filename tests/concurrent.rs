//! Concurrent writers on one gateway under shared ownership: two azrecon runs at once, and a
//! portal edit landing while azrecon's write runs. Neither loses the other writer's change; a
//! stale write is refused (412 or `Canceled`) and planned again, never replayed.

mod common;

use azrecon::arm::{ArmClient, PutOptions};
use azrecon::emulator::{Emulator, Fault, FaultRule};
use azrecon::engine::{self, Outcome, RunOptions};
use azrecon::kinds::Desired;
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

const GATEWAY: &str = "ApplicationGateway/agw-openai-edge";

fn opts() -> RunOptions {
    RunOptions {
        dry_run: false,
        ..RunOptions::default()
    }
}

async fn run(arm: &ArmClient, desired: &[Desired]) -> Vec<engine::ResourceOutcome> {
    let plan = engine::plan_live(arm, desired, 8).await.unwrap();
    engine::apply(arm, desired, &plan, opts()).await
}

fn settled(outcomes: &[engine::ResourceOutcome]) {
    for o in outcomes {
        assert!(
            matches!(o.outcome, Outcome::Converged { .. } | Outcome::Unchanged),
            "{o:?}"
        );
    }
}

/// Another controller's backend pool on the gateway, and drift on a probe azrecon owns.
fn foreign_pool_and_drift(doc: &mut Value, pool: &str, probe_path: &str) {
    let id = format!("{}/backendAddressPools/{pool}", doc["id"].as_str().unwrap());
    let p = &mut doc["properties"];
    p["backendAddressPools"]
        .as_array_mut()
        .unwrap()
        .push(json!({
        "name": pool, "id": id,
        "properties": {"backendAddresses": [{"ipAddress": "10.20.0.4"}]}}));
    p["probes"][0]["properties"]["path"] = json!(probe_path);
}

fn pools(emu: &Emulator, gateway: &str) -> Vec<String> {
    emu.resource(gateway).unwrap()["properties"]["backendAddressPools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

fn gateway_puts(emu: &Emulator, gateway: &str) -> Vec<u16> {
    emu.requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.eq_ignore_ascii_case(gateway))
        .map(|r| r.status)
        .collect()
}

async fn converged_world() -> (Emulator, Vec<Desired>, String) {
    let emu = emulator().await;
    let desired = shared_gateway_manifest();
    seed_existing(&emu, &desired);
    settled(&run(&client(&emu), &desired).await);
    let gateway = find(&desired, GATEWAY).id.clone();
    (emu, desired, gateway)
}

#[tokio::test(start_paused = true)]
async fn two_runs_on_one_gateway_keep_each_others_and_foreign_children() {
    let (emu, desired, gateway) = converged_world().await;
    emu.update_raw(&gateway, |doc| {
        foreign_pool_and_drift(doc, "agic-pool", "/drifted")
    });
    emu.clear_log();
    let (first, second) = (client(&emu), client(&emu));
    let (a, b) = tokio::join!(run(&first, &desired), run(&second, &desired));
    settled(&a);
    settled(&b);
    let accepted = gateway_puts(&emu, &gateway)
        .into_iter()
        .filter(|s| (200..300).contains(s))
        .count();
    assert_eq!(
        accepted, 1,
        "one run fixed the gateway; the other found nothing to do"
    );
    assert!(pools(&emu, &gateway).contains(&"agic-pool".to_owned()));
    let live = emu.resource(&gateway).unwrap();
    assert_eq!(live["properties"]["probes"][0]["properties"]["path"], "/");
    assert_eq!(live["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test(start_paused = true)]
async fn a_portal_edit_during_a_run_is_kept_and_the_run_converges() {
    let (emu, desired, gateway) = converged_world().await;
    emu.update_raw(&gateway, |doc| {
        doc["properties"]["probes"][0]["properties"]["path"] = json!("/drifted")
    });
    // Polls answer after 5 s: the run's operation is still in flight when the portal writes.
    emu.add_fault(FaultRule::new(Fault::Delay { millis: 5_000 }).path_contains("/operations/"))
        .unwrap();
    emu.clear_log();
    let arm = client(&emu);
    let portal = async {
        while gateway_puts(&emu, &gateway).is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The portal: read the gateway, add a pool and change the probe, PUT it back.
        let mut edit = emu.resource(&gateway).unwrap();
        foreign_pool_and_drift(&mut edit, "portal-pool", "/portal");
        for field in ["id", "name", "type", "etag"] {
            edit.as_object_mut().unwrap().remove(field);
        }
        arm.put(&gateway, "2024-01-01", &edit, &PutOptions::default())
            .await
            .unwrap();
    };
    let (outcomes, ()) = tokio::join!(run(&arm, &desired), portal);
    settled(&outcomes);
    let gw = outcomes.iter().find(|o| o.address == GATEWAY).unwrap();
    assert!(
        matches!(gw.outcome, Outcome::Converged { writes: 1 }),
        "{gw:?}"
    );
    let puts = gateway_puts(&emu, &gateway);
    assert_eq!(puts.len(), 3, "ours, the portal's, ours again: {puts:?}");
    assert!(pools(&emu, &gateway).contains(&"portal-pool".to_owned()));
    let live = emu.resource(&gateway).unwrap();
    assert_eq!(
        live["properties"]["probes"][0]["properties"]["path"], "/",
        "azrecon's owned probe is back"
    );
    // The next plan is empty: verification agrees.
    emu.set_faults(Vec::new()).unwrap();
    let again = engine::plan_live(&arm, &desired, 8).await.unwrap();
    assert!(!again.drifted());
}
