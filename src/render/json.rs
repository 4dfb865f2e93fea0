//! The JSON report: a stable, versioned document (`formatVersion`). A dry run's report is the plan;
//! an apply's adds one outcome per resource. `docs/plan-json.md` documents the fields.

use crate::engine::ResourceOutcome;
use crate::plan::Plan;
use serde::Serialize;

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcomes: Option<&'a [ResourceOutcome]>,
}

pub fn plan_json(plan: &Plan) -> String {
    report_json(plan, None)
}

pub fn report_json(plan: &Plan, outcomes: Option<&[ResourceOutcome]>) -> String {
    serde_json::to_string_pretty(&Report { plan, outcomes }).expect("a report serialises to JSON")
}
