//! The client's and the engine's answer to each fault ARM can throw, end to end against the
//! emulator's injected faults: what was retried, how long it waited, what was written and how
//! it ended. Each test backs one row of `docs/faults.md`. The clock is paused, so waits of
//! minutes cost nothing.

mod common;

use azrecon::arm::{
    ArmClient, ArmClientOptions, ArmError, Cloud, Disposition, Pacing, PutOptions, StaticToken,
};
use azrecon::emulator::{
    self, BucketLimit, Emulator, EmulatorConfig, Fault, FaultRule, RateLimits,
};
use azrecon::engine::{self, Outcome, RunOptions};
use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";
const NET: &str = "2024-01-01";

fn vnet(name: &str) -> String {
    format!("{SUB}/resourceGroups/rg-edge/providers/Microsoft.Network/virtualNetworks/{name}")
}

fn vnet_body() -> Value {
    json!({ "location": "koreacentral", "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } })
}

fn options(emu: &Emulator) -> ArmClientOptions {
    let cloud = Cloud::at_endpoint(emu.base_url().parse().unwrap());
    let mut options = ArmClientOptions::new(cloud, Arc::new(StaticToken::new("test-token")));
    options.extra_root_ca_pem = emu.ca_pem();
    options
}

fn client_with(emu: &Emulator, change: impl FnOnce(&mut ArmClientOptions)) -> ArmClient {
    let mut options = options(emu);
    change(&mut options);
    ArmClient::new(options).unwrap()
}

fn statuses(emu: &Emulator, method: &str) -> Vec<u16> {
    emu.requests()
        .iter()
        .filter(|r| r.method == method && !r.path.contains("/operations/"))
        .map(|r| r.status)
        .collect()
}

async fn put_vnet(arm: &ArmClient) -> Result<Value, ArmError> {
    arm.put(&vnet("hub"), NET, &vnet_body(), &PutOptions::default())
        .await
}

#[tokio::test(start_paused = true)]
async fn throttling_429_waits_as_retry_after_asks_then_succeeds() {
    let emu = emulator().await;
    emu.add_fault(
        FaultRule::new(Fault::Throttled {
            retry_after_secs: 20,
        })
        .method("PUT")
        .times(3),
    )
    .unwrap();
    let start = Instant::now();
    put_vnet(&client(&emu)).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(60),
        "three waits of Retry-After: {:?}",
        start.elapsed()
    );
    assert_eq!(statuses(&emu, "PUT"), [429, 429, 429, 201]);
}

#[tokio::test(start_paused = true)]
async fn persistent_throttling_gives_up_at_the_deadline_without_hammering() {
    let emu = emulator().await;
    emu.add_fault(
        FaultRule::new(Fault::Throttled {
            retry_after_secs: 30,
        })
        .method("PUT"),
    )
    .unwrap();
    let arm = client_with(&emu, |o| {
        o.reconcile_retry.deadline = Duration::from_secs(600)
    });
    let start = Instant::now();
    let error = put_vnet(&arm).await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.code(), Some("SubscriptionRequestsThrottled"));
    assert_eq!(error.disposition(), Disposition::Retry);
    let tries = statuses(&emu, "PUT").len() as u64;
    let waited = start.elapsed().as_secs();
    // Never faster than Retry-After: a client retrying every second would have sent ~600.
    assert!(
        tries <= waited / 30 + 1,
        "{tries} tries in {waited}s: Retry-After was not honoured"
    );
    assert!(tries >= 10, "it kept trying until the deadline: {tries}");
}

#[tokio::test(start_paused = true)]
async fn server_errors_500_and_503_are_retried() {
    let emu = emulator().await;
    emu.add_fault(
        FaultRule::new(Fault::InternalServerError)
            .method("PUT")
            .times(1),
    )
    .unwrap();
    emu.add_fault(
        FaultRule::new(Fault::ServiceUnavailable {
            retry_after_secs: Some(7),
        })
        .method("PUT")
        .times(1),
    )
    .unwrap();
    let start = Instant::now();
    put_vnet(&client(&emu)).await.unwrap();
    assert!(start.elapsed() >= Duration::from_secs(7));
    assert_eq!(statuses(&emu, "PUT"), [500, 503, 201]);
    assert!(emu.resource(&vnet("hub")).is_some());
}

