//! The Markdown summary of a run, for a CI job summary (`$GITHUB_STEP_SUMMARY`) or a pull-request
//! comment: a verdict line, a table of what differs, the findings, and the full text plan folded
//! away. Pure; like the other renderings it shows diffs, never request bodies.

use super::human::{HumanStyle, plan_text};
use crate::diff::Op;
use crate::engine::{Outcome, ResourceOutcome};
use crate::plan::{Action, Plan, Severity};
use serde_json::Value;
use std::fmt::Write as _;

/// Field changes shown per resource in the table; the folded plan has them all.
const CHANGES_SHOWN: usize = 4;
/// Longest value shown in a table cell.
const VALUE_CHARS: usize = 60;

/// Renders the summary of a plan, and of what apply did when it ran.
pub fn summary_markdown(plan: &Plan, outcomes: Option<&[ResourceOutcome]>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### azrecon: {}\n", verdict(plan, outcomes));
    let count = |a: Action| plan.resources.iter().filter(|r| r.action == a).count();
    let _ = writeln!(
        out,
        "| create | update | replace | unchanged | missing | blocked | findings |\n|---:|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} | {} |\n",
        count(Action::Create),
        count(Action::Update),
        count(Action::Replace),
        count(Action::NoOp),
        count(Action::Missing),
        count(Action::Blocked),
        plan.findings.len(),
    );
    let drifted: Vec<_> = plan.resources.iter().filter(|r| r.drifted()).collect();
    if !drifted.is_empty() {
        let applied = outcomes.is_some();
        out.push_str(if applied {
            "| resource | action | what differs | apply |\n|---|---|---|---|\n"
        } else {
            "| resource | action | what differs |\n|---|---|---|\n"
        });
        for r in drifted {
            let mut cells = vec![
                format!("`{}`", r.address),
                action_label(r),
                cell(&differences(r)),
            ];
            if let Some(outcomes) = outcomes {
                let outcome = outcomes
                    .iter()
                    .find(|o| o.address == r.address)
                    .map_or(String::new(), |o| outcome_label(&o.outcome));
                cells.push(cell(&outcome));
            }
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
    }
    if !plan.findings.is_empty() {
        out.push_str("**Findings**\n\n");
        for f in &plan.findings {
            let label = match f.severity {
                Severity::Warning => "warning",
                Severity::Drift => "drift",
            };
            let _ = writeln!(out, "- {label}: `{}`: {}", f.subject, inline(&f.message));
        }
        out.push('\n');
    }
    let text = plan_text(plan, HumanStyle::default());
    let _ = write!(
        out,
        "<details><summary>Full plan</summary>\n\n```text\n{}```\n\n</details>\n",
        text.replace("```", "'''")
    );
    out
}

fn verdict(plan: &Plan, outcomes: Option<&[ResourceOutcome]>) -> &'static str {
    let failed = outcomes.is_some_and(|o| {
        o.iter().any(|o| {
            matches!(
                o.outcome,
                Outcome::Failed { .. } | Outcome::NotConverged { .. } | Outcome::Skipped { .. }
            )
        })
    });
    if plan.has_errors() || failed {
        "errors"
    } else if outcomes.is_some_and(|o| {
        o.iter()
            .any(|o| matches!(o.outcome, Outcome::Refused { .. }))
    }) {
        "destructive changes refused"
    } else if let Some(outcomes) = outcomes {
        if outcomes
            .iter()
            .any(|o| matches!(o.outcome, Outcome::Reported))
        {
            "applied; drift left that azrecon may not fix"
        } else if plan.drifted() {
            "drift fixed"
        } else {
            "no drift"
        }
    } else if plan.drifted() {
        "drift found"
    } else {
        "no drift"
    }
}

fn action_label(r: &crate::plan::ResourcePlan) -> String {
    let action = match r.action {
        Action::NoOp => "unchanged",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Missing => "missing",
        Action::Blocked => "blocked",
    };
    if r.drifted() && !r.writable() && !matches!(r.action, Action::Missing | Action::Blocked) {
        format!("{action} (reported only)")
    } else {
        action.to_owned()
    }
}

/// What differs, shortest first: the reason, status issues, then the first field changes.
fn differences(r: &crate::plan::ResourcePlan) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(r.reason.iter().cloned());
    parts.extend(r.status.iter().map(|s| s.message.clone()));
    if r.action != Action::Create {
        for c in r.changes.iter().take(CHANGES_SHOWN) {
            parts.push(match c.op {
                Op::Add => format!("`{}` added: {}", c.path, value(c.after.as_ref())),
                Op::Remove => format!("`{}` removed (was {})", c.path, value(c.before.as_ref())),
                Op::Change => format!(
                    "`{}`: {} → {}",
                    c.path,
                    value(c.before.as_ref()),
                    value(c.after.as_ref())
                ),
            });
        }
        if r.changes.len() > CHANGES_SHOWN {
            parts.push(format!(
                "and {} more field(s)",
                r.changes.len() - CHANGES_SHOWN
            ));
        }
    }
    parts.extend(r.destructive.iter().map(|d| format!("destructive: {d}")));
    parts.join("; ")
}

fn value(v: Option<&Value>) -> String {
    let text = match v {
        None | Some(Value::Null) => "(none)".to_owned(),
        Some(v) => v.to_string(),
    };
    let short = if text.chars().count() > VALUE_CHARS {
        format!("{}…", text.chars().take(VALUE_CHARS).collect::<String>())
    } else {
        text
    };
    format!("`{}`", short.replace('`', "'"))
}

fn outcome_label(o: &Outcome) -> String {
    match o {
        Outcome::Unchanged => "unchanged".into(),
        Outcome::Converged { writes } => format!("converged ({writes} write(s))"),
        Outcome::NotConverged { remaining, .. } => {
            format!("not converged: {}", remaining.join("; "))
        }
        Outcome::Reported => "reported, not written".into(),
        Outcome::Refused { reasons } => format!("refused: {}", reasons.join("; ")),
        Outcome::Skipped { because } => format!("skipped: {because}"),
        Outcome::Failed { error } => format!("failed: {error}"),
        Outcome::Interrupted => "not started: the run was stopped".into(),
    }
}

/// Text safe inside a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

fn inline(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
