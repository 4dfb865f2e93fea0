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
    }
}

async fn converge(arm: &ArmClient, desired: &[Desired]) -> Vec<engine::ResourceOutcome> {
    let plan = engine::plan_live(arm, desired, 4).await.unwrap();
    engine::apply(arm, desired, &plan, opts(false)).await
}

fn all_settled(outcomes: &[engine::ResourceOutcome]) {
    for o in outcomes {
        assert!(
            matches!(o.outcome, Outcome::Converged { .. } | Outcome::Unchanged),
            "{}: {:?}",
            o.address,
            o.outcome
        );
    }
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
    assert_eq!(order, ["UserAssignedIdentity", "KeyVault", "RoleAssignment"]);
    assert!(plan.resources.iter().all(|r| r.action == Action::Create));
    all_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    assert_eq!(emu.writes(), 3);

    let identity = emu.resource(&find(&desired, "UserAssignedIdentity/id-agw-edge").id).unwrap();
    let principal = identity["properties"]["principalId"].as_str().unwrap().to_owned();
    let assignment = find(&desired, "RoleAssignment/agw-reads-certificates");
    let live = emu.resource(&assignment.id).unwrap();
    assert_eq!(live["properties"]["principalId"], principal.as_str());
    assert!(live["properties"]["roleDefinitionId"].as_str().unwrap().ends_with("/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"));
    let vault = emu.resource(&find(&desired, "KeyVault/kv-agw-edge").id).unwrap();
    assert_eq!(vault["properties"]["enableRbacAuthorization"], true);
    assert_eq!(vault["properties"]["enablePurgeProtection"], true);
    assert_eq!(vault["properties"]["networkAcls"]["ipRules"][0]["value"], "203.0.113.10/32");

    emu.clear_log();
    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    assert!(!plan.drifted(), "{}", azrecon::render::plan_text(&plan, Default::default()));
    all_settled(&engine::apply(&arm, &desired, &plan, opts(false)).await);
    assert_eq!(emu.writes(), 0);
    assert_eq!(emu.reads(), desired.len());
}
