//! A gateway backend that names an Azure OpenAI / Cognitive Services account by FQDN
//! (`<account>.openai.azure.com`, `<account>.cognitiveservices.azure.com`) reaches the account's
//! private endpoint only if the gateway's VNet resolves that name privately, that is if the VNet
//! is linked to the matching `privatelink.` zone. Without the link the name resolves to the
//! public endpoint, which a private-only account refuses: found here, before anything is applied.
//!
//! A link counts when the manifest declares it and azrecon may create it, or when it exists.

use super::LiveMap;
use crate::kinds::Desired;
use crate::manifest::Policy;
use crate::plan::{Finding, Severity};
use serde_json::Value;

/// Public DNS suffixes of account endpoints that a private endpoint shadows with a `privatelink.`
/// zone.
const PRIVATE_LINK_SUFFIXES: &[&str] = &["openai.azure.com", "cognitiveservices.azure.com"];

pub fn unlinked_backend_zones(desired: &[Desired], live: &LiveMap) -> Vec<Finding> {
    let links: Vec<(String, String)> = desired
        .iter()
        .filter(|d| d.kind.name() == "VirtualNetworkLink")
        .filter(|d| {
            d.policy == Policy::Manage
                || live
                    .get(&d.id.to_ascii_lowercase())
                    .is_some_and(Option::is_some)
        })
        .filter_map(|d| {
            let zone = zone_of_link(&d.id)?;
            let vnet = d.body["properties"]["virtualNetwork"]["id"].as_str()?;
            Some((zone.to_ascii_lowercase(), vnet.to_ascii_lowercase()))
        })
        .collect();
    let mut findings = Vec::new();
    for gateway in desired
        .iter()
        .filter(|d| d.kind.name() == "ApplicationGateway")
    {
        let vnets = gateway_vnets(&gateway.body);
        for fqdn in backend_fqdns(&gateway.body) {
            let Some(zone) = private_zone_for(&fqdn) else {
                continue;
            };
            for vnet in &vnets {
                let linked = links
                    .iter()
                    .any(|(z, v)| *z == zone && v.eq_ignore_ascii_case(vnet));
                if !linked {
                    let vnet_name = vnet.rsplit('/').next().unwrap_or(vnet);
                    findings.push(Finding {
                        severity: Severity::Drift,
                        subject: gateway.address.clone(),
                        message: format!(
                            "backend {fqdn} resolves to its public endpoint from VNet \
                             {vnet_name}: the VNet is not linked to {zone}; declare a \
                             VirtualNetworkLink from {zone} to {vnet_name}"
                        ),
                    });
                }
            }
        }
    }
    findings
}

/// The `privatelink.` zone that shadows `fqdn`, lower-cased, if it names an account endpoint.
pub fn private_zone_for(fqdn: &str) -> Option<String> {
    let fqdn = fqdn.trim_end_matches('.').to_ascii_lowercase();
    PRIVATE_LINK_SUFFIXES.iter().find_map(|suffix| {
        let account = fqdn.strip_suffix(suffix)?.strip_suffix('.')?;
        (!account.is_empty()).then(|| format!("privatelink.{suffix}"))
    })
}

/// The zone name in a link's ID (`.../privateDnsZones/<zone>/virtualNetworkLinks/<name>`).
fn zone_of_link(id: &str) -> Option<&str> {
    let parts: Vec<&str> = id.split('/').collect();
    let at = parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("privateDnsZones"))?;
    parts.get(at + 1).copied()
}

/// The gateway's VNets: each gateway IP configuration's subnet ID without `/subnets/<name>`.
fn gateway_vnets(body: &Value) -> Vec<String> {
    let mut vnets: Vec<String> = Vec::new();
    let configs = body["properties"]["gatewayIPConfigurations"].as_array();
    for config in configs.into_iter().flatten() {
        let Some(subnet) = config["properties"]["subnet"]["id"].as_str() else {
            continue;
        };
        let lower = subnet.to_ascii_lowercase();
        let Some(cut) = lower.rfind("/subnets/") else {
            continue;
        };
        let vnet = subnet[..cut].to_owned();
        if !vnets.iter().any(|v| v.eq_ignore_ascii_case(&vnet)) {
            vnets.push(vnet);
        }
    }
    vnets
}

fn backend_fqdns(body: &Value) -> Vec<String> {
    body["properties"]["backendAddressPools"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|pool| {
            pool["properties"]["backendAddresses"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .filter_map(|a| a["fqdn"].as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::private_zone_for;

    #[test]
    fn account_fqdns_map_to_their_privatelink_zone() {
        assert_eq!(
            private_zone_for("aoai-edge-krc.openai.azure.com").as_deref(),
            Some("privatelink.openai.azure.com")
        );
        assert_eq!(
            private_zone_for("AOAI.CognitiveServices.Azure.com.").as_deref(),
            Some("privatelink.cognitiveservices.azure.com")
        );
        assert_eq!(private_zone_for("openai.azure.com"), None);
        assert_eq!(private_zone_for("example.com"), None);
        // The privatelink name itself resolves only through the zone too.
        assert_eq!(
            private_zone_for("x.privatelink.openai.azure.com").as_deref(),
            Some("privatelink.openai.azure.com")
        );
        assert_eq!(private_zone_for("notopenai.azure.com"), None);
    }
}
