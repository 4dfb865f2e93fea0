//! Every authentication mode of the binary, each up to a token in hand and an ARM dry run with
//! it: managed identity (chosen by `--auth auto` from `IDENTITY_ENDPOINT`) against the
//! emulator's token endpoint; client secret and workload identity (chosen by `--auth auto` from
//! `AZURE_FEDERATED_TOKEN_FILE`) against a fake Entra ID authority on the custom cloud's
//! authority host; the Azure CLI through a fake `az` on `PATH` that records its arguments.

mod common;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::collections::HashMap;
use std::process::Output;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const TENANT: &str = "6f1c2a3b-0000-4000-8000-0000000000aa";
const CLIENT: &str = "11111111-2222-4333-8444-555555555555";
const SECRET: &str = "client-secret-value-never-logged";

/// One token request the fake authority received.
#[derive(Clone, Debug)]
struct TokenRequest {
    path: String,
    form: HashMap<String, String>,
}

/// An Entra ID stand-in over HTTPS: answers every POST with a bearer token, recording the form.
struct Authority {
    base: String,
    ca_pem: String,
    seen: Arc<Mutex<Vec<TokenRequest>>>,
}

impl Authority {
    async fn start() -> Authority {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    leaf.der().clone(),
                    CertificateDer::from(ca_cert.der().to_vec()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let seen: Arc<Mutex<Vec<TokenRequest>>> = Arc::default();
        let record = seen.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let (acceptor, record) = (acceptor.clone(), record.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let record = record.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let form = url::form_urlencoded::parse(&body).into_owned().collect();
                            record.lock().unwrap().push(TokenRequest { path, form });
                            let token = r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"token-from-the-fake-authority"}"#;
                            Ok::<_, hyper::Error>(
                                hyper::Response::builder()
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(token)))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Authority {
            base,
            ca_pem: ca_cert.pem(),
            seen,
        }
    }

    fn seen(&self) -> Vec<TokenRequest> {
        self.seen.lock().unwrap().clone()
    }
}

