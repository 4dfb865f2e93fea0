//! Private endpoints: a long-running PUT whose subnet and connected resources must exist. The
//! server gives the endpoint a network interface, a private address from the subnet (the static
//! one asked for, or the first free one after the four Azure reserves), `customDnsConfigs` that
//! map the connected account's FQDNs to that address, and each connection its state: `Approved`
//! for `privateLinkServiceConnections`, `Pending` for `manualPrivateLinkServiceConnections`
//! until the resource's owner acts. A later PUT keeps the address, interface and states.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde_json::{Map, Value, json};

use super::{LongRunning, PutContext, ResourceKind, default_to, objects_mut, properties_mut};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::{Store, doc_id};

pub(crate) struct PrivateEndpoint;

const TYPE: &str = "Microsoft.Network/privateEndpoints";
const AUTO: &str = "privateLinkServiceConnections";
const MANUAL: &str = "manualPrivateLinkServiceConnections";

impl ResourceKind for PrivateEndpoint {
    fn type_name(&self, _id: &ArmId) -> String {
        TYPE.into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: true,
            delete: true,
        }
    }

    fn prepare(&self, ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        let subnet_id = body["properties"]["subnet"]["id"]
            .as_str()
            .ok_or_else(|| ArmError::missing_property("subnet", "properties"))?
            .to_owned();
        let prefix = subnet_prefix(ctx.store, &subnet_id)
            .ok_or_else(|| ArmError::invalid_reference(&subnet_id, ctx.id))?;
        let existing = ctx.existing.map(|d| &d["properties"]);
        let props = properties_mut(body);
        for key in ["networkInterfaces", "customDnsConfigs"] {
            props.remove(key);
        }
        default_to(props, AUTO, json!([]));
        default_to(props, MANUAL, json!([]));
        default_to(props, "applicationSecurityGroups", json!([]));
        default_to(props, "ipConfigurations", json!([]));

        let mut fqdns = Vec::new();
        for (key, state) in [
            (
                AUTO,
                json!({"status": "Approved", "description": "Auto-approved", "actionsRequired": "None"}),
            ),
            (
                MANUAL,
                json!({"status": "Pending", "description": "Awaiting approval", "actionsRequired": "None"}),
            ),
        ] {
            for connection in objects_mut(props, key) {
                let target = connection_target(connection)
                    .ok_or_else(|| ArmError::missing_property("privateLinkServiceId", key))?;
                let account = ctx
                    .store
                    .get_str(&target)
                    .ok_or_else(|| ArmError::invalid_reference(&target, ctx.id))?;
                fqdns.extend(account_fqdns(account));
                let name = connection
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(ctx.id.name())
                    .to_owned();
                let kept = existing
                    .and_then(|p| p[key].as_array())
                    .and_then(|cs| cs.iter().find(|c| c["name"] == json!(name)))
                    .map(|c| c["properties"]["privateLinkServiceConnectionState"].clone())
                    .filter(|s| s.is_object());
                connection.insert("name".into(), json!(name));
                connection.insert("id".into(), json!(ctx.id.child(key, &name).to_string()));
                connection.insert("etag".into(), json!(ctx.etag));
                connection.insert(
                    "type".into(),
                    json!("Microsoft.Network/privateEndpoints/privateLinkServiceConnections"),
                );
                let conn_props = connection.entry("properties").or_insert_with(|| json!({}));
                if let Some(conn_props) = conn_props.as_object_mut() {
                    conn_props.insert("provisioningState".into(), json!("Succeeded"));
                    conn_props.insert(
                        "privateLinkServiceConnectionState".into(),
                        kept.unwrap_or_else(|| state.clone()),
                    );
                }
            }
        }
        fqdns.dedup();

        let address = endpoint_address(ctx, props, &subnet_id, prefix)?;
        let nic = existing
            .and_then(|p| p.get("networkInterfaces").cloned())
            .unwrap_or_else(|| {
                let name = props
                    .get("customNetworkInterfaceName")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .map_or_else(
                        || format!("{}.nic.{}", ctx.id.name(), &uuid::Uuid::new_v4().simple().to_string()[..8]),
                        str::to_owned,
                    );
                json!([{ "id": format!(
                    "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/networkInterfaces/{name}",
                    ctx.id.subscription, ctx.id.resource_group
                ) }])
            });
        props.insert("networkInterfaces".into(), nic);
        let dns: Vec<Value> = fqdns
            .iter()
            .map(|f| json!({ "fqdn": f, "ipAddresses": [address.to_string()] }))
            .collect();
        props.insert("customDnsConfigs".into(), Value::Array(dns));
        Ok(())
    }
}

