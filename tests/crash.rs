//! The binary stopped in the middle of applying: killed outright (`kill -9`), a re-run converges
//! with nothing lost and nothing twice; stopped by SIGTERM, it starts no new write, lets the
//! writes in flight finish within the grace period, reports what is unfinished and exits 4.
//! Long-running operations are held in flight by a delay on their polls.
#![cfg(unix)]

mod common;

use azrecon::emulator::{Emulator, Fault, FaultRule};
use common::*;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

struct Binary {
    _ca: tempfile::NamedTempFile,
    args: Vec<String>,
}

fn binary(emu: &Emulator) -> Binary {
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), emu.ca_pem().unwrap()).unwrap();
    let args = [
        "reconcile",
        "-f",
        "manifests/examples",
        "--no-certificate-check",
        "--cloud",
        "custom",
        "--arm-endpoint",
        &emu.base_url(),
        "--ca-cert",
        &ca.path().display().to_string(),
        "--auth",
        "managed-identity",
    ]
    .map(str::to_owned)
    .to_vec();
    Binary { _ca: ca, args }
}

impl Binary {
    fn command(&self, emu: &Emulator, extra: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_azrecon"));
        cmd.args(&self.args)
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .env("IDENTITY_ENDPOINT", emu.identity_endpoint())
            .env("IDENTITY_HEADER", emu.identity_header())
            .env_remove("AZRECON_CLOUD")
            .env_remove("AZRECON_AUTH");
        cmd
    }

    fn spawn(&self, emu: &Emulator, extra: &[&str]) -> Child {
        self.command(emu, extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn run(&self, emu: &Emulator, extra: &[&str]) -> Output {
        self.command(emu, extra).output().unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Polls of long-running operations answer only after `millis`: the writes stay in flight.
fn hold_operations(emu: &Emulator, millis: u64) {
    emu.add_fault(FaultRule::new(Fault::Delay { millis }).path_contains("/operations/"))
        .unwrap();
}

/// Waits until the emulator has accepted `n` PUTs.
async fn puts_accepted(emu: &Emulator, n: usize) {
    for _ in 0..600 {
        let accepted = emu
            .requests()
            .iter()
            .filter(|r| r.method == "PUT" && (200..300).contains(&r.status))
            .count();
        if accepted >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the binary never wrote: {:#?}", emu.requests());
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_mid_apply_a_rerun_converges_with_nothing_lost_or_doubled() {
    let emu = emulator().await;
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let bin = binary(&emu);
    hold_operations(&emu, 30_000);
    let mut child = bin.spawn(&emu, &[]);
    puts_accepted(&emu, 1).await;
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let written_before: Vec<String> = emu
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.path.to_ascii_lowercase())
        .collect();
    assert!(
        written_before.len() < desired.len(),
        "killed mid-apply: {written_before:?}"
    );

    emu.set_faults(Vec::new()).unwrap();
    emu.clear_log();
    let rerun = bin.run(&emu, &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun));
    let mut rewritten: Vec<String> = emu
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && (200..300).contains(&r.status))
        .map(|r| r.path.to_ascii_lowercase())
        .collect();
    let total = rewritten.len();
    rewritten.sort();
    rewritten.dedup();
    assert_eq!(
        rewritten.len(),
        total,
        "one PUT per resource: {rewritten:?}"
    );

    emu.clear_log();
    let after = bin.run(&emu, &["--dry-run", "--output", "json"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    let plan: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    let resources = plan["resources"].as_array().unwrap();
    assert_eq!(resources.len(), desired.len(), "nothing lost");
    assert!(resources.iter().all(|r| r["action"] == "noOp"), "{plan:#}");
    for d in &desired {
        let live = emu
            .resource(&d.id)
            .unwrap_or_else(|| panic!("{} lost", d.address));
        if let Some(state) = live.pointer("/properties/provisioningState") {
            assert_eq!(state, "Succeeded", "{}", d.address);
        }
    }
    assert_eq!(emu.writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_starts_no_new_write_lets_the_ones_in_flight_finish_and_exits_4() {
    let emu = emulator().await;
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let bin = binary(&emu);
    hold_operations(&emu, 1_000);
    let child = bin.spawn(&emu, &["--grace-period", "60s"]);
    puts_accepted(&emu, 1).await;
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let output = text(&out);
    assert_eq!(out.status.code(), Some(4), "{output}");
    assert!(
        output.contains("SIGTERM: starting no new writes"),
        "{output}"
    );
    assert!(
        output.contains("not started: the run was stopped"),
        "{output}"
    );
    // Every write that was started ran to its end: nothing is left mid-operation.
    for d in &desired {
        if let Some(live) = emu.resource(&d.id)
            && let Some(state) = live.pointer("/properties/provisioningState")
        {
            assert_ne!(state, "Updating", "{} left mid-operation", d.address);
        }
    }
    emu.set_faults(Vec::new()).unwrap();
    let rerun = bin.run(&emu, &[]);
    assert_eq!(rerun.status.code(), Some(0), "{}", text(&rerun));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_past_the_grace_period_names_the_writes_still_in_flight() {
    let emu = emulator().await;
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let bin = binary(&emu);
    hold_operations(&emu, 60_000);
    let child = bin.spawn(&emu, &["--grace-period", "1s"]);
    puts_accepted(&emu, 1).await;
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    let output = text(&out);
    assert_eq!(out.status.code(), Some(4), "{output}");
    let report = output
        .lines()
        .find(|l| l.starts_with("interrupted: the grace period ended with"))
        .unwrap_or_else(|| panic!("{output}"));
    // The writes named are those whose PUT was accepted and whose operation still runs.
    let put: Vec<String> = emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.path.to_ascii_lowercase())
        .collect();
    let named: Vec<&str> = desired
        .iter()
        .filter(|d| report.contains(&format!(" {}", d.address)))
        .inspect(|d| assert!(put.contains(&d.id.to_ascii_lowercase()), "{report}"))
        .map(|d| d.address.as_str())
        .collect();
    assert!(!named.is_empty(), "{report}");
}
