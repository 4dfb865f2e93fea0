//! Certificate health: the certificates the gateways use (and those a `KeyVaultCertificate`
//! entry watches), read from the Key Vault data plane with a Key Vault token and judged.
//!
//! Only certificate metadata is read (`GET {vault}/certificates/{name}`), never a secret value.
//! A certificate that expires within 30 days is a warning; one that has expired or expires
//! within 7 days is a finding that fails a drift check; so is one whose names do not cover the
//! host names of the listeners that use it. The judging is pure, with the time passed in; only
//! [`check`] does I/O, and it never fails a run: a vault it may not or cannot read is a warning.

use crate::arm::ArmClient;
use crate::checks::parse_secret_uri;
use crate::kinds::Desired;
use crate::plan::{Finding, Severity};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;

/// The Key Vault data-plane api-version of the certificate reads.
const API_VERSION: &str = "7.4";
/// Under this, an expiry is worth a warning.
const WARN_WITHIN: time::Duration = time::Duration::days(30);
/// Under this (or expired), an expiry fails a drift check.
const FAIL_WITHIN: time::Duration = time::Duration::days(7);
/// Health is advisory: a vault that does not answer does not hold a run up for longer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a run reads certificate health from the Key Vault data plane (on by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CertificateHealth {
    #[default]
    Check,
    Skip,
}

/// A certificate to check, and who uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    /// The address of the resource that uses or watches it.
    pub subject: String,
    pub vault: String,
    pub name: String,
    /// Host names it must cover: those of the listeners that use it.
    pub hosts: Vec<String>,
}

/// What the data plane says about a certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub not_before: Option<OffsetDateTime>,
    pub expires: Option<OffsetDateTime>,
    /// The subject's common name, for example `*.example.com`.
    pub common_name: Option<String>,
    pub dns_names: Vec<String>,
}

