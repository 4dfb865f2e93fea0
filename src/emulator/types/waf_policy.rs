//! Application Gateway WAF policies: a synchronous PUT (the spec does not mark it long-running)
//! that fills the policy-settings defaults the service applies, rule defaults, `resourceState`,
//! and on GET the application gateways and listeners that use the policy.

use serde_json::{Value, json};

use super::{
    LongRunning, PutContext, ResourceKind, default_to, objects_mut, properties_mut, reference_id,
};
use crate::emulator::arm_error::ArmError;
use crate::emulator::arm_id::ArmId;
use crate::emulator::store::Store;

pub(crate) struct WafPolicy;

/// Read-only in the spec: the server fills them, a client's values are ignored.
const READ_ONLY: &[&str] = &[
    "applicationGateways",
    "httpListeners",
    "pathBasedRules",
    "resourceState",
];

impl ResourceKind for WafPolicy {
    /// The Azure REST API specs' examples return the type in lower case for this resource.
    fn type_name(&self, _id: &ArmId) -> String {
        "Microsoft.Network/applicationgatewaywebapplicationfirewallpolicies".into()
    }

    fn long_running(&self) -> LongRunning {
        LongRunning {
            put: false,
            delete: true,
        }
    }

    fn prepare(&self, _ctx: &PutContext<'_>, body: &mut Value) -> Result<(), ArmError> {
        let props = properties_mut(body);
        let managed = props
            .get_mut("managedRules")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| ArmError::missing_property("managedRules", "properties"))?;
        if !managed.get("managedRuleSets").is_some_and(Value::is_array) {
            return Err(ArmError::missing_property(
                "managedRuleSets",
                "properties.managedRules",
            ));
        }
        default_to(managed, "exclusions", json!([]));
        for rule_set in objects_mut(managed, "managedRuleSets") {
            default_to(rule_set, "ruleGroupOverrides", json!([]));
        }

        for key in READ_ONLY {
            props.remove(*key);
        }
        props.insert("resourceState".into(), json!("Enabled"));

        let settings = props.entry("policySettings").or_insert_with(|| json!({}));
        if let Some(settings) = settings.as_object_mut() {
            // The service's documented defaults (the examples show a policy sent with larger
            // limits; a policy that omits them gets these).
            default_to(settings, "state", json!("Enabled"));
            default_to(settings, "mode", json!("Detection"));
            default_to(settings, "requestBodyCheck", json!(true));
            default_to(settings, "requestBodyEnforcement", json!(true));
            default_to(settings, "maxRequestBodySizeInKb", json!(128));
            default_to(settings, "requestBodyInspectLimitInKB", json!(128));
            default_to(settings, "fileUploadEnforcement", json!(true));
            default_to(settings, "fileUploadLimitInMb", json!(100));
        }

        default_to(props, "customRules", json!([]));
        for rule in objects_mut(props, "customRules") {
            rule.remove("etag");
            default_to(rule, "state", json!("Enabled"));
            for condition in objects_mut(rule, "matchConditions") {
                default_to(condition, "negationConditon", json!(false));
                default_to(condition, "transforms", json!([]));
            }
        }
        Ok(())
    }

    fn compose(&self, store: &Store, id: &ArmId, doc: &mut Value) {
        let mut gateways = Vec::new();
        let mut listeners = Vec::new();
        for gateway in store.of_type("Microsoft.Network/applicationGateways") {
            if reference_id(gateway, "firewallPolicy").is_some_and(|r| id.same_as(r)) {
                gateways.push(json!({ "id": gateway["id"] }));
            }
            let gateway_listeners = gateway
                .get("properties")
                .and_then(|p| p.get("httpListeners"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for listener in gateway_listeners {
                if reference_id(listener, "firewallPolicy").is_some_and(|r| id.same_as(r)) {
                    listeners.push(json!({ "id": listener["id"] }));
                }
            }
        }
        if let Some(props) = doc.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert("applicationGateways".into(), Value::Array(gateways));
            if !listeners.is_empty() {
                props.insert("httpListeners".into(), Value::Array(listeners));
            }
        }
    }
}
