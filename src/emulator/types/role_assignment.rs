//! Role assignments (Microsoft.Authorization 2022-04-01), an extension resource at any scope:
//! the principal must be in the directory (`PrincipalNotFound` otherwise, as while a new identity
//! replicates), a second assignment of the same role to the same principal at the same scope is
//! `409 RoleAssignmentExists`, and an assignment cannot be changed in place. The server fills
//! `scope` and the audit fields; there is no etag and no provisioning state.

use serde_json::{Value, json};

use super::{
    LongRunning, PutContext, ResourceKind, default_to, properties_mut, strip_etag_and_state,
};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::{Store, doc_id};

use super::user_assigned_identity::TENANT_ID;

pub(crate) struct RoleAssignment;

const TYPE: &str = "Microsoft.Authorization/roleAssignments";
/// Who the emulator says created an assignment.
const CREATED_BY: &str = "00000000-0000-4000-8000-00000000c1e0";

fn text<'v>(doc: &'v Value, key: &str) -> Option<&'v str> {
    doc.get("properties")?.get(key)?.as_str()
}

impl ResourceKind for RoleAssignment {
    fn type_name(&self, _id: &ArmId) -> String {
        TYPE.into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: false,
            delete: false,
        }
    }

    fn prepare(&self, ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        let role = text(body, "roleDefinitionId")
            .ok_or_else(|| ArmError::missing_property("roleDefinitionId", "properties"))?
            .to_owned();
        let principal = text(body, "principalId")
            .ok_or_else(|| ArmError::missing_property("principalId", "properties"))?
            .to_owned();
        let scope = ctx
            .id
            .extended()
            .ok_or_else(|| ArmError::invalid_path(&ctx.id.to_string()))?;
        if let Some(existing) = ctx.existing {
            let same = |key: &str, new: &str| {
                text(existing, key).is_some_and(|old| old.eq_ignore_ascii_case(new))
            };
            if !same("principalId", &principal) || !same("roleDefinitionId", &role) {
                return Err(ArmError::role_assignment_update_not_permitted());
            }
        }
        if !ctx.directory.finds(ctx.store, &principal) {
            return Err(ArmError::principal_not_found(&principal, TENANT_ID));
        }
        let duplicate = ctx.store.of_type(TYPE).find(|doc| {
            let Some(id) = doc_id(doc) else { return false };
            !id.same_as(&ctx.id.to_string())
                && id.extended().is_some_and(|s| s.same_as(&scope.to_string()))
                && text(doc, "principalId").is_some_and(|p| p.eq_ignore_ascii_case(&principal))
                && text(doc, "roleDefinitionId").is_some_and(|r| r.eq_ignore_ascii_case(&role))
        });
        if let Some(duplicate) = duplicate.and_then(doc_id) {
            return Err(ArmError::role_assignment_exists(duplicate.name()));
        }
        let now = now_rfc3339();
        let created_on = ctx
            .existing
            .and_then(|doc| doc.get("properties")?.get("createdOn").cloned())
            .unwrap_or_else(|| json!(now));
        let props = properties_mut(body);
        default_to(props, "principalType", json!("ServicePrincipal"));
        default_to(props, "condition", Value::Null);
        default_to(props, "conditionVersion", Value::Null);
        props.insert("scope".into(), json!(scope.to_string()));
        props.insert("createdOn".into(), created_on);
        props.insert("updatedOn".into(), json!(now));
        props.insert("createdBy".into(), json!(CREATED_BY));
        props.insert("updatedBy".into(), json!(CREATED_BY));
        props.insert("delegatedManagedIdentityResourceId".into(), Value::Null);
        Ok(())
    }

    fn after_put(&self, store: &mut Store, id: &ArmId) {
        strip_etag_and_state(store, id);
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
