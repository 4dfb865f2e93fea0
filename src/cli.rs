//! The command line: plain parsed arguments (clap) first, then one conversion into what a run
//! needs (a target, a credential, options). `main` only calls `run` and exits with its code.
//!
//! Exit codes (documented in the README): 0 no drift / converged; 1 error; 2 drift (a dry run),
//! or drift left that policy forbids fixing; 3 destructive changes refused; 4 interrupted by
//! SIGTERM or SIGINT before every write was made.

use crate::interrupt;
use azrecon::arm::{self, ArmClient, ArmClientOptions, AuthMode, Cloud, ProgressSink, StaticToken};
use azrecon::certificates::CertificateHealth;
use azrecon::emulator::{self, Emulator, EmulatorArgs, EmulatorConfig};
use azrecon::engine::{self, Outcome, ResourceOutcome, RunOptions};
use azrecon::kinds::{self, Desired};
use azrecon::manifest;
use azrecon::plan::Plan;
use azrecon::render::{self, GraphFormat, HumanStyle, RunMetrics};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::progress::{Display, Progress};

#[derive(Debug, Parser)]
#[command(
    name = "azrecon",
    version,
    about = "Keeps an Azure private AI edge as its manifest says"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "AZRECON_LOG_FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read live state, show the plan, and (without --dry-run) apply it.
    Reconcile(Box<ReconcileArgs>),
    /// Check a manifest without touching ARM.
    Validate {
        #[arg(short = 'f', long = "file", value_name = "PATH")]
        file: PathBuf,
    },
    /// Print the manifest's JSON Schema, or with --markdown the manifest reference.
    Schema {
        /// The reference in Markdown (docs/manifest-reference.md) instead of the schema.
        #[arg(long)]
        markdown: bool,
    },
    /// Draw the topology (domains, gateway, listeners, path rules, backends, private endpoints,
    /// accounts, VNets and peerings, grouped by subscription) as Mermaid or DOT.
    Graph(Box<GraphArgs>),
    /// List the resource kinds, their ARM types and api-versions.
    Kinds,
    /// Run the ARM emulator.
    Emulator(EmulatorArgs),
    /// Show azrecon at work without Azure: plan, reconcile and re-plan the example manifest
    /// against an in-process emulator seeded with drifted live state.
    Demo {
        #[arg(
            short = 'f',
            long = "file",
            value_name = "PATH",
            default_value = "manifests/examples"
        )]
        file: PathBuf,
        #[arg(long, value_name = "DIR", default_value = "manifests/examples/live")]
        seed: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The manifest: a file, or a folder of files.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: PathBuf,
    /// Plan only; never write. Exit 0 without drift, 2 with drift, 1 on error.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply destructive changes (removing children, weakening the WAF) too.
    #[arg(long)]
    pub allow_destructive: bool,
    #[arg(long, value_enum, default_value_t = Output::Human)]
    pub output: Output,
    /// List unchanged resources in the human plan too.
    #[arg(long)]
    pub verbose: bool,
    /// ARM requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Do not read certificate health (expiry, host names) from the Key Vault data plane.
    #[arg(long)]
    pub no_certificate_check: bool,
    /// Resources of one subscription written at once.
    #[arg(long, default_value_t = 4)]
    pub per_subscription: usize,
    /// On SIGTERM or SIGINT: how long the writes in flight may take to finish (e.g. 60s, 2m).
    #[arg(long, value_parser = crate::interrupt::parse_duration, default_value = "60s")]
    pub grace_period: std::time::Duration,
    #[command(flatten)]
    pub reports: ReportArgs,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Reports of a run besides the plan on stdout.
