//! Secrets never reach what azrecon prints: the suite's commands run with canary values planted
//! (a client secret, a certificate password, an API key, the managed-identity header secret, the
//! access token the token endpoint hands out, a secret in a manifest field), at trace level, in
//! text and JSON logs, with human and JSON output, and everything printed is scanned for them.

mod common;

use azrecon::emulator::Emulator;
use common::*;
use std::process::{Command, Output};

const CLIENT_SECRET: &str = "canary-client-secret-7f3a9c";
const CERTIFICATE_PASSWORD: &str = "canary-certificate-password-41be";
const API_KEY: &str = "canary-api-key-0d2e88";
const MANIFEST_SECRET: &str = "canary-manifest-secret-93ac";
/// What the emulator's token endpoint hands out, and the header secret it asks for.
const ACCESS_TOKEN: &str = "azrecon-emulator-access-token";

fn canaries(emu: &Emulator) -> Vec<String> {
    vec![
        CLIENT_SECRET.into(),
        CERTIFICATE_PASSWORD.into(),
        API_KEY.into(),
        MANIFEST_SECRET.into(),
        ACCESS_TOKEN.into(),
        emu.identity_header(),
    ]
}

fn run(emu: &Emulator, ca: &std::path::Path, args: &[&str], log_format: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_azrecon"));
    cmd.args(args)
        .args(["--log-format", log_format])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("AZRECON_LOG", "trace")
        .env("AZRECON_CA_CERT", ca)
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", CERTIFICATE_PASSWORD)
        .env("AZURE_OPENAI_API_KEY", API_KEY)
        .env("IDENTITY_ENDPOINT", emu.identity_endpoint())
        .env("IDENTITY_HEADER", emu.identity_header())
        .env_remove("AZRECON_CLOUD")
        .env_remove("AZRECON_AUTH");
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_prints_a_secret_at_any_log_level_or_format() {
    let emu = emulator().await;
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), emu.ca_pem().unwrap()).unwrap();
    let bad = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(
        bad.path(),
        format!(
            "version: 1\nresources:\n  KeyVault:\n    - name: kv\n      clientSecret: {MANIFEST_SECRET}\n"
        ),
    )
    .unwrap();
    let bad = bad.path().display().to_string();
    let base = emu.base_url();
    let target = [
        "--cloud",
        "custom",
        "--arm-endpoint",
        &base,
        "--key-vault-audience",
        &base,
    ];
    let with = |head: &[&'static str], auth: &'static str| -> Vec<String> {
        head.iter()
            .map(|s| s.to_string())
            .chain(target.iter().map(|s| s.to_string()))
            .chain(["--auth".to_string(), auth.to_string()])
            .collect()
    };
    let commands: Vec<Vec<String>> = vec![
        vec!["validate".into(), "-f".into(), "manifests/examples".into()],
        vec!["validate".into(), "-f".into(), bad.clone()],
        with(
            &["reconcile", "-f", "manifests/examples", "--dry-run"],
            "managed-identity",
        ),
        with(
            &[
                "reconcile",
                "-f",
                "manifests/examples",
                "--dry-run",
                "--output",
                "json",
            ],
            "managed-identity",
        ),
        with(
            &["reconcile", "-f", "manifests/examples"],
            "managed-identity",
        ),
        with(
            &["reconcile", "-f", "manifests/examples", "--output", "json"],
            "managed-identity",
        ),
    ];
    let mut printed = Vec::new();
    for format in ["text", "json"] {
        for args in &commands {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run(&emu, ca.path(), &args, format);
            printed.push((format!("{format} {args:?}"), out));
        }
        // A client secret whose credential is refused (its authority is not HTTPS): the error
        // and every log line of the attempt are scanned too.
        let mut args = with(
            &["reconcile", "-f", "manifests/examples", "--dry-run"],
            "client-secret",
        );
        args.extend([
            "--authority-host".into(),
            emu.base_url().replace("https:", "http:"),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_azrecon"));
        cmd.args(&args)
            .args(["--log-format", format])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("AZRECON_LOG", "trace")
            .env("AZRECON_CA_CERT", ca.path())
            .env("AZURE_TENANT_ID", "6f1c2a3b-0000-4000-8000-0000000000aa")
            .env("AZURE_CLIENT_ID", "6f1c2a3b-0000-4000-8000-0000000000bb")
            .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
            .env_remove("IDENTITY_ENDPOINT")
            .env_remove("IDENTITY_HEADER");
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "no token, no run");
        printed.push((format!("{format} {args:?}"), out));
    }

    let codes: Vec<Option<i32>> = printed.iter().map(|(_, o)| o.status.code()).collect();
    assert_eq!(
        codes,
        [
            [
                Some(0),
                Some(1),
                Some(2),
                Some(2),
                Some(0),
                Some(0),
                Some(1)
            ],
            [
                Some(0),
                Some(1),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(1)
            ],
        ]
        .concat(),
        "the commands ran as intended"
    );
    let mut leaks = Vec::new();
    let mut trace_lines = 0;
    for (command, out) in &printed {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        trace_lines += all.lines().filter(|l| l.contains("TRACE")).count();
        for canary in canaries(&emu) {
            for line in all.lines().filter(|l| l.contains(&canary)) {
                leaks.push(format!("{command}: `{canary}` in: {line}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    assert!(
        trace_lines > 100,
        "logging ran at trace level: {trace_lines} lines"
    );
    // The token did travel: the scan looked for something that was there to leak.
    assert!(
        emu.requests()
            .iter()
            .any(|r| r.request_headers.iter().any(|(n, _)| n == "authorization"))
    );
}
