//! The human plan: one block per resource with `+ ~ -` field lines, `old -> new`.

use crate::diff::Op;
use crate::plan::{Action, Plan, ResourcePlan};
use serde_json::Value;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, Default)]
pub struct HumanStyle {
    /// ANSI colour (a terminal that is not `NO_COLOR`).
    pub color: bool,
    /// List unchanged resources too.
    pub verbose: bool,
}

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

struct Out {
    text: String,
    color: bool,
}

impl Out {
    fn line(&mut self, indent: usize, color: &str, text: &str) {
        let pad = " ".repeat(indent);
        if self.color && !color.is_empty() {
            let _ = writeln!(self.text, "{pad}{color}{text}{RESET}");
        } else {
            let _ = writeln!(self.text, "{pad}{text}");
        }
    }
}

/// Renders the plan for a terminal or a log.
pub fn plan_text(plan: &Plan, style: HumanStyle) -> String {
    let mut out = Out {
        text: String::new(),
        color: style.color,
    };
    for r in &plan.resources {
        if r.drifted() || style.verbose {
            resource(&mut out, r);
        }
    }
    for f in &plan.findings {
        let (color, label) = match f.severity {
            crate::plan::Severity::Warning => (YELLOW, "warning"),
            crate::plan::Severity::Drift => (RED, "finding"),
        };
        out.line(
            0,
            color,
            &format!("! {label}: {}: {}", f.subject, f.message),
        );
    }
    let count = |a: Action| plan.resources.iter().filter(|r| r.action == a).count();
    let observed = plan
        .resources
        .iter()
        .filter(|r| {
            r.drifted() && !r.writable() && !matches!(r.action, Action::Missing | Action::Blocked)
        })
        .count();
    let summary = format!(
        "Plan: {} to create, {} to update, {} to replace, {} unchanged; {} drift only reported, {} missing, {} blocked.",
        count(Action::Create),
        count(Action::Update),
        count(Action::Replace),
        count(Action::NoOp),
        observed,
        count(Action::Missing),
        count(Action::Blocked),
    );
    if !plan.drifted() {
        out.line(0, GREEN, "No drift: live resources match the manifest.");
    }
    out.line(0, BOLD, &summary);
    let destructive = plan
        .resources
        .iter()
        .filter(|r| !r.destructive.is_empty())
        .count();
    if destructive > 0 {
        out.line(
            0,
            RED,
            &format!(
                "{destructive} resource(s) with destructive changes: they need --allow-destructive."
            ),
        );
    }
    out.text
}

fn resource(out: &mut Out, r: &ResourcePlan) {
    let (sign, color, verb) = match r.action {
        Action::NoOp => (" ", "", "unchanged"),
        Action::Create => ("+", GREEN, "create"),
        Action::Update => ("~", YELLOW, "update"),
        Action::Replace => ("-/+", RED, "replace"),
        Action::Missing => ("!", RED, "missing"),
        Action::Blocked => ("!", RED, "blocked"),
    };
    let observe =
        if r.writable() || !r.drifted() || matches!(r.action, Action::Missing | Action::Blocked) {
            ""
        } else if r.policy == crate::manifest::Policy::Manage {
            ", reported only: not written"
        } else {
            ", observe only: not written"
        };
    out.line(0, color, &format!("{sign} {} ({verb}{observe})", r.address));
    out.line(4, "", &r.id);
    if let Some(reason) = &r.reason {
        out.line(4, RED, reason);
    }
    for w in &r.warnings {
        out.line(4, YELLOW, &format!("warning: {w}"));
    }
    for s in &r.status {
        out.line(4, YELLOW, &format!("! {}", s.message));
    }
    if let (Action::Create, Some(put)) = (r.action, &r.put) {
        let mut fields = Vec::new();
        flatten("", &put.body, &mut fields);
        for (path, value) in fields {
            out.line(4, GREEN, &format!("+ {path} = {value}"));
        }
    }
    for c in &r.changes {
        let text = match c.op {
            Op::Add => format!("+ {} = {}", c.path, show(c.after.as_ref())),
            Op::Remove => format!("- {} (was {})", c.path, show(c.before.as_ref())),
            Op::Change => match set_change(c.before.as_ref(), c.after.as_ref()) {
                Some(delta) => format!("~ {}: {delta}", c.path),
                None => format!(
                    "~ {}: {} -> {}",
                    c.path,
                    show(c.before.as_ref()),
                    show(c.after.as_ref())
                ),
            },
        };
        let color = match c.op {
            Op::Add => GREEN,
            Op::Remove => RED,
            Op::Change => YELLOW,
        };
        out.line(4, color, &text);
    }
    for d in &r.destructive {
        out.line(4, RED, &format!("destructive: {d}"));
    }
}

/// For two lists of scalars, what is added and removed (`+a -b`), which reads better than two
/// whole lists when one address of an allowlist changed.
fn set_change(before: Option<&Value>, after: Option<&Value>) -> Option<String> {
    let scalars = |v: Option<&Value>| -> Option<Vec<String>> {
        v?.as_array()?
            .iter()
            .map(|i| (!i.is_object() && !i.is_array()).then(|| compact(i)))
            .collect()
    };
    let (before, after) = (scalars(before)?, scalars(after)?);
    let mut parts: Vec<String> = after
        .iter()
        .filter(|a| !before.contains(a))
        .map(|a| format!("+{a}"))
        .collect();
    parts.extend(
        before
            .iter()
            .filter(|b| !after.contains(b))
            .map(|b| format!("-{b}")),
    );
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".into(),
        Some(v) => compact(v),
    }
}

fn compact(v: &Value) -> String {
    let text = v.to_string();
    const MAX: usize = 160;
    if text.chars().count() > MAX {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    } else {
        text
    }
}

/// Scalar leaves and scalar arrays as `path = value` lines; arrays of objects are entered.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            for (i, item) in items.iter().enumerate() {
                let label = item
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or(i.to_string(), str::to_string);
                flatten(&format!("{prefix}[{label}]"), item, out);
            }
        }
        other => out.push((prefix.to_string(), compact(other))),
    }
}

/// What apply did, one line per resource that needed something.
pub fn outcomes_text(outcomes: &[crate::engine::ResourceOutcome], style: HumanStyle) -> String {
    use crate::engine::Outcome;
    let mut out = Out {
        text: String::new(),
        color: style.color,
    };
    out.line(0, BOLD, "Apply:");
    for o in outcomes {
        let (color, text) = match &o.outcome {
            Outcome::Unchanged => continue,
            Outcome::Converged { writes } => (GREEN, format!("converged ({writes} write(s))")),
            Outcome::NotConverged { writes, remaining } => (
                RED,
                format!(
                    "NOT converged after {writes} write(s): {}",
                    remaining.join("; ")
                ),
            ),
            Outcome::Reported => (YELLOW, "drift reported, not written (observe)".into()),
            Outcome::Refused { reasons } => {
                (RED, format!("refused, destructive: {}", reasons.join("; ")))
            }
            Outcome::Skipped { because } => (RED, format!("skipped: {because}")),
            Outcome::Interrupted => (YELLOW, "not started: the run was stopped".into()),
            Outcome::Failed { error } => (RED, format!("failed: {error}")),
        };
        out.line(2, color, &format!("{}: {text}", o.address));
    }
    out.text
}
