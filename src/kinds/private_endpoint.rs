//! `PrivateEndpoint`: a private endpoint to a Cognitive Services (Azure OpenAI) account, group
//! `account`, in a subnet of a hub or spoke VNet, with its DNS zone group. The account may sit in
//! another subscription; it is referred to, never managed.
//!
//! Approval is `auto` (the caller may approve its own connection) or `manual` (a request the
//! account's owner approves). A connection that is Pending, Rejected or Disconnected is drift
//! nobody on our side can repair: it is reported with who must act, never retried.
//!
//! Resources come in the order ARM needs them: zones, their VNet links, the endpoint, then its
//! zone group.

use super::cognitive_services_account::CognitiveServicesAccount;
use super::expand::check_arm_name;
use super::private_dns_zone::PrivateDnsZone;
use super::private_dns_zone_group::{PrivateDnsZoneGroup, config_name};
use super::virtual_network::{SubnetRef, VirtualNetwork};
use super::{ArmKind, Desired, Expander, Kind, Repair, StatusIssue};
use crate::diff::{FieldChange, Rules};
use crate::manifest::{At, Entry, Policy};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

pub struct PrivateEndpoint;

/// The group of a Cognitive Services account that a private endpoint connects to.
const GROUP_ID: &str = "account";
/// ARM's limit on a connection's request message.
const MAX_REQUEST_MESSAGE: usize = 140;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrivateEndpointSpec {
    /// The account: a `CognitiveServicesAccount` entry, or an account's full ARM ID
    /// (`/subscriptions/.../providers/Microsoft.CognitiveServices/accounts/<name>`) for an account
    /// outside the manifest, which azrecon then does not read.
    pub account: At<String>,
    /// Where the endpoint's network interface gets its address.
    pub subnet: SubnetRef,
    /// The network interface's name; ARM names it `<endpoint>.nic.<guid>` otherwise. Fixed at
    /// creation.
    pub custom_network_interface_name: Option<String>,
    /// Static private addresses; ARM allocates one from the subnet otherwise.
    #[serde(default)]
    pub ip_configurations: Vec<StaticIpConfiguration>,
    /// `auto`: the connection is approved at once (the caller may approve it); `manual`: a request
    /// that the account's owner approves.
    #[serde(default)]
    pub approval: At<Approval>,
    /// The message the account's owner sees with the request (140 characters at most); required
    /// with manual approval.
    pub request_message: Option<At<String>>,
    /// The zones ARM keeps the endpoint's A records in.
    pub private_dns_zone_group: Option<ZoneGroupSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StaticIpConfiguration {
    pub name: At<String>,
    /// The member of the `account` group; Cognitive Services accounts have `default`.
    #[serde(default = "default_member")]
    pub member_name: String,
    pub private_ip_address: At<String>,
}

fn default_member() -> String {
    "default".into()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Approval {
    #[default]
    Auto,
    Manual,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ZoneGroupSpec {
    /// The zone group's name under the endpoint.
    #[serde(default = "default_group")]
    pub name: At<String>,
    /// `PrivateDnsZone` entries, for example privatelink.openai.azure.com.
    pub zones: At<Vec<At<String>>>,
    /// `azrecon` (the default) or `policy`: Azure Policy deploys the group (deploy-if-not-exists),
    /// and azrecon only reports whether it exists.
    #[serde(default)]
    pub managed_by: ZoneGroupOwner,
}

fn default_group() -> At<String> {
    At::new("default".into(), Default::default())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ZoneGroupOwner {
    #[default]
    Azrecon,
    Policy,
}

const CONNECTIONS: &str = "privateLinkServiceConnections";
const MANUAL_CONNECTIONS: &str = "manualPrivateLinkServiceConnections";

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[
        "properties.privateLinkServiceConnections[].properties.groupIds",
        "properties.manualPrivateLinkServiceConnections[].properties.groupIds",
    ],
    case_insensitive: &[],
    collections: &[
        "properties.privateLinkServiceConnections",
        "properties.manualPrivateLinkServiceConnections",
        "properties.ipConfigurations",
    ],
};

impl ArmKind for PrivateEndpoint {
    fn name(&self) -> &'static str {
        "PrivateEndpoint"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/privateEndpoints"
    }
    fn api_version(&self) -> &'static str {
        "2024-01-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &[
            "id",
            "name",
            "type",
            "etag",
            "properties.provisioningState",
            "properties.resourceGuid",
            "properties.networkInterfaces",
            // ARM fills these from the account's FQDNs and the allocated address.
            "properties.customDnsConfigs",
            "properties.privateLinkServiceConnections[].id",
            "properties.privateLinkServiceConnections[].etag",
            "properties.privateLinkServiceConnections[].type",
            "properties.privateLinkServiceConnections[].properties.provisioningState",
            "properties.privateLinkServiceConnections[].properties.privateLinkServiceConnectionState",
            "properties.manualPrivateLinkServiceConnections[].id",
            "properties.manualPrivateLinkServiceConnections[].etag",
            "properties.manualPrivateLinkServiceConnections[].type",
            "properties.manualPrivateLinkServiceConnections[].properties.provisioningState",
            "properties.manualPrivateLinkServiceConnections[].properties.privateLinkServiceConnectionState",
            "properties.ipConfigurations[].id",
            "properties.ipConfigurations[].etag",
            "properties.ipConfigurations[].type",
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }

    fn normalize(&self, live: &mut Value) {
        // ARM may leave out empty collections; the desired body states them.
        if let Some(props) = live.get_mut("properties").and_then(Value::as_object_mut) {
            for key in [
                CONNECTIONS,
                MANUAL_CONNECTIONS,
                "ipConfigurations",
                "applicationSecurityGroups",
            ] {
                props.entry(key).or_insert_with(|| json!([]));
            }
        }
    }

    fn status(&self, live: &Value) -> Vec<StatusIssue> {
        let props = &live["properties"];
        [CONNECTIONS, MANUAL_CONNECTIONS]
            .iter()
            .flat_map(|key| props[*key].as_array().into_iter().flatten())
            .filter_map(connection_issue)
            .collect()
    }

    fn destructive(&self, change: &FieldChange) -> Option<String> {
        let path = change.path.as_str();
        if path.starts_with("properties.subnet") {
            return Some("the subnet cannot change: the endpoint must be recreated".into());
        }
        if path == "properties.customNetworkInterfaceName" {
            return Some(
                "the network interface name is fixed at creation: the endpoint must be recreated"
                    .into(),
            );
        }
        path.ends_with(".privateLinkServiceId")
            .then(|| "the endpoint is pointed at another resource".into())
    }
}

/// What a connection's state asks of people, if anything. Only the account's owner can move a
/// connection out of Pending, Rejected or Disconnected.
fn connection_issue(connection: &Value) -> Option<StatusIssue> {
    let props = &connection["properties"];
    let state = &props["privateLinkServiceConnectionState"];
    let status = state["status"].as_str()?;
    let name = connection["name"].as_str().unwrap_or("connection");
    let account = props["privateLinkServiceId"]
        .as_str()
        .and_then(|id| id.rsplit('/').next())
        .unwrap_or("the account");
    let why = state["description"]
        .as_str()
        .filter(|d| !d.is_empty())
        .map(|d| format!(" (\"{d}\")"))
        .unwrap_or_default();
    let message = if status.eq_ignore_ascii_case("Pending") {
        format!(
            "connection `{name}` to {account} is Pending{why}: the owner of {account} must \
             approve it under the account's private endpoint connections; azrecon cannot"
        )
    } else if status.eq_ignore_ascii_case("Rejected") {
        format!(
            "connection `{name}` to {account} was Rejected{why}: the owner of {account} must \
             approve it, or the endpoint must be recreated with a new request"
        )
    } else if status.eq_ignore_ascii_case("Disconnected") {
        format!(
            "connection `{name}` to {account} is Disconnected{why}: the owner of {account} \
             removed it; the endpoint must be recreated once they accept a new request"
        )
    } else {
        return None;
    };
    Some(StatusIssue {
        message,
        repair: Repair::Report,
    })
}

impl Kind for PrivateEndpoint {
    type Spec = PrivateEndpointSpec;

    fn expand(&'static self, entry: &Entry<PrivateEndpointSpec>, cx: &mut Expander<'_>) {
        let spec = &entry.spec;
        let file = entry.file;
        let placement = cx.placement(entry, true);
        let account = account_id(cx, file, &spec.account);
        let vnet = cx.resolve(file, &VirtualNetwork, &spec.subnet.virtual_network);
        check_arm_name(cx, file, &spec.subnet.subnet, "subnet");
        check_request(cx, file, spec);
        let ip_configurations: Vec<Value> = spec
            .ip_configurations
            .iter()
            .filter_map(|ip| static_ip(cx, file, ip))
            .collect();
        let zones: Vec<(String, String)> = spec
            .private_dns_zone_group
            .iter()
            .flat_map(|group| group.zones.iter())
            .filter_map(|zone| {
                let (id, _) = cx.resolve(file, &PrivateDnsZone, zone)?;
                Some((id, zone.value.clone()))
            })
            .collect();
        if let Some(group) = &spec.private_dns_zone_group {
            check_arm_name(cx, file, &group.name, "zone group");
            if group.zones.is_empty() {
                cx.error(
                    file,
                    group.zones.pos,
                    "a DNS zone group needs at least one zone",
                    Some("list PrivateDnsZone entries, or leave the zone group out".into()),
                );
            }
        }
        let (Some(placement), Some((account_id, account_entry)), Some((vnet_id, vnet_location))) =
            (placement, account, vnet)
        else {
            return;
        };
        if let (Some(here), Some(there)) = (&placement.location, &vnet_location)
            && here != there
        {
            cx.error(
                file,
                spec.subnet.virtual_network.pos,
                format!(
                    "the endpoint is in {here} but VNet `{}` is in {there}",
                    spec.subnet.virtual_network.value
                ),
                Some("a private endpoint lives in its subnet's region".into()),
            );
            return;
        }

        let mut connection = json!({
            "name": entry.name.value,
            "properties": {
                "privateLinkServiceId": account_id,
                "groupIds": [GROUP_ID],
            }
        });
        if let Some(message) = &spec.request_message {
            connection["properties"]["requestMessage"] = json!(message.value);
        }
        let (auto, manual) = match spec.approval.value {
            Approval::Auto => (vec![connection], vec![]),
            Approval::Manual => (vec![], vec![connection]),
        };
        let mut body = json!({
            "location": placement.location,
            "properties": {
                "subnet": { "id": spec.subnet.id(&vnet_id) },
                CONNECTIONS: auto,
                MANUAL_CONNECTIONS: manual,
                "ipConfigurations": ip_configurations,
                "applicationSecurityGroups": [],
            }
        });
        if let Some(nic) = &spec.custom_network_interface_name {
            body["properties"]["customNetworkInterfaceName"] = json!(nic);
        }
        let id = placement.resource_id(self.arm_type(), &entry.name);
        let mut depends_on = vec![vnet_id.clone()];
        depends_on.extend(account_entry.then(|| account_id.clone()));
        // Zones, then their links to the endpoint's VNet, then the endpoint: its name resolves
        // privately in its own VNet as soon as it exists. Links to other VNets do not hold it up
        // (a missing spoke must not block every endpoint).
        for (zone_id, _) in &zones {
            depends_on.push(zone_id.clone());
            depends_on.extend(links_of(cx.expanded(), zone_id, &vnet_id));
        }
        let mut endpoint = cx.resource(self, entry, id.clone(), body);
        endpoint.depends_on = depends_on;
        cx.push(endpoint);

        if let Some(group) = &spec.private_dns_zone_group {
            let group = zone_group(cx, entry, group, &id, &zones);
            cx.push(group);
        }
    }
}

/// The account's ARM ID and whether it names a manifest entry (which is then read first).
fn account_id(cx: &mut Expander<'_>, file: usize, account: &At<String>) -> Option<(String, bool)> {
    if !account.value.starts_with('/') {
        return cx
            .resolve(file, &CognitiveServicesAccount, account)
            .map(|(id, _)| (id, true));
    }
    let parts: Vec<&str> = account.value.split('/').collect();
    let word = |i: usize, w: &str| parts.get(i).is_some_and(|p| p.eq_ignore_ascii_case(w));
    let valid = parts.len() == 9
        && word(1, "subscriptions")
        && uuid::Uuid::parse_str(parts[2]).is_ok()
        && word(3, "resourceGroups")
        && !parts[4].is_empty()
        && word(5, "providers")
        && word(6, "Microsoft.CognitiveServices")
        && word(7, "accounts")
        && !parts[8].is_empty();
    if !valid {
        cx.error(
            file,
            account.pos,
            format!("`{}` is not a Cognitive Services account ID", account.value),
            Some(
                "write /subscriptions/<guid>/resourceGroups/<group>/providers/\
                 Microsoft.CognitiveServices/accounts/<name>, or name a CognitiveServicesAccount \
                 entry"
                    .into(),
            ),
        );
        return None;
    }
    Some((account.value.clone(), false))
}

fn check_request(cx: &mut Expander<'_>, file: usize, spec: &PrivateEndpointSpec) {
    if spec.approval.value == Approval::Manual && spec.request_message.is_none() {
        cx.error(
            file,
            spec.approval.pos,
            "manual approval needs a request message",
            Some("set `requestMessage:` to tell the account's owner who asks and why".into()),
        );
    }
    if let Some(message) = spec
        .request_message
        .as_ref()
        .filter(|m| m.chars().count() > MAX_REQUEST_MESSAGE)
    {
        cx.error(
            file,
            message.pos,
            format!(
                "the request message has {} characters; ARM takes {MAX_REQUEST_MESSAGE} at most",
                message.chars().count()
            ),
            None,
        );
    }
}

fn static_ip(cx: &mut Expander<'_>, file: usize, ip: &StaticIpConfiguration) -> Option<Value> {
    check_arm_name(cx, file, &ip.name, "IP configuration");
    let Ok(address) = ip.private_ip_address.parse::<std::net::Ipv4Addr>() else {
        cx.error(
            file,
            ip.private_ip_address.pos,
            format!("`{}` is not an IPv4 address", ip.private_ip_address.value),
            Some("a static private endpoint address, for example 10.10.2.10".into()),
        );
        return None;
    };
    Some(json!({
        "name": ip.name.value,
        "properties": {
            "groupId": GROUP_ID,
            "memberName": ip.member_name,
            "privateIPAddress": address.to_string(),
        }
    }))
}

/// IDs of the links from a zone to a VNet among the resources expanded so far.
fn links_of(expanded: &[Desired], zone_id: &str, vnet_id: &str) -> Vec<String> {
    let prefix = format!("{zone_id}/virtualNetworkLinks/").to_ascii_lowercase();
    expanded
        .iter()
        .filter(|d| d.id.to_ascii_lowercase().starts_with(&prefix))
        .filter(|d| {
            d.body["properties"]["virtualNetwork"]["id"]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(vnet_id))
        })
        .map(|d| d.id.clone())
        .collect()
}

