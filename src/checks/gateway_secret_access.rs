//! Can each Application Gateway's identity read the Key Vault secrets of its certificates?
//!
//! Azure does not refuse a gateway PUT whose identity cannot read its certificate: it accepts it
//! and disables the listener that uses the certificate. So before the PUT, this check looks for a
//! grant to the gateway's identity: in an RBAC vault, a role assignment of a role that reads
//! secrets at the vault's or the secret's scope; in an access-policy vault, a policy with secret
//! `get` for the identity's principal (declared, or already live).

use super::LiveMap;
use crate::kinds::{Desired, live_ref};
use crate::plan::{Finding, Severity};
use serde_json::Value;

/// Role definitions whose data actions include reading a secret's value.
const READS_SECRETS: &[&str] = &[
    "4633458b-17de-408a-b874-0445c86b69e6", // Key Vault Secrets User
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", // Key Vault Secrets Officer
    "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba", // Key Vault Certificate User
    "00482a5a-887f-4fb3-b363-3b7fe8e74483", // Key Vault Administrator
];

/// The vault and secret names of a Key Vault secret URI
/// (`https://<vault>.vault.azure.net/secrets/<name>/[<version>]`).
pub fn parse_secret_uri(uri: &str) -> Option<(String, String)> {
    let url = url::Url::parse(uri).ok()?;
    let vault = url.host_str()?.split('.').next()?.to_ascii_lowercase();
    let mut segments = url.path_segments()?;
    (segments.next()? == "secrets").then_some(())?;
    let name = segments.next().filter(|n| !n.is_empty())?;
    Some((vault, name.to_owned()))
}

/// The user-assigned identities (ARM IDs) of a gateway body.
fn gateway_identities(body: &Value) -> Vec<String> {
    body.pointer("/identity/userAssignedIdentities")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

pub fn check(desired: &[Desired], live: &LiveMap) -> Vec<Finding> {
    let mut findings = Vec::new();
    for gateway in desired
        .iter()
        .filter(|d| d.kind.name() == "ApplicationGateway")
    {
        let identities = gateway_identities(&gateway.body);
        let certificates = gateway.body["properties"]["sslCertificates"]
            .as_array()
            .into_iter()
            .flatten();
        for certificate in certificates {
            let Some(uri) = certificate["properties"]["keyVaultSecretId"].as_str() else {
                continue;
            };
            let Some((vault_name, secret)) = parse_secret_uri(uri) else {
                continue;
            };
            let Some(vault) = desired.iter().find(|d| {
                d.kind.name() == "KeyVault"
                    && d.id
                        .rsplit('/')
                        .next()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&vault_name))
            }) else {
                findings.push(Finding {
                    severity: Severity::Warning,
                    subject: gateway.address.clone(),
                    message: format!(
                        "its certificate `{secret}` is in vault `{vault_name}`, which the manifest \
                         does not declare: azrecon cannot check that the gateway's identity may read it"
                    ),
                });
                continue;
            };
            let readable = identities
                .iter()
                .any(|identity| may_read(desired, live, vault, &secret, identity));
            if !readable {
                let who = match identities.as_slice() {
                    [] => "the gateway has no user-assigned identity, so it".to_owned(),
                    [one] => format!("its identity `{}`", one.rsplit('/').next().unwrap_or(one)),
                    _ => "none of its identities".to_owned(),
                };
                let grant = if rbac(vault) {
                    "a RoleAssignment of Key Vault Secrets User to the identity, at the vault or the secret"
                } else {
                    "an access policy with secret `get` for the identity"
                };
                findings.push(Finding {
                    severity: Severity::Drift,
                    subject: gateway.address.clone(),
                    message: format!(
                        "{who} cannot read secret `{secret}` in vault `{vault_name}`: Azure will not \
                         fail the gateway PUT, it will accept it and disable the listener that uses \
                         this certificate; declare {grant}"
                    ),
                });
            }
        }
    }
    findings
}

fn rbac(vault: &Desired) -> bool {
    vault.body["properties"]["enableRbacAuthorization"] == Value::Bool(true)
}

/// Whether a principal value (a live reference or a principal ID) is the identity's.
fn is_principal_of(value: &Value, identity: &str, live_principal: Option<&str>) -> bool {
    live_ref::refers_to(value, identity)
        || live_principal
            .zip(value.as_str())
            .is_some_and(|(p, v)| p.eq_ignore_ascii_case(v))
}

fn may_read(
    desired: &[Desired],
    live: &LiveMap,
    vault: &Desired,
    secret: &str,
    identity: &str,
) -> bool {
    let live_principal = live
        .get(&identity.to_ascii_lowercase())
        .and_then(Option::as_ref)
        .and_then(|l| l.body.pointer("/properties/principalId"))
        .and_then(Value::as_str);
    if rbac(vault) {
        let scopes = [
            format!("{}/providers/", vault.id),
            format!("{}/secrets/{secret}/providers/", vault.id),
        ];
        return desired
            .iter()
            .filter(|d| d.kind.name() == "RoleAssignment")
            .any(|d| {
                let id = d.id.to_ascii_lowercase();
                let props = &d.body["properties"];
                scopes
                    .iter()
                    .any(|s| id.starts_with(&s.to_ascii_lowercase()))
                    && is_principal_of(&props["principalId"], identity, live_principal)
                    && props["roleDefinitionId"]
                        .as_str()
                        .and_then(|r| r.rsplit('/').next())
                        .is_some_and(|guid| {
                            READS_SECRETS.iter().any(|g| g.eq_ignore_ascii_case(guid))
                        })
            });
    }
    let live_vault = live
        .get(&vault.id.to_ascii_lowercase())
        .and_then(Option::as_ref)
        .map(|l| &l.body);
    let policies = [Some(&vault.body), live_vault]
        .into_iter()
        .flatten()
        .filter_map(|body| body["properties"]["accessPolicies"].as_array())
        .flatten();
    policies.into_iter().any(|policy| {
        is_principal_of(&policy["objectId"], identity, live_principal)
            && policy["permissions"]["secrets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|p| p.eq_ignore_ascii_case("get") || p.eq_ignore_ascii_case("all"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_uris_name_their_vault_and_secret() {
        let cases = [
            (
                "https://kv-edge.vault.azure.net/secrets/agw-cert/",
                Some(("kv-edge", "agw-cert")),
            ),
            (
                "https://KV-Edge.vault.azure.net/secrets/agw-cert/0123abcd",
                Some(("kv-edge", "agw-cert")),
            ),
            (
                "https://kv-edge.vault.azure.net/certificates/agw-cert/",
                None,
            ),
            ("https://kv-edge.vault.azure.net/secrets/", None),
            ("not a uri", None),
        ];
        for (uri, want) in cases {
            let got = parse_secret_uri(uri);
            assert_eq!(
                got.as_ref().map(|(v, s)| (v.as_str(), s.as_str())),
                want,
                "{uri}"
            );
        }
    }
}