impl Metadata {
    /// Reads a Key Vault `CertificateBundle`: `attributes.nbf/exp` (Unix seconds) and the
    /// policy's `x509_props.subject` and `sans.dns_names`.
    pub fn from_bundle(bundle: &Value) -> Metadata {
        let time = |key: &str| {
            bundle["attributes"][key]
                .as_i64()
                .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        };
        let x509 = &bundle["policy"]["x509_props"];
        Metadata {
            not_before: time("nbf"),
            expires: time("exp"),
            common_name: x509["subject"].as_str().and_then(common_name),
            dns_names: x509["sans"]["dns_names"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// The `CN` of an X.509 subject such as `CN=api.example.com, O=Contoso`.
fn common_name(subject: &str) -> Option<String> {
    subject.split([',', ';']).find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("CN")
            .then(|| value.trim().to_owned())
    })
}

/// Whether a certificate name (`api.example.com` or `*.example.com`) covers a host name. A
/// wildcard stands for exactly one leftmost label: `*.example.com` covers `a.example.com`, not
/// `example.com` nor `a.b.example.com`.
pub fn covers(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if pattern == host {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(domain), Some((label, rest))) => !label.is_empty() && label != "*" && rest == domain,
        _ => false,
    }
}

/// Judges one certificate at time `now`.
pub fn judge(watched: &Watched, meta: &Metadata, now: OffsetDateTime) -> Vec<Finding> {
    let mut findings = Vec::new();
    let what = format!(
        "certificate `{}` in vault `{}`",
        watched.name, watched.vault
    );
    let mut say = |severity, message: String| {
        findings.push(Finding {
            severity,
            subject: watched.subject.clone(),
            message,
        })
    };
    match meta.expires {
        Some(expires) => {
            let left = expires - now;
            let date = expires.date();
            if left <= time::Duration::ZERO {
                say(
                    Severity::Drift,
                    format!("{what} expired on {date}: clients are refused; renew it now"),
                );
            } else if left < FAIL_WITHIN {
                say(
                    Severity::Drift,
                    format!(
                        "{what} expires on {date}, in {} day(s): renew it now",
                        left.whole_days()
                    ),
                );
            } else if left < WARN_WITHIN {
                say(
                    Severity::Warning,
                    format!(
                        "{what} expires on {date}, in {} days: renew it soon",
                        left.whole_days()
                    ),
                );
            }
        }
        None => say(
            Severity::Warning,
            format!("{what} has no expiry date in its metadata"),
        ),
    }
    if let Some(not_before) = meta.not_before.filter(|nbf| *nbf > now) {
        say(
            Severity::Warning,
            format!("{what} is not valid before {not_before}"),
        );
    }
    // Clients check the SANs, and only fall back to the CN when there are none.
    let names: Vec<&str> = if meta.dns_names.is_empty() {
        meta.common_name.iter().map(String::as_str).collect()
    } else {
        meta.dns_names.iter().map(String::as_str).collect()
    };
    let uncovered: Vec<&str> = watched
        .hosts
        .iter()
        .map(String::as_str)
        .filter(|host| !names.iter().any(|n| covers(n, host)))
        .collect();
    if !uncovered.is_empty() {
        say(
            Severity::Drift,
            format!(
                "{what} does not cover listener host name(s) {} (it names {}): clients will \
                 see a name mismatch",
                uncovered.join(", "),
                if names.is_empty() {
                    "nothing".to_owned()
                } else {
                    names.join(", ")
                },
            ),
        );
    }
    findings
}

/// The certificates the desired resources use or watch: each gateway's Key Vault certificates
/// with the host names of the listeners that use them, and every `KeyVaultCertificate`.
pub fn watched(desired: &[Desired]) -> Vec<Watched> {
    let mut out = Vec::new();
    for d in desired {
        match d.kind.name() {
            "ApplicationGateway" => out.extend(gateway_certificates(d)),
            "KeyVaultCertificate" => {
                let mut parts = d.id.rsplit('/');
                if let (Some(name), Some(_), Some(vault)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    out.push(Watched {
                        subject: d.address.clone(),
                        vault: vault.to_ascii_lowercase(),
                        name: name.to_owned(),
                        hosts: Vec::new(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

fn gateway_certificates(gateway: &Desired) -> Vec<Watched> {
    let props = &gateway.body["properties"];
    let listeners: Vec<&Value> = props["httpListeners"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let certificates = props["sslCertificates"].as_array().into_iter().flatten();
    certificates
        .filter_map(|certificate| {
            let (vault, name) =
                parse_secret_uri(certificate["properties"]["keyVaultSecretId"].as_str()?)?;
            let cert_name = certificate["name"].as_str().unwrap_or_default();
            let suffix = format!("/sslcertificates/{}", cert_name.to_ascii_lowercase());
            let mut hosts: Vec<String> = Vec::new();
            for listener in &listeners {
                let listener = &listener["properties"];
                let uses = listener["sslCertificate"]["id"]
                    .as_str()
                    .is_some_and(|id| id.to_ascii_lowercase().ends_with(&suffix));
                if !uses {
                    continue;
                }
                let names = listener["hostNames"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(listener.get("hostName"));
                for host in names.filter_map(Value::as_str) {
                    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                        hosts.push(host.to_owned());
                    }
                }
            }
            Some(Watched {
                subject: gateway.address.clone(),
                vault,
                name,
                hosts,
            })
        })
        .collect()
}

/// Reads and judges every watched certificate at time `now`. Never fails: a certificate that
/// cannot be read is a warning that says why.
pub async fn check(arm: &ArmClient, desired: &[Desired], now: OffsetDateTime) -> Vec<Finding> {
    let targets = watched(desired);
    if targets.is_empty() {
        return Vec::new();
    }
    let data_plane = match arm.key_vault() {
        Ok(client) => client,
        Err(e) => {
            return vec![Finding {
                severity: Severity::Warning,
                subject: targets[0].subject.clone(),
                message: format!("certificate health was not checked: {e}"),
            }];
        }
    };
    let mut findings = Vec::new();
    for target in &targets {
        let url = arm
            .key_vault_url(&target.vault)
            .join(&format!("certificates/{}", target.name))
            .map(|u| u.to_string());
        let read = match url {
            Ok(url) => tokio::time::timeout(READ_TIMEOUT, data_plane.get_url(&url, API_VERSION))
                .await
                .map_err(|_| {
                    format!(
                        "the vault did not answer within {}s",
                        READ_TIMEOUT.as_secs()
                    )
                }),
            Err(e) => Err(e.to_string()),
        };
        let what = format!("certificate `{}` in vault `{}`", target.name, target.vault);
        let warn = |message: String| Finding {
            severity: Severity::Warning,
            subject: target.subject.clone(),
            message,
        };
        match read {
            Ok(Ok(Some(bundle))) => {
                findings.extend(judge(target, &Metadata::from_bundle(&bundle.body), now))
            }
            Ok(Ok(None)) => findings.push(Finding {
                severity: Severity::Drift,
                subject: target.subject.clone(),
                message: format!(
                    "{what} does not exist: the listeners that use it cannot serve TLS"
                ),
            }),
            Ok(Err(e)) if matches!(e.status(), Some(401 | 403)) => findings.push(warn(format!(
                "{what}: health not checked, this run's identity may not read certificate metadata \
                 ({e}); grant it Key Vault Certificate User, or a `certificates: [get]` policy"
            ))),
            Ok(Err(e)) => findings.push(warn(format!("{what}: health not checked: {e}"))),
            Err(reason) => findings.push(warn(format!("{what}: health not checked: {reason}"))),
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(year: i32, month: u8, day: u8) -> OffsetDateTime {
        let month = time::Month::try_from(month).unwrap();
        time::Date::from_calendar_date(year, month, day)
            .unwrap()
            .midnight()
            .assume_utc()
    }

    #[test]
    fn wildcards_cover_exactly_one_label() {
        let cases = [
            ("*.example.com", "a.example.com", true),
            ("*.example.com", "A.Example.COM.", true),
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", "example.com", false),
            ("*.example.com", "*.example.com", true),
            ("api.example.com", "api.example.com", true),
            ("api.example.com", "www.example.com", false),
            ("*.example.com", "a.example.org", false),
        ];
        for (pattern, host, want) in cases {
            assert_eq!(covers(pattern, host), want, "{pattern} {host}");
        }
    }

    fn meta(expires: OffsetDateTime, cn: &str, sans: &[&str]) -> Metadata {
        Metadata {
            not_before: Some(day(2025, 9, 25)),
            expires: Some(expires),
            common_name: Some(cn.into()),
            dns_names: sans.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn watched(hosts: &[&str]) -> Watched {
        Watched {
            subject: "ApplicationGateway/agw".into(),
            vault: "kv".into(),
            name: "edge".into(),
            hosts: hosts.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn expiry_is_judged_against_the_given_time() {
        let expires = day(2026, 9, 25);
        let severities = |now| -> Vec<Severity> {
            judge(&watched(&[]), &meta(expires, "api.example.com", &[]), now)
                .into_iter()
                .map(|f| f.severity)
                .collect()
        };
        assert_eq!(severities(day(2026, 7, 1)), vec![]);
        assert_eq!(severities(day(2026, 9, 1)), vec![Severity::Warning]);
        assert_eq!(severities(day(2026, 9, 20)), vec![Severity::Drift]);
        assert_eq!(severities(day(2026, 10, 1)), vec![Severity::Drift]);
        let expired = judge(&watched(&[]), &meta(expires, "x", &[]), day(2026, 10, 1));
        assert!(
            expired[0].message.contains("expired on 2026-09-25"),
            "{}",
            expired[0].message
        );
    }

    #[test]
    fn names_must_cover_the_listener_hosts() {
        let now = day(2026, 1, 1);
        let expires = day(2026, 9, 25);
        let wildcard = meta(expires, "*.example.com", &["*.example.com", "example.com"]);
        assert!(
            judge(
                &watched(&["api.example.com", "example.com"]),
                &wildcard,
                now
            )
            .is_empty()
        );
        let found = judge(&watched(&["api.eu.example.com"]), &wildcard, now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Drift);
        assert!(
            found[0].message.contains("api.eu.example.com"),
            "{}",
            found[0].message
        );
        // Without SANs, the common name counts.
        let cn_only = meta(expires, "api.example.com", &[]);
        assert!(judge(&watched(&["api.example.com"]), &cn_only, now).is_empty());
    }

    #[test]
    fn bundles_are_read_for_dates_and_names() {
        let bundle = serde_json::json!({
            "attributes": { "nbf": 1_758_758_400, "exp": 1_790_294_400 },
            "policy": { "x509_props": { "subject": "CN=*.example.com, O=Contoso", "sans": { "dns_names": ["*.example.com"] } } }
        });
        let m = Metadata::from_bundle(&bundle);
        assert_eq!(m.common_name.as_deref(), Some("*.example.com"));
        assert_eq!(m.dns_names, vec!["*.example.com"]);
        assert_eq!(m.expires, Some(day(2026, 9, 25)));
    }
}
