//! Normalising, diffing and planning one Application Gateway at Azure's per-gateway maximums:
//! 100 listeners, 100 backend pools, 100 routing rules and backend settings, and path maps with
//! many rules. The target is under 5 ms per gateway. Figures are kept in BENCHMARKS.md.

use azrecon::kinds::{Desired, expand};
use azrecon::manifest::load_str;
use azrecon::plan::{Live, plan_resource};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::hint::black_box;

const CHILDREN: usize = 100;
const PATH_MAPS: usize = 10;
const RULES_PER_MAP: usize = 40;

/// A manifest with a gateway at the maximums.
fn manifest() -> String {
    let mut m = String::from(
        r#"version: 1
subscriptions: { network: 6f1c2a3b-0000-4000-8000-00000000a001 }
defaults: { subscription: network, resourceGroup: rg-hub, location: koreacentral }
resources:
  VirtualNetwork: [ { name: vnet-hub } ]
  PublicIpAddress: [ { name: pip } ]
  ApplicationGateway:
    - name: agw
      spec:
        autoscale: { minCapacity: 2, maxCapacity: 125 }
        subnet: { virtualNetwork: vnet-hub, subnet: snet-agw }
        frontend: { publicIp: pip }
        frontendPorts: [ { name: port-443, port: 443 } ]
        sslCertificates: [ { name: cert, keyVaultSecretId: "https://kv.vault.azure.net/secrets/cert/" } ]
        probes: [ { name: probe, statusCodes: ["200-399", "401", "404"] } ]
        listeners:
"#,
    );
    for i in 0..CHILDREN {
        let _ = writeln!(
            m,
            "          - {{ name: l{i}, frontendPort: port-443, hostNames: [h{i}.example.com], sslCertificate: cert }}"
        );
    }
    m.push_str("        backendPools:\n");
    for i in 0..CHILDREN {
        let _ = writeln!(
            m,
            "          - {{ name: p{i}, fqdns: [a{i}.openai.azure.com] }}"
        );
    }
    m.push_str("        backendSettings:\n");
    for i in 0..CHILDREN {
        let _ = writeln!(
            m,
            "          - {{ name: s{i}, probe: probe, requestTimeout: 120, path: / }}"
        );
    }
    m.push_str("        urlPathMaps:\n");
    for map in 0..PATH_MAPS {
        let _ = writeln!(
            m,
            "          - name: m{map}\n            defaultBackendPool: p0\n            defaultBackendSettings: s0\n            pathRules:"
        );
        for r in 0..RULES_PER_MAP {
            let i = (map * RULES_PER_MAP + r) % CHILDREN;
            let _ = writeln!(
                m,
                "              - {{ name: r{r}, paths: [\"/r{r}/*\"], backendPool: p{i}, backendSettings: s{i} }}"
            );
        }
    }
    m.push_str("        routingRules:\n");
    for i in 0..CHILDREN {
        let _ = writeln!(
            m,
            "          - {{ name: rr{i}, priority: {}, listener: l{i}, urlPathMap: m{} }}",
            i + 1,
            i % PATH_MAPS
        );
    }
    m
}

fn gateway() -> Desired {
    let desired = expand(&load_str("bench.yaml", &manifest()).unwrap()).unwrap();
    desired
        .into_iter()
        .find(|d| d.kind.name() == "ApplicationGateway")
        .unwrap()
}

/// The body as ARM would return it: server fields on every child, children in another order.
fn as_arm_returns(desired: &Desired) -> Value {
    let mut live = desired.body.clone();
    live["id"] = json!(desired.id.to_lowercase());
    live["etag"] = json!("W/\"1\"");
    live["properties"]["provisioningState"] = json!("Succeeded");
    for (collection, children) in live["properties"].as_object_mut().unwrap().iter_mut() {
        let Some(children) = children.as_array_mut() else {
            continue;
        };
        children.reverse();
        for child in children {
            child["id"] = json!(format!(
                "{}/{collection}/{}",
                desired.id,
                child["name"].as_str().unwrap()
            ));
            child["etag"] = json!("W/\"1\"");
            child["properties"]["provisioningState"] = json!("Succeeded");
        }
    }
    live
}

fn bench(c: &mut Criterion) {
    let gw = gateway();
    let converged = Live {
        body: as_arm_returns(&gw),
        etag: Some("W/\"1\"".into()),
    };
    let mut drifted = converged.clone();
    for i in 0..10 {
        drifted.body["properties"]["backendHttpSettingsCollection"][i]["properties"]["requestTimeout"] =
            json!(5);
    }
    assert!(!plan_resource(&gw, Some(&converged)).drifted());
    assert!(plan_resource(&gw, Some(&drifted)).put.is_some());
    c.bench_function("plan gateway at maximums, no drift", |b| {
        b.iter(|| plan_resource(black_box(&gw), Some(black_box(&converged))))
    });
    c.bench_function(
        "plan gateway at maximums, 10 children drifted (diff + merge)",
        |b| b.iter(|| plan_resource(black_box(&gw), Some(black_box(&drifted)))),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
