//! What operators see around a run: the Markdown summary and the topology picture of the
//! example manifest against the demo's drifted live state (snapshots), the manifest reference
//! kept in step with the schema, metrics and summary files written by the binary, the
//! Pushgateway push, structured logs, and progress events of long-running operations.

mod common;

use azrecon::arm::{
    ArmClient, ArmClientOptions, Cloud, LroEvent, LroState, ProgressSink, StaticToken,
};
use azrecon::certificates::CertificateHealth;
use azrecon::emulator::{self, Emulator, EmulatorConfig};
use azrecon::engine::{self, RunOptions};
use azrecon::render::{self, GraphFormat};
use common::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

async fn demo_emulator() -> Emulator {
    emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: true,
        state_file: None,
        seed_dir: Some(root().join("manifests/examples/live")),
        lro_polls: 2,
        retry_after_secs: 0,
    })
    .await
    .unwrap()
}

/// The example's subscription aliases, as the binary reads them from the manifest.
fn aliases() -> BTreeMap<String, String> {
    let manifest = azrecon::manifest::load_path(&root().join("manifests/examples")).unwrap();
    manifest
        .subscriptions
        .iter()
        .map(|(alias, (_, id))| (id.value.to_ascii_lowercase(), alias.clone()))
        .collect()
}

