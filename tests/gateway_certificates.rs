//! What a gateway needs from Key Vault, checked before its PUT: that its identity may read its
//! certificate's secret (Azure would accept the PUT and disable the listener), and that the
//! certificate is healthy (expiry, host names). The gateways are fixtures shaped as the
//! `ApplicationGateway` kind's desired bodies: a user-assigned identity and Key Vault
//! certificates referred to by versionless secret URIs.

mod common;

use azrecon::certificates::CertificateHealth;
use azrecon::diff::Rules;
use azrecon::emulator::CertificateInfo;
use azrecon::engine::{self, RunOptions};
use azrecon::kinds::{ArmKind, Desired};
use azrecon::plan::{Finding, Severity, plan};
use common::*;
use serde_json::json;
use std::collections::HashMap;
use time::{Duration, OffsetDateTime};

const SUB: &str = "6f1c2a3b-0000-4000-8000-00000000a001";
const TENANT: &str = "7a2b3c4d-0000-4000-8000-00000000beef";

/// Stands in for the `ApplicationGateway` kind: the checks only look at its name and body.
struct GatewayFixture;
static NO_RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &[],
    collections: &[],
};
impl ArmKind for GatewayFixture {
    fn name(&self) -> &'static str {
        "ApplicationGateway"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/applicationGateways"
    }
    fn api_version(&self) -> &'static str {
        "2024-01-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &[]
    }
    fn rules(&self) -> &'static Rules {
        &NO_RULES
    }
}

fn manifest_with(vault_spec: &str, extra: &str) -> Vec<Desired> {
    manifest(&format!(
        r#"
version: 1
subscriptions: {{ network: {SUB} }}
defaults: {{ subscription: network, resourceGroup: rg-edge, location: koreacentral }}
resources:
  UserAssignedIdentity:
    - name: id-agw-edge
  KeyVault:
    - name: kv-agw-edge
      spec:
        tenantId: {TENANT}
{vault_spec}
{extra}
"#
    ))
}

/// A gateway whose HTTPS listener for `hosts` uses certificate `agw-edge` from the vault.
fn gateway(identity_id: &str, hosts: &[&str]) -> Desired {
    let template = &manifest_with("", "")[0];
    let id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg-edge/providers/Microsoft.Network/applicationGateways/agw-edge"
    );
    let body = json!({
        "location": "koreacentral",
        "identity": { "type": "UserAssigned", "userAssignedIdentities": { identity_id: {} } },
        "properties": {
            "sslCertificates": [{
                "name": "edge-tls",
                "properties": { "keyVaultSecretId": "https://kv-agw-edge.vault.azure.net/secrets/agw-edge/" }
            }],
            "httpListeners": [{
                "name": "https-edge",
                "properties": {
                    "protocol": "Https",
                    "hostNames": hosts,
                    "sslCertificate": { "id": format!("{id}/sslCertificates/edge-tls") }
                }
            }]
        }
    });
    Desired {
        address: "ApplicationGateway/agw-edge".into(),
        kind: &GatewayFixture,
        id,
        body,
        policy: Default::default(),
        existing_only: false,
        depends_on: vec![identity_id.to_owned()],
        origin: template.origin.clone(),
        exclusive: true,
        warnings: Vec::new(),
    }
}

fn access_findings(mut desired: Vec<Desired>) -> Vec<Finding> {
    let identity = find(&desired, "UserAssignedIdentity/id-agw-edge")
        .id
        .clone();
    desired.push(gateway(&identity, &["api.example.com"]));
    plan(&desired, &HashMap::new())
        .findings
        .into_iter()
        .filter(|f| f.subject == "ApplicationGateway/agw-edge")
        .collect()
}

