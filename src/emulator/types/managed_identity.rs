//! User-assigned managed identities: a synchronous PUT whose read-only `tenantId`,
//! `principalId` and `clientId` the server assigns once and keeps across updates.

use serde_json::{Value, json};

use super::{LongRunning, PutContext, ResourceKind, properties_mut, stable_uuid};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;

pub(crate) struct UserAssignedIdentity;

/// The tenant the emulator's identities live in.
const TENANT_ID: &str = "00000000-0000-0000-0000-00000000000a";

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
        let id = ctx.id.to_string();
        let props = properties_mut(body);
        props.insert("tenantId".into(), json!(TENANT_ID));
        for field in ["principalId", "clientId"] {
            props.insert(field.into(), json!(stable_uuid(&format!("{field}:{id}"))));
        }
        Ok(())
    }
}
