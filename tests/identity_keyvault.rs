//! Identity, Key Vault and access end to end against the emulator: each kind is created and
//! then left alone, a role assignment is never duplicated, a new identity's `PrincipalNotFound`
//! is retried, and an access policy owned elsewhere survives.

mod common;

use azrecon::arm::{ArmClient, ArmClientOptions, Cloud, ReconcileRetry, StaticToken};
use azrecon::engine::{self, Outcome, RunOptions};
use azrecon::kinds::Desired;
use azrecon::plan::Action;
use common::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const SUB: &str = "6f1c2a3b-0000-4000-8000-00000000a001";
const TENANT: &str = "7a2b3c4d-0000-4000-8000-00000000beef";

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

fn rbac_manifest() -> Vec<Desired> {
    manifest_with(
        "        purgeProtection: true\n        networkAcls: { defaultAction: Deny, ipRules: [203.0.113.10, 198.51.100.0/28] }",
        "  RoleAssignment:\n    - name: agw-reads-certificates\n      spec: { identity: id-agw-edge, vault: kv-agw-edge }",
    )
}

fn opts(dry_run: bool) -> RunOptions {
    RunOptions {
        dry_run,
        allow_destructive: false,
        concurrency: 4,
        ..RunOptions::default()
    }
}

async fn converge(arm: &ArmClient, desired: &[Desired]) -> Vec<engine::ResourceOutcome> {
    let plan = engine::plan_live(arm, desired, 4).await.unwrap();
    engine::apply(arm, desired, &plan, opts(false)).await
}

fn role_assignments(emu: &azrecon::emulator::Emulator) -> Vec<serde_json::Value> {
    emu.requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.contains("roleAssignments") && r.status < 300)
        .filter_map(|r| r.response_body)
        .collect()
}

#[tokio::test]
async fn identity_vault_and_role_assignment_are_created_then_left_alone() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = rbac_manifest();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let order: Vec<&str> = plan.resources.iter().map(|r| r.kind).collect();
    assert_eq!(
        order,
        ["UserAssignedIdentity", "KeyVault", "RoleAssignment"]
    );
    assert!(plan.resources.iter().all(|r| r.action == Action::Create));
    assert_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    assert_eq!(emu.writes(), 3);

    let identity = emu
        .resource(&find(&desired, "UserAssignedIdentity/id-agw-edge").id)
        .unwrap();
    let principal = identity["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let assignment = find(&desired, "RoleAssignment/agw-reads-certificates");
    let live = emu.resource(&assignment.id).unwrap();
    assert_eq!(live["properties"]["principalId"], principal.as_str());
    assert!(
        live["properties"]["roleDefinitionId"]
            .as_str()
            .unwrap()
            .ends_with("/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6")
    );
    let vault = emu
        .resource(&find(&desired, "KeyVault/kv-agw-edge").id)
        .unwrap();
    assert_eq!(vault["properties"]["enableRbacAuthorization"], true);
    assert_eq!(vault["properties"]["enablePurgeProtection"], true);
    assert_eq!(
        vault["properties"]["networkAcls"]["ipRules"][0]["value"],
        "203.0.113.10/32"
    );

    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    assert!(
        !plan.drifted(),
        "{}",
        azrecon::render::plan_text(&plan, Default::default())
    );
    assert_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    assert_eq!(emu.writes(), 0);
    assert_eq!(emu.reads(), desired.len());
}

