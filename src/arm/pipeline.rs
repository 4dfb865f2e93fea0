//! Assembles the azure_core `Pipeline` every ARM request goes through: per-call policies
//! (client request id, from azure_core), then the retry policy, then per-try policies (bearer
//! token for the cloud's scope, our user agent, the request counter, pacing by ARM's remaining
//! quota, azure_core's sanitized logging), then a
//! `reqwest` transport that trusts an extra root CA when one is given.
//!
//! The retry policy here handles faults below ARM's error model: no response at all (I/O,
//! connection) and the statuses the error classifier calls transient. It honours
//! `Retry-After`, capped by [`PipelineRetry::max_delay`] so a far-off date cannot stall a run.

use super::calls::{CallCounter, CountCalls};
use super::error::{ArmError, RETRYABLE_STATUSES};
use super::pacing::{Pacer, PacingPolicy};
use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{
    HeaderName, HeaderValue, RETRY_AFTER, RETRY_AFTER_MS, USER_AGENT, X_MS_RETRY_AFTER_MS,
};
use azure_core::http::policies::{
    Policy, PolicyResult, RetryHeaders, RetryPolicy, auth::BearerTokenAuthorizationPolicy,
};
use azure_core::http::{
    ClientOptions, Context, HttpClient, Pipeline, Request, RetryOptions, StatusCode, Transport,
};
use azure_core::time::Duration as CoreDuration;
use std::sync::Arc;
use std::time::Duration;

/// Bounds of the pipeline's retries of one request.
#[derive(Clone, Debug)]
pub struct PipelineRetry {
    /// Retries after the first try.
    pub max_retries: u32,
    /// Backoff before the first retry; it doubles per retry, with jitter.
    pub initial_delay: Duration,
    /// The longest single wait, including one asked for by `Retry-After`.
    pub max_delay: Duration,
    /// No retry starts after this much time since the first try.
    pub max_elapsed: Duration,
}

impl Default for PipelineRetry {
    fn default() -> Self {
        PipelineRetry {
            max_retries: 6,
            initial_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(180),
        }
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// The HTTP client under the pipeline. ARM does not redirect, so redirects are not followed
/// (following one would carry the bearer token elsewhere). A try that takes longer than
/// `request_timeout` fails as an I/O error, which the retry policy retries.
pub fn http_client(
    extra_root_ca_pem: Option<&str>,
    request_timeout: Duration,
) -> Result<Arc<dyn HttpClient>, ArmError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(request_timeout))
        .timeout(request_timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = extra_root_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| ArmError::Config(format!("extra root CA: {e}")))?;
        if certs.is_empty() {
            return Err(ArmError::Config(
                "extra root CA: no certificate in the PEM text".into(),
            ));
        }
        builder = builder.tls_certs_merge(certs);
    }
    let client = builder
        .build()
        .map_err(|e| ArmError::Config(format!("HTTP client: {e}")))?;
    Ok(Arc::new(client))
}

/// The pipeline for one token scope.
pub fn build(
    http: Arc<dyn HttpClient>,
    credential: Arc<dyn TokenCredential>,
    scope: String,
    user_agent: &str,
    retry: &PipelineRetry,
    calls: &CallCounter,
    pacer: Arc<Pacer>,
) -> Result<Pipeline, ArmError> {
    if !is_header_safe(user_agent) {
        return Err(ArmError::Config(format!(
            "user agent {user_agent:?} is not a valid header value"
        )));
    }
    let user_agent = UserAgent(HeaderValue::from(user_agent.to_owned()));
    let options = ClientOptions {
        transport: Some(Transport::new(http)),
        retry: RetryOptions::custom(Arc::new(BoundedRetry::new(retry))),
        ..ClientOptions::default()
    };
    let per_try: Vec<Arc<dyn Policy>> = vec![
        Arc::new(BearerTokenAuthorizationPolicy::new(credential, [scope])),
        Arc::new(user_agent),
        Arc::new(CountCalls(calls.clone())),
        Arc::new(PacingPolicy(pacer)),
    ];
    Ok(Pipeline::new(
        Some(env!("CARGO_PKG_NAME")),
        Some(env!("CARGO_PKG_VERSION")),
        options,
        Vec::new(),
        per_try,
        None,
    ))
}

fn is_header_safe(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c == ' ' || c.is_ascii_graphic())
}

/// Sets the `User-Agent` to azrecon's own (azure_core's per-call policy would otherwise name
/// the SDK).
#[derive(Debug)]
struct UserAgent(HeaderValue);

