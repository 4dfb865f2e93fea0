//! The plan: a value saying, for every desired resource, what differs and what azrecon will do.
//!
//! `plan` is pure: desired resources and what ARM answered in, a `Plan` out. Apply reads only the
//! plan; the renderers (human, JSON) live in `render`. Resources are ordered by dependency, so
//! the executor can run each wave concurrently.

use crate::diff::{self, FieldChange, Op};
use crate::kinds::{Desired, Repair, StatusIssue, live_ref};
use crate::manifest::Policy;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

/// A live resource as a GET returned it.
#[derive(Clone, Debug, PartialEq)]
pub struct Live {
    pub body: Value,
    pub etag: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Live matches desired: nothing to do, and nothing is written.
    NoOp,
    Create,
    Update,
    /// Delete, then create again (a disconnected peering).
    Replace,
    /// A resource that must already exist does not: an error, with its dependents blocked.
    Missing,
    /// A resource it depends on is missing, so it cannot be planned.
    Blocked,
}

/// What will happen to one resource, and why.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePlan {
    pub address: String,
    pub kind: &'static str,
    pub id: String,
    pub api_version: &'static str,
    pub policy: Policy,
    pub action: Action,
    /// Field differences, desired against live.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Drift in the resource's state rather than its fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<StatusIssue>,
    /// Why the change is destructive; such changes need `--allow-destructive`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destructive: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub origin: String,
    /// What to send, when something is to be sent.
    #[serde(skip)]
    pub put: Option<Put>,
    #[serde(skip)]
    pub depends_on: Vec<String>,
}

/// A PUT ready to send: the body, its query, and the etag it was planned against.
#[derive(Clone, Debug, PartialEq)]
pub struct Put {
    pub body: Value,
    pub query: Vec<(String, String)>,
    pub if_match: Option<String>,
}

impl ResourcePlan {
    /// Whether the resource differs from what the manifest wants.
    pub fn drifted(&self) -> bool {
        !matches!(self.action, Action::NoOp)
    }
    /// Whether azrecon is allowed to write it at all, and has something to write: drift that
    /// only people can repair (a pending approval) has no PUT.
    pub fn writable(&self) -> bool {
        self.policy == Policy::Manage
            && self.put.is_some()
            && matches!(
                self.action,
                Action::Create | Action::Update | Action::Replace
            )
    }
}

/// Something found by looking across resources (or outside ARM), rather than in one body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// The address of the resource it is about.
    pub subject: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// Worth knowing; does not fail a drift check.
    Warning,
    /// Fails a drift check (`--dry-run` exits 2) although no field differs.
    Drift,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub format_version: &'static str,
    /// Resources in dependency waves: each wave only depends on earlier ones.
    pub resources: Vec<ResourcePlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub waves: Vec<Vec<usize>>,
}

pub const FORMAT_VERSION: &str = "1";

impl Plan {
    pub fn drifted(&self) -> bool {
        self.resources.iter().any(ResourcePlan::drifted)
            || self.findings.iter().any(|f| f.severity == Severity::Drift)
    }
    pub fn has_errors(&self) -> bool {
        self.resources
            .iter()
            .any(|r| matches!(r.action, Action::Missing | Action::Blocked))
    }
}

/// Plans one resource against what ARM returned for it (`None`: 404).
/// A resource whose last operation failed or was canceled (`provisioningState` `Failed`) is in
/// an undefined state even when its fields match: ARM's remedy is a PUT of the same body.
fn failed_provisioning(live: &serde_json::Value) -> Option<StatusIssue> {
    let state = live.pointer("/properties/provisioningState")?.as_str()?;
    state.eq_ignore_ascii_case("Failed").then(|| StatusIssue {
        message: "provisioningState is Failed: the last operation on it did not succeed".into(),
        repair: Repair::Put { query: Vec::new() },
    })
}