#[tokio::test(start_paused = true)]
async fn connection_resets_are_retried() {
    let emu = emulator().await;
    emu.add_fault(
        FaultRule::new(Fault::ConnectionReset)
            .method("PUT")
            .times(2),
    )
    .unwrap();
    put_vnet(&client(&emu)).await.unwrap();
    assert_eq!(
        statuses(&emu, "PUT"),
        [0, 0, 201],
        "two dropped, then served"
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_answer_hits_the_request_timeout_and_is_retried() {
    let emu = emulator().await;
    emu.put_raw(&vnet("hub"), vnet_doc(&vnet("hub"), "hub", "10.0.0.0/16"));
    emu.add_fault(
        FaultRule::new(Fault::Delay { millis: 600_000 })
            .method("GET")
            .times(1),
    )
    .unwrap();
    let arm = client_with(&emu, |o| o.request_timeout = Duration::from_secs(5));
    let start = Instant::now();
    let fetched = arm.get(&vnet("hub"), NET).await.unwrap();
    assert!(fetched.is_some());
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "the stalled try was abandoned at its timeout, not waited out: {:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn an_operation_failed_with_a_retryable_code_is_run_again() {
    let emu = emulator().await;
    emu.add_fault(
        FaultRule::new(Fault::OperationFailed {
            code: "RetryableError".into(),
            message: "A retryable error occurred.".into(),
        })
        .method("PUT")
        .times(1),
    )
    .unwrap();
    let body = put_vnet(&client(&emu)).await.unwrap();
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        emu.writes(),
        2,
        "the failed operation, then the one that worked"
    );
}

#[tokio::test(start_paused = true)]
async fn an_operation_failed_with_a_final_code_is_reported_with_its_code() {
    let emu = emulator().await;
    let desired = manifest(VAULT);
    emu.add_fault(
        FaultRule::new(Fault::OperationFailed {
            code: "InvalidResourceReference".into(),
            message: "Resource /x referenced by resource /y was not found.".into(),
        })
        .method("PUT"),
    )
    .unwrap();
    let outcomes = converge(&client(&emu), &desired).await;
    let Outcome::Failed { error } = &outcomes[0].outcome else {
        panic!("{outcomes:?}")
    };
    assert!(
        error.contains("long-running operation failed: InvalidResourceReference")
            && error.ends_with("[final]"),
        "{error}"
    );
    assert_eq!(emu.writes(), 1, "a final error is not retried");
}

#[tokio::test(start_paused = true)]
async fn a_canceled_operation_is_planned_again_from_a_fresh_read() {
    let emu = emulator().await;
    let desired = manifest(VAULT);
    emu.add_fault(
        FaultRule::new(Fault::OperationCanceled)
            .method("PUT")
            .times(1),
    )
    .unwrap();
    let outcomes = converge(&client(&emu), &desired).await;
    assert!(
        matches!(outcomes[0].outcome, Outcome::Converged { writes: 1 }),
        "{outcomes:?}"
    );
    assert_eq!(emu.writes(), 2, "the canceled PUT and the re-planned one");
    assert_eq!(
        emu.resource(&desired[0].id).unwrap()["properties"]["provisioningState"],
        "Succeeded"
    );
}

/// Faults answered at once with an ARM error that the classifier calls transient: each is
/// retried until the call succeeds, waiting at least the answer's `Retry-After`.
#[tokio::test(start_paused = true)]
async fn transient_arm_conflicts_are_retried_until_they_clear() {
    let referenced = format!("{}/subnets/snet-pe", vnet("hub"));
    let cases = [
        (Fault::AnotherOperationInProgress, 409, 0),
        (
            Fault::RetryableErrorDueToAnotherOperation {
                retry_after_secs: 14,
            },
            429,
            14,
        ),
        (
            Fault::ReferencedResourceNotProvisioned { referenced },
            400,
            0,
        ),
        (
            Fault::PrincipalNotFound {
                principal_id: "7d1f0000-0000-4000-8000-000000000001".into(),
            },
            400,
            0,
        ),
    ];
    for (fault, status, retry_after) in cases {
        let emu = emulator().await;
        emu.add_fault(FaultRule::new(fault.clone()).method("PUT").times(2))
            .unwrap();
        let start = Instant::now();
        put_vnet(&client(&emu)).await.unwrap();
        assert_eq!(statuses(&emu, "PUT"), [status, status, 201], "{fault:?}");
        assert!(
            start.elapsed() >= Duration::from_secs(2 * retry_after),
            "{fault:?}: {:?}",
            start.elapsed()
        );
        emu.shutdown().await;
    }
}

const WAF: &str = r#"
version: 1
subscriptions: { network: 00000000-0000-0000-0000-000000000001 }
defaults: { subscription: network, resourceGroup: rg-edge, location: koreacentral }
resources:
  WafPolicy:
    - name: waf-edge
      spec:
        mode: Prevention
        managedRuleSet: { type: OWASP, version: "3.2" }
        allowlist: [203.0.113.10]
"#;

/// A vault: its PUT is a long-running operation.
const VAULT: &str = r#"
version: 1
subscriptions: { network: 00000000-0000-0000-0000-000000000001 }
defaults: { subscription: network, resourceGroup: rg-edge, location: koreacentral }
resources:
  KeyVault:
    - name: kv-edge-certs
      spec:
        tenantId: 6f1c2a3b-0000-4000-8000-0000000000aa
        sku: standard
        authorization: rbac
        softDeleteRetentionDays: 90
        purgeProtection: true
        networkAcls: { defaultAction: Deny, bypass: AzureServices, ipRules: [198.51.100.0/28] }
"#;

fn opts() -> RunOptions {
    RunOptions {
        dry_run: false,
        ..RunOptions::default()
    }
}

async fn converge(
    arm: &ArmClient,
    desired: &[azrecon::kinds::Desired],
) -> Vec<engine::ResourceOutcome> {
    let plan = engine::plan_live(arm, desired, 8).await.unwrap();
    engine::apply(arm, desired, &plan, opts()).await
}

/// Thirty identities in one subscription, to write in one run.
fn many_identities() -> Vec<azrecon::kinds::Desired> {
    let mut text = String::from(
        "version: 1\nsubscriptions: { network: 00000000-0000-0000-0000-000000000001 }\n\
         defaults: { subscription: network, resourceGroup: rg-edge, location: koreacentral }\n\
         resources:\n  UserAssignedIdentity:\n",
    );
    for i in 0..30 {
        text.push_str(&format!("    - name: id-{i:02}\n"));
    }
    manifest(&text)
}

async fn throttled_run(pacing: Pacing) -> (usize, usize) {
    let emu = emulator().await;
    // A small write bucket: five at once, two more a second.
    emu.set_rate_limits(Some(RateLimits {
        writes: BucketLimit {
            capacity: 5,
            per_second: 2.0,
        },
        ..RateLimits::ARM
    }));
    let arm = client_with(&emu, |o| o.pacing = pacing);
    let desired = many_identities();
    let outcomes = converge(&arm, &desired).await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.outcome, Outcome::Converged { .. })),
        "{outcomes:?}"
    );
    let puts = statuses(&emu, "PUT");
    let throttled = puts.iter().filter(|s| **s == 429).count();
    (puts.len() - throttled, throttled)
}