#[tokio::test]
async fn a_rerun_creates_no_second_role_assignment() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = rbac_manifest();
    assert_settled(&converge(&arm, &desired).await);
    // A run that lost its state (a crash after the PUT) plans again from ARM: same name, no-op.
    let again = rbac_manifest();
    emu.clear_log();
    assert_settled(&converge(&arm, &again).await);
    assert_eq!(emu.writes(), 0);
    assert_eq!(
        find(&desired, "RoleAssignment/agw-reads-certificates").id,
        find(&again, "RoleAssignment/agw-reads-certificates").id,
        "the name is derived, not random"
    );

    // ARM itself refuses a duplicate under another name, as the deterministic name avoids.
    let assignment = emu
        .resource(&find(&desired, "RoleAssignment/agw-reads-certificates").id)
        .unwrap();
    let vault = &find(&desired, "KeyVault/kv-agw-edge").id;
    let other = format!(
        "{vault}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    let body = json!({ "properties": {
        "roleDefinitionId": assignment["properties"]["roleDefinitionId"],
        "principalId": assignment["properties"]["principalId"],
    }});
    let err = arm
        .put(&other, "2022-04-01", &body, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.code(), Some("RoleAssignmentExists"));
    let listed: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.status < 300)
        .collect();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn principal_not_found_from_a_new_identity_is_retried_then_succeeds() {
    let emu = emulator().await;
    emu.set_principal_replication_misses(2);
    let cloud = Cloud::at_endpoint(emu.base_url().parse().unwrap());
    let mut options = ArmClientOptions::new(cloud, Arc::new(StaticToken::new("test-token")));
    options.extra_root_ca_pem = emu.ca_pem();
    options.reconcile_retry = ReconcileRetry {
        deadline: Duration::from_secs(30),
        min_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    let arm = ArmClient::new(options).unwrap();
    let desired = rbac_manifest();
    assert_settled(&converge(&arm, &desired).await);
    let statuses: Vec<(u16, Option<String>)> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.contains("roleAssignments"))
        .map(|r| {
            let code = r
                .response_body
                .as_ref()
                .and_then(|b| b["error"]["code"].as_str().map(str::to_owned));
            (r.status, code)
        })
        .collect();
    let not_found = (400, Some("PrincipalNotFound".to_owned()));
    assert_eq!(statuses, vec![not_found.clone(), not_found, (201, None)]);
    assert_eq!(role_assignments(&emu).len(), 1);
}

fn access_policy_manifest() -> Vec<Desired> {
    manifest_with(
        "        authorization: accessPolicies\n        accessPolicies:\n          - { identity: id-agw-edge, secrets: [get], certificates: [get] }",
        "",
    )
}

#[tokio::test]
async fn an_access_policy_owned_elsewhere_survives() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = access_policy_manifest();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let order: Vec<&str> = plan.resources.iter().map(|r| r.kind).collect();
    assert_eq!(
        order,
        ["UserAssignedIdentity", "KeyVault"],
        "the policy needs the principal"
    );
    assert_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    let vault_id = find(&desired, "KeyVault/kv-agw-edge").id.clone();
    let identity = emu
        .resource(&find(&desired, "UserAssignedIdentity/id-agw-edge").id)
        .unwrap();
    let principal = identity["properties"]["principalId"].clone();
    let vault = emu.resource(&vault_id).unwrap();
    assert_eq!(
        vault["properties"]["accessPolicies"][0]["objectId"],
        principal
    );
    assert_eq!(vault["properties"]["enableRbacAuthorization"], false);

    // Another team adds its own policy in the portal, and someone narrows ours.
    let theirs = json!({
        "tenantId": TENANT, "objectId": "11111111-2222-4333-8444-555555555555",
        "permissions": { "secrets": ["Get", "List"], "keys": [], "certificates": [] }
    });
    emu.update_raw(&vault_id, |doc| {
        let policies = doc["properties"]["accessPolicies"].as_array_mut().unwrap();
        policies[0]["permissions"]["certificates"] = json!([]);
        policies.push(theirs.clone());
    });
    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let vault_plan = plan
        .resources
        .iter()
        .find(|r| r.kind == "KeyVault")
        .unwrap();
    assert_eq!(vault_plan.action, Action::Update);
    assert!(
        vault_plan.destructive.is_empty(),
        "{:?}",
        vault_plan.destructive
    );
    let paths: Vec<&str> = vault_plan.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths.len(),
        1,
        "only our policy's permissions differ: {paths:?}"
    );
    assert!(paths[0].ends_with(".permissions.certificates"), "{paths:?}");
    assert_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    assert_eq!(emu.writes(), 1);
    let policies = emu.resource(&vault_id).unwrap()["properties"]["accessPolicies"].clone();
    assert_eq!(policies.as_array().unwrap().len(), 2);
    assert!(
        policies.as_array().unwrap().contains(&theirs),
        "{policies:#}"
    );
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );
}