fn zone_group(
    cx: &Expander<'_>,
    entry: &Entry<PrivateEndpointSpec>,
    group: &ZoneGroupSpec,
    endpoint_id: &str,
    zones: &[(String, String)],
) -> Desired {
    let configs: Vec<Value> = zones
        .iter()
        .map(|(id, name)| {
            json!({ "name": config_name(name), "properties": { "privateDnsZoneId": id } })
        })
        .collect();
    let id = format!("{endpoint_id}/privateDnsZoneGroups/{}", group.name.value);
    let mut depends_on = vec![endpoint_id.to_owned()];
    depends_on.extend(zones.iter().map(|(id, _)| id.clone()));
    let mut desired = cx.resource(
        &PrivateDnsZoneGroup,
        entry,
        id,
        json!({ "properties": { "privateDnsZoneConfigs": configs } }),
    );
    desired.address = format!("PrivateEndpoint/{}:privateDnsZoneGroup", entry.name.value);
    desired.depends_on = depends_on;
    if group.managed_by == ZoneGroupOwner::Policy {
        // Policy owns the body: azrecon claims none of it, so only absence is drift, and it is
        // never written.
        desired.body = json!({});
        desired.policy = Policy::Observe;
        desired.warnings.push(
            "managed by Azure Policy (deploy-if-not-exists): azrecon only reports whether it \
             exists and never writes or removes it"
                .into(),
        );
    }
    desired
}
