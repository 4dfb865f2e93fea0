//! The Azure clouds azrecon can talk to: for each, the ARM endpoint, the Entra ID authority host,
//! the Key Vault data-plane audience, and the token scopes derived from them. Pure data, no I/O.

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use url::Url;

/// An Azure cloud, or a custom one (such as the ARM emulator).
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a Cloud is built once per run; boxing the URLs would only complicate matching"
)]
pub enum Cloud {
    /// Azure public cloud.
    Public,
    /// Azure US Government.
    UsGov,
    /// Azure operated by 21Vianet (China).
    China,
    /// Any other ARM-compatible endpoint.
    Custom {
        /// Base URL of the ARM API; also the token audience.
        arm_endpoint: Url,
        /// Entra ID authority host used by the client-secret and workload-identity credentials.
        authority: Url,
        /// Audience of Key Vault data-plane tokens.
        key_vault_audience: Url,
    },
}

/// ARM endpoint, authority host and Key Vault audience of a well-known cloud.
struct WellKnown {
    arm_endpoint: &'static str,
    authority: &'static str,
    key_vault_audience: &'static str,
}

const PUBLIC: WellKnown = WellKnown {
    arm_endpoint: "https://management.azure.com",
    authority: "https://login.microsoftonline.com",
    key_vault_audience: "https://vault.azure.net",
};

const US_GOV: WellKnown = WellKnown {
    arm_endpoint: "https://management.usgovcloudapi.net",
    authority: "https://login.microsoftonline.us",
    key_vault_audience: "https://vault.usgovcloudapi.net",
};

const CHINA: WellKnown = WellKnown {
    arm_endpoint: "https://management.chinacloudapi.cn",
    authority: "https://login.chinacloudapi.cn",
    key_vault_audience: "https://vault.azure.cn",
};

impl Cloud {
    /// (ARM endpoint, authority host, Key Vault audience).
    fn endpoints(&self) -> (Url, Url, Url) {
        let known = match self {
            Cloud::Public => &PUBLIC,
            Cloud::UsGov => &US_GOV,
            Cloud::China => &CHINA,
            Cloud::Custom {
                arm_endpoint,
                authority,
                key_vault_audience,
            } => {
                return (
                    arm_endpoint.clone(),
                    authority.clone(),
                    key_vault_audience.clone(),
                );
            }
        };
        (
            constant_url(known.arm_endpoint),
            constant_url(known.authority),
            constant_url(known.key_vault_audience),
        )
    }

    /// A cloud served entirely from one URL: ARM, tokens and Key Vault (an ARM emulator).
    pub fn at_endpoint(endpoint: Url) -> Cloud {
        Cloud::Custom {
            arm_endpoint: endpoint.clone(),
            authority: endpoint.clone(),
            key_vault_audience: endpoint,
        }
    }

    /// Base URL of the ARM API.
    pub fn arm_endpoint(&self) -> Url {
        self.endpoints().0
    }

    /// Entra ID authority host.
    pub fn authority_host(&self) -> Url {
        self.endpoints().1
    }

    /// Audience of Key Vault data-plane tokens.
    pub fn key_vault_audience(&self) -> Url {
        self.endpoints().2
    }

    /// The data-plane base URL of the vault `vault`, ending in `/`: a subdomain of the Key Vault
    /// audience (`https://<vault>.vault.azure.net/` in the public cloud). An audience on an IP
    /// address or `localhost` (an ARM emulator) has no subdomains, so its vaults are paths on
    /// its own origin: `https://127.0.0.1:PORT/_vault/<vault>/`.
    pub fn key_vault_url(&self, vault: &str) -> Url {
        let audience = self.key_vault_audience();
        let vault = vault.to_ascii_lowercase();
        let mut url = audience.clone();
        let path_style = match audience.host() {
            Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
            _ => true,
        };
        if path_style {
            url.set_path(&format!("/{PATH_STYLE_VAULTS}/{vault}/"));
        } else if let Some(host) = audience.host_str() {
            // A vault name is a DNS label (checked by its kind), so the host stays valid.
            let _ = url.set_host(Some(&format!("{vault}.{host}")));
            url.set_path("/");
        }
        url
    }

    /// Token scope for ARM calls: `<arm endpoint>/.default`.
    pub fn arm_scope(&self) -> String {
        scope_for(&self.arm_endpoint())
    }

    /// Token scope for Key Vault data-plane calls: `<key vault audience>/.default`.
    pub fn key_vault_scope(&self) -> String {
        scope_for(&self.key_vault_audience())
    }

