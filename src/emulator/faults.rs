//! Injected faults and ARM's request throttling. A fault table holds rules, each a match (method,
//! path substring or regex, how many times) and the fault to answer with; the throttle keeps
//! ARM's token buckets per subscription and names the `x-ms-ratelimit-remaining-subscription-*`
//! header of every answer. Both only decide; the server acts on the decision.

use std::collections::HashMap;

use std::time::Duration;

use regex_automata::meta::Regex;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::time::Instant;

use super::arm::Reply;
use super::arm_error::ArmError;
use super::lro::Outcome;

/// One rule of the fault table: requests that match get the fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// Which requests meet the fault.
    #[serde(rename = "match", default)]
    pub matches: FaultMatch,
    pub fault: Fault,
}

/// Which requests a rule applies to. Every field left out matches anything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultMatch {
    /// HTTP method, any casing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The request path (without the query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// Only the first `times` matching requests meet the fault; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// How a rule matches the request path: `{"contains": "..."}` (case-insensitive) or
/// `{"regex": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PathMatch {
    Contains(String),
    Regex(String),
}

/// What a matching request meets. Serialized with a `kind` tag, e.g.
/// `{"kind": "throttled", "retryAfterSecs": 5}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Fault {
    /// 429 `SubscriptionRequestsThrottled` with `Retry-After` and a remaining quota of 0.
    Throttled { retry_after_secs: u64 },
    /// 500 `InternalServerError`.
    InternalServerError,
    /// 503 `ServiceUnavailable`, with `Retry-After` when given.
    ServiceUnavailable {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
    },
    /// The connection is closed without a response.
    ConnectionReset,
    /// The request is served normally after this delay.
    Delay { millis: u64 },
    /// A long-running write is accepted and its operation ends `Failed` with this error.
    OperationFailed { code: String, message: String },
    /// A long-running write is accepted and its operation ends `Canceled`.
    OperationCanceled,
    /// 409 `AnotherOperationInProgress`.
    AnotherOperationInProgress,
    /// 429 `RetryableError` with a `RetryableErrorDueToAnotherOperation` detail.
    RetryableErrorDueToAnotherOperation { retry_after_secs: u64 },
    /// 400 `ReferencedResourceNotProvisioned` about `referenced` (a subnet still updating, say).
    ReferencedResourceNotProvisioned { referenced: String },
    /// 400 `PrincipalNotFound` about `principal_id`, as Microsoft.Authorization answers it.
    PrincipalNotFound { principal_id: String },
}

impl FaultRule {
    /// A rule that gives every request `fault`; narrow it with the other builders.
    pub fn new(fault: Fault) -> FaultRule {
        FaultRule {
            matches: FaultMatch::default(),
            fault,
        }
    }

    pub fn method(mut self, method: &str) -> FaultRule {
        self.matches.method = Some(method.to_owned());
        self
    }

    pub fn path_contains(mut self, fragment: &str) -> FaultRule {
        self.matches.path = Some(PathMatch::Contains(fragment.to_owned()));
        self
    }

    pub fn path_regex(mut self, pattern: &str) -> FaultRule {
        self.matches.path = Some(PathMatch::Regex(pattern.to_owned()));
        self
    }

    pub fn times(mut self, times: u32) -> FaultRule {
        self.matches.times = Some(times);
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error("invalid path regex {pattern:?}: {reason}")]
    Regex { pattern: String, reason: String },
}

#[derive(Debug)]
struct Entry {
    rule: FaultRule,
    regex: Option<Regex>,
    hits: u32,
}

impl Entry {
    fn new(rule: FaultRule) -> Result<Entry, FaultError> {
        let regex = match &rule.matches.path {
            Some(PathMatch::Regex(pattern)) => {
                Some(Regex::new(pattern).map_err(|e| FaultError::Regex {
                    pattern: pattern.clone(),
                    reason: e.to_string(),
                })?)
            }
            _ => None,
        };
        Ok(Entry {
            rule,
            regex,
            hits: 0,
        })
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let m = &self.rule.matches;
        let method_ok = m
            .method
            .as_deref()
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method));
        let path_ok = match (&m.path, &self.regex) {
            (Some(PathMatch::Contains(fragment)), _) => path
                .to_ascii_lowercase()
                .contains(&fragment.to_ascii_lowercase()),
            (Some(PathMatch::Regex(_)), Some(regex)) => regex.is_match(path),
            _ => true,
        };
        let left = m.times.is_none_or(|times| self.hits < times);
        method_ok && path_ok && left
    }
}