#[derive(Debug, Default, Args)]
pub struct ReportArgs {
    /// Write a Markdown summary here (for $GITHUB_STEP_SUMMARY or a pull-request comment).
    #[arg(long, env = "AZRECON_SUMMARY_FILE", value_name = "PATH")]
    pub summary_file: Option<PathBuf>,
    /// Write the run's metrics here in Prometheus text format (a textfile collector's folder).
    #[arg(long, env = "AZRECON_METRICS_FILE", value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// PUT the run's metrics to this Pushgateway. Without a `/metrics/job/...` path, the
    /// grouping is `/metrics/job/azrecon`.
    #[arg(long, env = "AZRECON_PUSHGATEWAY", value_name = "URL")]
    pub pushgateway: Option<url::Url>,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The manifest: a file, or a folder of files.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t = GraphFormatArg::Mermaid)]
    pub format: GraphFormatArg,
    /// Plan against the target (a dry run; nothing is written) and colour what drifted.
    #[arg(long)]
    pub drift: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormatArg {
    Mermaid,
    Dot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Human,
    Json,
}

/// Where ARM is and how to authenticate to it.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// `emulator` is an in-process ARM emulator (no Azure account needed).
    #[arg(long, value_enum, default_value_t = CloudArg::Emulator, env = "AZRECON_CLOUD")]
    pub cloud: CloudArg,
    /// ARM endpoint of a custom cloud, or of an `azrecon emulator` (https://127.0.0.1:PORT).
    #[arg(long, env = "AZRECON_ARM_ENDPOINT", value_name = "URL")]
    pub arm_endpoint: Option<url::Url>,
    /// Authority host of a custom cloud.
    #[arg(long, env = "AZRECON_AUTHORITY_HOST", value_name = "URL")]
    pub authority_host: Option<url::Url>,
    /// Key Vault data-plane token audience of a custom cloud.
    #[arg(long, env = "AZRECON_KEY_VAULT_AUDIENCE", value_name = "URL")]
    pub key_vault_audience: Option<url::Url>,
    /// A root CA (PEM) to trust besides the system's, such as an emulator's test CA.
    #[arg(long, env = "AZRECON_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = AuthArg::Auto, env = "AZRECON_AUTH")]
    pub auth: AuthArg,
    /// With `--cloud emulator`: ARM documents to seed the in-process emulator with.
    #[arg(long, value_name = "DIR")]
    pub emulator_seed: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    Emulator,
    Public,
    Usgov,
    China,
    Custom,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    Auto,
    ManagedIdentity,
    WorkloadIdentity,
    ClientSecret,
    AzureCli,
}

/// The exit code of a run; decided once, at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Clean = 0,
    Error = 1,
    Drift = 2,
    Refused = 3,
    Interrupted = 4,
}

/// An ARM target ready to use; holds the embedded emulator alive while it is used.
struct Target {
    arm: ArmClient,
    label: String,
    _emulator: Option<Emulator>,
}

/// Whether to colour output: on a terminal, unless `NO_COLOR` is set to anything non-empty
/// (no-color.org).
pub fn use_colour(is_terminal: bool, no_color: Option<OsString>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

fn stdout_colour() -> bool {
    use_colour(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR"),
    )
}

pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Reconcile(args) => reconcile(*args).await,
        Command::Validate { file } => Ok(match load(&file) {
            Some(desired) => {
                println!("{}: valid, {} resources", file.display(), desired.len());
                Exit::Clean
            }
            None => Exit::Error,
        }),
        Command::Schema { markdown: false } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&manifest::json_schema())?
            );
            Ok(Exit::Clean)
        }
        Command::Schema { markdown: true } => {
            print!("{}", render::manifest_reference(&manifest::json_schema()));
            Ok(Exit::Clean)
        }
        Command::Graph(args) => graph(*args).await,
        Command::Kinds => {
            for kind in kinds::ALL {
                println!(
                    "{:<24} {:<70} {}",
                    kind.name(),
                    kind.arm_type(),
                    kind.api_version()
                );
            }
            Ok(Exit::Clean)
        }
        Command::Emulator(args) => {
            emulator::run_cli(args).await?;
            Ok(Exit::Clean)
        }
        Command::Demo { file, seed } => demo(file, seed).await,
    }
}

/// Loads and expands a manifest, printing every error. `None` means it was refused.
fn load(path: &Path) -> Option<Vec<Desired>> {
    load_with_aliases(path).map(|(desired, _)| desired)
}

