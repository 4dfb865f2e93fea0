//! `CognitiveServicesAccount`: an Azure OpenAI (Cognitive Services) account that private
//! endpoints connect to. Its owners manage it; azrecon never writes it, it only reads it to prove
//! that it exists before an endpoint is pointed at it.

use super::{ArmKind, Expander, Kind};
use crate::diff::Rules;
use crate::manifest::{Entry, Policy};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

pub struct CognitiveServicesAccount;

/// Nothing to declare beyond where the account lives.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CognitiveServicesAccountSpec {}

static RULES: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &[],
    collections: &[],
};

impl ArmKind for CognitiveServicesAccount {
    fn name(&self) -> &'static str {
        "CognitiveServicesAccount"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.CognitiveServices/accounts"
    }
    fn api_version(&self) -> &'static str {
        "2024-10-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &["id", "name", "type", "etag", "systemData", "properties"]
    }
    fn rules(&self) -> &'static Rules {
        &RULES
    }
}

impl Kind for CognitiveServicesAccount {
    type Spec = Option<CognitiveServicesAccountSpec>;

    fn expand(&'static self, entry: &Entry<Self::Spec>, cx: &mut Expander<'_>) {
        let Some(placement) = cx.placement(entry, false) else {
            return;
        };
        let id = placement.resource_id(self.arm_type(), &entry.name);
        let mut desired = cx.resource(self, entry, id, json!({}));
        desired.policy = Policy::Observe;
        desired.existing_only = true;
        cx.push(desired);
    }
}
