//! Private DNS zones: global only, long-running writes, bare-GUID etags, and the counts GET shows
//! (record sets, including the zone's SOA, and virtual network links) taken from the zone's
//! children, with the limits the Azure REST API specs' examples show.

use serde_json::{Value, json};

use super::{LongRunning, PutContext, ResourceKind, properties_mut};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::Store;

pub(crate) struct PrivateDnsZone;

pub(crate) const LINKS: &str = "virtualNetworkLinks";
const TYPE: &str = "Microsoft.Network/privateDnsZones";

/// Fields of a zone that only the server sets.
const SERVER_OWNED: &[&str] = &[
    "maxNumberOfRecordSets",
    "numberOfRecordSets",
    "maxNumberOfVirtualNetworkLinks",
    "numberOfVirtualNetworkLinks",
    "maxNumberOfVirtualNetworkLinksWithRegistration",
    "numberOfVirtualNetworkLinksWithRegistration",
    "internalId",
];

/// Private DNS etags are bare GUIDs, unlike the weak etags of the rest of Microsoft.Network.
pub(crate) fn dns_etag() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Private DNS resources live in `global` only; ARM answers in lower case whatever the casing sent.
pub(crate) fn require_global(body: &mut Value, type_path: &str) -> Result<(), ArmError> {
    let location = body
        .get("location")
        .and_then(Value::as_str)
        .unwrap_or("global");
    if !location.eq_ignore_ascii_case("global") {
        return Err(ArmError::location_not_available(
            location, type_path, "global",
        ));
    }
    body["location"] = json!("global");
    Ok(())
}

impl ResourceKind for PrivateDnsZone {
    fn type_name(&self, _id: &ArmId) -> String {
        TYPE.into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: true,
            delete: true,
        }
    }

    fn fresh_etag(&self) -> String {
        dns_etag()
    }

    fn prepare(&self, _ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        require_global(body, TYPE)?;
        let props = properties_mut(body);
        for key in SERVER_OWNED {
            props.remove(*key);
        }
        // In the order the examples show; `compose` fills the counts.
        for (key, value) in [
            ("maxNumberOfRecordSets", 5000),
            ("numberOfRecordSets", 1),
            ("maxNumberOfVirtualNetworkLinks", 100),
            ("numberOfVirtualNetworkLinks", 0),
            ("maxNumberOfVirtualNetworkLinksWithRegistration", 50),
            ("numberOfVirtualNetworkLinksWithRegistration", 0),
        ] {
            props.insert(key.into(), json!(value));
        }
        Ok(())
    }

    fn compose(&self, store: &Store, id: &ArmId, doc: &mut Value) {
        let links = store.children(id, LINKS);
        let registering = links
            .iter()
            .filter(|l| l["properties"]["registrationEnabled"] == json!(true))
            .count();
        // Every descendant but the links is a record set; the zone's SOA record is implicit.
        let record_sets = 1 + store.descendants(id).len() - links.len();
        if let Some(props) = doc.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert("numberOfRecordSets".into(), json!(record_sets));
            props.insert("numberOfVirtualNetworkLinks".into(), json!(links.len()));
            props.insert(
                "numberOfVirtualNetworkLinksWithRegistration".into(),
                json!(registering),
            );
        }
    }
}