/// [`load`], with the manifest's subscription aliases by subscription ID (lower case).
fn load_with_aliases(path: &Path) -> Option<(Vec<Desired>, BTreeMap<String, String>)> {
    let loaded = manifest::load_path(path).and_then(|m| {
        let aliases = m
            .subscriptions
            .iter()
            .map(|(alias, (_, id))| (id.value.to_ascii_lowercase(), alias.clone()))
            .collect();
        kinds::expand(&m).map(|desired| (desired, aliases))
    });
    match loaded {
        Ok(loaded) => Some(loaded),
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!(
                "{} error(s); nothing was read from or written to ARM.",
                errors.0.len()
            );
            None
        }
    }
}

async fn reconcile(args: ReconcileArgs) -> anyhow::Result<Exit> {
    // The manifest is checked before any credential or connection exists.
    let Some(desired) = load(&args.file) else {
        return Ok(Exit::Error);
    };
    let progress = (!args.dry_run).then(|| {
        Progress::new(if std::io::stderr().is_terminal() {
            Display::Live
        } else {
            Display::Plain
        })
    });
    let target = target(&args.target, progress.as_ref().map(|p| p.sink())).await?;
    tracing::info!(target = %target.label, resources = desired.len(), dry_run = args.dry_run, "reconcile");
    let opts = RunOptions {
        dry_run: args.dry_run,
        allow_destructive: args.allow_destructive,
        concurrency: args.concurrency,
        per_subscription: args.per_subscription,
    };
    let style = HumanStyle {
        color: stdout_colour(),
        verbose: args.verbose,
    };
    let certificates = if args.no_certificate_check {
        CertificateHealth::Skip
    } else {
        CertificateHealth::Check
    };
    if let Some(progress) = &progress {
        progress.start();
    }
    let run = run_once(
        &target.arm,
        &desired,
        opts,
        certificates,
        args.output,
        style,
        args.grace_period,
    )
    .await;
    if let Some(progress) = &progress {
        progress.finish();
    }
    let run = run?;
    write_reports(&args.reports, &run, target.arm.calls().snapshot()).await;
    Ok(run.exit)
}

/// What one plan (and apply) produced, for the reports.
struct Run {
    exit: Exit,
    /// `None` when planning failed.
    plan: Option<Plan>,
    outcomes: Option<Vec<ResourceOutcome>>,
    plan_time: Duration,
    apply_time: Duration,
}

/// Writes the summary and metrics a run was asked for. A report that cannot be written is an
/// error message; it does not change the exit code, which stays the run's verdict.
async fn write_reports(reports: &ReportArgs, run: &Run, calls: Vec<azrecon::arm::CallCount>) {
    if let (Some(path), Some(plan)) = (&reports.summary_file, &run.plan) {
        let text = render::summary_markdown(plan, run.outcomes.as_deref());
        if let Err(e) = append(path, &text) {
            eprintln!("error: cannot write the summary to {}: {e}", path.display());
        }
    }
    if reports.metrics_file.is_none() && reports.pushgateway.is_none() {
        return;
    }
    let mut metrics = match &run.plan {
        Some(plan) => RunMetrics::counts(plan, run.outcomes.as_deref()),
        None => RunMetrics::default(),
    };
    metrics.arm_calls = calls;
    metrics.plan_seconds = run.plan_time.as_secs_f64();
    metrics.apply_seconds = run.apply_time.as_secs_f64();
    metrics.exit_code = run.exit as i32;
    metrics.finished_at = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let text = render::prometheus_text(&metrics);
    if let Some(path) = &reports.metrics_file
        && let Err(e) = replace_file(path, &text)
    {
        eprintln!("error: cannot write metrics to {}: {e}", path.display());
    }
    if let Some(url) = &reports.pushgateway
        && let Err(e) = push_metrics(url, text).await
    {
        eprintln!(
            "error: cannot push metrics to {}: {e}",
            url.origin().ascii_serialization()
        );
    }
}

/// Appends, as GitHub Actions expects of `$GITHUB_STEP_SUMMARY` (several steps may write it).
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

/// Replaces a file at once (write beside it, then rename), so a textfile collector never reads
/// half of it.
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

