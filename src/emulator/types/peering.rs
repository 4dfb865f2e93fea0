//! Virtual network peerings as real ARM runs them: the remote virtual network must exist; a
//! peering is `Initiated` until the remote side peers back, then both sides are `Connected`;
//! deleting one side leaves the other `Disconnected`; address spaces are copied from the remote
//! network and `syncRemoteAddressSpace=true` refreshes them.

use serde_json::{Value, json};

use super::{
    LongRunning, PutContext, ResourceKind, default_to, properties_mut, reference_id, update_stored,
};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::{Store, doc_id};

pub(crate) struct VirtualNetworkPeering;

pub(crate) const PEERINGS: &str = "virtualNetworkPeerings";
const VIRTUAL_NETWORKS: &str = "Microsoft.Network/virtualNetworks";

/// Fields ARM computes; a client's values for them are ignored.
const SERVER_OWNED: &[&str] = &[
    "peeringState",
    "peeringSyncLevel",
    "remoteAddressSpace",
    "remoteVirtualNetworkAddressSpace",
    "remoteBgpCommunities",
    "remoteVirtualNetworkEncryption",
];

impl ResourceKind for VirtualNetworkPeering {
    fn type_name(&self, _id: &ArmId) -> String {
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings".into()
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
        let remote_id = reference_id(body, "remoteVirtualNetwork")
            .ok_or_else(|| ArmError::missing_property("remoteVirtualNetwork", "properties"))?
            .to_owned();
        let remote = ctx
            .store
            .get_str(&remote_id)
            .filter(|doc| {
                doc_id(doc).is_some_and(|id| id.type_path().eq_ignore_ascii_case(VIRTUAL_NETWORKS))
            })
            .ok_or_else(|| ArmError::invalid_reference(&remote_id, ctx.id))?;
        let remote_props = remote.get("properties");
        if let Some(state) = remote_props
            .and_then(|p| p.get("provisioningState"))
            .and_then(Value::as_str)
            .filter(|s| *s == "Updating" || *s == "Deleting")
        {
            return Err(ArmError::referenced_not_provisioned(
                &remote_id,
                &ctx.id.to_string(),
                state,
            ));
        }
        let remote_space = remote_props.and_then(|p| p.get("addressSpace")).cloned();
        let kept_space = ctx
            .existing
            .filter(|_| !ctx.flag("syncRemoteAddressSpace"))
            .and_then(|doc| doc.get("properties")?.get("remoteAddressSpace"))
            .cloned();

        let props = properties_mut(body);
        for key in SERVER_OWNED {
            props.remove(*key);
        }
        default_to(props, "allowVirtualNetworkAccess", json!(true));
        default_to(props, "allowForwardedTraffic", json!(false));
        default_to(props, "allowGatewayTransit", json!(false));
        default_to(props, "useRemoteGateways", json!(false));
        default_to(props, "doNotVerifyRemoteGateways", json!(false));
        default_to(props, "peerCompleteVnets", json!(true));
        if let Some(space) = kept_space.or_else(|| remote_space.clone()) {
            props.insert("remoteAddressSpace".into(), space);
        }
        if let Some(space) = remote_space {
            props.insert("remoteVirtualNetworkAddressSpace".into(), space);
        }
        for (from, to) in [
            ("bgpCommunities", "remoteBgpCommunities"),
            ("encryption", "remoteVirtualNetworkEncryption"),
        ] {
            if let Some(value) = remote_props.and_then(|p| p.get(from)) {
                props.insert(to.into(), value.clone());
            }
        }
        // Placeholders so the fields keep ARM's order; `after_put` sets the real values.
        props.insert("peeringState".into(), json!("Initiated"));
        props.insert("peeringSyncLevel".into(), json!("RemoteNotInSync"));
        Ok(())
    }

    fn after_put(&self, store: &mut Store, id: &ArmId) {
        refresh_pair(store, id);
    }

    fn after_delete(&self, store: &mut Store, doc: &Value) {
        let (Some(id), Some(remote)) = (doc_id(doc), reference_id(doc, "remoteVirtualNetwork"))
        else {
            return;
        };
        let Some(local_vnet) = id.parent() else {
            return;
        };
        if let Some(back) = reverse_peering(store, remote, &local_vnet) {
            update_stored(store, &back, |doc| {
                doc["properties"]["peeringState"] = json!("Disconnected");
            });
        }
    }
}

