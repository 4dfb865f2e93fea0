//! The command line: plain parsed arguments (clap) first, then one conversion into what a run
//! needs (a target, a credential, options). `main` only calls `run` and exits with its code.
//!
//! Exit codes (documented in the README): 0 no drift / converged; 1 error; 2 drift (a dry run),
//! or drift left that policy forbids fixing; 3 destructive changes refused; 4 interrupted by
//! SIGTERM or SIGINT before every write was made.

use crate::interrupt;
use azrecon::arm::{self, ArmClient, ArmClientOptions, AuthMode, Cloud, StaticToken};
use azrecon::certificates::CertificateHealth;
use azrecon::emulator::{self, Emulator, EmulatorArgs, EmulatorConfig};
use azrecon::engine::{self, Outcome, ResourceOutcome, RunOptions};
use azrecon::kinds::{self, Desired};
use azrecon::manifest;
use azrecon::plan::Plan;
use azrecon::render::{self, HumanStyle};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// Print the manifest's JSON Schema.
    Schema,
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
    pub target: TargetArgs,
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
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&manifest::json_schema())?
            );
            Ok(Exit::Clean)
        }
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
fn load(path: &std::path::Path) -> Option<Vec<Desired>> {
    match manifest::load_path(path).and_then(|m| kinds::expand(&m)) {
        Ok(desired) => Some(desired),
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
    let target = target(&args.target).await?;
    tracing::info!(target = %target.label, resources = desired.len(), dry_run = args.dry_run, "reconcile");
    let opts = RunOptions {
        dry_run: args.dry_run,
        allow_destructive: args.allow_destructive,
        concurrency: args.concurrency,
        per_subscription: args.per_subscription,
    };
    let style = HumanStyle {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        verbose: args.verbose,
    };
    let certificates = if args.no_certificate_check {
        CertificateHealth::Skip
    } else {
        CertificateHealth::Check
    };
    run_once(
        &target.arm,
        &desired,
        opts,
        certificates,
        args.output,
        style,
        args.grace_period,
    )
    .await
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
) -> anyhow::Result<Exit> {
    let plan = match engine::plan_live_with(arm, desired, opts.concurrency, certificates).await {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Exit::Error);
        }
    };
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
                return Ok(Exit::Interrupted);
            }
        }
    };
    match output {
        Output::Json => println!("{}", render::report_json(&plan, outcomes.as_deref())),
        Output::Human => {
            print!("{}", render::plan_text(&plan, style));
            if let Some(outcomes) = &outcomes {
                print!("{}", render::outcomes_text(outcomes, style));
            }
        }
    }
    Ok(exit_code(&plan, outcomes.as_deref()))
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

async fn target(args: &TargetArgs) -> anyhow::Result<Target> {
    let extra_ca = match &args.ca_cert {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let cloud = match (args.cloud, &args.arm_endpoint) {
        (CloudArg::Emulator, None) => return embedded(args.emulator_seed.clone()).await,
        (CloudArg::Public, None) => Cloud::Public,
        (CloudArg::Usgov, None) => Cloud::UsGov,
        (CloudArg::China, None) => Cloud::China,
        (_, Some(endpoint)) => Cloud::Custom {
            arm_endpoint: endpoint.clone(),
            authority: args
                .authority_host
                .clone()
                .unwrap_or_else(|| Cloud::Public.authority_host()),
            key_vault_audience: args
                .key_vault_audience
                .clone()
                .unwrap_or_else(|| Cloud::Public.key_vault_audience()),
        },
        (CloudArg::Custom, None) => anyhow::bail!("--cloud custom needs --arm-endpoint"),
    };
    let mode = match args.auth {
        AuthArg::Auto => AuthMode::Auto,
        AuthArg::ManagedIdentity => AuthMode::ManagedIdentity,
        AuthArg::WorkloadIdentity => AuthMode::WorkloadIdentity,
        AuthArg::ClientSecret => AuthMode::ClientSecret,
        AuthArg::AzureCli => AuthMode::AzureCli,
    };
    let label = cloud.arm_endpoint().to_string();
    let credential = arm::credential(mode, &cloud, &arm::EnvSnapshot::from_process())?;
    let mut options = ArmClientOptions::new(cloud, credential);
    options.extra_root_ca_pem = extra_ca;
    Ok(Target {
        arm: ArmClient::new(options)?,
        label,
        _emulator: None,
    })
}

/// The in-process emulator: ARM over HTTPS on a loopback port, with a fixed fake token.
async fn embedded(seed: Option<PathBuf>) -> anyhow::Result<Target> {
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
    let target = embedded(Some(seed.clone())).await?;
    let style = HumanStyle {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        verbose: false,
    };
    let step = |title: &str| println!("\n=== {title}\n");
    println!(
        "azrecon demo: {} against an in-process ARM emulator seeded from {} (drifted live state; no Azure account involved).",
        file.display(),
        seed.display()
    );
    step("1. azrecon reconcile --dry-run: what drifted");
    let before = run_once(
        &target.arm,
        &desired,
        dry(true),
        CertificateHealth::Check,
        Output::Human,
        style,
        DEMO_GRACE,
    )
    .await?;
    println!("(exit code {})", before as i32);
    step("2. azrecon reconcile: fix it");
    let applied = run_once(
        &target.arm,
        &desired,
        dry(false),
        CertificateHealth::Check,
        Output::Human,
        style,
        DEMO_GRACE,
    )
    .await?;
    println!("(exit code {})", applied as i32);
    step("3. azrecon reconcile --dry-run: converged, nothing left to write");
    let after = run_once(
        &target.arm,
        &desired,
        dry(true),
        CertificateHealth::Check,
        Output::Human,
        style,
        DEMO_GRACE,
    )
    .await?;
    println!("(exit code {})", after as i32);
    Ok(after)
}

/// The demo's writes are in-process and quick.
const DEMO_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

fn dry(dry_run: bool) -> RunOptions {
    RunOptions {
        dry_run,
        ..RunOptions::default()
    }
}