/// The Pushgateway URL of azrecon's group: as given when it names one, else `/metrics/job/azrecon`.
fn pushgateway_group(url: &url::Url) -> url::Url {
    if url.path().contains("/metrics/job/") {
        return url.clone();
    }
    let mut group = url.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    group.set_path(&format!("{base}/metrics/job/azrecon"));
    group
}

async fn push_metrics(url: &url::Url, text: String) -> anyhow::Result<()> {
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?
        .put(pushgateway_group(url))
        .header("content-type", "text/plain; version=0.0.4")
        .body(text)
        .send()
        .await?;
    if !response.status().is_success() {
        anyhow::bail!("HTTP {}", response.status());
    }
    Ok(())
}

/// One plan (and apply, unless a dry run) with its output and exit code.
async fn run_once(
    arm: &ArmClient,
    desired: &[Desired],
    opts: RunOptions,
    certificates: CertificateHealth,
    output: Output,
    style: HumanStyle,
    grace: std::time::Duration,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let plan = match engine::plan_live_with(arm, desired, opts.concurrency, certificates).await {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Run {
                exit: Exit::Error,
                plan: None,
                outcomes: None,
                plan_time: started.elapsed(),
                apply_time: Duration::ZERO,
            });
        }
    };
    let plan_time = started.elapsed();
    let outcomes = if opts.dry_run {
        None
    } else {
        match interrupt::apply(arm, desired, &plan, opts, grace).await {
            interrupt::Applied::Finished(outcomes) => Some(outcomes),
            interrupt::Applied::GraceExpired { in_flight } => {
                eprintln!(
                    "interrupted: the grace period ended with {} write(s) in flight: {}; re-run to converge",
                    in_flight.len(),
                    in_flight.join(", ")
                );
                return Ok(Run {
                    exit: Exit::Interrupted,
                    plan: Some(plan),
                    outcomes: None,
                    plan_time,
                    apply_time: started.elapsed() - plan_time,
                });
            }
        }
    };
    let apply_time = started.elapsed() - plan_time;
    match output {
        Output::Json => println!("{}", render::report_json(&plan, outcomes.as_deref())),
        Output::Human => {
            print!("{}", render::plan_text(&plan, style));
            if let Some(outcomes) = &outcomes {
                print!("{}", render::outcomes_text(outcomes, style));
            }
        }
    }
    Ok(Run {
        exit: exit_code(&plan, outcomes.as_deref()),
        plan: Some(plan),
        outcomes,
        plan_time,
        apply_time,
    })
}

/// Terraform's `-detailed-exitcode` for dry runs; for applies, whether everything converged.
pub fn exit_code(plan: &Plan, outcomes: Option<&[ResourceOutcome]>) -> Exit {
    let Some(outcomes) = outcomes else {
        return if plan.has_errors() {
            Exit::Error
        } else if plan.drifted() {
            Exit::Drift
        } else {
            Exit::Clean
        };
    };
    let any = |f: fn(&Outcome) -> bool| outcomes.iter().any(|o| f(&o.outcome));
    if any(|o| matches!(o, Outcome::Interrupted)) {
        Exit::Interrupted
    } else if any(|o| {
        matches!(
            o,
            Outcome::Failed { .. } | Outcome::NotConverged { .. } | Outcome::Skipped { .. }
        )
    }) {
        Exit::Error
    } else if any(|o| matches!(o, Outcome::Refused { .. })) {
        Exit::Refused
    } else if any(|o| matches!(o, Outcome::Reported)) {
        Exit::Drift
    } else {
        Exit::Clean
    }
}