#[tokio::test]
async fn turning_purge_protection_off_is_destructive_and_refused() {
    let emu = emulator().await;
    let arm = client(&emu);
    assert_settled(&converge(&arm, &rbac_manifest()).await);
    let relaxed = manifest_with(
        "        networkAcls: { defaultAction: Deny, ipRules: [203.0.113.10, 198.51.100.0/28] }",
        "",
    );
    emu.clear_log();
    let plan = engine::plan_live(&arm, &relaxed, 4).await.unwrap();
    let vault = plan
        .resources
        .iter()
        .find(|r| r.kind == "KeyVault")
        .unwrap();
    assert!(
        vault
            .destructive
            .iter()
            .any(|d| d.contains("can never be turned off")),
        "{:?}",
        vault.destructive
    );
    let outcomes = engine::apply(&arm, &relaxed, &plan, opts(false)).await;
    let outcome = &outcomes
        .iter()
        .find(|o| o.address == "KeyVault/kv-agw-edge")
        .unwrap()
        .outcome;
    assert!(matches!(outcome, Outcome::Refused { .. }), "{outcome:?}");
    assert_eq!(emu.writes(), 0);
    // Even when destructive changes are allowed, Azure keeps it on: the run does not converge.
    let outcomes = engine::apply(
        &arm,
        &relaxed,
        &plan,
        RunOptions {
            allow_destructive: true,
            ..opts(false)
        },
    )
    .await;
    let outcome = &outcomes
        .iter()
        .find(|o| o.address == "KeyVault/kv-agw-edge")
        .unwrap()
        .outcome;
    assert!(
        matches!(outcome, Outcome::NotConverged { remaining, .. } if remaining == &["properties.enablePurgeProtection"]),
        "{outcome:?}"
    );
    let vault = emu
        .resource(&find(&relaxed, "KeyVault/kv-agw-edge").id)
        .unwrap();
    assert_eq!(vault["properties"]["enablePurgeProtection"], true);
}

/// The vault exchanges validated against the Azure REST API specs with Microsoft's oav. The
/// specs hold Microsoft.KeyVault 2023-07-01 but neither Microsoft.ManagedIdentity nor
/// Microsoft.Authorization, so identity and role assignment exchanges are left out.
/// Run with `OAV_CHECK=/path/to/oav-check cargo test -- --ignored` (needs npm).
#[tokio::test]
#[ignore = "needs the oav-check script (OAV_CHECK) and npm"]
async fn key_vault_traffic_passes_oav() {
    let emu = emulator().await;
    let arm = client(&emu);
    // Without purge protection first (the property is sent as null), then with it.
    assert_settled(&converge(&arm, &manifest_with("", "")).await);
    assert_settled(&converge(&arm, &rbac_manifest()).await);
    let policies = manifest_with(
        "        purgeProtection: true\n        authorization: accessPolicies\n        accessPolicies:\n          - { identity: id-agw-edge, secrets: [get] }",
        "",
    );
    // The same vault switched to access policies: an update with a policy (destructive, allowed).
    let plan = engine::plan_live(&arm, &policies, 4).await.unwrap();
    let allowed = RunOptions {
        allow_destructive: true,
        ..opts(false)
    };
    assert_settled(&engine::apply(&arm, &policies, &plan, allowed).await);
    let vault = find(&policies, "KeyVault/kv-agw-edge").id.clone();
    arm.get(&format!("{vault}-absent"), "2023-07-01")
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    emu.write_traffic(dir.path()).unwrap();
    let kept = oav::prune(dir.path());
    assert!(kept >= 5, "{kept} vault exchanges");
    oav::assert_valid(dir.path());
}
