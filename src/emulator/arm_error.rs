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

    fn with_detail(mut self, code: &'static str, message: impl Into<String>) -> ArmError {
        self.details.push((code, message.into()));
        self
    }

    /// The response body: `{"error": ...}`.
    pub fn body(&self) -> Value {
        json!({ "error": self.error_object() })
    }

    /// The `error` object alone, as operation status bodies carry it.
    pub fn error_object(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if !self.details.is_empty() {
            error["details"] = self
                .details
                .iter()
                .map(|(code, message)| json!({ "code": code, "message": message }))
                .collect();
        }
        error
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

    /// A reference between the children of one resource (an application gateway's listener to
    /// its frontend port, say) names a child that is not there.
    pub fn invalid_resource_reference(referenced: &str, by: &str) -> ArmError {
        ArmError::new(
            400,
            "InvalidResourceReference",
            format!(
                "Resource {referenced} referenced by resource {by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
            ),
        )
    }

    /// An application gateway certificate whose `keyVaultSecretId` is not a Key Vault secret
    /// URI. The message is the one ARM gives; the code is the emulator's choice.
    pub fn invalid_key_vault_secret_id(secret_id: &str, certificate: &str) -> ArmError {
        ArmError::new(
            400,
            "ApplicationGatewaySslCertificateInvalidKeyVaultSecretId",
            format!(
                "SecretId '{secret_id}' specified in '{certificate}' is invalid. Reason: The specified Key Vault URI doesn't properly reference a secret. A valid Key Vault URI should be in the following format: https://{{keyvaultname}}.{{keyvaultdomain}}/secrets/{{secretname}}. A secret version may optionally be appended as well."
            ),
        )
    }

    /// A user-assigned identity named in `identity.userAssignedIdentities` does not exist.
    pub fn identity_not_found(identity: &str, resource: &ArmId) -> ArmError {
        ArmError::new(
            400,
            "FailedIdentityOperation",
            format!(
                "Identity operation for resource '{resource}' failed with error 'Failed to perform resource identity operation. Status: 'NotFound'. Response: '{{\"error\":{{\"code\":\"NotFound\",\"message\":\"Resource '{identity}' was not found.\"}}}}'.'."
            ),
        )
    }

    /// The error of a running PUT that a newer PUT on the same resource canceled.
    pub fn canceled_and_superseded(operation: &str, canceled: &str, by: &str) -> ArmError {
        ArmError::new(200, "Canceled", "Operation was canceled.").with_detail(
            "CanceledAndSupersededDueToAnotherOperation",
            format!(
                "Operation {operation} ({canceled}) was canceled and superseded by operation {operation} ({by})."
            ),
        )
    }

    /// ARM's subscription throttling: a token bucket of the request's kind is empty.
    pub fn subscription_throttled(kind: &str, subscription: &str, retry_after: u64) -> ArmError {
        ArmError::new(
            429,
            "SubscriptionRequestsThrottled",
            format!(
                "Number of '{kind}' requests for subscription '{subscription}' actor 'azrecon-emulator' exceeded. Please try again after '{retry_after}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling"
            ),
        )
    }

    pub fn internal_server_error() -> ArmError {
        ArmError::new(
            500,
            "InternalServerError",
            "Encountered internal server error. Diagnostic information: timestamp '', subscription id '', tracking id '', request correlation id ''.",
        )
    }

    pub fn service_unavailable() -> ArmError {
        ArmError::new(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please try again later.",
        )
    }

    /// Network's 409 for a write while another operation on the resource is running.
    pub fn another_operation_in_progress(resource: &str, operation_url: &str) -> ArmError {
        ArmError::new(
            409,
            "AnotherOperationInProgress",
            format!(
                "Another operation on this or dependent resource is in progress. To retrieve status of the operation use uri: {operation_url}"
            ),
        )
        .with_detail(
            "AnotherOperationInProgress",
            format!("Resource {resource} is being updated by another operation."),
        )
    }

    /// Network's 429 for a write that collides with an operation on a dependent resource: the
    /// code is `RetryableError`, the reason is in the detail.
    pub fn retryable_due_to_another_operation(resource: &str, retry_after: u64) -> ArmError {
        ArmError::new(429, "RetryableError", "A retryable error occurred.").with_detail(
            "RetryableErrorDueToAnotherOperation",
            format!(
                "Operation PutResourceOperation ({}) is updating resource {resource}. The call can be retried in {retry_after} seconds.",
                uuid::Uuid::new_v4()
            ),
        )
    }

    /// A referenced resource exists but an operation on it is still running.
    pub fn referenced_not_provisioned(referenced: &str, by: &str, state: &str) -> ArmError {
        ArmError::new(
            400,
            "ReferencedResourceNotProvisioned",
            format!(
                "Cannot proceed with operation because resource {referenced} used by resource {by} is not in Succeeded state. Resource is in {state} state."
            ),
        )
    }

    /// A resource type that lives in one location only (Private DNS: `global`).
    pub fn location_not_available(location: &str, type_path: &str, available: &str) -> ArmError {
        ArmError::new(
            400,
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{location}' is not available for resource type '{type_path}'. List of available regions for the resource type is '{available}'."
            ),
        )
    }

    /// A static private address outside its subnet's prefix.
    pub fn ip_not_in_subnet(ip: &str, prefix: &str) -> ArmError {
        ArmError::new(
            400,
            "PrivateIPAddressNotInSubnet",
            format!(
                "Private static IP address {ip} does not belong to the range of subnet prefix {prefix}."
            ),
        )
    }

    /// No address left in a subnet, or an address already taken.
    pub fn ip_not_available(ip_or_subnet: &str) -> ArmError {
        ArmError::new(
            400,
            "PrivateIPAddressNotAvailable",
            format!("Private IP address {ip_or_subnet} is not available."),
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