/// The cloud the target flags name; `None` is the embedded emulator. An ARM endpoint makes a
/// custom cloud whose authority and Key Vault audience default to those of `--cloud` (the
/// public cloud for `emulator` and `custom`).
pub fn cloud_of(args: &TargetArgs) -> anyhow::Result<Option<Cloud>> {
    let known = match args.cloud {
        CloudArg::Usgov => Cloud::UsGov,
        CloudArg::China => Cloud::China,
        CloudArg::Emulator | CloudArg::Public | CloudArg::Custom => Cloud::Public,
    };
    Ok(Some(match (args.cloud, &args.arm_endpoint) {
        (CloudArg::Emulator, None) => return Ok(None),
        (CloudArg::Custom, None) => anyhow::bail!("--cloud custom needs --arm-endpoint"),
        (_, None) => known,
        (_, Some(endpoint)) => Cloud::Custom {
            arm_endpoint: endpoint.clone(),
            authority: args
                .authority_host
                .clone()
                .unwrap_or_else(|| known.authority_host()),
            key_vault_audience: args
                .key_vault_audience
                .clone()
                .unwrap_or_else(|| known.key_vault_audience()),
        },
    }))
}

async fn target(args: &TargetArgs, progress: Option<ProgressSink>) -> anyhow::Result<Target> {
    let extra_ca = match &args.ca_cert {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let Some(cloud) = cloud_of(args)? else {
        return embedded(args.emulator_seed.clone(), progress).await;
    };
    let mode = match args.auth {
        AuthArg::Auto => AuthMode::Auto,
        AuthArg::ManagedIdentity => AuthMode::ManagedIdentity,
        AuthArg::WorkloadIdentity => AuthMode::WorkloadIdentity,
        AuthArg::ClientSecret => AuthMode::ClientSecret,
        AuthArg::AzureCli => AuthMode::AzureCli,
    };
    let label = cloud.arm_endpoint().to_string();
    let credential = arm::credential(
        mode,
        &cloud,
        &arm::EnvSnapshot::from_process(),
        extra_ca.as_deref(),
    )?;
    let mut options = ArmClientOptions::new(cloud, credential);
    options.extra_root_ca_pem = extra_ca;
    options.progress = progress;
    Ok(Target {
        arm: ArmClient::new(options)?,
        label,
        _emulator: None,
    })
}

/// The in-process emulator: ARM over HTTPS on a loopback port, with a fixed fake token.
async fn embedded(seed: Option<PathBuf>, progress: Option<ProgressSink>) -> anyhow::Result<Target> {
    let emulator = emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse()?,
        tls: true,
        state_file: None,
        seed_dir: seed,
        lro_polls: 2,
        retry_after_secs: 0,
    })
    .await?;
    let cloud = Cloud::at_endpoint(emulator.base_url().parse()?);
    let mut options = ArmClientOptions::new(cloud, Arc::new(StaticToken::new("embedded-emulator")));
    options.extra_root_ca_pem = emulator.ca_pem();
    options.progress = progress;
    Ok(Target {
        arm: ArmClient::new(options)?,
        label: format!("embedded ARM emulator at {}", emulator.base_url()),
        _emulator: Some(emulator),
    })
}

async fn demo(file: PathBuf, seed: PathBuf) -> anyhow::Result<Exit> {
    let Some(desired) = load(&file) else {
        return Ok(Exit::Error);
    };
    let target = embedded(Some(seed.clone()), None).await?;
    let style = HumanStyle {
        color: stdout_colour(),
        verbose: false,
    };
    let step = |title: &str| println!("\n=== {title}\n");
    println!(
        "azrecon demo: {} against an in-process ARM emulator seeded from {} (drifted live state; no Azure account involved).",
        file.display(),
        seed.display()
    );
    let stages = [
        ("1. azrecon reconcile --dry-run: what drifted", true),
        ("2. azrecon reconcile: fix it", false),
        (
            "3. azrecon reconcile --dry-run: converged, nothing left to write",
            true,
        ),
    ];
    let mut last = Exit::Clean;
    for (title, dry_run) in stages {
        step(title);
        let opts = dry(dry_run);
        last = run_once(
            &target.arm,
            &desired,
            opts,
            CertificateHealth::Check,
            Output::Human,
            style,
            DEMO_GRACE,
        )
        .await?
        .exit;
        println!("(exit code {})", last as i32);
    }
    Ok(last)
}

/// The demo's writes are in-process and quick.
const DEMO_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

fn dry(dry_run: bool) -> RunOptions {
    RunOptions {
        dry_run,
        ..RunOptions::default()
    }
}

