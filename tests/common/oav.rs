//! Validating recorded traffic against the Azure REST API specs with Microsoft's `oav`, through
//! the `oav-check` script named by `OAV_CHECK` (it installs oav with npm on first use).
#![allow(dead_code)] // the emulator tests use only part of it

use serde_json::Value;
use std::path::Path;

/// Why an exchange cannot be judged by the specs `oav-check` holds, if it cannot.
pub fn outside_specs(exchange: &Value) -> Option<&'static str> {
    let url = exchange["liveRequest"]["url"].as_str().unwrap_or_default();
    let status = exchange["liveResponse"]["statusCode"]
        .as_str()
        .unwrap_or_default();
    if url.contains("/virtualNetworkLinks/") {
        // A known gap of oav: these paths match several Private DNS operations.
        Some("virtualNetworkLinks match several operations in oav")
    } else if url.contains("/Microsoft.CognitiveServices/") {
        Some("no Microsoft.CognitiveServices spec")
    } else if url.contains("/Microsoft.ManagedIdentity/") && !url.contains("/Microsoft.KeyVault/") {
        Some("no Microsoft.ManagedIdentity spec")
    } else if url.contains("/providers/Microsoft.Authorization/") {
        Some("no Microsoft.Authorization spec")
    } else if url.contains("/privateEndpoints/")
        && !url.contains("/privateDnsZoneGroups/")
        && status == "404"
    {
        // The privateEndpoints spec declares a flat `Error` as its default response, while a
        // missing resource is answered by ARM itself with `{"error": {...}}`.
        Some("ARM's own 404 body differs from the privateEndpoints spec's error model")
    } else {
        None
    }
}

/// Real ARM puts back-references between a gateway's children into its responses (a port lists
/// its listeners, a pool its rules, ...); the specs do not declare them, so oav calls them
/// additional properties. That is the one difference allowed.
const GATEWAY_BACK_REFERENCES: &[&str] = &[
    "httpListeners",
    "requestRoutingRules",
    "urlPathMaps",
    "pathRules",
    "backendHttpSettings",
];

fn allowed(line: &str) -> bool {
    line.starts_with("FAIL ApplicationGateways_")
        && GATEWAY_BACK_REFERENCES.iter().any(|name| {
            line.trim_end().ends_with(&format!(
                "OBJECT_ADDITIONAL_PROPERTIES: Additional properties not allowed: {name}"
            ))
        })
}

/// Removes the exchanges the specs cannot judge from `dir`; returns how many are left.
pub fn prune(dir: &Path) -> usize {
    let mut kept = 0;
    for file in walk(dir) {
        let exchange: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        if outside_specs(&exchange).is_some() {
            std::fs::remove_file(&file).unwrap();
        } else {
            kept += 1;
        }
    }
    kept
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files
}

/// Runs oav-check on `dir` and panics with its report unless every failure is an allowed one.
pub fn assert_valid(dir: &Path) {
    let script = std::env::var("OAV_CHECK").expect("OAV_CHECK names the oav-check script");
    let out = std::process::Command::new(script)
        .arg(dir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    let failures: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("FAIL") && !allowed(l))
        .collect();
    assert!(
        matches!(out.status.code(), Some(0 | 1))
            && failures.is_empty()
            && report.contains("unmatched=0"),
        "oav-check failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
