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
}
