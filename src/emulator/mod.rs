//! The ARM emulator: a stand-in for Azure Resource Manager that behaves like the real thing.
//!
//! It serves ARM over HTTPS (a test CA generated at start) and the managed-identity token
//! endpoint over plain loopback HTTP on the same port, keeps resources in a case-insensitive
//! store, fills server-side fields per resource type as the Azure REST API specs and their
//! examples show, runs long-running writes through `Azure-AsyncOperation` polls, and logs every
//! request for tests. Faults (throttling, server errors, dropped connections, slow answers,
//! failed operations, ARM's conflict codes) are injected per method and path, and ARM's
//! per-subscription token buckets can be enforced. [`start`] runs it in process; [`run_cli`] is
//! `azrecon emulator`.

mod admin;
mod arm;
mod arm_error;
mod arm_id;
mod cli;
mod directory;
mod faults;
mod identity;
mod log;
mod lro;
mod server;
mod state;
mod store;
mod tls;
mod types;
mod vault;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use cli::{EmulatorArgs, run_cli};
pub use faults::{BucketLimit, Fault, FaultError, FaultMatch, FaultRule, PathMatch, RateLimits};
pub use log::{LoggedRequest, RequestKind};
pub use vault::CertificateInfo;

use arm_id::ArmId;
use lro::Operations;
use server::Shared;
use state::{EmulatorState, Settings};
use store::Store;

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Serve ARM over HTTPS with a generated test CA (plain HTTP is served on the same port).
    pub tls: bool,
    /// Load the store from this file at start (when it exists) and save it after each change.
    pub state_file: Option<PathBuf>,
    /// Load every `*.json` file here (one ARM document, or an array of them) when there is no
    /// state file to load.
    pub seed_dir: Option<PathBuf>,
    /// How many polls a long-running operation reports `InProgress` before it succeeds.
    pub lro_polls: u32,
    /// The `Retry-After` value, in seconds, of long-running responses.
    pub retry_after_secs: u32,
}

impl Default for EmulatorConfig {
    fn default() -> EmulatorConfig {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: true,
            state_file: None,
            seed_dir: None,
            lro_polls: 3,
            retry_after_secs: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not a usable ARM document: {reason}", path.display())]
    Seed { path: PathBuf, reason: String },
    #[error("could not set up TLS: {0}")]
    Tls(String),
    #[error("could not wait for a shutdown signal: {0}")]
    Signal(io::Error),
}

/// A running emulator. Dropping it leaves the server running until the runtime stops;
/// [`Emulator::shutdown`] stops it.
pub struct Emulator {
    shared: Arc<Shared>,
    base_url: String,
    plain_url: String,
    ca_pem: Option<String>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts the emulator on `config.listen` and returns once it accepts connections.
pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
    let pki = config.tls.then(tls::generate).transpose()?;
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
    let addr = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            addr: config.listen,
            source,
        })?;
    let plain_url = format!("http://{addr}");
    let base_url = if config.tls {
        format!("https://{addr}")
    } else {
        plain_url.clone()
    };

    let mut state = EmulatorState {
        store: Store::default(),
        operations: Operations::default(),
        settings: Settings {
            lro_polls: config.lro_polls,
            retry_after_secs: config.retry_after_secs,
            base_url: base_url.clone(),
        },
        directory: Default::default(),
        certificates: Default::default(),
    };
    match (&config.state_file, &config.seed_dir) {
        (Some(file), _) if file.exists() => {
            let docs = store::read_documents(file)?;
            state.store.load(docs, file)?;
        }
        (_, Some(dir)) => {
            for file in store::seed_files(dir)? {
                for doc in store::read_documents(&file)? {
                    // Key Vault certificates come as the data plane returns them.
                    if state.certificates.put_bundle(&doc) {
                        continue;
                    }
                    let id = store::doc_id(&doc).ok_or_else(|| EmulatorError::Seed {
                        path: file.clone(),
                        reason: "a document has no valid ARM resource `id`".into(),
                    })?;
                    state.put_raw(&id, doc);
                }
            }
        }
        _ => {}
    }
    state.settle_loaded();

    let shared = Arc::new(Shared::new(
        state,
        config.state_file.clone(),
        Emulator::IDENTITY_HEADER.to_owned(),
    ));
    if config.state_file.is_some() {
        shared.write_state(|_| ());
    }
    let (shutdown, shutdown_rx) = watch::channel(false);
    let acceptor = pki
        .as_ref()
        .map(|p| TlsAcceptor::from(p.server_config.clone()));
    let task = tokio::spawn(server::serve(
        listener,
        acceptor,
        shared.clone(),
        shutdown_rx,
    ));
    Ok(Emulator {
        shared,
        base_url,
        plain_url,
        ca_pem: pki.map(|p| p.ca_pem),
        shutdown,
        task,
    })
}

impl Emulator {
    /// The `IDENTITY_HEADER` secret the token endpoint expects. A fixed value: it guards a
    /// placeholder token on a loopback port, not a credential.
    pub const IDENTITY_HEADER: &'static str = "azrecon-emulator-identity-header";

