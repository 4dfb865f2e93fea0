//! Application gateways: a long-running PUT that gives every named sub-resource (listeners,
//! pools, ports, ...) its id, etag, type and provisioning state, fills the defaults and empty
//! collections the examples show, drops write-only certificate secrets, and checks that a
//! referenced WAF policy exists.

use serde_json::{Value, json};

use super::{
    LongRunning, PutContext, ResourceKind, default_to, objects_mut, properties_mut, reference_id,
};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;

pub(crate) struct ApplicationGateway;

/// Collections of named sub-resources, addressed as `{gateway id}/{collection}/{name}`.
const SUB_RESOURCES: &[&str] = &[
    "gatewayIPConfigurations",
    "authenticationCertificates",
    "trustedRootCertificates",
    "trustedClientCertificates",
    "sslCertificates",
    "frontendIPConfigurations",
    "frontendPorts",
    "probes",
    "backendAddressPools",
    "backendHttpSettingsCollection",
    "backendSettingsCollection",
    "httpListeners",
    "listeners",
    "sslProfiles",
    "urlPathMaps",
    "requestRoutingRules",
    "routingRules",
    "rewriteRuleSets",
    "redirectConfigurations",
    "privateLinkConfigurations",
    "loadDistributionPolicies",
];

/// Collections GET shows as `[]` when the client sent none (per the create example).
const EMPTY_BY_DEFAULT: &[&str] = &[
    "authenticationCertificates",
    "loadDistributionPolicies",
    "listeners",
    "urlPathMaps",
    "routingRules",
    "probes",
    "redirectConfigurations",
    "privateEndpointConnections",
];

const READ_ONLY: &[&str] = &[
    "operationalState",
    "privateEndpointConnections",
    "defaultPredefinedSslPolicy",
];

impl ResourceKind for ApplicationGateway {
    fn type_name(&self, _id: &ArmId) -> String {
        "Microsoft.Network/applicationGateways".into()
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
        if let Some(policy) = reference_id(body, "firewallPolicy")
            && ctx.store.get_str(policy).is_none()
        {
            return Err(ArmError::invalid_reference(policy, ctx.id));
        }
        let props = properties_mut(body);
        for key in READ_ONLY {
            props.remove(*key);
        }
        props.insert("operationalState".into(), json!("Running"));
        for key in EMPTY_BY_DEFAULT {
            default_to(props, key, json!([]));
        }
        for collection in SUB_RESOURCES {
            for item in objects_mut(props, collection) {
                let Some(name) = item.get("name").and_then(Value::as_str).map(str::to_owned) else {
                    continue;
                };
                item.insert(
                    "id".into(),
                    json!(ctx.id.child(collection, &name).to_string()),
                );
                item.insert("etag".into(), json!(ctx.etag));
                item.insert(
                    "type".into(),
                    json!(format!(
                        "Microsoft.Network/applicationGateways/{collection}"
                    )),
                );
                let sub_props = item.entry("properties").or_insert_with(|| json!({}));
                let Some(sub_props) = sub_props.as_object_mut() else {
                    continue;
                };
                sub_props.insert("provisioningState".into(), json!("Succeeded"));
                match *collection {
                    "frontendIPConfigurations" if !sub_props.contains_key("privateIPAddress") => {
                        default_to(sub_props, "privateIPAllocationMethod", json!("Dynamic"));
                    }
                    // Write-only secrets: ARM never returns them.
                    "sslCertificates" => {
                        sub_props.remove("data");
                        sub_props.remove("password");
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
