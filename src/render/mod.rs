//! Renderings of a plan and of an apply's outcome for people (a `terraform plan`-like diff, a
//! Markdown summary for CI, a picture of the topology) and for machines (versioned JSON,
//! Prometheus metrics). Pure: values in, text out.

mod graph;
mod human;
mod json;
mod metrics;
mod progress;
mod reference;
mod summary;

pub use graph::{GraphFormat, topology};
pub use human::{HumanStyle, outcomes_text, plan_text};
pub use json::{plan_json, report_json, report_schema};
pub use metrics::{RunMetrics, prometheus_text};
pub use progress::{InFlight, elapsed_text, live_block, short_id, waiting_line};
pub use reference::manifest_reference;
pub use summary::summary_markdown;
