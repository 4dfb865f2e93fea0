//! The Key Vault data plane (api-version 7.4), as far as azrecon reads it: certificate metadata
//! (`GET certificates/{name}`), never a secret value. Vault hosts (`<vault>.vault.azure.net`)
//! cannot resolve to the emulator, so it serves each vault under `/_vault/{vault}/` on its own
//! origin, which is where [`crate::arm::Cloud::key_vault_url`] points for a cloud at an IP
//! address. Tests set a certificate's dates and names with [`crate::emulator::Emulator::put_certificate`].

use std::collections::BTreeMap;

use hyper::HeaderMap;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::arm::{Reply, has_bearer};
use super::log::RequestKind;
use super::types::vault_uri;

/// Where vaults are served on the emulator's origin: `/_vault/`.
pub(crate) fn is_vault_path(path: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|p| p.strip_prefix(crate::arm::PATH_STYLE_VAULTS))
        .is_some_and(|rest| rest.starts_with('/'))
}

/// What a test says about a certificate; the emulator shapes it as Key Vault returns it.
#[derive(Clone, Debug)]
pub struct CertificateInfo {
    /// The X.509 subject, for example `CN=api.example.com`.
    pub subject: String,
    /// The subject alternative names (DNS).
    pub dns_names: Vec<String>,
    pub not_before: OffsetDateTime,
    pub expires: OffsetDateTime,
}

/// Certificates by lower-cased `vault/name`.
#[derive(Debug, Default)]
pub(crate) struct Certificates(BTreeMap<String, Value>);

fn key(vault: &str, name: &str) -> String {
    format!("{vault}/{name}").to_ascii_lowercase()
}

impl Certificates {
    pub fn put(&mut self, vault: &str, name: &str, info: &CertificateInfo) {
        self.0.insert(key(vault, name), bundle(vault, name, info));
    }

    pub fn get(&self, vault: &str, name: &str) -> Option<Value> {
        self.0.get(&key(vault, name)).cloned()
    }

    /// Stores a `CertificateBundle` exactly as the data plane returns it, found by its `id`
    /// (`https://<vault>.vault.azure.net/certificates/<name>/<version>`). `false` if the
    /// document is not one.
    pub fn put_bundle(&mut self, doc: &Value) -> bool {
        let Some(url) = doc
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| url::Url::parse(id).ok())
        else {
            return false;
        };
        let vault = url
            .host_str()
            .and_then(|h| h.split('.').next())
            .unwrap_or_default()
            .to_string();
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        match segments.as_slice() {
            ["certificates", name, ..] if !vault.is_empty() => {
                self.0.insert(key(&vault, name), doc.clone());
                true
            }
            _ => false,
        }
    }
}

/// A `CertificateBundle` as Key Vault 7.4 returns it, without the public certificate bytes.
fn bundle(vault: &str, name: &str, info: &CertificateInfo) -> Value {
    let base = vault_uri(vault);
    let version = uuid::Uuid::new_v4().simple().to_string();
    let (nbf, exp) = (
        info.not_before.unix_timestamp(),
        info.expires.unix_timestamp(),
    );
    json!({
        "id": format!("{base}/certificates/{name}/{version}"),
        "kid": format!("{base}/keys/{name}/{version}"),
        "sid": format!("{base}/secrets/{name}/{version}"),
        "attributes": {
            "enabled": true, "nbf": nbf, "exp": exp, "created": nbf, "updated": nbf,
            "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90,
        },
        "policy": {
            "id": format!("{base}/certificates/{name}/policy"),
            "key_props": { "exportable": true, "kty": "RSA", "key_size": 2048, "reuse_key": false },
            "secret_props": { "contentType": "application/x-pkcs12" },
            "x509_props": {
                "subject": info.subject,
                "sans": { "dns_names": info.dns_names },
                "ekus": ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
                "key_usage": ["digitalSignature", "keyEncipherment"],
                "validity_months": 12,
            },
            "issuer": { "name": "Self" },
            "attributes": { "enabled": true, "created": nbf, "updated": nbf },
        },
    })
}

fn error(status: u16, code: &str, message: String) -> Reply {
    Reply::json(
        status,
        json!({ "error": { "code": code, "message": message } }),
    )
}

/// Serves `{method} /_vault/{vault}/{rest}`.
pub(crate) fn handle(
    certificates: &Certificates,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Reply {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut reply = if !has_bearer(headers) {
        error(
            401,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer or PoP token.".into(),
        )
    } else if !query
        .iter()
        .any(|(k, v)| k == "api-version" && !v.is_empty())
    {
        error(
            400,
            "BadParameter",
            "The api-version parameter is missing.".into(),
        )
    } else {
        match (method, parts.as_slice()) {
            ("GET", [_, vault, "certificates", name] | [_, vault, "certificates", name, _]) => {
                match certificates.0.get(&key(vault, name)) {
                    Some(doc) => Reply::json(200, doc.clone()),
                    None => error(
                        404,
                        "CertificateNotFound",
                        format!(
                            "A certificate with (name/id) {name} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
                        ),
                    ),
                }
            }
            _ => error(
                405,
                "MethodNotAllowed",
                format!("The emulator's Key Vault data plane does not serve {method} {path}."),
            ),
        }
    };
    reply.kind = RequestKind::KeyVault;
    reply.header("content-type", "application/json; charset=utf-8")
}
