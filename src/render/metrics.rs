//! A run's metrics in the Prometheus text exposition format (version 0.0.4), for a node
//! exporter's textfile collector or a Pushgateway: what a scheduled job's alerting needs
//! (resources checked, drifted and written, ARM requests by status, durations, the exit code
//! and when the run ended). Pure: the figures in, the text out.

use crate::arm::CallCount;
use crate::engine::{Outcome, ResourceOutcome};
use crate::plan::{Plan, Severity};
use std::fmt::Write as _;

/// The figures of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMetrics {
    pub resources_checked: usize,
    pub resources_drifted: usize,
    /// Resources written by apply (0 for a dry run).
    pub resources_written: usize,
    pub resources_failed: usize,
    pub findings_drift: usize,
    pub findings_warning: usize,
    pub arm_calls: Vec<CallCount>,
    pub plan_seconds: f64,
    pub apply_seconds: f64,
    pub exit_code: i32,
    /// Unix time the run ended, in seconds.
    pub finished_at: f64,
}

impl RunMetrics {
    /// The counts of a plan and of apply's outcomes; timings, calls, exit code and time are the
    /// caller's to fill in.
    pub fn counts(plan: &Plan, outcomes: Option<&[ResourceOutcome]>) -> RunMetrics {
        let outcomes = outcomes.unwrap_or_default();
        let severity = |s: Severity| plan.findings.iter().filter(|f| f.severity == s).count();
        RunMetrics {
            resources_checked: plan.resources.len(),
            resources_drifted: plan.resources.iter().filter(|r| r.drifted()).count(),
            resources_written: outcomes
                .iter()
                .filter(|o| {
                    matches!(o.outcome, Outcome::Converged { writes } | Outcome::NotConverged { writes, .. } if writes > 0)
                })
                .count(),
            resources_failed: outcomes
                .iter()
                .filter(|o| {
                    matches!(
                        o.outcome,
                        Outcome::Failed { .. } | Outcome::NotConverged { .. } | Outcome::Skipped { .. }
                    )
                })
                .count(),
            findings_drift: severity(Severity::Drift),
            findings_warning: severity(Severity::Warning),
            arm_calls: Vec::new(),
            plan_seconds: 0.0,
            apply_seconds: 0.0,
            exit_code: 0,
            finished_at: 0.0,
        }
    }
}

/// The Prometheus text of `m`.
pub fn prometheus_text(m: &RunMetrics) -> String {
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let n = |v: usize| v as f64;
    gauge(
        "azrecon_resources_checked",
        "Resources read from ARM and planned.",
        &[("", n(m.resources_checked))],
    );
    gauge(
        "azrecon_resources_drifted",
        "Resources whose live state differed from the manifest.",
        &[("", n(m.resources_drifted))],
    );
    gauge(
        "azrecon_resources_written",
        "Resources written by apply.",
        &[("", n(m.resources_written))],
    );
    gauge(
        "azrecon_resources_failed",
        "Resources apply failed, skipped or could not converge.",
        &[("", n(m.resources_failed))],
    );
    gauge(
        "azrecon_findings",
        "Cross-resource findings, by severity.",
        &[
            ("{severity=\"drift\"}", n(m.findings_drift)),
            ("{severity=\"warning\"}", n(m.findings_warning)),
        ],
    );
    gauge(
        "azrecon_run_duration_seconds",
        "Time spent per phase of the run.",
        &[
            ("{phase=\"plan\"}", m.plan_seconds),
            ("{phase=\"apply\"}", m.apply_seconds),
        ],
    );
    gauge(
        "azrecon_exit_code",
        "Exit code of the run: 0 clean, 1 error, 2 drift, 3 destructive changes refused.",
        &[("", f64::from(m.exit_code))],
    );
    gauge(
        "azrecon_last_run_timestamp_seconds",
        "Unix time the run ended.",
        &[("", m.finished_at)],
    );
    let calls = |out: &mut String, name: &str, help: &str, value: &dyn Fn(&CallCount) -> f64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for c in &m.arm_calls {
            let _ = writeln!(
                out,
                "{name}{{method=\"{}\",status=\"{}\"}} {}",
                c.method,
                c.status,
                value(c)
            );
        }
    };
    calls(
        &mut out,
        "azrecon_arm_requests_total",
        "ARM and Key Vault requests sent, retries included, by method and HTTP status.",
        &|c| c.count as f64,
    );
    calls(
        &mut out,
        "azrecon_arm_request_duration_seconds_total",
        "Time spent waiting for those requests' responses.",
        &|c| c.seconds,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_help_type_and_labelled_samples() {
        let m = RunMetrics {
            resources_checked: 36,
            resources_drifted: 5,
            resources_written: 4,
            resources_failed: 0,
            findings_drift: 1,
            findings_warning: 2,
            arm_calls: vec![CallCount {
                method: "GET".into(),
                status: "200".into(),
                count: 40,
                seconds: 1.5,
            }],
            plan_seconds: 2.25,
            apply_seconds: 0.0,
            exit_code: 2,
            finished_at: 1_700_000_000.0,
        };
        let text = prometheus_text(&m);
        for line in [
            "# TYPE azrecon_resources_checked gauge",
            "azrecon_resources_checked 36",
            "azrecon_resources_drifted 5",
            "azrecon_resources_written 4",
            "azrecon_findings{severity=\"drift\"} 1",
            "azrecon_run_duration_seconds{phase=\"plan\"} 2.25",
            "azrecon_exit_code 2",
            "azrecon_last_run_timestamp_seconds 1700000000",
            "# TYPE azrecon_arm_requests_total counter",
            "azrecon_arm_requests_total{method=\"GET\",status=\"200\"} 40",
            "azrecon_arm_request_duration_seconds_total{method=\"GET\",status=\"200\"} 1.5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
