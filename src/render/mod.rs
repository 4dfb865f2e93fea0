//! Renderings of a plan and of an apply's outcome for people (a `terraform plan`-like diff) and for
//! machines (versioned JSON). Pure: values in, text out.

mod human;
mod json;

pub use human::{HumanStyle, outcomes_text, plan_text};
pub use json::{plan_json, report_json};
