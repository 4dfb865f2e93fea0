//! The executor: reads live state, plans, applies the plan and verifies it. The imperative shell
//! around the pure planner: all ARM I/O of a run happens here and in `arm`.
//!
//! Invariants: an unchanged resource costs one GET and no write; a resource gets at most one
//! PUT per run, except that a PUT superseded by a concurrent writer (a 412 on its `If-Match`, or
//! its operation `Canceled` by a later one) is re-planned from a fresh GET, never replayed;
//! `dry_run` never writes; a destructive change is never applied without `allow_destructive`;
//! a resource with someone else's operation still running on it is read again until it settles,
//! never planned or written mid-operation; no write starts after a [`Stop`] is requested.

use crate::arm::{ArmClient, ArmError, Disposition, PutOptions};
use crate::certificates::{self, CertificateHealth};
use crate::kinds::{self, Desired, Repair, live_ref};
use crate::plan::{Action, Live, Plan, ResourcePlan, plan, plan_resource};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    pub dry_run: bool,
    pub allow_destructive: bool,
    /// How many ARM reads or writes may be in flight at once.
    pub concurrency: usize,
    /// How many resources of one subscription may be written at once: ARM's quotas and its
    /// conflicts between operations are per subscription, whatever the overall bound.
    pub per_subscription: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            dry_run: true,
            allow_destructive: false,
            concurrency: 8,
            per_subscription: 4,
        }
    }
}

/// A request to stop a run (a container being stopped): writes not yet started are not
/// started; those in flight run to their end. Cheap to clone; clones share the request, and
/// record which resources are being written.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    inner: Arc<StopState>,
}

#[derive(Debug, Default)]
struct StopState {
    requested: AtomicBool,
    in_flight: Mutex<BTreeSet<String>>,
}

impl Stop {
    pub fn request(&self) {
        self.inner.requested.store(true, Ordering::SeqCst);
    }

    pub fn requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    /// The addresses of the resources being written right now.
    pub fn in_flight(&self) -> Vec<String> {
        self.writes().iter().cloned().collect()
    }