#[test]
fn a_gateway_whose_identity_cannot_read_its_certificate_is_a_finding() {
    let cases = [
        ("rbac, no role assignment", manifest_with("", ""), true),
        (
            "rbac, role assignment at the vault",
            manifest_with(
                "",
                "  RoleAssignment:\n    - { name: read, spec: { identity: id-agw-edge, vault: kv-agw-edge } }",
            ),
            false,
        ),
        (
            "rbac, role assignment at the secret",
            manifest_with(
                "",
                "  RoleAssignment:\n    - { name: read, spec: { identity: id-agw-edge, vault: kv-agw-edge, secret: agw-edge } }",
            ),
            false,
        ),
        (
            "rbac, role assignment at another secret",
            manifest_with(
                "",
                "  RoleAssignment:\n    - { name: read, spec: { identity: id-agw-edge, vault: kv-agw-edge, secret: other } }",
            ),
            true,
        ),
        (
            "access policy with secret get",
            manifest_with(
                "        authorization: accessPolicies\n        accessPolicies: [{ identity: id-agw-edge, secrets: [get] }]",
                "",
            ),
            false,
        ),
        (
            "access policy without secret get",
            manifest_with(
                "        authorization: accessPolicies\n        accessPolicies: [{ identity: id-agw-edge, secrets: [list], certificates: [get] }]",
                "",
            ),
            true,
        ),
    ];
    for (case, desired, want_finding) in cases {
        let findings = access_findings(desired);
        assert_eq!(!findings.is_empty(), want_finding, "{case}: {findings:#?}");
        if want_finding {
            assert_eq!(findings[0].severity, Severity::Drift, "{case}");
            let message = &findings[0].message;
            assert!(
                message.contains("cannot read secret `agw-edge`"),
                "{case}: {message}"
            );
            assert!(
                message.contains("will not fail the gateway PUT"),
                "{case}: {message}"
            );
            assert!(
                message.contains("disable the listener"),
                "{case}: {message}"
            );
        }
    }
}

fn rbac_manifest() -> Vec<Desired> {
    manifest_with(
        "",
        "  RoleAssignment:\n    - { name: read, spec: { identity: id-agw-edge, vault: kv-agw-edge } }\n  KeyVaultCertificate:\n    - { name: agw-edge, spec: { vault: kv-agw-edge } }",
    )
}

/// Converges the manifest and stores certificate `agw-edge` (and its secret, as ARM sees it).
async fn world(expires_in: Duration) -> (azrecon::emulator::Emulator, Vec<Desired>) {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = rbac_manifest();
    let certificate = find(&desired, "KeyVaultCertificate/agw-edge").id.clone();
    let writable: Vec<Desired> = desired
        .iter()
        .filter(|d| !d.existing_only)
        .cloned()
        .collect();
    let plan = engine::plan_live_with(&arm, &writable, 4, CertificateHealth::Skip)
        .await
        .unwrap();
    let opts = RunOptions {
        dry_run: false,
        allow_destructive: false,
        concurrency: 4,
        ..RunOptions::default()
    };
    engine::apply(&arm, &writable, &plan, opts).await;
    emu.put_raw(
        &certificate,
        json!({
            "id": certificate, "name": "agw-edge", "type": "Microsoft.KeyVault/vaults/secrets",
            "properties": { "contentType": "application/x-pkcs12", "attributes": { "enabled": true } }
        }),
    );
    let now = OffsetDateTime::now_utc();
    emu.put_certificate(
        "kv-agw-edge",
        "agw-edge",
        &CertificateInfo {
            subject: "CN=*.example.com".into(),
            dns_names: vec!["*.example.com".into()],
            not_before: now - Duration::days(300),
            expires: now + expires_in,
        },
    );
    (emu, desired)
}

