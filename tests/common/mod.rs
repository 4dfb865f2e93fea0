//! Shared set-up of the end-to-end tests: an in-process emulator over HTTPS, a client that trusts
//! its test CA, and what the example manifest refers to (VNets, accounts) seeded as existing.
#![allow(dead_code)] // each test binary uses its own part of this module

pub mod oav;

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

/// Seeds what the manifest refers to but azrecon never creates: every VNet, with an address
/// space and the subnets that desired bodies name, every Cognitive Services account, and (see
/// [`seed_certificates`]) the certificates its gateways use.
pub fn seed_existing(emulator: &Emulator, desired: &[Desired]) {
    seed_certificates(emulator, desired);
    for (i, d) in desired
        .iter()
        .filter(|d| d.kind.name() == "VirtualNetwork")
        .enumerate()
    {
        let name = d.id.rsplit('/').next().unwrap();
        let declared = d.body["properties"]["addressSpace"]["addressPrefixes"][0].as_str();
        let prefix = declared.map_or_else(|| format!("10.{}.0.0/16", 100 + i), str::to_string);
        let mut doc = vnet_doc(&d.id, name, &prefix);
        doc["properties"]["subnets"] = subnets_named(&d.id, &prefix, desired).into();
        emulator.put_raw(&d.id, doc);
    }
    for d in desired
        .iter()
        .filter(|d| d.kind.name() == "CognitiveServicesAccount")
    {
        emulator.put_raw(&d.id, account_doc(&d.id));
    }
}

/// The subnets of `vnet_id` that any desired body refers to, by name, each a /24 of `prefix`.
fn subnets_named(vnet_id: &str, prefix: &str, desired: &[Desired]) -> Vec<Value> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut strings = Vec::new();
    desired.iter().for_each(|d| walk(&d.body, &mut strings));
    let head = format!("{}/subnets/", vnet_id.to_ascii_lowercase());
    let mut names: Vec<String> = strings
        .iter()
        .filter(|s| s.to_ascii_lowercase().starts_with(&head))
        .map(|s| s[head.len()..].to_string())
        .collect();
    names.sort();
    names.dedup();
    let net: ipnet::Ipv4Net = prefix.parse().unwrap();
    let mut blocks = net.subnets(24).unwrap().skip(1);
    names
        .iter()
        .map(|name| {
            json!({
                "name": name, "id": format!("{vnet_id}/subnets/{name}"),
                "type": "Microsoft.Network/virtualNetworks/subnets",
                "properties": {
                    "provisioningState": "Succeeded",
                    "addressPrefix": blocks.next().unwrap().to_string(),
                    "privateEndpointNetworkPolicies": "Disabled",
                    "privateLinkServiceNetworkPolicies": "Enabled"
                }
            })
        })
        .collect()
}

/// An Azure OpenAI account as ARM returns it: its endpoints name the hosts private endpoints
/// shadow (`<name>.openai.azure.com`, and the token service's `<name>.cognitiveservices.azure.com`).
pub fn account_doc(id: &str) -> Value {
    let name = id.rsplit('/').next().unwrap();
    json!({
        "id": id, "name": name, "type": "Microsoft.CognitiveServices/accounts",
        "location": "koreacentral", "kind": "OpenAI", "sku": {"name": "S0"},
        "etag": "\"00000000-0000-0000-0000-000000000001\"",
        "properties": {
            "provisioningState": "Succeeded",
            "customSubDomainName": name,
            "publicNetworkAccess": "Disabled",
            "endpoint": format!("https://{name}.openai.azure.com/"),
            "endpoints": {
                "OpenAI Language Model Instance API": format!("https://{name}.openai.azure.com/"),
                "Token Service API": format!("https://{name}.cognitiveservices.azure.com/sts/v1.0")
            }
        }
    })
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

/// Asserts that every resource of an apply converged or needed nothing.
pub fn assert_settled(outcomes: &[azrecon::engine::ResourceOutcome]) {
    for o in outcomes {
        assert!(
            matches!(
                o.outcome,
                azrecon::engine::Outcome::Converged { .. } | azrecon::engine::Outcome::Unchanged
            ),
            "{}: {:?}",
            o.address,
            o.outcome
        );
    }
}

/// Plans and applies (not a dry run), returning each resource's outcome.
pub async fn reconcile(
    arm: &ArmClient,
    desired: &[Desired],
) -> Vec<azrecon::engine::ResourceOutcome> {
    let plan = azrecon::engine::plan_live(arm, desired, 4).await.unwrap();
    let opts = azrecon::engine::RunOptions {
        dry_run: false,
        ..Default::default()
    };
    azrecon::engine::apply(arm, desired, &plan, opts).await
}

/// An emulator holding the example topology, converged, with its log cleared.
pub async fn converged_example() -> (Emulator, ArmClient, Vec<Desired>) {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    assert_settled(&reconcile(&arm, &desired).await);
    emu.clear_log();
    (emu, arm, desired)
}

/// The example manifest with the gateway under shared ownership.
pub fn shared_gateway_manifest() -> Vec<Desired> {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/examples");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let text = text.replace(
                "        sku: WAF_v2\n",
                "        sku: WAF_v2\n        ownership: shared\n",
            );
            std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
        }
    }
    let desired =
        azrecon::kinds::expand(&azrecon::manifest::load_path(dir.path()).unwrap()).unwrap();
    assert!(!find(&desired, "ApplicationGateway/agw-openai-edge").exclusive);
    desired
}
