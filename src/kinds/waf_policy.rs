//! `WafPolicy`: an Application Gateway WAF policy in Prevention mode with a managed rule set and
//! an IP allowlist: one custom rule that blocks every client whose address is not listed.

use super::{ArmKind, Expander, Kind};
use crate::diff::{FieldChange, Op, Rules};
use crate::manifest::{At, Entry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub struct WafPolicy;

/// The name of the custom rule that carries the allowlist.
pub const ALLOWLIST_RULE: &str = "AllowlistOnly";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WafPolicySpec {
    #[serde(default)]
    pub mode: WafMode,
    #[serde(default)]
    pub managed_rule_set: ManagedRuleSet,
    /// Client addresses or CIDR prefixes that may reach the gateway; every other client is blocked.
    pub allowlist: At<Vec<At<String>>>,
    /// The allowlist rule's priority (1 is evaluated first).
    #[serde(default = "first")]
    pub allowlist_priority: u32,
    #[serde(default = "yes")]
    pub request_body_check: bool,
    #[serde(default = "max_body_kb")]
    pub max_request_body_size_in_kb: u32,
    #[serde(default = "upload_mb")]
    pub file_upload_limit_in_mb: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum WafMode {
    #[default]
    Prevention,
    Detection,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManagedRuleSet {
    /// `OWASP` or `Microsoft_DefaultRuleSet`.
    #[serde(rename = "type")]
    pub rule_set_type: RuleSetType,
    /// For example `"3.2"` (OWASP) or `"2.1"` (Microsoft_DefaultRuleSet).
    pub version: At<String>,
}

impl Default for ManagedRuleSet {
    fn default() -> Self {
        ManagedRuleSet {
            rule_set_type: RuleSetType::OWASP,
            version: At::new("3.2".into(), Default::default()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum RuleSetType {
    OWASP,
    #[serde(rename = "Microsoft_DefaultRuleSet")]
    MicrosoftDefaultRuleSet,
}

impl RuleSetType {
    fn versions(self) -> &'static [&'static str] {
        match self {
            RuleSetType::OWASP => &["3.2", "3.1", "3.0"],
            RuleSetType::MicrosoftDefaultRuleSet => &["2.1"],
        }
    }
}

fn first() -> u32 {
    1
}
fn yes() -> bool {
    true
}
// ARM's defaults for a WAF_v2 policy, stated so that a value changed in the portal is drift.
fn max_body_kb() -> u32 {
    128
}
fn upload_mb() -> u32 {
    100
}

static RULES: Rules = Rules {
    keyed: &[("properties.managedRules.managedRuleSets", "ruleSetType")],
    unordered: &["properties.customRules[].matchConditions[].matchValues"],
    case_insensitive: &[
        "properties.policySettings.state",
        "properties.policySettings.mode",
        "properties.customRules[].state",
        "properties.customRules[].ruleType",
        "properties.customRules[].action",
        "properties.customRules[].matchConditions[].operator",
        "properties.customRules[].matchConditions[].matchVariables[].variableName",
        "properties.managedRules.managedRuleSets[].ruleSetType",
    ],
    collections: &[
        "properties.customRules",
        "properties.managedRules.managedRuleSets",
    ],
};

impl ArmKind for WafPolicy {
    fn name(&self) -> &'static str {
        "WafPolicy"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies"
    }
    fn api_version(&self) -> &'static str {
        "2024-01-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &[
            "id",
            "name",
            "type",
            "etag",
            "properties.provisioningState",
            "properties.resourceState",
            "properties.applicationGateways",
            "properties.httpListeners",
            "properties.pathBasedRules",
            "properties.customRules[].etag",
        ]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }

    fn destructive(&self, change: &FieldChange) -> Option<String> {
        let after = change.after.as_ref();
        if change.path == "properties.policySettings.mode"
            && after
                .and_then(Value::as_str)
                .is_some_and(|m| m.eq_ignore_ascii_case("Detection"))
        {
            return Some(
                "WAF mode goes to Detection: attacks are logged, no longer blocked".into(),
            );
        }
        if change.path.ends_with(".matchValues") {
            let values: Vec<&str> = after
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if values.is_empty() {
                return Some("the allowlist is emptied: every client is blocked".into());
            }
            if values.iter().any(|v| matches!(*v, "0.0.0.0/0" | "::/0")) {
                return Some("the allowlist is widened to every address".into());
            }
        }
        if change.op == Op::Remove {
            return Some(format!("{} is removed", change.path));
        }
        None
    }
}

impl Kind for WafPolicy {
    type Spec = WafPolicySpec;

    fn expand(&'static self, entry: &Entry<WafPolicySpec>, cx: &mut Expander<'_>) {
        let spec = &entry.spec;
        let file = entry.file;
        let placement = cx.placement(entry, true);
        if spec.allowlist.is_empty() {
            cx.error(
                file,
                spec.allowlist.pos,
                "the allowlist is empty: it would block every client",
                Some("list the client addresses or prefixes that may reach the gateway".into()),
            );
        }
        let allowed: Vec<String> = spec
            .allowlist
            .iter()
            .filter_map(|a| cx.ip_or_cidr(file, a))
            .collect();
        let set = &spec.managed_rule_set;
        if !set.rule_set_type.versions().contains(&set.version.as_str()) {
            cx.error(
                file,
                set.version.pos,
                format!(
                    "`{}` is not a version of this managed rule set",
                    set.version.value
                ),
                Some(format!(
                    "supported: {}",
                    set.rule_set_type.versions().join(", ")
                )),
            );
        }
        let Some(placement) = placement else {
            return;
        };
        let body = json!({
            "location": placement.location,
            "properties": {
                "policySettings": {
                    "state": "Enabled",
                    "mode": spec.mode,
                    "requestBodyCheck": spec.request_body_check,
                    "maxRequestBodySizeInKb": spec.max_request_body_size_in_kb,
                    "fileUploadLimitInMb": spec.file_upload_limit_in_mb,
                },
                "customRules": [{
                    "name": ALLOWLIST_RULE,
                    "priority": spec.allowlist_priority,
                    "ruleType": "MatchRule",
                    "action": "Block",
                    "state": "Enabled",
                    "matchConditions": [{
                        "matchVariables": [{ "variableName": "RemoteAddr" }],
                        "operator": "IPMatch",
                        // ARM's own spelling of the property.
                        "negationConditon": true,
                        "matchValues": allowed,
                    }],
                }],
                "managedRules": {
                    "exclusions": [],
                    "managedRuleSets": [{
                        "ruleSetType": set.rule_set_type,
                        "ruleSetVersion": set.version.value,
                    }],
                },
            }
        });
        let id = placement.resource_id(self.arm_type(), &entry.name);
        let desired = cx.resource(self, entry, id, body);
        cx.push(desired);
    }
}
