//! Selecting and building the Entra ID credential the ARM client authenticates with.
//!
//! azure_identity has no default chain, so `AuthMode::Auto` is decided here, by a pure function
//! of an environment snapshot, in this order:
//! 1. `AZURE_FEDERATED_TOKEN_FILE` set: workload identity (Kubernetes with a federated token).
//! 2. `IDENTITY_ENDPOINT` or `MSI_ENDPOINT` set: managed identity (App Service, Functions,
//!    Container Apps, Arc, Cloud Shell). On a VM, IMDS has no such variable and would need a
//!    network probe to detect, so VMs select `ManagedIdentity` explicitly.
//! 3. `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET` all set: client secret.
//! 4. Otherwise the Azure CLI's login.
//!
//! Building a credential reads only the snapshot, never the process environment, so the same
//! snapshot always yields the same choice. Secrets never appear in `Debug` or errors.

use super::cloud::Cloud;
use super::error::ArmError;
use super::pipeline;
use async_trait::async_trait;
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, Transport};
use azure_core::time::{Duration, OffsetDateTime};
use azure_identity::{
    AzureCliCredential, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId, WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// How the ARM client authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    ManagedIdentity,
    WorkloadIdentity,
    ClientSecret,
    AzureCli,
    /// Chosen from the environment by [`choose`].
    Auto,
}

impl AuthMode {
    fn name(self) -> &'static str {
        match self {
            AuthMode::ManagedIdentity => "managed identity",
            AuthMode::WorkloadIdentity => "workload identity",
            AuthMode::ClientSecret => "client secret",
            AuthMode::AzureCli => "Azure CLI",
            AuthMode::Auto => "automatic",
        }
    }
}

const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
const MSI_ENDPOINT: &str = "MSI_ENDPOINT";

/// The environment variables that decide authentication.
const RELEVANT: &[&str] = &[
    AZURE_TENANT_ID,
    AZURE_CLIENT_ID,
    AZURE_CLIENT_SECRET,
    AZURE_FEDERATED_TOKEN_FILE,
    IDENTITY_ENDPOINT,
    MSI_ENDPOINT,
];

/// The authentication-related environment variables at one moment. Empty values count as unset.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvSnapshot {
    vars: BTreeMap<String, String>,
}

impl EnvSnapshot {
    /// Reads the relevant variables of this process.
    pub fn from_process() -> Self {
        Self::from_pairs(
            RELEVANT
                .iter()
                .filter_map(|name| std::env::var(name).ok().map(|value| (*name, value))),
        )
    }

    /// A snapshot of the given variables (tests, embedding).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        EnvSnapshot {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl fmt::Debug for EnvSnapshot {
    /// Names the variables that are set; values are left out, the client secret among them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

/// The concrete mode `Auto` stands for in `env` (see the module documentation for the order).
pub fn choose(env: &EnvSnapshot) -> AuthMode {
    if env.has(AZURE_FEDERATED_TOKEN_FILE) {
        AuthMode::WorkloadIdentity
    } else if env.has(IDENTITY_ENDPOINT) || env.has(MSI_ENDPOINT) {
        AuthMode::ManagedIdentity
    } else if [AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET]
        .iter()
        .all(|name| env.has(name))
    {
        AuthMode::ClientSecret
    } else {
        AuthMode::AzureCli
    }
}

/// Builds the credential for `mode` (`Auto` resolved by [`choose`]) against `cloud`'s authority.
/// Token requests trust `extra_root_ca_pem` besides the system's roots, as ARM requests do, so a
/// custom cloud's authority may use the same private CA as its ARM endpoint.
///
/// Managed identity uses a user-assigned identity when `AZURE_CLIENT_ID` is set, else the
/// system-assigned one; azure_identity itself picks App Service/Arc/Cloud Shell endpoints from
/// `IDENTITY_ENDPOINT`/`IDENTITY_HEADER`/`MSI_ENDPOINT`, and IMDS otherwise.
pub fn credential(
    mode: AuthMode,
    cloud: &Cloud,
    env: &EnvSnapshot,
    extra_root_ca_pem: Option<&str>,
) -> Result<Arc<dyn TokenCredential>, ArmError> {
    let mode = match mode {
        AuthMode::Auto => choose(env),
        concrete => concrete,
    };
    tracing::info!(mode = mode.name(), env = ?env, "selected Azure credential");
    let failed = |source| ArmError::Credential {
        mode: mode.name(),
        source,
    };
    // Token requests are small; a minute is plenty and keeps a dead authority from hanging a run.
    let http = pipeline::http_client(extra_root_ca_pem, std::time::Duration::from_secs(60))?;
    let client_options = || ClientOptions {
        cloud: Some(Arc::new(cloud.configuration())),
        transport: Some(Transport::new(http.clone())),
        ..ClientOptions::default()
    };
    let credential: Arc<dyn TokenCredential> = match mode {
        AuthMode::ManagedIdentity => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: env
                    .get(AZURE_CLIENT_ID)
                    .map(|id| UserAssignedId::ClientId(id.to_owned())),
                client_options: client_options(),
            }))
            .map_err(failed)?
        }
        AuthMode::WorkloadIdentity => {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: client_options(),
                },
                client_id: env.get(AZURE_CLIENT_ID).map(str::to_owned),
                tenant_id: env.get(AZURE_TENANT_ID).map(str::to_owned),
                token_file_path: env.get(AZURE_FEDERATED_TOKEN_FILE).map(PathBuf::from),
            }))
            .map_err(failed)?
        }
        AuthMode::ClientSecret => ClientSecretCredential::new(
            env.get(AZURE_TENANT_ID).unwrap_or_default(),
            env.get(AZURE_CLIENT_ID).unwrap_or_default().to_owned(),
            Secret::new(env.get(AZURE_CLIENT_SECRET).unwrap_or_default().to_owned()),
            Some(ClientSecretCredentialOptions {
                client_options: client_options(),
            }),
        )
        .map_err(failed)?,
        AuthMode::AzureCli => AzureCliCredential::new(None).map_err(failed)?,
        AuthMode::Auto => unreachable!("Auto was resolved by choose()"),
    };
    Ok(credential)
}