async fn demo_plan() -> azrecon::plan::Plan {
    let emu = demo_emulator().await;
    engine::plan_live_with(
        &client(&emu),
        &example_manifest(),
        8,
        CertificateHealth::Skip,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_summary_of_the_demo_plan() {
    let plan = demo_plan().await;
    insta::assert_snapshot!(render::summary_markdown(&plan, None));
}

#[tokio::test(flavor = "multi_thread")]
async fn topology_pictures_of_the_example() {
    let desired = example_manifest();
    let aliases = aliases();
    insta::assert_snapshot!(
        "graph_mermaid",
        render::topology(&desired, &aliases, None, GraphFormat::Mermaid)
    );
    insta::assert_snapshot!(
        "graph_dot",
        render::topology(&desired, &aliases, None, GraphFormat::Dot)
    );
    let plan = demo_plan().await;
    let drift = render::topology(&desired, &aliases, Some(&plan), GraphFormat::Mermaid);
    // The demo's drift: the listener's host name, the stg and prd peerings.
    assert!(drift.contains("classDef drift"), "{drift}");
    insta::assert_snapshot!("graph_mermaid_drift", drift);
    insta::assert_snapshot!(
        "graph_dot_drift",
        render::topology(&desired, &aliases, Some(&plan), GraphFormat::Dot)
    );
}

/// The manifest files point yaml-language-server at this committed schema.
#[test]
fn manifest_json_schema_is_committed_and_up_to_date() {
    let generated = serde_json::to_string_pretty(&azrecon::manifest::json_schema()).unwrap() + "\n";
    let path = root().join("schema/manifest.schema.json");
    if std::env::var_os("AZRECON_REGENERATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/manifest.schema.json is stale: run `azrecon schema > schema/manifest.schema.json` \
         (or this test with AZRECON_REGENERATE_DOCS=1)"
    );
}

#[test]
fn manifest_reference_is_generated_from_the_schema_and_up_to_date() {
    let generated = render::manifest_reference(&azrecon::manifest::json_schema());
    let path = root().join("docs/manifest-reference.md");
    if std::env::var_os("AZRECON_REGENERATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/manifest-reference.md is stale: run `azrecon schema --markdown > docs/manifest-reference.md` \
         (or this test with AZRECON_REGENERATE_DOCS=1)"
    );
    for kind in azrecon::kinds::ALL {
        assert!(
            generated.contains(&format!("### {}\n", kind.name())),
            "{}",
            kind.name()
        );
    }
}

fn azrecon(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_azrecon"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    for var in [
        "AZRECON_CLOUD",
        "AZRECON_AUTH",
        "AZRECON_LOG",
        "AZRECON_LOG_FORMAT",
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

#[test]
fn reconcile_writes_metrics_and_the_summary_files() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("azrecon.prom");
    let summary = dir.path().join("summary.md");
    let out = azrecon(
        &[
            "reconcile",
            "-f",
            "manifests/examples",
            "--emulator-seed",
            "manifests/examples/live",
            "--metrics-file",
            metrics.to_str().unwrap(),
            "--summary-file",
            summary.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let prom = std::fs::read_to_string(&metrics).unwrap();
    let sample = |name: &str| -> f64 {
        prom.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in\n{prom}"))
            .parse()
            .unwrap()
    };
    let desired = example_manifest().len() as f64;
    assert_eq!(sample("azrecon_resources_checked"), desired);
    assert!(sample("azrecon_resources_drifted") >= 4.0, "{prom}");
    assert!(sample("azrecon_resources_written") >= 4.0, "{prom}");
    assert_eq!(sample("azrecon_resources_failed"), 0.0);
    assert_eq!(sample("azrecon_exit_code"), 0.0);
    assert!(sample("azrecon_last_run_timestamp_seconds") > 1.7e9);
    let calls = |method: &str, status: &str| -> f64 {
        let head =
            format!("azrecon_arm_requests_total{{method=\"{method}\",status=\"{status}\"}} ");
        prom.lines()
            .find_map(|l| l.strip_prefix(&head))
            .map_or(0.0, |v| v.parse().unwrap())
    };
    assert!(calls("GET", "200") >= desired - 4.0, "{prom}");
    assert!(calls("PUT", "200") + calls("PUT", "201") >= 4.0, "{prom}");
    assert!(prom.contains("# TYPE azrecon_arm_requests_total counter"));
    assert!(!Path::new(&format!("{}.partial", metrics.display())).exists());

    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("### azrecon: drift fixed"), "{md}");
    assert!(
        md.contains("| `WafPolicy/waf-openai-edge` | update |"),
        "{md}"
    );
    assert!(md.contains("converged (1 write(s))"), "{md}");
}

#[test]
fn a_dry_run_with_drift_says_so_in_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("azrecon.prom");
    let out = azrecon(
        &[
            "reconcile",
            "--dry-run",
            "-f",
            "manifests/examples",
            "--emulator-seed",
            "manifests/examples/live",
            "--metrics-file",
            metrics.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert!(prom.lines().any(|l| l == "azrecon_exit_code 2"), "{prom}");
    assert!(
        prom.lines().any(|l| l == "azrecon_resources_written 0"),
        "{prom}"
    );
    assert!(
        !prom.contains("method=\"PUT\""),
        "a dry run never writes: {prom}"
    );
}

#[test]
fn metrics_are_pushed_to_a_pushgateway() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = stream.read(&mut buf).unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length || n == 0 {
                    break;
                }
            }
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .unwrap();
        String::from_utf8(request).unwrap()
    });
    let url = format!("http://127.0.0.1:{port}/metrics/job/azrecon/shard/edge");
    let out = azrecon(
        &[
            "reconcile",
            "--dry-run",
            "-f",
            "manifests/examples",
            "--emulator-seed",
            "manifests/examples/live",
            "--pushgateway",
            &url,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let request = server.join().unwrap();
    assert!(
        request.starts_with("PUT /metrics/job/azrecon/shard/edge HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4")
    );
    assert!(request.contains("\nazrecon_exit_code 2\n"), "{request}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let out = azrecon(
        &[
            "--log-format",
            "json",
            "reconcile",
            "--dry-run",
            "-f",
            "manifests/examples",
            "--emulator-seed",
            "manifests/examples/live",
        ],
        &[("AZRECON_LOG", "info")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logs: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let run = logs
        .iter()
        .find(|l| l["fields"]["message"] == "reconcile")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(run["level"], "INFO");
    assert_eq!(run["fields"]["dry_run"], true);
    assert_eq!(run["fields"]["resources"], example_manifest().len());
    assert!(run["timestamp"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn long_running_operations_report_start_status_and_end() {
    let emu = emulator().await;
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    let events: Arc<Mutex<Vec<LroEvent>>> = Arc::default();
    let seen = events.clone();
    let cloud = Cloud::at_endpoint(emu.base_url().parse().unwrap());
    let mut options = ArmClientOptions::new(cloud, Arc::new(StaticToken::new("t")));
    options.extra_root_ca_pem = emu.ca_pem();
    options.progress = Some(ProgressSink::new(move |e| {
        seen.lock().unwrap().push(e.clone())
    }));
    let arm = ArmClient::new(options).unwrap();
    let opts = RunOptions {
        dry_run: false,
        ..RunOptions::default()
    };
    let plan = engine::plan_live(&arm, &desired, 8).await.unwrap();
    engine::apply(&arm, &desired, &plan, opts).await;

    let gateway = &find(&desired, "ApplicationGateway/agw-openai-edge").id;
    let states: Vec<LroState> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| &e.resource_id == gateway)
        .map(|e| {
            assert_eq!(e.method, "PUT");
            e.state.clone()
        })
        .collect();
    assert_eq!(states.first(), Some(&LroState::Started), "{states:?}");
    assert_eq!(
        states.last(),
        Some(&LroState::Finished { succeeded: true }),
        "{states:?}"
    );
    assert!(
        states
            .iter()
            .any(|s| matches!(s, LroState::Running { status: Some(_) })),
        "a poll reported ARM's status: {states:?}"
    );
}

#[test]
fn report_schema_is_committed_and_up_to_date() {
    let generated = serde_json::to_string_pretty(&render::report_schema()).unwrap() + "\n";
    let path = root().join("docs/plan.schema.json");
    if std::env::var_os("AZRECON_REGENERATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/plan.schema.json is stale: rerun this test with AZRECON_REGENERATE_DOCS=1"
    );
}

/// The properties a schema declares, following a `$ref` into `$defs`.
fn declared<'s>(schema: &'s serde_json::Value, node: &'s serde_json::Value) -> Vec<&'s str> {
    let node = match node["$ref"].as_str() {
        Some(r) => &schema["$defs"][r.trim_start_matches("#/$defs/")],
        None => node,
    };
    node["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn real_reports_use_only_what_the_schema_declares() {
    let schema = render::report_schema();
    let emu = demo_emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    let plan = engine::plan_live(&arm, &desired, 8).await.unwrap();
    let opts = RunOptions {
        dry_run: false,
        ..RunOptions::default()
    };
    let outcomes = engine::apply(&arm, &desired, &plan, opts).await;
    let report: serde_json::Value =
        serde_json::from_str(&render::report_json(&plan, Some(&outcomes))).unwrap();

    assert_eq!(report["formatVersion"], "1");
    let top = declared(&schema, &schema);
    for key in report.as_object().unwrap().keys() {
        assert!(top.contains(&key.as_str()), "{key} not in {top:?}");
    }
    let resource_schema = &schema["properties"]["resources"]["items"];
    let resource_keys = declared(&schema, resource_schema);
    let change_keys = declared(&schema, &schema["$defs"]["FieldChange"]);
    for resource in report["resources"].as_array().unwrap() {
        for key in resource.as_object().unwrap().keys() {
            assert!(
                resource_keys.contains(&key.as_str()),
                "{key} not in {resource_keys:?}"
            );
        }
        for change in resource["changes"].as_array().into_iter().flatten() {
            for key in change.as_object().unwrap().keys() {
                assert!(change_keys.contains(&key.as_str()), "{key}");
            }
        }
    }
    let required = |node: &serde_json::Value| -> Vec<String> {
        node["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(required(&schema), ["formatVersion", "resources"]);
    for key in required(&schema["$defs"]["ResourcePlan"]) {
        for resource in report["resources"].as_array().unwrap() {
            assert!(
                resource.get(&key).is_some(),
                "{key} missing from {resource}"
            );
        }
    }
    assert_eq!(report["outcomes"].as_array().unwrap().len(), desired.len());
}

#[test]
fn a_piped_plan_has_no_colour_even_without_no_color() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_azrecon"));
    cmd.args([
        "reconcile",
        "--dry-run",
        "-f",
        "manifests/examples",
        "--emulator-seed",
        "manifests/examples/live",
    ])
    .current_dir(root())
    .env_remove("NO_COLOR")
    .env_remove("AZRECON_CLOUD");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("~ WafPolicy/waf-openai-edge (update)"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "no ANSI escapes when piped");
}