#[tokio::test]
async fn an_expiring_certificate_makes_a_dry_run_drift_with_the_reason() {
    let (emu, desired) = world(Duration::days(3) + Duration::hours(12)).await;
    let arm = client(&emu);
    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    assert!(
        plan.resources.iter().all(|r| !r.drifted()),
        "only the certificate is wrong"
    );
    assert!(plan.drifted());
    assert_eq!(plan.findings.len(), 1, "{:#?}", plan.findings);
    let finding = &plan.findings[0];
    assert_eq!(finding.severity, Severity::Drift);
    assert_eq!(finding.subject, "KeyVaultCertificate/agw-edge");
    assert!(
        finding.message.contains("in 3 day(s)"),
        "{}",
        finding.message
    );
    let text = azrecon::render::plan_text(&plan, Default::default());
    assert!(
        text.contains("certificate `agw-edge` in vault `kv-agw-edge` expires on"),
        "{text}"
    );
    // Metadata only: the data plane saw one certificate read and no secret read.
    let data_plane: Vec<String> = emu
        .requests()
        .into_iter()
        .filter(|r| r.kind == azrecon::emulator::RequestKind::KeyVault)
        .map(|r| r.path)
        .collect();
    assert_eq!(
        data_plane,
        vec!["/_vault/kv-agw-edge/certificates/agw-edge"]
    );
    assert_eq!(emu.writes(), 0);
}

#[tokio::test]
async fn a_certificate_due_within_a_month_is_a_warning_only() {
    let (emu, desired) = world(Duration::days(20)).await;
    let plan = engine::plan_live(&client(&emu), &desired, 4).await.unwrap();
    assert_eq!(plan.findings.len(), 1, "{:#?}", plan.findings);
    assert_eq!(plan.findings[0].severity, Severity::Warning);
    assert!(!plan.drifted());
}

#[tokio::test]
async fn listener_host_names_must_be_covered_and_a_missing_certificate_is_found() {
    let (emu, mut desired) = world(Duration::days(200)).await;
    let identity = find(&desired, "UserAssignedIdentity/id-agw-edge")
        .id
        .clone();
    desired.push(gateway(
        &identity,
        &["api.example.com", "api.eu.example.com"],
    ));
    let plan = engine::plan_live(&client(&emu), &desired, 4).await.unwrap();
    let about_gateway: Vec<&Finding> = plan
        .findings
        .iter()
        .filter(|f| f.subject == "ApplicationGateway/agw-edge")
        .collect();
    assert_eq!(about_gateway.len(), 1, "{:#?}", plan.findings);
    assert!(
        about_gateway[0]
            .message
            .contains("does not cover listener host name(s) api.eu.example.com")
    );

    let mut renamed = desired.clone();
    let gw = renamed.last_mut().unwrap();
    gw.body["properties"]["sslCertificates"][0]["properties"]["keyVaultSecretId"] =
        json!("https://kv-agw-edge.vault.azure.net/secrets/gone/");
    let plan = engine::plan_live(&client(&emu), &renamed, 4).await.unwrap();
    assert!(
        plan.findings.iter().any(|f| f.severity == Severity::Drift
            && f.message
                .contains("certificate `gone` in vault `kv-agw-edge` does not exist")),
        "{:#?}",
        plan.findings
    );
}

#[tokio::test]
async fn reconcile_dry_run_exits_2_on_an_expiring_certificate() {
    let (emu, _) = world(Duration::days(2)).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest_file = dir.path().join("identity.yaml");
    std::fs::write(
        &manifest_file,
        format!(
            r#"version: 1
subscriptions: {{ network: {SUB} }}
defaults: {{ subscription: network, resourceGroup: rg-edge, location: koreacentral }}
resources:
  UserAssignedIdentity: [{{ name: id-agw-edge }}]
  KeyVault: [{{ name: kv-agw-edge, spec: {{ tenantId: {TENANT} }} }}]
  RoleAssignment: [{{ name: read, spec: {{ identity: id-agw-edge, vault: kv-agw-edge }} }}]
  KeyVaultCertificate: [{{ name: agw-edge, spec: {{ vault: kv-agw-edge }} }}]
"#
        ),
    )
    .unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();
    let base = emu.base_url();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_azrecon"));
    command
        .args(["reconcile", "--dry-run", "-f"])
        .arg(&manifest_file)
        .args([
            "--cloud",
            "custom",
            "--arm-endpoint",
            &base,
            "--authority-host",
            &base,
        ])
        .args([
            "--key-vault-audience",
            &base,
            "--auth",
            "managed-identity",
            "--ca-cert",
        ])
        .arg(&ca)
        .env("IDENTITY_ENDPOINT", emu.identity_endpoint())
        .env("IDENTITY_HEADER", emu.identity_header())
        .env("NO_COLOR", "1");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("finding: KeyVaultCertificate/agw-edge: certificate `agw-edge` in vault `kv-agw-edge` expires on"),
        "{stdout}"
    );
    assert_eq!(emu.writes(), 3, "the dry run wrote nothing");
}