#[tokio::test(start_paused = true)]
async fn writes_paced_by_the_remaining_quota_are_never_throttled() {
    let paced = Pacing {
        writes_per_second: 2.0,
        reserve: 1,
        ..Pacing::default()
    };
    assert_eq!(
        throttled_run(paced).await,
        (30, 0),
        "thirty writes, not one 429"
    );
    // The same run without pacing meets ARM's throttling: the test has teeth.
    let unpaced = Pacing {
        writes_per_second: 1e9,
        reserve: 0,
        ..Pacing::default()
    };
    let (written, throttled) = throttled_run(unpaced).await;
    assert_eq!(written, 30);
    assert!(throttled > 0, "unpaced writes were throttled");
}

#[tokio::test(start_paused = true)]
async fn a_resource_updating_under_someone_else_is_waited_on_not_put_over() {
    let emu = emulator().await;
    let desired = manifest(WAF);
    let arm = client(&emu);
    converge(&arm, &desired).await;
    let id = &desired[0].id;
    // Someone else's write is running on the policy, and it drifted.
    let mut doc = emu.resource(id).unwrap();
    doc["properties"]["provisioningState"] = json!("Updating");
    doc["properties"]["policySettings"]["mode"] = json!("Detection");
    emu.put_raw(id, doc);
    emu.clear_log();

    let outcomes = converge(&arm, &desired).await;
    assert!(
        matches!(outcomes[0].outcome, Outcome::Converged { writes: 1 }),
        "{outcomes:?}"
    );
    let log = emu.requests();
    let states: Vec<String> = log
        .iter()
        .filter(|r| r.method == "GET" && !r.path.contains("/operations/"))
        .map(|r| {
            r.response_body.as_ref().unwrap()["properties"]["provisioningState"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        states[..3],
        ["Updating", "Updating", "Succeeded"],
        "read again until the other operation ended"
    );
    let first_put = log.iter().position(|r| r.method == "PUT").unwrap();
    let settled = log
        .iter()
        .position(|r| {
            r.response_body
                .as_ref()
                .is_some_and(|b| b["properties"]["provisioningState"] == "Succeeded")
        })
        .unwrap();
    assert!(settled < first_put, "no PUT while it was Updating");
    assert_eq!(
        emu.resource(id).unwrap()["properties"]["policySettings"]["mode"],
        "Prevention"
    );
}

#[tokio::test(start_paused = true)]
async fn a_resource_that_never_settles_is_an_error_and_gets_no_write() {
    let emu = emulator::start(EmulatorConfig {
        lro_polls: 1_000_000,
        retry_after_secs: 0,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let desired = manifest(WAF);
    let id = &desired[0].id;
    let arm = client_with(&emu, |o| o.max_settle_wait = Duration::from_secs(300));
    emu.put_raw(
        id,
        json!({"id": id, "name": "waf-edge", "location": "koreacentral",
            "properties": {"provisioningState": "Updating"}}),
    );
    let error = engine::plan_live(&arm, &desired, 8).await.unwrap_err();
    assert!(
        matches!(error, ArmError::StillRunning { ref state, .. } if state == "Updating"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("another operation on it has not finished")
    );
    assert_eq!(emu.writes(), 0);
}