    fn writes(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Marks a resource as being written for as long as it lives.
struct Writing<'s> {
    stop: &'s Stop,
    address: String,
}

impl<'s> Writing<'s> {
    fn start(stop: &'s Stop, address: &str) -> Writing<'s> {
        stop.writes().insert(address.to_owned());
        Writing {
            stop,
            address: address.to_owned(),
        }
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.stop.writes().remove(&self.address);
    }
}

/// How many times a PUT superseded by a concurrent writer is re-planned before giving up.
const MAX_REPLANS: usize = 2;

/// What happened to one resource during apply.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Outcome {
    /// Nothing to write.
    Unchanged,
    /// Written, and a GET afterwards matched the manifest.
    Converged {
        writes: usize,
    },
    /// Written, but the resource still differs.
    NotConverged {
        writes: usize,
        remaining: Vec<String>,
    },
    /// Drift azrecon may not fix (observe policy, a resource it only refers to).
    Reported,
    /// A destructive change, refused without `--allow-destructive`.
    Refused {
        reasons: Vec<String>,
    },
    /// Not attempted because something it depends on was not applied.
    Skipped {
        because: String,
    },
    /// Not started because the run was asked to stop; a later run picks it up.
    Interrupted,
    Failed {
        error: String,
    },
}

#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ResourceOutcome {
    pub address: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Reads every desired resource, concurrently with a bound, each once settled (see
/// [`ArmClient::get_settled`]). 404 is `None`; any other error fails the read, carrying the
/// resource's ID.
pub async fn read_live(
    arm: &ArmClient,
    desired: &[Desired],
    concurrency: usize,
) -> Result<HashMap<String, Option<Live>>, ArmError> {
    let reads = stream::iter(desired.iter().map(|d| async move {
        let fetched = arm.get_settled(&d.id, d.kind.api_version()).await?;
        Ok::<_, ArmError>((d.id.to_ascii_lowercase(), fetched.map(into_live)))
    }))
    .buffer_unordered(concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    reads.into_iter().collect()
}

fn into_live(f: crate::arm::Fetched) -> Live {
    Live {
        body: f.body,
        etag: f.etag,
    }
}

/// Reads live state and plans: the whole of a dry run. Certificate health is checked too.
pub async fn plan_live(
    arm: &ArmClient,
    desired: &[Desired],
    concurrency: usize,
) -> Result<Plan, ArmError> {
    plan_live_with(arm, desired, concurrency, CertificateHealth::Check).await
}

/// [`plan_live`], saying whether certificate health is checked.
pub async fn plan_live_with(
    arm: &ArmClient,
    desired: &[Desired],
    concurrency: usize,
    certificate_health: CertificateHealth,
) -> Result<Plan, ArmError> {
    let live = read_live(arm, desired, concurrency).await?;
    let mut plan = plan(desired, &live);
    if certificate_health == CertificateHealth::Check {
        // Read outside ARM, on the Key Vault data plane; its findings join the plan's.
        let now = time::OffsetDateTime::now_utc();
        plan.findings
            .extend(certificates::check(arm, desired, now).await);
    }
    Ok(plan)
}

/// Applies a plan, wave by wave, each wave concurrently with a bound. Returns one outcome per
/// resource, in plan order.
pub async fn apply(
    arm: &ArmClient,
    desired: &[Desired],
    plan: &Plan,
    opts: RunOptions,
) -> Vec<ResourceOutcome> {
    apply_until(arm, desired, plan, opts, &Stop::default()).await
}

/// [`apply`] that starts no write once `stop` is requested: those resources are `Interrupted`,
/// and the writes in flight run to their end.
pub async fn apply_until(
    arm: &ArmClient,
    desired: &[Desired],
    plan: &Plan,
    opts: RunOptions,
    stop: &Stop,
) -> Vec<ResourceOutcome> {
    let per_subscription = SubscriptionLimits::new(opts.per_subscription);
    let by_id: HashMap<String, &Desired> = desired
        .iter()
        .map(|d| (d.id.to_ascii_lowercase(), d))
        .collect();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; plan.resources.len()];
    let index: HashMap<String, usize> = plan
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.to_ascii_lowercase(), i))
        .collect();
    for wave in &plan.waves {
        let runs = wave.iter().map(|&i| {
            let resource = &plan.resources[i];
            let blocked = resource.depends_on.iter().find_map(|dep| {
                let j = *index.get(&dep.to_ascii_lowercase())?;
                let failed = matches!(
                    outcomes[j],
                    Some(
                        Outcome::Failed { .. }
                            | Outcome::Refused { .. }
                            | Outcome::Skipped { .. }
                            | Outcome::NotConverged { .. }
                            | Outcome::Interrupted
                    )
                ) && plan.resources[j].action != Action::NoOp;
                failed.then(|| plan.resources[j].address.clone())
            });
            let desired = by_id.get(&resource.id.to_ascii_lowercase()).copied();
            let per_subscription = &per_subscription;
            async move {
                let outcome = match (blocked, desired) {
                    (Some(dep), _) => Outcome::Skipped {
                        because: format!("{dep} was not applied"),
                    },
                    (None, Some(desired)) => {
                        let _permit = per_subscription.acquire(&desired.id).await;
                        apply_one(arm, desired, resource, opts, stop).await
                    }
                    (None, None) => Outcome::Failed {
                        error: "the plan names a resource the manifest does not".into(),
                    },
                };
                (i, outcome)
            }
        });
        let done: Vec<(usize, Outcome)> = stream::iter(runs)
            .buffer_unordered(opts.concurrency.max(1))
            .collect()
            .await;
        for (i, outcome) in done {
            outcomes[i] = Some(outcome);
        }
    }
    plan.resources
        .iter()
        .zip(outcomes)
        .map(|(r, o)| ResourceOutcome {
            address: r.address.clone(),
            outcome: o.expect("every wave member has an outcome"),
        })
        .collect()
}