pub fn plan_resource(desired: &Desired, live: Option<&Live>) -> ResourcePlan {
    let kind = desired.kind;
    let mut plan = ResourcePlan {
        address: desired.address.clone(),
        kind: kind.name(),
        id: desired.id.clone(),
        api_version: kind.api_version(),
        policy: desired.policy,
        action: Action::NoOp,
        changes: Vec::new(),
        status: Vec::new(),
        destructive: Vec::new(),
        reason: None,
        warnings: desired.warnings.clone(),
        origin: desired.origin.to_string(),
        put: None,
        depends_on: desired.depends_on.clone(),
    };
    let Some(live) = live else {
        if desired.existing_only {
            plan.action = Action::Missing;
            plan.reason = Some(format!(
                "{} does not exist; azrecon only refers to it (declared at {})",
                desired.id, desired.origin
            ));
        } else {
            plan.action = Action::Create;
            plan.put = Some(Put {
                body: desired.body.clone(),
                query: Vec::new(),
                if_match: None,
            });
        }
        return plan;
    };
    let exclusive = desired.exclusive;
    let mut live_body = live.body.clone();
    diff::strip(&mut live_body, kind.read_only());
    kind.normalize(&mut live_body);
    plan.changes = diff::diff(&desired.body, &live_body, kind.rules(), exclusive);
    plan.status = kind.status(&live.body);
    plan.status.extend(failed_provisioning(&live.body));
    plan.destructive = plan
        .changes
        .iter()
        .filter_map(|c| {
            kind.destructive(c)
                .or_else(|| (c.op == Op::Remove).then(|| format!("{} is removed", c.path)))
        })
        .collect();
    let replace = plan.status.iter().any(|s| s.repair == Repair::Replace);
    let put_repair = plan
        .status
        .iter()
        .any(|s| matches!(s.repair, Repair::Put { .. }));
    let query: Vec<(String, String)> = plan
        .status
        .iter()
        .filter_map(|s| match &s.repair {
            Repair::Put { query } => Some(query.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let reported_only =
        !plan.status.is_empty() && plan.status.iter().all(|s| s.repair == Repair::Report);
    plan.action = if replace {
        Action::Replace
    } else if !plan.changes.is_empty() || put_repair || reported_only {
        Action::Update
    } else {
        Action::NoOp
    };
    if desired.existing_only {
        // Referred-to resources are never written; their drift is reported only.
        plan.policy = Policy::Observe;
        return plan;
    }
    plan.put = match plan.action {
        Action::Replace => Some(Put {
            body: desired.body.clone(),
            query: Vec::new(),
            if_match: None,
        }),
        Action::Update if !reported_only => Some(Put {
            body: diff::merge(&live_body, &desired.body, kind.rules(), exclusive),
            query,
            if_match: live.etag.clone(),
        }),
        _ => None,
    };
    plan
}

/// The desired resource with the values only ARM knows (live references) filled in from what
/// ARM returned. A reference to a resource that does not exist yet stays, to be resolved when
/// it is applied.
fn with_live_values<'d>(
    desired: &'d Desired,
    live: &HashMap<String, Option<Live>>,
) -> Cow<'d, Desired> {
    if live_ref::referenced_ids(&desired.body).is_empty() {
        return Cow::Borrowed(desired);
    }
    let mut resolved = desired.clone();
    live_ref::resolve(&mut resolved.body, &|id: &str| {
        live.get(&id.to_ascii_lowercase())?
            .as_ref()
            .map(|l| l.body.clone())
    });
    Cow::Owned(resolved)
}

/// Plans every desired resource, in dependency waves. `live` maps lower-cased ARM IDs to what
/// GET returned (`None` for 404); a resource absent from the map is planned as not found.
pub fn plan(desired: &[Desired], live: &HashMap<String, Option<Live>>) -> Plan {
    let position: HashMap<String, usize> = desired
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.to_ascii_lowercase(), i))
        .collect();
    let edges: Vec<Vec<usize>> = desired
        .iter()
        .map(|d| {
            d.depends_on
                .iter()
                .filter_map(|dep| position.get(&dep.to_ascii_lowercase()).copied())
                .collect()
        })
        .collect();
    let waves = crate::graph::waves(&edges);
    let mut resources: Vec<Option<ResourcePlan>> = vec![None; desired.len()];
    for &i in waves.iter().flatten() {
        let d = &desired[i];
        let blocker = edges[i].iter().find_map(|&dep| {
            resources[dep]
                .as_ref()
                .filter(|p| matches!(p.action, Action::Missing | Action::Blocked))
                .map(|p| p.address.clone())
        });
        let mut p = plan_resource(
            &with_live_values(d, live),
            live.get(&d.id.to_ascii_lowercase())
                .and_then(Option::as_ref),
        );
        if let Some(blocker) = blocker {
            p.action = Action::Blocked;
            p.put = None;
            p.reason = Some(format!("it depends on {blocker}, which is missing"));
        }
        resources[i] = Some(p);
    }
    let order: Vec<usize> = waves.iter().flatten().copied().collect();
    let mut renumber = vec![0; desired.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = new;
    }
    Plan {
        format_version: FORMAT_VERSION,
        resources: order
            .iter()
            .map(|&i| resources[i].take().expect("every resource is planned"))
            .collect(),
        findings: crate::checks::run(desired, live),
        waves: waves
            .iter()
            .map(|w| w.iter().map(|&i| renumber[i]).collect())
            .collect(),
    }
}
