//! User-assigned managed identities: a synchronous PUT that gives the identity a principal ID,
//! a client ID and the directory's tenant ID, kept for the identity's lifetime. As in the
//! Microsoft.ManagedIdentity examples, the resource has neither an etag nor a provisioning state.

use serde_json::{Value, json};

use super::{LongRunning, PutContext, ResourceKind, properties_mut, strip_etag_and_state};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::Store;

pub(crate) struct UserAssignedIdentity;

/// The emulator's one Entra ID tenant.
pub(crate) const TENANT_ID: &str = "0d0e0f10-0000-4000-8000-0000000e7e11";

impl ResourceKind for UserAssignedIdentity {
    fn type_name(&self, _id: &ArmId) -> String {
        "Microsoft.ManagedIdentity/userAssignedIdentities".into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: false,
            delete: false,
        }
    }

    fn prepare(&self, ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        let kept = |key: &str| {
            ctx.existing
                .and_then(|doc| doc.get("properties")?.get(key).cloned())
                .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string()))
        };
        let (principal, client) = (kept("principalId"), kept("clientId"));
        let props = properties_mut(body);
        // Every property is read-only: what the client sent is ignored.
        props.clear();
        props.insert("tenantId".into(), json!(TENANT_ID));
        props.insert("principalId".into(), principal);
        props.insert("clientId".into(), client);
        Ok(())
    }

    fn after_put(&self, store: &mut Store, id: &ArmId) {
        strip_etag_and_state(store, id);
    }
}