/// The fault table: rules in order, the first one that matches wins.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    entries: Vec<Entry>,
}

impl FaultTable {
    /// Replaces every rule.
    pub fn set(&mut self, rules: Vec<FaultRule>) -> Result<(), FaultError> {
        self.entries = rules
            .into_iter()
            .map(Entry::new)
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    pub fn add(&mut self, rule: FaultRule) -> Result<(), FaultError> {
        self.entries.push(Entry::new(rule)?);
        Ok(())
    }

    pub fn rules(&self) -> Vec<FaultRule> {
        self.entries.iter().map(|e| e.rule.clone()).collect()
    }

    /// The fault a request meets, counting it against the rule's `times`.
    pub fn take(&mut self, method: &str, path: &str) -> Option<Fault> {
        let entry = self
            .entries
            .iter_mut()
            .find(|entry| entry.matches(method, path))?;
        entry.hits += 1;
        Some(entry.rule.fault.clone())
    }
}

/// One of ARM's token buckets: `capacity` requests at once, refilled at `per_second` tokens a
/// second (a fraction allowed, for slow refills in tests).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BucketLimit {
    pub capacity: u32,
    pub per_second: f64,
}

/// ARM's per-subscription throttling limits, one bucket per kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimits {
    pub reads: BucketLimit,
    pub writes: BucketLimit,
    pub deletes: BucketLimit,
}

impl RateLimits {
    /// ARM's documented token buckets per subscription and region: reads 250 refilled at 25 per
    /// second, writes and deletes 200 refilled at 10 per second.
    pub const ARM: RateLimits = RateLimits {
        reads: BucketLimit {
            capacity: 250,
            per_second: 25.0,
        },
        writes: BucketLimit {
            capacity: 200,
            per_second: 10.0,
        },
        deletes: BucketLimit {
            capacity: 200,
            per_second: 10.0,
        },
    };

    fn limit(&self, class: RequestClass) -> BucketLimit {
        match class {
            RequestClass::Read => self.reads,
            RequestClass::Write => self.writes,
            RequestClass::Delete => self.deletes,
        }
    }
}

/// Which bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RequestClass {
    Read,
    Write,
    Delete,
}

impl RequestClass {
    pub fn of(method: &str) -> RequestClass {
        match method {
            "GET" | "HEAD" => RequestClass::Read,
            "DELETE" => RequestClass::Delete,
            _ => RequestClass::Write,
        }
    }

    /// The response header that reports the bucket's remaining tokens.
    pub fn header(self) -> &'static str {
        match self {
            RequestClass::Read => "x-ms-ratelimit-remaining-subscription-reads",
            RequestClass::Write => "x-ms-ratelimit-remaining-subscription-writes",
            RequestClass::Delete => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }

    /// How ARM names the kind in its throttling message.
    pub fn noun(self) -> &'static str {
        match self {
            RequestClass::Read => "read",
            RequestClass::Write => "write",
            RequestClass::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What the throttle decided about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Served; `remaining` tokens are left in the bucket.
    Admitted { remaining: u32 },
    /// Refused; a token is due after `retry_after_secs`.
    Throttled { retry_after_secs: u64 },
}

/// ARM's throttling: enforced token buckets when limits are set; otherwise every request is
/// admitted and the header reports a full bucket (less this request), as an idle subscription
/// shows.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    limits: Option<RateLimits>,
    buckets: HashMap<(String, RequestClass), Bucket>,
}

impl Throttle {
    pub fn set_limits(&mut self, limits: Option<RateLimits>) {
        self.limits = limits;
        self.buckets.clear();
    }

