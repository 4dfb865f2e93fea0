//! The demo's live state, `manifests/examples/live/`: ARM documents as the emulator's GETs return
//! them for the example topology, drifted in the ways the README describes. This test checks the
//! drift the demo shows; with `AZRECON_REGENERATE_SEED=1` it writes the documents afresh.

mod common;

use azrecon::emulator::{self, EmulatorConfig};
use azrecon::engine::{self, RunOptions};
use azrecon::plan::Action;
use common::*;
use serde_json::json;
use std::path::Path;

fn seed_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/examples/live")
}

/// What someone did by hand since the last reconcile.
async fn drift(emu: &azrecon::emulator::Emulator, desired: &[azrecon::kinds::Desired]) {
    let arm = client(emu);
    // A peering was deleted in the portal: its other side is now Disconnected.
    arm.delete(
        &find(desired, "VirtualNetworkPeering/hub-prd:spoke").id,
        "2024-01-01",
    )
    .await
    .unwrap();
    // The stg spoke was never peered.
    for side in ["spoke", "hub"] {
        arm.delete(
            &find(desired, &format!("VirtualNetworkPeering/hub-stg:{side}")).id,
            "2024-01-01",
        )
        .await
        .unwrap();
    }
    // The hub's address space grew, and the dev peering was not resynced.
    emu.update_raw(
        &find(desired, "VirtualNetworkPeering/hub-dev:hub").id,
        |doc| {
            doc["properties"]["peeringSyncLevel"] = json!("LocalNotInSync");
        },
    );
    // Someone let a test address through the WAF and dropped a SaaS address.
    emu.update_raw(&find(desired, "WafPolicy/waf-openai-edge").id, |doc| {
        doc["properties"]["customRules"][0]["matchConditions"][0]["matchValues"] =
            json!(["203.0.113.10", "198.51.100.0/28", "192.0.2.66"]);
    });
    // A listener was edited in the portal, and the probe lost OpenAI's 401/404 answers.
    emu.update_raw(
        &find(desired, "ApplicationGateway/agw-openai-edge").id,
        |doc| {
            doc["properties"]["httpListeners"][0]["properties"]["hostNames"] =
                json!(["aoai-test.example.com"]);
            doc["properties"]["probes"][0]["properties"]["match"]["statusCodes"] =
                json!(["200-399"]);
        },
    );
}

#[tokio::test]
async fn the_demo_seed_shows_the_documented_drift() {
    let desired = example_manifest();
    if std::env::var_os("AZRECON_REGENERATE_SEED").is_some() {
        regenerate(&desired).await;
    }
    let emu = emulator::start(EmulatorConfig {
        seed_dir: Some(seed_dir()),
        retry_after_secs: 0,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let arm = client(&emu);
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let mut drifted: Vec<(String, Action)> = plan
        .resources
        .iter()
        .filter(|r| r.drifted())
        .map(|r| (r.address.clone(), r.action))
        .collect();
    drifted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        drifted,
        vec![
            (
                "ApplicationGateway/agw-openai-edge".to_string(),
                Action::Update
            ),
            (
                "VirtualNetworkPeering/hub-dev:hub".to_string(),
                Action::Update
            ),
            (
                "VirtualNetworkPeering/hub-prd:hub".to_string(),
                Action::Replace
            ),
            (
                "VirtualNetworkPeering/hub-prd:spoke".to_string(),
                Action::Create
            ),
            (
                "VirtualNetworkPeering/hub-stg:hub".to_string(),
                Action::Create
            ),
            (
                "VirtualNetworkPeering/hub-stg:spoke".to_string(),
                Action::Create
            ),
            ("WafPolicy/waf-openai-edge".to_string(), Action::Update),
        ]
    );
    let outcomes = engine::apply(
        &arm,
        &desired,
        &plan,
        RunOptions {
            dry_run: false,
            ..RunOptions::default()
        },
    )
    .await;
    assert!(
        outcomes.iter().all(|o| matches!(
            o.outcome,
            engine::Outcome::Converged { .. } | engine::Outcome::Unchanged
        )),
        "{outcomes:#?}"
    );
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );
}

async fn regenerate(desired: &[azrecon::kinds::Desired]) {
    let emu = emulator().await;
    seed_existing(&emu, desired);
    // The committed seed outlives this run: its certificate must stay valid for years.
    let now = time::OffsetDateTime::now_utc();
    for cert in azrecon::certificates::watched(desired) {
        let mut names = cert.hosts.clone();
        names.push("*.example.com".into());
        let info = emulator::CertificateInfo {
            subject: "CN=*.example.com".into(),
            dns_names: names,
            not_before: now - time::Duration::days(1),
            expires: now + time::Duration::days(3650),
        };
        emu.put_certificate(&cert.vault, &cert.name, &info);
    }
    let arm = client(&emu);
    let plan = engine::plan_live(&arm, desired, 4).await.unwrap();
    engine::apply(
        &arm,
        desired,
        &plan,
        RunOptions {
            dry_run: false,
            ..RunOptions::default()
        },
    )
    .await;
    drift(&emu, desired).await;
    let dir = seed_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for cert in azrecon::certificates::watched(desired) {
        let doc = emu.certificate(&cert.vault, &cert.name).unwrap();
        let file = dir.join(format!(
            "KeyVaultCertificate_{}_{}.json",
            cert.vault, cert.name
        ));
        std::fs::write(file, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    }
    for d in desired {
        if let Some(doc) = emu.resource(&d.id) {
            let name = d.address.replace(['/', ':'], "_");
            std::fs::write(
                dir.join(format!("{name}.json")),
                serde_json::to_string_pretty(&doc).unwrap() + "\n",
            )
            .unwrap();
        }
    }
}