/// Runs `azrecon reconcile --dry-run` on the example against the emulator, with only the given
/// authentication variables set.
fn dry_run(
    emu: &azrecon::emulator::Emulator,
    ca_pem: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, String) {
    let ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca.path(), ca_pem).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_azrecon"));
    cmd.args([
        "reconcile",
        "--dry-run",
        "-f",
        "manifests/examples",
        "--cloud",
        "custom",
        "--arm-endpoint",
        &emu.base_url(),
        "--key-vault-audience",
        &emu.base_url(),
        "--ca-cert",
        ca.path().to_str().unwrap(),
    ])
    .args(extra)
    .current_dir(env!("CARGO_MANIFEST_DIR"))
    .env("NO_COLOR", "1")
    .env("AZRECON_LOG", "debug");
    for var in [
        "AZRECON_CLOUD",
        "AZRECON_AUTH",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

async fn seeded_emulator() -> azrecon::emulator::Emulator {
    let emu = emulator().await;
    seed_existing(&emu, &example_manifest());
    emu
}

/// Every ARM request carried the token the credential got.
fn arm_saw_bearer_tokens(emu: &azrecon::emulator::Emulator) -> bool {
    let arm: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/subscriptions/"))
        .collect();
    !arm.is_empty()
        && arm
            .iter()
            .all(|r| r.request_headers.iter().any(|(k, _)| k == "authorization"))
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_chooses_managed_identity_from_identity_endpoint() {
    let emu = seeded_emulator().await;
    let (out, text) = dry_run(
        &emu,
        &emu.ca_pem().unwrap(),
        &["--auth", "auto"],
        &[
            ("IDENTITY_ENDPOINT", &emu.identity_endpoint()),
            ("IDENTITY_HEADER", &emu.identity_header()),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("mode=\"managed identity\""), "{text}");
    let tokens: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/msi/token"))
        .collect();
    assert!(!tokens.is_empty());
    let resource = format!(
        "resource={}",
        url::form_urlencoded::byte_serialize(emu.base_url().as_bytes()).collect::<String>()
    );
    assert!(
        tokens.iter().all(|r| r.query.contains(&resource)),
        "the token is for the ARM endpoint: {tokens:#?}"
    );
    assert!(arm_saw_bearer_tokens(&emu));
}

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_asks_the_clouds_authority_for_an_arm_token() {
    let emu = seeded_emulator().await;
    let authority = Authority::start().await;
    let ca = format!("{}{}", emu.ca_pem().unwrap(), authority.ca_pem);
    let (out, text) = dry_run(
        &emu,
        &ca,
        &[
            "--auth",
            "client-secret",
            "--authority-host",
            &authority.base,
        ],
        &[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_CLIENT_SECRET", SECRET),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        !text.contains(SECRET),
        "the secret never reaches the output"
    );
    let seen = authority.seen();
    let request = seen.first().expect("a token request");
    assert_eq!(request.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(request.form["grant_type"], "client_credentials");
    assert_eq!(request.form["client_id"], CLIENT);
    assert_eq!(request.form["client_secret"], SECRET);
    assert_eq!(
        request.form["scope"],
        format!("{}/.default", emu.base_url().trim_end_matches('/'))
    );
    assert!(arm_saw_bearer_tokens(&emu));
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_chooses_workload_identity_from_the_federated_token_file() {
    let emu = seeded_emulator().await;
    let authority = Authority::start().await;
    let ca = format!("{}{}", emu.ca_pem().unwrap(), authority.ca_pem);
    let token_file = tempfile::NamedTempFile::new().unwrap();
    let assertion =
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXpyZWNvbjphenJlY29uIn0.c2ln";
    std::fs::write(token_file.path(), assertion).unwrap();
    let (out, text) = dry_run(
        &emu,
        &ca,
        &["--auth", "auto", "--authority-host", &authority.base],
        &[
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                token_file.path().to_str().unwrap(),
            ),
            // A managed-identity endpoint too: the token file comes first in the auto order.
            ("IDENTITY_ENDPOINT", &emu.identity_endpoint()),
            ("IDENTITY_HEADER", &emu.identity_header()),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("mode=\"workload identity\""), "{text}");
    let seen = authority.seen();
    let request = seen.first().expect("a token request");
    assert_eq!(request.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(request.form["grant_type"], "client_credentials");
    assert_eq!(request.form["client_id"], CLIENT);
    assert_eq!(request.form["client_assertion"], assertion);
    assert_eq!(
        request.form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(
        request.form["scope"],
        format!("{}/.default", emu.base_url().trim_end_matches('/'))
    );
    assert!(
        !emu.requests().iter().any(|r| r.path.contains("/msi/token")),
        "managed identity was not used"
    );
    assert!(arm_saw_bearer_tokens(&emu));
}

#[tokio::test(flavor = "multi_thread")]
async fn azure_cli_runs_az_for_a_token_of_the_arm_scope() {
    let emu = seeded_emulator().await;
    let bin = tempfile::tempdir().unwrap();
    let calls = bin.path().join("az-calls.txt");
    let az = bin.path().join("az");
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    std::fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\necho '{{\"accessToken\":\"token-from-az\",\"expiresOn\":\"2099-01-01 00:00:00.000000\",\"expires_on\":{expires},\"tokenType\":\"Bearer\"}}'\n",
            calls.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (out, text) = dry_run(
        &emu,
        &emu.ca_pem().unwrap(),
        &["--auth", "azure-cli"],
        &[("PATH", &path)],
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    let recorded = std::fs::read_to_string(&calls).unwrap();
    let scope = format!("{}/.default", emu.base_url().trim_end_matches('/'));
    let first = recorded.lines().next().unwrap();
    assert_eq!(
        first,
        format!("account get-access-token -o json --scope {scope}")
    );
    assert!(arm_saw_bearer_tokens(&emu));
}
