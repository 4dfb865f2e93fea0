//! The JSON report: a stable, versioned document (`formatVersion`). A dry run's report is the plan;
//! an apply's adds one outcome per resource. `docs/plan-json.md` documents the fields and
//! `docs/plan.schema.json` is its JSON Schema, derived from these types.

use crate::engine::ResourceOutcome;
use crate::plan::Plan;
use schemars::JsonSchema;
use serde::Serialize;

/// The report `azrecon reconcile --output json` prints.
#[derive(Serialize, JsonSchema)]
#[schemars(title = "azrecon report")]
struct Report<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    /// What apply did to each resource, in plan order; absent for a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    outcomes: Option<&'a [ResourceOutcome]>,
}

pub fn plan_json(plan: &Plan) -> String {
    report_json(plan, None)
}

pub fn report_json(plan: &Plan, outcomes: Option<&[ResourceOutcome]>) -> String {
    serde_json::to_string_pretty(&Report { plan, outcomes }).expect("a report serialises to JSON")
}

/// The JSON Schema of the report.
pub fn report_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report<'static>)).expect("a schema is plain JSON")
}
