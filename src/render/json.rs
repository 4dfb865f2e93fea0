//! The JSON plan: a stable, versioned document (`formatVersion`), documented in `docs/plan-json.md`.

use crate::plan::Plan;

pub fn plan_json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).expect("a plan serialises to JSON")
}