/// Draws the topology; with `--drift`, after a dry-run plan against the target.
async fn graph(args: GraphArgs) -> anyhow::Result<Exit> {
    let Some((desired, aliases)) = load_with_aliases(&args.file) else {
        return Ok(Exit::Error);
    };
    let plan = if args.drift {
        let target = target(&args.target, None).await?;
        match engine::plan_live(&target.arm, &desired, RunOptions::default().concurrency).await {
            Ok(plan) => Some(plan),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(Exit::Error);
            }
        }
    } else {
        None
    };
    let format = match args.format {
        GraphFormatArg::Mermaid => GraphFormat::Mermaid,
        GraphFormatArg::Dot => GraphFormat::Dot,
    };
    print!(
        "{}",
        render::topology(&desired, &aliases, plan.as_ref(), format)
    );
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target_args(cloud: CloudArg, endpoint: Option<&str>) -> TargetArgs {
        TargetArgs {
            cloud,
            arm_endpoint: endpoint.map(|e| e.parse().unwrap()),
            authority_host: None,
            key_vault_audience: None,
            ca_cert: None,
            auth: AuthArg::Auto,
            emulator_seed: None,
        }
    }

    #[test]
    fn each_cloud_flag_sets_its_arm_scope_and_authority() {
        let cases = [
            (
                CloudArg::Public,
                None,
                "https://management.azure.com/.default",
                "https://login.microsoftonline.com/",
            ),
            (
                CloudArg::Usgov,
                None,
                "https://management.usgovcloudapi.net/.default",
                "https://login.microsoftonline.us/",
            ),
            (
                CloudArg::China,
                None,
                "https://management.chinacloudapi.cn/.default",
                "https://login.chinacloudapi.cn/",
            ),
            (
                CloudArg::Custom,
                Some("https://arm.contoso.test"),
                "https://arm.contoso.test/.default",
                "https://login.microsoftonline.com/",
            ),
            (
                CloudArg::Usgov,
                Some("https://arm.gov.test/"),
                "https://arm.gov.test/.default",
                "https://login.microsoftonline.us/",
            ),
        ];
        for (cloud, endpoint, scope, authority) in cases {
            let got = cloud_of(&target_args(cloud, endpoint)).unwrap().unwrap();
            assert_eq!(got.arm_scope(), scope, "{cloud:?} {endpoint:?}");
            assert_eq!(
                got.authority_host().as_str(),
                authority,
                "{cloud:?} {endpoint:?}"
            );
        }
        let mut custom = target_args(CloudArg::Custom, Some("https://arm.contoso.test"));
        custom.authority_host = Some("https://login.contoso.test".parse().unwrap());
        custom.key_vault_audience = Some("https://vault.contoso.test".parse().unwrap());
        let got = cloud_of(&custom).unwrap().unwrap();
        assert_eq!(got.authority_host().as_str(), "https://login.contoso.test/");
        assert_eq!(got.key_vault_scope(), "https://vault.contoso.test/.default");
        assert!(
            cloud_of(&target_args(CloudArg::Emulator, None))
                .unwrap()
                .is_none()
        );
        assert!(cloud_of(&target_args(CloudArg::Custom, None)).is_err());
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(
            use_colour(true, Some(OsString::new())),
            "an empty NO_COLOR is unset"
        );
        assert!(!use_colour(true, Some("1".into())));
        assert!(!use_colour(false, None));
    }

    #[test]
    fn pushgateway_grouping_defaults_to_the_azrecon_job() {
        let cases = [
            ("http://pgw:9091", "http://pgw:9091/metrics/job/azrecon"),
            (
                "http://pgw:9091/prefix/",
                "http://pgw:9091/prefix/metrics/job/azrecon",
            ),
            (
                "http://pgw:9091/metrics/job/drift/shard/edge",
                "http://pgw:9091/metrics/job/drift/shard/edge",
            ),
        ];
        for (given, want) in cases {
            assert_eq!(pushgateway_group(&given.parse().unwrap()).as_str(), want);
        }
    }
}
