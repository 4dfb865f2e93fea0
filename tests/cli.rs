//! The `azrecon` binary as operators run it: exit codes, refusal of bad manifests before any ARM
//! request, JSON output, the managed-identity path end to end, and the demo.

mod common;

use common::*;
use std::process::{Command, Output};

fn azrecon(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_azrecon"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    for var in [
        "AZRECON_CLOUD",
        "AZRECON_AUTH",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Flags that point the binary at an in-process emulator, with its CA written to a file.
struct Target {
    _ca: tempfile::NamedTempFile,
    args: Vec<String>,
}

fn target(emu: &azrecon::emulator::Emulator, auth: &str) -> Target {
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), emu.ca_pem().unwrap()).unwrap();
    let args = vec![
        "--cloud".into(),
        "custom".into(),
        "--arm-endpoint".into(),
        emu.base_url(),
        "--key-vault-audience".into(),
        emu.base_url(),
        "--ca-cert".into(),
        ca.path().display().to_string(),
        "--auth".into(),
        auth.into(),
    ];
    Target { _ca: ca, args }
}

#[test]
fn validate_accepts_the_examples_and_refuses_a_bad_manifest_with_its_position() {
    let ok = azrecon(&["validate", "-f", "manifests/examples"], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let bad = azrecon(
        &[
            "validate",
            "-f",
            "tests/bad-manifests/dangling-vnet-reference.yaml",
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad).contains(
            "dangling-vnet-reference.yaml:11:34: error: no VirtualNetwork named `vnet-spok`"
        ),
        "{}",
        text(&bad)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_manifest_makes_no_arm_request_at_all() {
    let emu = emulator().await;
    let t = target(&emu, "managed-identity");
    let mut files: Vec<_> = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-manifests"),
    )
    .unwrap()
    .map(|e| e.unwrap().path())
    .collect();
    files.sort();
    for file in &files {
        let mut args = vec![
            "reconcile".to_string(),
            "-f".into(),
            file.display().to_string(),
        ];
        args.extend(t.args.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = azrecon(
            &args,
            &[
                ("IDENTITY_ENDPOINT", &emu.identity_endpoint()),
                ("IDENTITY_HEADER", &emu.identity_header()),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            file.display(),
            text(&out)
        );
        assert!(
            text(&out).contains(&format!("{}:", file.display())),
            "{}",
            text(&out)
        );
    }
    assert!(emu.requests().is_empty(), "{:#?}", emu.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_identity_end_to_end_and_detailed_exit_codes() {
    let emu = emulator().await;
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let t = target(&emu, "managed-identity");
    let env = [
        ("IDENTITY_ENDPOINT", emu.identity_endpoint()),
        ("IDENTITY_HEADER", emu.identity_header()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = vec!["reconcile", "-f", "manifests/examples"];
        args.extend(extra);
        args.extend(t.args.iter().map(String::as_str));
        azrecon(&args, &env)
    };

    let dry = run(&["--dry-run"]);
    assert_eq!(dry.status.code(), Some(2), "drift: {}", text(&dry));
    assert!(
        text(&dry).contains("+ ApplicationGateway/agw-openai-edge (create)"),
        "{}",
        text(&dry)
    );
    assert_eq!(emu.writes(), 0);
    let token_requests = emu
        .requests()
        .iter()
        .filter(|r| r.path.contains("/msi/token"))
        .count();
    assert!(
        token_requests >= 1,
        "the real ManagedIdentityCredential asked the token endpoint"
    );

    let apply = run(&[]);
    assert_eq!(apply.status.code(), Some(0), "converged: {}", text(&apply));

    emu.clear_log();
    let again = run(&["--dry-run", "--output", "json"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let plan: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(plan["formatVersion"], "1");
    assert!(
        plan["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "noOp")
    );
    assert_eq!(emu.writes(), 0);
}

#[test]
fn the_demo_plans_reconciles_and_converges() {
    let out = azrecon(&["demo"], &[]);
    let output = text(&out);
    assert_eq!(out.status.code(), Some(0), "{output}");
    let stages: Vec<_> = output
        .match_indices("(exit code ")
        .map(|(i, _)| &output[i..i + 13])
        .collect();
    assert_eq!(
        stages,
        vec!["(exit code 2)", "(exit code 0)", "(exit code 0)"],
        "{output}"
    );
    assert!(output.contains("No drift"), "{output}");
}
