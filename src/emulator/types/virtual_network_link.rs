//! Private DNS zone virtual network links: long-running writes, global only, the linked virtual
//! network must exist (in any subscription), and `virtualNetworkLinkState` reads `InProgress`
//! until the write has finished, then `Completed`.

use serde_json::{Value, json};

use super::private_dns_zone::{dns_etag, require_global};
use super::{LongRunning, PutContext, ResourceKind, default_to, properties_mut, reference_id};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::Store;

pub(crate) struct VirtualNetworkLink;

const TYPE: &str = "Microsoft.Network/privateDnsZones/virtualNetworkLinks";

impl ResourceKind for VirtualNetworkLink {
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

    fn prepare(&self, ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        let vnet = reference_id(body, "virtualNetwork")
            .ok_or_else(|| ArmError::missing_property("virtualNetwork", "properties"))?
            .to_owned();
        if ctx.store.get_str(&vnet).is_none() {
            return Err(ArmError::invalid_reference(&vnet, ctx.id));
        }
        require_global(body, TYPE)?;
        let props = properties_mut(body);
        default_to(props, "registrationEnabled", json!(false));
        // Set for real by `compose`, from the provisioning state.
        props.insert("virtualNetworkLinkState".into(), json!("InProgress"));
        Ok(())
    }

    fn compose(&self, _store: &Store, _id: &ArmId, doc: &mut Value) {
        if let Some(props) = doc.get_mut("properties").and_then(Value::as_object_mut) {
            let done = props.get("provisioningState") == Some(&json!("Succeeded"));
            let state = if done { "Completed" } else { "InProgress" };
            props.insert("virtualNetworkLinkState".into(), json!(state));
        }
    }
}