    pub fn admit(&mut self, subscription: &str, class: RequestClass, now: Instant) -> Admission {
        let Some(limits) = self.limits else {
            let full = RateLimits::ARM.limit(class).capacity;
            return Admission::Admitted {
                remaining: full - 1,
            };
        };
        let limit = limits.limit(class);
        let bucket = self
            .buckets
            .entry((subscription.to_ascii_lowercase(), class))
            .or_insert(Bucket {
                tokens: f64::from(limit.capacity),
                at: now,
            });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.per_second).min(f64::from(limit.capacity));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Admission::Admitted {
                remaining: bucket.tokens.floor() as u32,
            }
        } else {
            let missing = 1.0 - bucket.tokens;
            let wait = (missing / limit.per_second.max(f64::MIN_POSITIVE)).ceil();
            // Saturates for a bucket that never refills.
            let wait = wait as u64;
            Admission::Throttled {
                retry_after_secs: wait.max(1),
            }
        }
    }
}

/// What the server does with a request, once throttling and the fault table have had their say.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    /// Answer with this instead of serving the request.
    Answer(Reply),
    /// Close the connection without a response.
    Drop,
    /// Serve the request after `delay`; a long-running write it starts ends with `outcome`.
    Serve { delay: Duration, outcome: Outcome },
}

impl Plan {
    const NORMAL: Plan = Plan::Serve {
        delay: Duration::ZERO,
        outcome: Outcome::Succeeded,
    };

    /// The plan for a request to `path` that the throttle refused, or that met `fault`.
    /// `operations_url` is where the 409's message points for the running operation.
    pub fn decide(
        admission: Option<(Admission, RequestClass, &str)>,
        fault: Option<Fault>,
        path: &str,
        operations_url: &str,
    ) -> Plan {
        if let Some((Admission::Throttled { retry_after_secs }, class, subscription)) = admission {
            return throttled(class, subscription, retry_after_secs);
        }
        let Some(fault) = fault else {
            return Plan::NORMAL;
        };
        let error = |error: ArmError| Plan::Answer(Reply::from(error));
        match fault {
            Fault::Throttled { retry_after_secs } => {
                let (class, subscription) =
                    admission.map_or((RequestClass::Read, ""), |(_, class, sub)| (class, sub));
                throttled(class, subscription, retry_after_secs)
            }
            Fault::InternalServerError => error(ArmError::internal_server_error()),
            Fault::ServiceUnavailable { retry_after_secs } => {
                let reply = Reply::from(ArmError::service_unavailable());
                Plan::Answer(match retry_after_secs {
                    Some(secs) => reply.header("retry-after", secs.to_string()),
                    None => reply,
                })
            }
            Fault::ConnectionReset => Plan::Drop,
            Fault::Delay { millis } => Plan::Serve {
                delay: Duration::from_millis(millis),
                outcome: Outcome::Succeeded,
            },
            Fault::OperationFailed { code, message } => Plan::Serve {
                delay: Duration::ZERO,
                outcome: Outcome::Failed(json!({ "code": code, "message": message })),
            },
            Fault::OperationCanceled => Plan::Serve {
                delay: Duration::ZERO,
                outcome: Outcome::Canceled(json!({
                    "code": "Canceled",
                    "message": "Operation was canceled.",
                })),
            },
            Fault::AnotherOperationInProgress => {
                let url = format!("{operations_url}/{}", uuid::Uuid::new_v4());
                error(ArmError::another_operation_in_progress(path, &url))
            }
            Fault::RetryableErrorDueToAnotherOperation { retry_after_secs } => Plan::Answer(
                Reply::from(ArmError::retryable_due_to_another_operation(
                    path,
                    retry_after_secs,
                ))
                .header("retry-after", retry_after_secs.to_string()),
            ),
            Fault::ReferencedResourceNotProvisioned { referenced } => error(
                ArmError::referenced_not_provisioned(&referenced, path, "Updating"),
            ),
            Fault::PrincipalNotFound { principal_id } => error(ArmError::principal_not_found(
                &principal_id,
                super::types::TENANT_ID,
            )),
        }
    }
}