    /// The azure_identity view of this cloud, which selects the authority host of its credentials.
    pub fn configuration(&self) -> CloudConfiguration {
        match self {
            Cloud::Public => CloudConfiguration::AzurePublic,
            Cloud::UsGov => CloudConfiguration::AzureGovernment,
            Cloud::China => CloudConfiguration::AzureChina,
            Cloud::Custom { authority, .. } => {
                // CustomConfiguration is non-exhaustive, so it is filled in rather than built.
                let mut custom = CustomConfiguration::default();
                custom.authority_host = authority.as_str().trim_end_matches('/').to_owned();
                CloudConfiguration::Custom(custom)
            }
        }
    }
}

/// The path segment under which an audience without subdomains serves its vaults.
pub const PATH_STYLE_VAULTS: &str = "_vault";

/// `<audience>/.default`, without doubling the slash of a URL that ends in one.
pub fn scope_for(audience: &Url) -> String {
    format!("{}/.default", audience.as_str().trim_end_matches('/'))
}

fn constant_url(s: &'static str) -> Url {
    Url::parse(s).expect("well-known cloud URLs are valid (checked by the unit tests)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_clouds_have_their_endpoints_and_scopes() {
        let cases = [
            (
                Cloud::Public,
                "https://management.azure.com/",
                "https://login.microsoftonline.com/",
                "https://management.azure.com/.default",
                "https://vault.azure.net/.default",
            ),
            (
                Cloud::UsGov,
                "https://management.usgovcloudapi.net/",
                "https://login.microsoftonline.us/",
                "https://management.usgovcloudapi.net/.default",
                "https://vault.usgovcloudapi.net/.default",
            ),
            (
                Cloud::China,
                "https://management.chinacloudapi.cn/",
                "https://login.chinacloudapi.cn/",
                "https://management.chinacloudapi.cn/.default",
                "https://vault.azure.cn/.default",
            ),
        ];
        for (cloud, arm, authority, arm_scope, kv_scope) in cases {
            assert_eq!(cloud.arm_endpoint().as_str(), arm, "{cloud:?}");
            assert_eq!(cloud.authority_host().as_str(), authority, "{cloud:?}");
            assert_eq!(cloud.arm_scope(), arm_scope, "{cloud:?}");
            assert_eq!(cloud.key_vault_scope(), kv_scope, "{cloud:?}");
        }
    }

    #[test]
    fn vaults_are_subdomains_of_the_audience_or_paths_on_an_emulator() {
        let cases = [
            (Cloud::Public, "https://kv-edge.vault.azure.net/"),
            (Cloud::UsGov, "https://kv-edge.vault.usgovcloudapi.net/"),
            (Cloud::China, "https://kv-edge.vault.azure.cn/"),
            (
                Cloud::at_endpoint(Url::parse("https://127.0.0.1:8443").unwrap()),
                "https://127.0.0.1:8443/_vault/kv-edge/",
            ),
            (
                Cloud::at_endpoint(Url::parse("https://localhost:8443/").unwrap()),
                "https://localhost:8443/_vault/kv-edge/",
            ),
        ];
        for (cloud, want) in cases {
            assert_eq!(cloud.key_vault_url("KV-Edge").as_str(), want, "{cloud:?}");
        }
    }

    #[test]
    fn custom_cloud_scopes_follow_its_endpoints() {
        let cloud = Cloud::Custom {
            arm_endpoint: Url::parse("https://127.0.0.1:8443/").unwrap(),
            authority: Url::parse("https://login.example.test").unwrap(),
            key_vault_audience: Url::parse("https://vault.example.test").unwrap(),
        };
        assert_eq!(cloud.arm_scope(), "https://127.0.0.1:8443/.default");
        assert_eq!(
            cloud.key_vault_scope(),
            "https://vault.example.test/.default"
        );
        let CloudConfiguration::Custom(custom) = cloud.configuration() else {
            panic!("a custom cloud maps to a custom configuration");
        };
        assert_eq!(custom.authority_host, "https://login.example.test");
    }

    #[test]
    fn well_known_clouds_map_to_azure_identity_clouds() {
        assert_eq!(
            Cloud::Public.configuration(),
            CloudConfiguration::AzurePublic
        );
        assert_eq!(
            Cloud::UsGov.configuration(),
            CloudConfiguration::AzureGovernment
        );
        assert_eq!(Cloud::China.configuration(), CloudConfiguration::AzureChina);
    }
}
