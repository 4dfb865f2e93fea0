//! ARM error responses: the status code plus the `{"error":{"code","message"}}` body that real
//! ARM answers with, built by one constructor per error the emulator can produce.

use serde_json::{Value, json};

use super::arm_id::ArmId;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArmError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<(&'static str, String)>,
}

impl ArmError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> ArmError {
        ArmError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.details.is_empty() {
            error["details"] = self
                .details
                .iter()
                .map(|(code, message)| json!({ "code": code, "message": message }))
                .collect();
        }
        json!({ "error": error })
    }

    pub fn missing_api_version() -> ArmError {
        ArmError::new(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    }

    pub fn authentication_failed() -> ArmError {
        ArmError::new(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or is not a bearer token.",
        )
    }

    pub fn invalid_content(reason: &str) -> ArmError {
        ArmError::new(
            400,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{reason}'."),
        )
    }

    /// Network's answer to a body that lacks a property its schema requires.
    pub fn missing_property(property: &str, path: &str) -> ArmError {
        let mut error = ArmError::new(400, "InvalidRequestFormat", "Cannot parse the request.");
        error.details.push((
            "MissingJsonProperty",
            format!("Required property '{property}' not found in JSON. Path '{path}'."),
        ));
        error
    }

    pub fn not_found(id: &ArmId) -> ArmError {
        ArmError::new(
            404,
            "ResourceNotFound",
            format!(
                "The Resource '{}/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                id.type_path(),
                id.segments
                    .iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("/"),
                id.resource_group
            ),
        )
    }

    pub fn parent_not_found(parent: &ArmId) -> ArmError {
        ArmError::new(
            404,
            "ParentResourceNotFound",
            format!(
                "Can not perform requested operation on nested resource. Parent resource '{}' not found.",
                parent
                    .segments
                    .iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        )
    }

    pub fn precondition_failed() -> ArmError {
        ArmError::new(
            412,
            "PreconditionFailed",
            "The condition specified in the If-Match or If-None-Match header was not met.",
        )
    }

    /// A reference (for example a peering's remote virtual network) names no resource.
    pub fn invalid_reference(referenced: &str, by: &ArmId) -> ArmError {
        ArmError::new(
            400,
            "InvalidGlobalResourceReference",
            format!(
                "Resource {referenced} referenced by resource {by} was not found. Please make sure that the referenced resource exists."
            ),
        )
    }

    /// A referenced resource exists but an operation on it is still running.
    pub fn referenced_not_provisioned(referenced: &str, by: &ArmId, state: &str) -> ArmError {
        ArmError::new(
            400,
            "ReferencedResourceNotProvisioned",
            format!(
                "Cannot proceed with operation because resource {referenced} used by resource {by} is not in Succeeded state. Resource is in {state} state."
            ),
        )
    }

    pub fn operation_not_found(operation: &str) -> ArmError {
        ArmError::new(
            404,
            "NotFound",
            format!("The operation '{operation}' was not found."),
        )
    }

    pub fn method_not_allowed(method: &str) -> ArmError {
        ArmError::new(
            405,
            "MethodNotAllowed",
            format!(
                "The requested method '{method}' is not supported by the emulator for this resource."
            ),
        )
    }

    pub fn invalid_path(path: &str) -> ArmError {
        ArmError::new(
            400,
            "InvalidResourceId",
            format!("The path '{path}' is not a valid ARM resource path."),
        )
    }

    /// Key Vault's answer to a setting it refuses.
    pub fn bad_request(message: &str) -> ArmError {
        ArmError::new(400, "BadRequest", message)
    }

    /// The principal is not (yet) in the directory: real ARM's answer while a new identity
    /// replicates to Entra ID.
    pub fn principal_not_found(principal: &str, tenant: &str) -> ArmError {
        ArmError::new(
            400,
            "PrincipalNotFound",
            format!(
                "Principal {principal} does not exist in the directory {tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype"
            ),
        )
    }

    /// The same role is already assigned to the same principal at the same scope, under
    /// another name.
    pub fn role_assignment_exists(existing_name: &str) -> ArmError {
        ArmError::new(
            409,
            "RoleAssignmentExists",
            format!(
                "The role assignment already exists. The ID of the existing role assignment is {existing_name}."
            ),
        )
    }

    pub fn role_assignment_update_not_permitted() -> ArmError {
        ArmError::new(
            400,
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        )
    }
}