fn throttled(class: RequestClass, subscription: &str, retry_after_secs: u64) -> Plan {
    Plan::Answer(
        Reply::from(ArmError::subscription_throttled(
            class.noun(),
            subscription,
            retry_after_secs,
        ))
        .header("retry-after", retry_after_secs.to_string())
        .header(class.header(), "0"),
    )
}

/// The subscription ID of an ARM path (`/subscriptions/{id}/...`), if it has one.
pub(crate) fn subscription_of(path: &str) -> Option<&str> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.next()?;
    first
        .eq_ignore_ascii_case("subscriptions")
        .then(|| segments.next())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rules_match_method_path_and_count() {
        let mut table = FaultTable::default();
        table
            .add(
                FaultRule::new(Fault::InternalServerError)
                    .method("put")
                    .path_contains("APPLICATIONGATEWAYS")
                    .times(2),
            )
            .unwrap();
        table
            .add(FaultRule::new(Fault::ConnectionReset).path_regex(r"/virtualNetworks/[^/]+$"))
            .unwrap();
        let gw =
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/applicationGateways/a";
        assert_eq!(table.take("GET", gw), None);
        assert_eq!(table.take("PUT", gw), Some(Fault::InternalServerError));
        assert_eq!(table.take("PUT", gw), Some(Fault::InternalServerError));
        assert_eq!(table.take("PUT", gw), None, "only the first two");
        let vnet =
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v";
        assert_eq!(table.take("GET", vnet), Some(Fault::ConnectionReset));
        assert_eq!(table.take("GET", &format!("{vnet}/subnets/x")), None);
    }

    #[test]
    fn a_bad_regex_is_refused() {
        let mut table = FaultTable::default();
        assert!(
            table
                .add(FaultRule::new(Fault::InternalServerError).path_regex("("))
                .is_err()
        );
    }

    #[test]
    fn rules_read_from_json() {
        let rules: Vec<FaultRule> = serde_json::from_str(
            r#"[{"match":{"method":"PUT","path":{"contains":"peerings"},"times":1},
                 "fault":{"kind":"throttled","retryAfterSecs":7}},
                {"fault":{"kind":"operationFailed","code":"InternalServerError","message":"boom"}}]"#,
        )
        .unwrap();
        assert_eq!(
            rules[0],
            FaultRule::new(Fault::Throttled {
                retry_after_secs: 7
            })
            .method("PUT")
            .path_contains("peerings")
            .times(1)
        );
        assert!(matches!(rules[1].fault, Fault::OperationFailed { .. }));
    }

    #[test]
    fn buckets_drain_and_refill() {
        let mut throttle = Throttle::default();
        let t0 = Instant::now();
        assert_eq!(
            throttle.admit("s", RequestClass::Write, t0),
            Admission::Admitted { remaining: 199 },
            "without limits the header reports an idle subscription"
        );
        throttle.set_limits(Some(RateLimits {
            writes: BucketLimit {
                capacity: 2,
                per_second: 1.0,
            },
            ..RateLimits::ARM
        }));
        let admit = |t: &mut Throttle, at| t.admit("s", RequestClass::Write, at);
        assert_eq!(
            admit(&mut throttle, t0),
            Admission::Admitted { remaining: 1 }
        );
        assert_eq!(
            admit(&mut throttle, t0),
            Admission::Admitted { remaining: 0 }
        );
        assert_eq!(
            admit(&mut throttle, t0),
            Admission::Throttled {
                retry_after_secs: 1
            }
        );
        assert_eq!(
            throttle.admit("other", RequestClass::Write, t0),
            Admission::Admitted { remaining: 1 },
            "buckets are per subscription"
        );
        assert_eq!(
            throttle.admit("s", RequestClass::Read, t0),
            Admission::Admitted { remaining: 249 },
            "reads have their own bucket"
        );
        assert_eq!(
            admit(&mut throttle, t0 + Duration::from_secs(1)),
            Admission::Admitted { remaining: 0 }
        );
    }

    #[test]
    fn subscription_is_read_from_the_path() {
        assert_eq!(
            subscription_of("/subscriptions/abc/resourceGroups/r"),
            Some("abc")
        );
        assert_eq!(subscription_of("/providers/Microsoft.Network"), None);
    }
}