    /// Where ARM is served: `https://127.0.0.1:PORT` with TLS, `http://...` without.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The generated test CA certificate (PEM) clients must trust, when TLS is on.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The managed-identity token endpoint over plain loopback HTTP (`IDENTITY_ENDPOINT`).
    pub fn identity_endpoint(&self) -> String {
        format!("{}{}", self.plain_url, identity::TOKEN_PATH)
    }

    /// The value to export as `IDENTITY_HEADER`.
    pub fn identity_header(&self) -> String {
        Self::IDENTITY_HEADER.to_owned()
    }

    /// Every request served so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log_snapshot()
    }

    /// ARM writes served (PUT, PATCH, DELETE, POST; not polls, admin or token calls).
    pub fn writes(&self) -> usize {
        self.requests().iter().filter(|r| r.is_write()).count()
    }

    /// ARM GETs served, not counting long-running-operation polls.
    pub fn reads(&self) -> usize {
        self.requests().iter().filter(|r| r.is_read()).count()
    }

    pub fn clear_log(&self) {
        self.shared.clear_log();
    }

    /// The resource as GET would return it (`id` in any casing).
    pub fn resource(&self, id: &str) -> Option<Value> {
        let id = ArmId::parse(id)?;
        self.shared.with_state(|s| s.view(&id))
    }

    /// Stores `doc` as the resource's state, exactly as given (no server-side fields, no side
    /// effects). A document whose `provisioningState` is `Creating`, `Updating` or `Deleting`
    /// has someone else's operation running on it: it ends (`Succeeded`, or deleted) after the
    /// configured number of polls, reads of the resource included. Panics when `id` is not an
    /// ARM resource ID.
    pub fn put_raw(&self, id: &str, doc: Value) {
        let id = parse_or_panic(id);
        let running = match doc
            .pointer("/properties/provisioningState")
            .and_then(Value::as_str)
        {
            Some("Creating" | "Updating") => Some(lro::OperationKind::Put),
            Some("Deleting") => Some(lro::OperationKind::Delete),
            _ => None,
        };
        self.shared.write_state(|s| {
            s.put_raw(&id, doc);
            if let Some(kind) = running {
                let polls = s.settings.lro_polls;
                s.operations
                    .start(id.clone(), kind, polls, lro::Outcome::Succeeded);
            }
        });
    }

    /// Changes the stored document in place, for drift injection. Does nothing when absent.
    pub fn update_raw(&self, id: &str, f: impl FnOnce(&mut Value)) {
        let id = parse_or_panic(id);
        self.shared.write_state(|s| {
            if let Some(doc) = s.store.get_mut(&id) {
                f(doc);
            }
        });
    }

    /// Removes a resource and its children, without ARM's side effects.
    pub fn remove_raw(&self, id: &str) {
        let id = parse_or_panic(id);
        self.shared.write_state(|s| s.remove_raw(&id));
    }

    /// Stores a certificate's metadata on the Key Vault data plane of vault `vault`.
    pub fn put_certificate(&self, vault: &str, name: &str, info: &CertificateInfo) {
        self.shared
            .write_state(|s| s.certificates.put(vault, name, info));
    }

    /// A certificate's `CertificateBundle` as the data plane returns it.
    pub fn certificate(&self, vault: &str, name: &str) -> Option<Value> {
        self.shared.with_state(|s| s.certificates.get(vault, name))
    }

    /// Makes the directory miss each principal's first `misses` lookups, as Entra ID does while
    /// a new identity replicates: role assignments naming it fail with `PrincipalNotFound`.
    pub fn set_principal_replication_misses(&self, misses: u32) {
        self.shared
            .write_state(|s| s.directory.replication_misses = misses);
    }

    /// Writes one oav traffic file per logged ARM exchange (not polls, admin or token calls)
    /// into `dir`; returns how many.
    pub fn write_traffic(&self, dir: &Path) -> io::Result<usize> {
        log::write_traffic(&self.requests(), dir)
    }

    /// Adds a rule at the end of the fault table (the first matching rule wins).
    pub fn add_fault(&self, rule: FaultRule) -> Result<(), FaultError> {
        server::lock(&self.shared.faults).add(rule)
    }

    /// Replaces the whole fault table.
    pub fn set_faults(&self, rules: Vec<FaultRule>) -> Result<(), FaultError> {
        server::lock(&self.shared.faults).set(rules)
    }

    pub fn faults(&self) -> Vec<FaultRule> {
        server::lock(&self.shared.faults).rules()
    }

    /// Enforces ARM's per-subscription token buckets with these limits (`None`: off, the
    /// default; the remaining-quota headers are sent either way).
    pub fn set_rate_limits(&self, limits: Option<RateLimits>) {
        server::lock(&self.shared.throttle).set_limits(limits);
    }

    /// Stops accepting connections, closes the open ones and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

fn parse_or_panic(id: &str) -> ArmId {
    ArmId::parse(id).unwrap_or_else(|| panic!("not an ARM resource id: {id}"))
}