#[async_trait]
impl Policy for UserAgent {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        request.insert_header(USER_AGENT, self.0.clone());
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// Exponential backoff with jitter that honours `Retry-After` up to `max_delay`.
#[derive(Debug)]
struct BoundedRetry {
    settings: PipelineRetry,
    headers: RetryHeaders,
    statuses: Vec<StatusCode>,
}

impl BoundedRetry {
    fn new(settings: &PipelineRetry) -> Self {
        BoundedRetry {
            settings: settings.clone(),
            headers: RetryHeaders {
                retry_headers: [X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS, RETRY_AFTER]
                    .into_iter()
                    .collect::<Vec<HeaderName>>(),
            },
            statuses: RETRYABLE_STATUSES
                .iter()
                .map(|s| StatusCode::from(*s))
                .collect(),
        }
    }

    /// The wait before retry number `retry_count` (1-based): the service's `Retry-After` when
    /// it gave one, else the jittered backoff; never above `max_delay`.
    fn delay(&self, retry_count: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let max = self.settings.max_delay;
        retry_after
            .unwrap_or_else(|| {
                let doublings = retry_count.saturating_sub(1).min(20);
                let backoff = self
                    .settings
                    .initial_delay
                    .saturating_mul(1 << doublings)
                    .min(max);
                // Jitter spreads retries of concurrent requests: half the backoff, plus up to half.
                backoff.mul_f64(0.5 + 0.5 * jitter)
            })
            .min(max)
    }
}

fn to_core(d: Duration) -> CoreDuration {
    CoreDuration::try_from(d).unwrap_or(CoreDuration::MAX)
}

#[async_trait]
impl RetryPolicy for BoundedRetry {
    fn is_expired(&self, duration_since_start: CoreDuration, retry_count: u32) -> bool {
        retry_count >= self.settings.max_retries
            || duration_since_start >= to_core(self.settings.max_elapsed)
    }

    fn retry_headers(&self) -> Option<&RetryHeaders> {
        Some(&self.headers)
    }

    fn retry_status_codes(&self) -> &[StatusCode] {
        &self.statuses
    }

    fn sleep_duration(&self, retry_count: u32) -> CoreDuration {
        to_core(self.delay(retry_count, None, fastrand::f64()))
    }

    async fn wait(&self, retry_count: u32, retry_after: Option<CoreDuration>) {
        let retry_after = retry_after.map(|d| Duration::try_from(d).unwrap_or(Duration::ZERO));
        tokio::time::sleep(self.delay(retry_count, retry_after, fastrand::f64())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BoundedRetry {
        BoundedRetry::new(&PipelineRetry {
            max_retries: 3,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(60),
        })
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = policy();
        let cases = [
            (1, None, 1.0, Duration::from_secs(1)),
            (1, None, 0.0, Duration::from_millis(500)),
            (2, None, 1.0, Duration::from_secs(2)),
            (3, None, 1.0, Duration::from_secs(4)),
            (5, None, 1.0, Duration::from_secs(10)),
            (40, None, 1.0, Duration::from_secs(10)),
            (1, Some(Duration::ZERO), 1.0, Duration::ZERO),
            (1, Some(Duration::from_secs(7)), 0.0, Duration::from_secs(7)),
            (
                1,
                Some(Duration::from_secs(3600)),
                0.0,
                Duration::from_secs(10),
            ),
        ];
        for (count, retry_after, jitter, want) in cases {
            assert_eq!(
                p.delay(count, retry_after, jitter),
                want,
                "{count} {retry_after:?} {jitter}"
            );
        }
    }

    #[test]
    fn expiry_by_count_or_elapsed_time() {
        let p = policy();
        assert!(!p.is_expired(CoreDuration::seconds(1), 2));
        assert!(p.is_expired(CoreDuration::seconds(1), 3));
        assert!(p.is_expired(CoreDuration::seconds(60), 0));
    }

    #[test]
    fn retried_statuses_are_the_classifiers() {
        let codes: Vec<u16> = policy().statuses.iter().map(|s| u16::from(*s)).collect();
        assert_eq!(codes, RETRYABLE_STATUSES);
    }

    #[test]
    fn extra_root_ca_must_hold_a_certificate() {
        assert!(matches!(
            http_client(Some("not pem"), Duration::from_secs(1)),
            Err(ArmError::Config(_))
        ));
        assert!(http_client(None, Duration::from_secs(1)).is_ok());
    }
}
