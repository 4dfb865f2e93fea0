//! `azrecon emulator`: parses the command's flags, starts the emulator, prints where it is and
//! runs until Ctrl-C or SIGTERM, then optionally writes the recorded traffic.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{Emulator, EmulatorConfig, EmulatorError, start};

/// Flags of `azrecon emulator`.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on (ARM over HTTPS with --tls, the token endpoint over plain HTTP).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// State file: loaded at start when present, saved after every change.
    #[arg(long = "state", value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Directory of ARM documents (*.json) to start from when there is no state file.
    #[arg(long = "seed", value_name = "DIR")]
    pub seed: Option<PathBuf>,
    /// Serve ARM over HTTPS with a generated test CA.
    #[arg(long)]
    pub tls: bool,
    /// Where to write the test CA certificate (PEM); default: a file in the temp directory.
    #[arg(long = "ca-out", value_name = "FILE")]
    pub ca_out: Option<PathBuf>,
    /// On exit, write the ARM exchanges as oav traffic files into this directory.
    #[arg(long = "record", value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Polls a long-running operation stays InProgress.
    #[arg(long, default_value_t = 3)]
    pub lro_polls: u32,
    /// Retry-After seconds of long-running responses.
    #[arg(long, default_value_t = 1)]
    pub retry_after: u32,
}

impl From<&EmulatorArgs> for EmulatorConfig {
    fn from(args: &EmulatorArgs) -> EmulatorConfig {
        EmulatorConfig {
            listen: args.listen,
            tls: args.tls,
            state_file: args.state.clone(),
            seed_dir: args.seed.clone(),
            lro_polls: args.lro_polls,
            retry_after_secs: args.retry_after,
        }
    }
}

pub async fn run_cli(args: EmulatorArgs) -> Result<(), EmulatorError> {
    let emulator = start(EmulatorConfig::from(&args)).await?;
    println!("ARM endpoint:      {}", emulator.base_url());
    println!("IDENTITY_ENDPOINT: {}", emulator.identity_endpoint());
    println!("IDENTITY_HEADER:   {}", Emulator::IDENTITY_HEADER);
    if let Some(pem) = emulator.ca_pem() {
        let path = args.ca_out.clone().unwrap_or_else(|| {
            let port = args.listen.port();
            std::env::temp_dir().join(format!("azrecon-emulator-ca-{port}.pem"))
        });
        std::fs::write(&path, pem).map_err(|source| EmulatorError::Io {
            path: path.clone(),
            source,
        })?;
        println!("CA certificate:    {}", path.display());
    }
    wait_for_stop().await?;
    if let Some(dir) = &args.record {
        let written = emulator
            .write_traffic(dir)
            .map_err(|source| EmulatorError::Io {
                path: dir.clone(),
                source,
            })?;
        println!("wrote {written} traffic files to {}", dir.display());
    }
    emulator.shutdown().await;
    Ok(())
}

async fn wait_for_stop() -> Result<(), EmulatorError> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(EmulatorError::Signal)?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.map_err(EmulatorError::Signal),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(EmulatorError::Signal)
    }
}
