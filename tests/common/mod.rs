//! Shared set-up of the end-to-end tests: an in-process emulator over HTTPS, a client that trusts
//! its test CA, and the example manifest's VNets seeded as existing resources.
#![allow(dead_code)] // each test binary uses its own part of this module

use azrecon::arm::{ArmClient, ArmClientOptions, Cloud, StaticToken};
use azrecon::emulator::{self, Emulator, EmulatorConfig};
use azrecon::kinds::{Desired, expand};
use azrecon::manifest::{load_path, load_str};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

pub async fn emulator() -> Emulator {
    emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: true,
        state_file: None,
        seed_dir: None,
        lro_polls: 2,
        retry_after_secs: 0,
    })
    .await
    .expect("the emulator starts")
}

pub fn client(emulator: &Emulator) -> ArmClient {
    let cloud = Cloud::at_endpoint(emulator.base_url().parse().unwrap());
    let mut options = ArmClientOptions::new(cloud, Arc::new(StaticToken::new("test-token")));
    options.extra_root_ca_pem = emulator.ca_pem();
    ArmClient::new(options).expect("the client builds")
}

pub fn example_manifest() -> Vec<Desired> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/examples");
    expand(&load_path(&dir).unwrap()).unwrap()
}

pub fn manifest(text: &str) -> Vec<Desired> {
    expand(&load_str("manifest.yaml", text).unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

/// Seeds every VNet the manifest refers to, as an existing resource, with an address space,
/// and (see [`seed_certificates`]) the certificates its gateways use: the world the manifest
/// assumes but azrecon never creates.
pub fn seed_vnets(emulator: &Emulator, desired: &[Desired]) {
    seed_certificates(emulator, desired);
    for (i, d) in desired
        .iter()
        .filter(|d| d.kind.name() == "VirtualNetwork")
        .enumerate()
    {
        let name = d.id.rsplit('/').next().unwrap();
        let declared = d.body["properties"]["addressSpace"]["addressPrefixes"][0].as_str();
        let prefix = declared.map_or_else(|| format!("10.{}.0.0/16", 100 + i), str::to_string);
        emulator.put_raw(&d.id, vnet_doc(&d.id, name, &prefix));
    }
}

/// Stores every certificate the manifest's gateways use on the emulator's Key Vault data plane,
/// valid for a year and named for the listeners' host names, so certificate health is clean.
pub fn seed_certificates(emulator: &Emulator, desired: &[Desired]) {
    let now = time::OffsetDateTime::now_utc();
    for watched in azrecon::certificates::watched(desired) {
        let mut names = watched.hosts.clone();
        names.push("*.example.com".into());
        let info = emulator::CertificateInfo {
            subject: format!("CN={}", names[0]),
            dns_names: names,
            not_before: now - time::Duration::days(30),
            expires: now + time::Duration::days(365),
        };
        emulator.put_certificate(&watched.vault, &watched.name, &info);
    }
}

pub fn vnet_doc(id: &str, name: &str, prefix: &str) -> Value {
    json!({
        "id": id, "name": name, "type": "Microsoft.Network/virtualNetworks", "location": "koreacentral",
        "etag": "W/\"00000000-0000-0000-0000-000000000001\"",
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": "00000000-0000-0000-0000-0000000000aa",
            "addressSpace": {"addressPrefixes": [prefix]},
            "subnets": [], "virtualNetworkPeerings": [], "enableDdosProtection": false
        }
    })
}

pub fn find<'d>(desired: &'d [Desired], address: &str) -> &'d Desired {
    desired
        .iter()
        .find(|d| d.address == address)
        .unwrap_or_else(|| panic!("no {address}"))
}