/// A manifest with the real `ApplicationGateway` kind, whose certificate is in `kv-edge`.
fn with_real_gateway(access: &str) -> Vec<Desired> {
    manifest(&format!(
        r#"
version: 1
subscriptions: {{ network: {SUB} }}
defaults: {{ subscription: network, resourceGroup: rg-hub, location: koreacentral }}
resources:
  VirtualNetwork: [ {{ name: vnet-hub }} ]
  PublicIpAddress: [ {{ name: pip-agw }} ]
  UserAssignedIdentity: [ {{ name: id-agw }} ]
  KeyVault: [ {{ name: kv-edge, spec: {{ tenantId: {TENANT} }} }} ]
{access}
  ApplicationGateway:
    - name: agw
      spec:
        autoscale: {{ minCapacity: 1, maxCapacity: 3 }}
        identity: id-agw
        subnet: {{ virtualNetwork: vnet-hub, subnet: snet-agw }}
        frontend: {{ publicIp: pip-agw }}
        frontendPorts: [ {{ name: port-443, port: 443 }} ]
        sslCertificates:
          - {{ name: wildcard, keyVaultSecretId: "https://kv-edge.vault.azure.net/secrets/wildcard/" }}
        listeners:
          - {{ name: lst-a, frontendPort: port-443, hostNames: [a.example.com], sslCertificate: wildcard }}
        backendPools: [ {{ name: pool-krc, fqdns: [aoai-krc.openai.azure.com] }} ]
        backendSettings: [ {{ name: bs-krc }} ]
        routingRules:
          - {{ name: rr-a, priority: 100, listener: lst-a, backendPool: pool-krc, backendSettings: bs-krc }}
"#
    ))
}

#[test]
fn the_real_gateway_is_checked_and_written_after_the_grant_to_its_identity() {
    let without = with_real_gateway("");
    let findings: Vec<_> = plan(&without, &HashMap::new())
        .findings
        .into_iter()
        .filter(|f| f.message.contains("cannot read secret"))
        .collect();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].subject, "ApplicationGateway/agw");
    assert!(
        findings[0]
            .message
            .contains("identity `id-agw` cannot read secret `wildcard`")
    );

    let granted = with_real_gateway(
        "  RoleAssignment: [ { name: read, spec: { identity: id-agw, vault: kv-edge, secret: wildcard } } ]",
    );
    let planned = plan(&granted, &HashMap::new());
    assert!(
        planned
            .findings
            .iter()
            .all(|f| !f.message.contains("cannot read secret")),
        "{:#?}",
        planned.findings
    );
    let wave_of = |address: &str| {
        let i = planned
            .resources
            .iter()
            .position(|r| r.address == address)
            .unwrap();
        planned.waves.iter().position(|w| w.contains(&i)).unwrap()
    };
    assert!(wave_of("UserAssignedIdentity/id-agw") < wave_of("RoleAssignment/read"));
    assert!(wave_of("RoleAssignment/read") < wave_of("ApplicationGateway/agw"));
}
