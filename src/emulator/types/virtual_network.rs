//! Virtual networks: subnets are kept inline (with their ids, etags and defaults filled), while
//! peerings are child resources of their own that GET lists in `properties.virtualNetworkPeerings`.

use serde_json::{Value, json};

use super::peering::{PEERINGS, refresh_for_network};
use super::{LongRunning, PutContext, ResourceKind, default_to, objects_mut, properties_mut};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::Store;

pub(crate) struct VirtualNetwork;

impl ResourceKind for VirtualNetwork {
    fn type_name(&self, _id: &ArmId) -> String {
        "Microsoft.Network/virtualNetworks".into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: true,
            delete: true,
        }
    }

    fn has_resource_guid(&self) -> bool {
        true
    }

    fn prepare(&self, ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        let props = properties_mut(body);
        // Peerings are managed through their own child resource; GET composes the list.
        props.remove("virtualNetworkPeerings");
        props.remove("flowLogs");
        default_to(props, "subnets", json!([]));
        default_to(props, "enableDdosProtection", json!(false));
        for subnet in objects_mut(props, "subnets") {
            let Some(name) = subnet
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            subnet.insert(
                "id".into(),
                json!(ctx.id.child("subnets", &name).to_string()),
            );
            subnet.insert("etag".into(), json!(ctx.etag));
            let sub_props = subnet.entry("properties").or_insert_with(|| json!({}));
            if let Some(sub_props) = sub_props.as_object_mut() {
                sub_props.insert("provisioningState".into(), json!("Succeeded"));
                default_to(
                    sub_props,
                    "privateEndpointNetworkPolicies",
                    json!("Disabled"),
                );
                default_to(
                    sub_props,
                    "privateLinkServiceNetworkPolicies",
                    json!("Enabled"),
                );
            }
            subnet.insert(
                "type".into(),
                json!("Microsoft.Network/virtualNetworks/subnets"),
            );
        }
        Ok(())
    }

    fn after_put(&self, store: &mut Store, id: &ArmId) {
        refresh_for_network(store, id);
    }

    fn compose(&self, store: &Store, id: &ArmId, doc: &mut Value) {
        let peerings: Vec<Value> = store.children(id, PEERINGS).into_iter().cloned().collect();
        if let Some(props) = doc.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert("virtualNetworkPeerings".into(), Value::Array(peerings));
        }
    }

    fn split_children(&self, doc: &mut Value) -> Vec<Value> {
        let Some(props) = doc.get_mut("properties").and_then(Value::as_object_mut) else {
            return Vec::new();
        };
        match props.remove("virtualNetworkPeerings") {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter(|p| p.get("id").is_some())
                .collect(),
            _ => Vec::new(),
        }
    }
}
