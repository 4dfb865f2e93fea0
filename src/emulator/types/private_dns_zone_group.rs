//! Private endpoint DNS zone groups: a long-running PUT whose zones must exist. For each zone the
//! server lists, in `recordSets`, an A record for every FQDN of its endpoint that the zone covers
//! (`x.openai.azure.com` in `privatelink.openai.azure.com`), and keeps those records in the zone
//! as `privateDnsZones/{zone}/A/{name}`; records the group no longer maps go, and deleting the
//! group removes its records. As in the spec, a zone group has no `type`.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::private_dns_zone::dns_etag;
use super::{LongRunning, PutContext, ResourceKind, objects_mut, properties_mut};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::{Store, doc_id};

pub(crate) struct PrivateDnsZoneGroup;

/// The TTL ARM gives the records it keeps for private endpoints.
const TTL: u64 = 10;
/// The metadata ARM leaves on the records it keeps for zone groups.
const CREATOR: &str = "created by privateDnsZoneGroup";

impl ResourceKind for PrivateDnsZoneGroup {
    fn type_name(&self, _id: &ArmId) -> String {
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups".into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: true,
            delete: true,
        }
    }

    fn prepare(&self, ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        let endpoint = ctx
            .id
            .parent()
            .and_then(|p| ctx.store.get(&p))
            .cloned()
            .unwrap_or_default();
        let dns = endpoint["properties"]["customDnsConfigs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let props = properties_mut(body);
        for config in objects_mut(props, "privateDnsZoneConfigs") {
            let zone_id = config
                .get("properties")
                .and_then(|p| p.get("privateDnsZoneId"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ArmError::missing_property("privateDnsZoneId", "privateDnsZoneConfigs")
                })?
                .to_owned();
            let zone = ArmId::parse(&zone_id)
                .filter(|z| ctx.store.get(z).is_some())
                .ok_or_else(|| ArmError::invalid_reference(&zone_id, ctx.id))?;
            let zone_name = zone.name().to_ascii_lowercase();
            if !config.contains_key("name") {
                config.insert("name".into(), json!(zone_name.replace('.', "-")));
            }
            let records: Vec<Value> = dns
                .iter()
                .filter_map(|c| {
                    let name = record_name(c["fqdn"].as_str()?, &zone_name)?;
                    Some(json!({
                        "recordType": "A",
                        "recordSetName": name,
                        "fqdn": format!("{name}.{zone_name}"),
                        "ttl": TTL,
                        "ipAddresses": c["ipAddresses"].clone(),
                        "provisioningState": "Succeeded",
                    }))
                })
                .collect();
            if let Some(p) = config.get_mut("properties").and_then(Value::as_object_mut) {
                p.insert("recordSets".into(), Value::Array(records));
            }
        }
        Ok(())
    }

    fn compose(&self, _store: &Store, _id: &ArmId, doc: &mut Value) {
        // The spec's zone group (a sub-resource) has no `type`, and GET shows none.
        if let Some(doc) = doc.as_object_mut() {
            doc.remove("type");
        }
    }

    fn after_put(&self, store: &mut Store, id: &ArmId) {
        let Some(group) = store.get(id).cloned() else {
            return;
        };
        let wanted = mapped_records(&group);
        let ours: Vec<String> = wanted.iter().map(|(id, _)| id.key()).collect();
        let endpoint = id.parent().and_then(|p| store.get(&p)).cloned();
        let addresses: HashSet<String> = endpoint
            .iter()
            .flat_map(|e| {
                e["properties"]["customDnsConfigs"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|c| c["ipAddresses"].as_array().cloned().unwrap_or_default())
            .filter_map(|ip| ip.as_str().map(str::to_owned))
            .collect();
        // Records of this endpoint's addresses that the group made before and no longer maps.
        let stale: Vec<ArmId> = store
            .of_type("Microsoft.Network/privateDnsZones/A")
            .filter(|r| r["properties"]["metadata"]["creator"] == json!(CREATOR))
            .filter(|r| {
                let ips = a_addresses(r);
                !ips.is_empty() && ips.iter().all(|ip| addresses.contains(ip.as_str()))
            })
            .filter_map(doc_id)
            .filter(|r| !ours.contains(&r.key()))
            .collect();
        for record in stale {
            store.remove(&record);
        }
        for (record_id, record) in wanted {
            let doc = a_record(&record_id, &record);
            store.insert(&record_id, doc);
        }
    }

    fn after_delete(&self, store: &mut Store, doc: &Value) {
        for (record_id, _) in mapped_records(doc) {
            store.remove(&record_id);
        }
    }
}

/// The record name of `fqdn` in `zone`: `x` for `x.openai.azure.com` in
/// `privatelink.openai.azure.com` (the zone that shadows `openai.azure.com`), or in
/// `openai.azure.com` itself.
pub(crate) fn record_name(fqdn: &str, zone: &str) -> Option<String> {
    let fqdn = fqdn.trim_end_matches('.').to_ascii_lowercase();
    let public = zone.strip_prefix("privatelink.").unwrap_or(zone);
    [format!(".{zone}"), format!(".{public}")]
        .iter()
        .find_map(|suffix| fqdn.strip_suffix(suffix.as_str()))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// The A records a stored zone group maps: (record ID, its `recordSets` entry).
fn mapped_records(group: &Value) -> Vec<(ArmId, Value)> {
    group["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|config| {
            let zone = ArmId::parse(config["properties"]["privateDnsZoneId"].as_str()?)?;
            let records = config["properties"]["recordSets"].as_array()?.clone();
            Some(records.into_iter().filter_map(move |r| {
                let name = r["recordSetName"].as_str()?;
                Some((zone.child("A", name), r))
            }))
        })
        .flatten()
        .collect()
}

fn a_addresses(record: &Value) -> Vec<String> {
    record["properties"]["aRecords"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["ipv4Address"].as_str().map(str::to_owned))
        .collect()
}

/// A record set document as the Private DNS API returns it.
fn a_record(id: &ArmId, record: &Value) -> Value {
    let a_records: Vec<Value> = record["ipAddresses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|ip| json!({ "ipv4Address": ip }))
        .collect();
    json!({
        "id": id.to_string(),
        "name": id.name(),
        "type": "Microsoft.Network/privateDnsZones/A",
        "etag": dns_etag(),
        "properties": {
            "metadata": { "creator": CREATOR },
            "ttl": TTL,
            "fqdn": format!("{}.", record["fqdn"].as_str().unwrap_or_default()),
            "isAutoRegistered": false,
            "aRecords": a_records,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::record_name;

    #[test]
    fn a_privatelink_zone_covers_its_public_suffix() {
        let zone = "privatelink.openai.azure.com";
        assert_eq!(
            record_name("aoai-krc.openai.azure.com", zone).as_deref(),
            Some("aoai-krc")
        );
        assert_eq!(
            record_name("aoai-krc.privatelink.openai.azure.com.", zone).as_deref(),
            Some("aoai-krc")
        );
        assert_eq!(
            record_name("aoai-krc.cognitiveservices.azure.com", zone),
            None
        );
        assert_eq!(record_name("openai.azure.com", zone), None);
    }
}