fn connection_target(connection: &Map<String, Value>) -> Option<String> {
    connection
        .get("properties")?
        .get("privateLinkServiceId")?
        .as_str()
        .map(str::to_owned)
}

/// The prefix of an existing subnet, from its virtual network's document.
fn subnet_prefix(store: &Store, subnet_id: &str) -> Option<Ipv4Net> {
    let id = ArmId::parse(subnet_id)?;
    let vnet = store.get(&id.parent()?)?;
    let subnet = vnet["properties"]["subnets"].as_array()?.iter().find(|s| {
        s["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(id.name()))
    })?;
    let props = &subnet["properties"];
    props["addressPrefix"]
        .as_str()
        .or_else(|| props["addressPrefixes"][0].as_str())?
        .parse()
        .ok()
}

/// The hosts a Cognitive Services account answers on: its `endpoint` and the distinct hosts of
/// its `endpoints` map, in that order.
fn account_fqdns(account: &Value) -> Vec<String> {
    let props = &account["properties"];
    let urls = props["endpoint"].as_str().into_iter().chain(
        props["endpoints"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values().filter_map(Value::as_str)),
    );
    let mut hosts: Vec<String> = Vec::new();
    for url in urls {
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !host.is_empty() && !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// The endpoint's address: the static one asked for, the one it already has, or the first free
/// one in the subnet.
fn endpoint_address(
    ctx: &PutContext<'_>,
    props: &Map<String, Value>,
    subnet_id: &str,
    prefix: Ipv4Net,
) -> Result<Ipv4Addr, ArmError> {
    let requested = props
        .get("ipConfigurations")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(|c| c["properties"]["privateIPAddress"].as_str());
    if let Some(text) = requested {
        let ip: Ipv4Addr = text
            .parse()
            .map_err(|_| ArmError::ip_not_in_subnet(text, &prefix.to_string()))?;
        if !prefix.contains(&ip) {
            return Err(ArmError::ip_not_in_subnet(text, &prefix.to_string()));
        }
        return Ok(ip);
    }
    let current = ctx
        .existing
        .and_then(|d| d["properties"]["customDnsConfigs"][0]["ipAddresses"][0].as_str())
        .and_then(|s| s.parse().ok());
    if let Some(ip) = current {
        return Ok(ip);
    }
    let taken = taken_addresses(ctx.store, subnet_id, ctx.id);
    allocate(prefix, &taken).ok_or_else(|| ArmError::ip_not_available(subnet_id))
}

/// Addresses other private endpoints in the same subnet hold.
fn taken_addresses(store: &Store, subnet_id: &str, except: &ArmId) -> Vec<Ipv4Addr> {
    store
        .of_type(TYPE)
        .filter(|pe| doc_id(pe).is_some_and(|id| id.key() != except.key()))
        .filter(|pe| {
            pe["properties"]["subnet"]["id"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(subnet_id))
        })
        .flat_map(|pe| {
            pe["properties"]["customDnsConfigs"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["ipAddresses"].as_array().into_iter().flatten())
                .filter_map(|ip| ip.as_str()?.parse().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The first address of `prefix` that is neither reserved by Azure (the first four and the
/// broadcast address) nor taken.
pub(crate) fn allocate(prefix: Ipv4Net, taken: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    prefix
        .hosts()
        .skip(3)
        .filter(|ip| *ip != prefix.broadcast())
        .find(|ip| !taken.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_skips_reserved_and_taken_addresses() {
        let net: Ipv4Net = "10.0.1.0/24".parse().unwrap();
        assert_eq!(allocate(net, &[]), Some(Ipv4Addr::new(10, 0, 1, 4)));
        let taken = [Ipv4Addr::new(10, 0, 1, 4), Ipv4Addr::new(10, 0, 1, 5)];
        assert_eq!(allocate(net, &taken), Some(Ipv4Addr::new(10, 0, 1, 6)));
        let tiny: Ipv4Net = "10.0.2.0/29".parse().unwrap();
        let all: Vec<Ipv4Addr> = (4..7).map(|i| Ipv4Addr::new(10, 0, 2, i)).collect();
        assert_eq!(allocate(tiny, &all), None);
    }

    #[test]
    fn account_fqdns_are_the_distinct_endpoint_hosts() {
        let account = json!({"properties": {
            "endpoint": "https://aoai.openai.azure.com/",
            "endpoints": {
                "OpenAI Language Model Instance API": "https://aoai.openai.azure.com/",
                "Token Service API": "https://aoai.cognitiveservices.azure.com/sts/v1.0"
            }
        }});
        assert_eq!(
            account_fqdns(&account),
            vec!["aoai.openai.azure.com", "aoai.cognitiveservices.azure.com"]
        );
    }
}