/// A credential that always returns the same token: for the embedded emulator and tests.
pub struct StaticToken {
    token: Secret,
}

impl StaticToken {
    pub fn new(token: impl Into<String>) -> Self {
        StaticToken {
            token: Secret::new(token.into()),
        }
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken")
    }
}

#[async_trait]
impl TokenCredential for StaticToken {
    async fn get_token(
        &self,
        _scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(AccessToken {
            token: self.token.clone(),
            expires_on: OffsetDateTime::now_utc() + Duration::hours(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_choice_follows_the_documented_order() {
        let secret = [
            (AZURE_TENANT_ID, "t"),
            (AZURE_CLIENT_ID, "c"),
            (AZURE_CLIENT_SECRET, "s"),
        ];
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, AuthMode);
        let cases: Vec<Case> = vec![
            ("nothing set", vec![], AuthMode::AzureCli),
            (
                "federated token file wins over everything",
                [
                    &secret[..],
                    &[
                        (AZURE_FEDERATED_TOKEN_FILE, "/t"),
                        (IDENTITY_ENDPOINT, "http://x"),
                    ],
                ]
                .concat(),
                AuthMode::WorkloadIdentity,
            ),
            (
                "identity endpoint wins over a client secret",
                [&secret[..], &[(IDENTITY_ENDPOINT, "http://x")]].concat(),
                AuthMode::ManagedIdentity,
            ),
            (
                "cloud shell endpoint",
                vec![(MSI_ENDPOINT, "http://x")],
                AuthMode::ManagedIdentity,
            ),
            (
                "all three secret variables",
                secret.to_vec(),
                AuthMode::ClientSecret,
            ),
            (
                "a secret without a tenant",
                secret[1..].to_vec(),
                AuthMode::AzureCli,
            ),
            (
                "empty values count as unset",
                vec![(AZURE_FEDERATED_TOKEN_FILE, ""), (IDENTITY_ENDPOINT, "")],
                AuthMode::AzureCli,
            ),
        ];
        for (name, vars, want) in cases {
            assert_eq!(choose(&EnvSnapshot::from_pairs(vars)), want, "{name}");
        }
    }

    #[test]
    fn snapshot_debug_hides_values() {
        let env =
            EnvSnapshot::from_pairs([(AZURE_CLIENT_SECRET, "hunter2"), (AZURE_TENANT_ID, "t")]);
        let shown = format!("{env:?}");
        assert!(shown.contains(AZURE_CLIENT_SECRET), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn missing_workload_identity_variables_are_a_credential_error() {
        let env = EnvSnapshot::from_pairs([(AZURE_FEDERATED_TOKEN_FILE, "/nonexistent/token")]);
        let err =
            credential(AuthMode::Auto, &Cloud::Public, &env, None).expect_err("no tenant/client");
        assert!(
            matches!(
                err,
                ArmError::Credential {
                    mode: "workload identity",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn client_secret_credential_never_shows_the_secret() {
        let env = EnvSnapshot::from_pairs([
            (AZURE_TENANT_ID, "00000000-0000-0000-0000-000000000001"),
            (AZURE_CLIENT_ID, "client"),
            (AZURE_CLIENT_SECRET, "hunter2"),
        ]);
        let cred = credential(AuthMode::Auto, &Cloud::UsGov, &env, None).expect("valid variables");
        assert!(!format!("{cred:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn static_token_returns_its_token_and_hides_it() {
        let cred = StaticToken::new("fake-token");
        assert_eq!(format!("{cred:?}"), "StaticToken");
        let token = cred.get_token(&["https://x/.default"], None).await.unwrap();
        assert_eq!(token.token.secret(), "fake-token");
        assert!(token.expires_on > OffsetDateTime::now_utc());
    }
}