/// One semaphore per subscription, made on first use.
struct SubscriptionLimits {
    permits: usize,
    semaphores: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl SubscriptionLimits {
    fn new(permits: usize) -> SubscriptionLimits {
        SubscriptionLimits {
            permits: permits.max(1),
            semaphores: Mutex::new(HashMap::new()),
        }
    }

    async fn acquire(&self, resource_id: &str) -> tokio::sync::OwnedSemaphorePermit {
        let subscription = resource_id
            .split('/')
            .nth(2)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let semaphore = self
            .semaphores
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(subscription)
            .or_insert_with(|| Arc::new(Semaphore::new(self.permits)))
            .clone();
        semaphore
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }
}

async fn apply_one(
    arm: &ArmClient,
    desired: &Desired,
    planned: &ResourcePlan,
    opts: RunOptions,
    stop: &Stop,
) -> Outcome {
    if !planned.drifted() {
        return Outcome::Unchanged;
    }
    if matches!(planned.action, Action::Missing | Action::Blocked) {
        return Outcome::Failed {
            error: planned.reason.clone().unwrap_or_default(),
        };
    }
    if !planned.writable() || planned.put.is_none() {
        return Outcome::Reported;
    }
    if !planned.destructive.is_empty() && !opts.allow_destructive {
        return Outcome::Refused {
            reasons: planned.destructive.clone(),
        };
    }
    if opts.dry_run {
        return Outcome::Reported;
    }
    if stop.requested() {
        return Outcome::Interrupted;
    }
    let _writing = Writing::start(stop, &planned.address);
    let mut current = planned.clone();
    let resolved;
    let desired = if live_ref::referenced_ids(&desired.body).is_empty() {
        desired
    } else {
        resolved = match with_live_values(arm, desired, &mut current).await {
            Ok(resolved) => resolved,
            Err(e) => return failed(e),
        };
        &resolved
    };
    if let Some(put) = &current.put
        && let Some(unknown) = live_ref::referenced_ids(&put.body).first()
    {
        return Outcome::Failed {
            error: format!("{unknown} does not exist, and the body needs a value from it"),
        };
    }
    let api_version = desired.kind.api_version();
    let mut writes = 0;
    for attempt in 0..=MAX_REPLANS {
        let put = current.put.clone().expect("a writable plan has a PUT");
        if current.action == Action::Replace {
            if let Err(e) = arm.delete(&desired.id, api_version).await {
                return failed(e);
            }
            writes += 1;
        }
        let options = PutOptions {
            query: put.query.clone(),
            if_match: put.if_match.clone(),
            if_none_match: None,
        };
        match arm.put(&desired.id, api_version, &put.body, &options).await {
            Ok(body) => {
                writes += 1;
                return verify(desired, body, writes);
            }
            Err(e) if e.superseded() && attempt < MAX_REPLANS => {
                // Another writer changed the resource since it was read: the body is stale.
                tracing::warn!(resource = %desired.id, error = %e, "superseded by another writer; planning again from a fresh read");
                let fresh = match arm.get_settled(&desired.id, api_version).await {
                    Ok(f) => f.map(into_live),
                    Err(e) => return failed(e),
                };
                current = plan_resource(desired, fresh.as_ref());
                if !current.drifted() {
                    return Outcome::Converged { writes };
                }
                if !current.destructive.is_empty() && !opts.allow_destructive {
                    return Outcome::Refused {
                        reasons: current.destructive,
                    };
                }
                if current.put.is_none() {
                    return Outcome::Reported;
                }
            }
            Err(e) => return failed(e),
        }
    }
    Outcome::Failed {
        error: "the resource kept changing under concurrent writers".into(),
    }
}

/// Fills the values only ARM knows (live references) into the desired resource and the planned
/// PUT, from a fresh GET of each resource they refer to: one created earlier in this run was
/// not there when the plan was made.
async fn with_live_values(
    arm: &ArmClient,
    desired: &Desired,
    planned: &mut ResourcePlan,
) -> Result<Desired, ArmError> {
    let mut bodies = HashMap::new();
    for id in live_ref::referenced_ids(&desired.body) {
        let Some(kind) = kinds::by_resource_id(&id) else {
            continue;
        };
        if let Some(fetched) = arm.get(&id, kind.api_version()).await? {
            bodies.insert(id.to_ascii_lowercase(), fetched.body);
        }
    }
    let lookup = |id: &str| bodies.get(&id.to_ascii_lowercase()).cloned();
    let mut resolved = desired.clone();
    live_ref::resolve(&mut resolved.body, &lookup);
    if let Some(put) = &mut planned.put {
        live_ref::resolve(&mut put.body, &lookup);
    }
    Ok(resolved)
}

/// The body ARM returned after the write, planned again: anything left is non-convergence,
/// except status that only people outside azrecon can change (a connection awaiting its
/// approval), which no write could have fixed and the plan already reports.
fn verify(desired: &Desired, body: serde_json::Value, writes: usize) -> Outcome {
    let after = plan_resource(desired, Some(&Live { body, etag: None }));
    let mut remaining: Vec<String> = after.changes.iter().map(|c| c.path.clone()).collect();
    remaining.extend(
        after
            .status
            .iter()
            .filter(|s| s.repair != Repair::Report)
            .map(|s| s.message.clone()),
    );
    if !remaining.is_empty() {
        return Outcome::NotConverged { writes, remaining };
    }
    Outcome::Converged { writes }
}

/// A failure, said with whether it was final or a transient one that outlasted the retries.
fn failed(e: ArmError) -> Outcome {
    let kind = match e.disposition() {
        Disposition::Final => "final",
        Disposition::Retry => "retryable, still failing after the retries",
    };
    Outcome::Failed {
        error: format!("{e} [{kind}]"),
    }
}