/// The peering under `remote_vnet` that points back at `local_vnet`, if any.
fn reverse_peering(store: &Store, remote_vnet: &str, local_vnet: &ArmId) -> Option<ArmId> {
    let remote = ArmId::parse(remote_vnet)?;
    store
        .children(&remote, PEERINGS)
        .into_iter()
        .find(|p| reference_id(p, "remoteVirtualNetwork").is_some_and(|r| local_vnet.same_as(r)))
        .and_then(doc_id)
}

/// ARM's `peeringSyncLevel`: whether each side's copy of the other's address space is current.
pub(crate) fn sync_level(local_in_sync: bool, remote_in_sync: bool) -> &'static str {
    match (local_in_sync, remote_in_sync) {
        (true, true) => "FullyInSync",
        (false, true) => "LocalNotInSync",
        (true, false) => "RemoteNotInSync",
        (false, false) => "LocalAndRemoteNotInSync",
    }
}

/// Whether a peering's copy of its remote network's address space matches the network's
/// current one.
fn in_sync(store: &Store, peering: &Value) -> bool {
    let copied = peering
        .get("properties")
        .and_then(|p| p.get("remoteAddressSpace"));
    let current = reference_id(peering, "remoteVirtualNetwork")
        .and_then(|r| store.get_str(r))
        .and_then(|vnet| vnet.get("properties")?.get("addressSpace"));
    copied == current
}

/// Recomputes the state and sync level of a peering and of the peering that points back at it.
pub(crate) fn refresh_pair(store: &mut Store, id: &ArmId) {
    let Some(doc) = store.get(id).cloned() else {
        return;
    };
    let Some(local_vnet) = id.parent() else {
        return;
    };
    let back = reference_id(&doc, "remoteVirtualNetwork")
        .and_then(|remote| reverse_peering(store, remote, &local_vnet))
        .filter(|back| {
            store
                .get(back)
                .is_some_and(|b| b["properties"]["peeringState"] != json!("Disconnected"))
        });
    let Some(back) = back else {
        update_stored(store, id, |doc| {
            doc["properties"]["peeringState"] = json!("Initiated");
            doc["properties"]["peeringSyncLevel"] = json!("RemoteNotInSync");
        });
        return;
    };
    let here_ok = in_sync(store, &doc);
    let back_ok = store.get(&back).is_some_and(|b| in_sync(store, b));
    for (peering, level) in [
        (id, sync_level(here_ok, back_ok)),
        (&back, sync_level(back_ok, here_ok)),
    ] {
        update_stored(store, peering, |doc| {
            doc["properties"]["peeringState"] = json!("Connected");
            doc["properties"]["peeringSyncLevel"] = json!(level);
        });
    }
}

/// After a virtual network's address space changed: peerings that point at it see the new space
/// as `remoteVirtualNetworkAddressSpace`, and every peering touching it re-evaluates its sync
/// level.
pub(crate) fn refresh_for_network(store: &mut Store, vnet: &ArmId) {
    let space = store
        .get(vnet)
        .and_then(|d| d.get("properties")?.get("addressSpace").cloned());
    let pointing: Vec<ArmId> = store
        .of_type("Microsoft.Network/virtualNetworks/virtualNetworkPeerings")
        .filter(|p| reference_id(p, "remoteVirtualNetwork").is_some_and(|r| vnet.same_as(r)))
        .filter_map(doc_id)
        .collect();
    for peering in &pointing {
        if let Some(space) = &space {
            update_stored(store, peering, |doc| {
                doc["properties"]["remoteVirtualNetworkAddressSpace"] = space.clone();
            });
        }
    }
    let own: Vec<ArmId> = store
        .children(vnet, PEERINGS)
        .into_iter()
        .filter_map(doc_id)
        .collect();
    for peering in pointing.iter().chain(&own) {
        if store
            .get(peering)
            .is_some_and(|p| p["properties"]["peeringState"] == json!("Connected"))
        {
            refresh_pair(store, peering);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sync_level;

    #[test]
    fn sync_level_names_the_stale_side() {
        assert_eq!(sync_level(true, true), "FullyInSync");
        assert_eq!(sync_level(false, true), "LocalNotInSync");
        assert_eq!(sync_level(true, false), "RemoteNotInSync");
        assert_eq!(sync_level(false, false), "LocalAndRemoteNotInSync");
    }
}
