//! The ARM client: GET, PUT and DELETE of resources by ID, each PUT and DELETE followed through
//! its long-running operation. This is the executor of the ARM conversation: the only place
//! that sleeps between polls and between reconcile-level retries (always on tokio's clock).
//!
//! Two layers of retries, never overlapping:
//! - the pipeline (see `pipeline`) retries one request on transport faults and transient HTTP
//!   statuses, honouring `Retry-After`;
//! - here, `backon` retries a whole call (request plus long-running operation) when the error
//!   classifier says the ARM error is transient (`AnotherOperationInProgress`, a failed
//!   operation with `RetryableError`, ...), with jittered exponential backoff until a deadline.

use super::calls::CallCounter;
use super::cloud::Cloud;
use super::error::{ArmError, Disposition, ErrorBody, retry_reason};
use super::lro::{self, Initial, Operation, PollOutcome, PollVia, Reply};
use super::pacing::{Pacer, Pacing};
use super::pipeline::{self, PipelineRetry};
use super::progress::{LroEvent, LroState, ProgressSink, reported_status};
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{ETAG, HeaderName, Headers, IF_MATCH};
use azure_core::http::{Context, HttpClient, Method, Pipeline, PipelineSendOptions, Request, Url};
use azure_core::time::OffsetDateTime;
use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const IF_NONE_MATCH: HeaderName = HeaderName::from_static("if-none-match");
const ACCEPT: HeaderName = HeaderName::from_static("accept");
const CONTENT_TYPE: HeaderName = HeaderName::from_static("content-type");

/// Bounds of the reconcile-level retries of one call.
#[derive(Clone, Debug)]
pub struct ReconcileRetry {
    /// No retry is scheduled past this much time after the call started.
    pub deadline: Duration,
    /// First backoff; it doubles per retry, with jitter.
    pub min_delay: Duration,
    /// Longest backoff.
    pub max_delay: Duration,
}

impl Default for ReconcileRetry {
    fn default() -> Self {
        ReconcileRetry {
            deadline: Duration::from_secs(600),
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// Everything an [`ArmClient`] is built from.
#[derive(Clone, Debug)]
pub struct ArmClientOptions {
    pub cloud: Cloud,
    pub credential: Arc<dyn TokenCredential>,
    /// PEM of a root CA to trust besides the system's (the emulator's test CA).
    pub extra_root_ca_pem: Option<String>,
    /// The `User-Agent` header of every request.
    pub user_agent: String,
    /// How long one long-running operation may run before the client stops waiting.
    pub max_lro_wait: Duration,
    /// Retries of single requests, inside the pipeline.
    pub pipeline_retry: PipelineRetry,
    /// Retries of whole calls on transient ARM errors.
    pub reconcile_retry: ReconcileRetry,
    /// Where every request is counted, by method and status.
    pub calls: CallCounter,
    /// Who hears about long-running operations while the client waits on them.
    pub progress: Option<ProgressSink>,
    /// How long one try of a request may take, from sending it to the last byte of the answer;
    /// a try that takes longer is abandoned and retried by the pipeline.
    pub request_timeout: Duration,
    /// How long a resource found with an operation still running on it (`Updating`, say) is
    /// waited on before the read gives up.
    pub max_settle_wait: Duration,
    /// Pacing of requests per subscription by ARM's remaining-quota headers.
    pub pacing: Pacing,
}

impl ArmClientOptions {
    /// Options with the defaults: user agent `azrecon/<version>`, a one-hour operation wait,
    /// default retry bounds, the system's root CAs only.
    pub fn new(cloud: Cloud, credential: Arc<dyn TokenCredential>) -> Self {
        ArmClientOptions {
            cloud,
            credential,
            extra_root_ca_pem: None,
            user_agent: concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_lro_wait: Duration::from_secs(3600),
            pipeline_retry: PipelineRetry::default(),
            reconcile_retry: ReconcileRetry::default(),
            calls: CallCounter::new(),
            progress: None,
            request_timeout: Duration::from_secs(100),
            max_settle_wait: Duration::from_secs(1800),
            pacing: Pacing::default(),
        }
    }
}

/// A resource as read by GET.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub body: Value,
    /// The `ETag` header, else the body's `etag` property.
    pub etag: Option<String>,
}

/// Extras of a PUT.
#[derive(Clone, Debug, Default)]
pub struct PutOptions {
    /// Query parameters besides `api-version`.
    pub query: Vec<(String, String)>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

/// A client of one ARM-style API (ARM itself, or a data plane such as Key Vault) with one token
/// scope. Cheap to clone; clones share the connection pool and the token cache.
#[derive(Clone)]
pub struct ArmClient {
    inner: Arc<Inner>,
}

struct Inner {
    pipeline: Pipeline,
    endpoint: Url,
    // What a sibling client for another audience is built from.
    cloud: Cloud,
    credential: Arc<dyn TokenCredential>,
    http: Arc<dyn HttpClient>,
    user_agent: String,
    pipeline_retry: PipelineRetry,
    reconcile_retry: ReconcileRetry,
    max_lro_wait: Duration,
    calls: CallCounter,
    progress: Option<ProgressSink>,
    max_settle_wait: Duration,
    // Shared by sibling clients: the quota is the subscription's, whoever spends it.
    pacer: Arc<Pacer>,
}

impl fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArmClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

/// A response with its body parsed.
struct Response {
    status: u16,
    headers: Headers,
    body: Value,
}

impl Response {
    fn reply(&self) -> Reply<'_> {
        Reply {
            status: self.status,
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn into_error(self, method: &'static str, resource_id: &str) -> ArmError {
        ArmError::Api {
            method,
            resource_id: resource_id.to_owned(),
            status: self.status,
            error: Box::new(ErrorBody::from_body(&self.body)),
            retry_after: lro::requested_wait(&self.headers, OffsetDateTime::now_utc),
        }
    }
}

/// Whether a request to `url` may carry the token of a client of `endpoint`: the same origin,
/// or an HTTPS host under the endpoint's host on the same port.
fn token_may_go_to(url: &Url, endpoint: &Url) -> bool {
    if url.origin() == endpoint.origin() {
        return true;
    }
    let under_endpoint_host = match (url.host_str(), endpoint.host_str()) {
        (Some(host), Some(base)) => host
            .strip_suffix(base)
            .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        _ => false,
    };
    url.scheme() == "https"
        && under_endpoint_host
        && url.port_or_known_default() == endpoint.port_or_known_default()
}

/// JSON when the body is JSON, `Null` when empty, else the text (kept for error messages).
fn parse_body(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

impl ArmClient {
    /// A client of `opts.cloud`'s ARM endpoint, with tokens for its ARM scope.
    pub fn new(opts: ArmClientOptions) -> Result<Self, ArmError> {
        let http = pipeline::http_client(opts.extra_root_ca_pem.as_deref(), opts.request_timeout)?;
        let endpoint = opts.cloud.arm_endpoint();
        let scope = opts.cloud.arm_scope();
        let pacer = Arc::new(Pacer::new(opts.pacing));
        Self::assemble(Inner {
            pipeline: pipeline::build(
                http.clone(),
                opts.credential.clone(),
                scope,
                &opts.user_agent,
                &opts.pipeline_retry,
                &opts.calls,
                pacer.clone(),
            )?,
            endpoint,
            cloud: opts.cloud,
            credential: opts.credential,
            http,
            user_agent: opts.user_agent,
            pipeline_retry: opts.pipeline_retry,
            reconcile_retry: opts.reconcile_retry,
            max_lro_wait: opts.max_lro_wait,
            calls: opts.calls,
            progress: opts.progress,
            max_settle_wait: opts.max_settle_wait,
            pacer,
        })
    }

    fn assemble(inner: Inner) -> Result<Self, ArmError> {
        if inner.endpoint.cannot_be_a_base() {
            return Err(ArmError::Config(format!(
                "endpoint {} cannot hold resource paths",
                inner.endpoint
            )));
        }
        Ok(ArmClient {
            inner: Arc::new(inner),
        })
    }

    /// A sibling client for the cloud's Key Vault data plane: same credential, connection pool
    /// and retry settings, tokens for the Key Vault audience. Use [`ArmClient::get_url`] with
    /// absolute vault URLs.
    pub fn key_vault(&self) -> Result<ArmClient, ArmError> {
        let inner = &self.inner;
        let audience = inner.cloud.key_vault_audience();
        Self::assemble(Inner {
            pipeline: pipeline::build(
                inner.http.clone(),
                inner.credential.clone(),
                inner.cloud.key_vault_scope(),
                &inner.user_agent,
                &inner.pipeline_retry,
                &inner.calls,
                inner.pacer.clone(),
            )?,
            endpoint: audience,
            cloud: inner.cloud.clone(),
            credential: inner.credential.clone(),
            http: inner.http.clone(),
            user_agent: inner.user_agent.clone(),
            pipeline_retry: inner.pipeline_retry.clone(),
            reconcile_retry: inner.reconcile_retry.clone(),
            max_lro_wait: inner.max_lro_wait,
            calls: inner.calls.clone(),
            progress: inner.progress.clone(),
            max_settle_wait: inner.max_settle_wait,
            pacer: inner.pacer.clone(),
        })
    }

    /// The data-plane base URL of a vault in this client's cloud (see [`Cloud::key_vault_url`]).
    pub fn key_vault_url(&self, vault: &str) -> Url {
        self.inner.cloud.key_vault_url(vault)
    }

    /// The registry counting this client's requests (shared with its siblings).
    pub fn calls(&self) -> &CallCounter {
        &self.inner.calls
    }

    /// The base URL resource IDs are resolved against.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// GETs a resource; `Ok(None)` when it does not exist (404).
    pub async fn get(&self, id: &str, api_version: &str) -> Result<Option<Fetched>, ArmError> {
        let url = self.resource_url(id, api_version, &[])?;
        self.with_retries(id, || self.fetch(id, url.clone())).await
    }

    /// GETs a resource and, while an operation is still running on it (`provisioningState`
    /// `Updating`, `Creating`, `Deleting`: someone else's write), reads it again with jittered
    /// backoff until it settles. A PUT planned on a resource mid-operation would race that
    /// operation; one planned on the settled resource does not. Gives up with
    /// [`ArmError::StillRunning`] after `max_settle_wait`.
    pub async fn get_settled(
        &self,
        id: &str,
        api_version: &str,
    ) -> Result<Option<Fetched>, ArmError> {
        let settings = &self.inner.reconcile_retry;
        let started = Instant::now();
        let deadline = started + self.inner.max_settle_wait;
        let mut backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(settings.min_delay)
            .with_max_delay(settings.max_delay)
            .without_max_times()
            .build();
        loop {
            let fetched = self.get(id, api_version).await?;
            let Some(state) = fetched
                .as_ref()
                .and_then(|f| lro::in_transition(&f.body))
                .map(str::to_owned)
            else {
                return Ok(fetched);
            };
            let delay = backoff.next().unwrap_or(settings.max_delay);
            if Instant::now() + delay > deadline {
                return Err(ArmError::StillRunning {
                    resource_id: id.to_owned(),
                    state,
                    waited: started.elapsed(),
                });
            }
            tracing::info!(
                resource_id = id,
                provisioning_state = %state,
                delay_ms = delay.as_millis() as u64,
                "an operation is still running on the resource; reading it again"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// GETs an absolute URL, or a path on the endpoint; `api-version` is added unless the URL
    /// has one. `Ok(None)` on 404. An absolute URL must be on the endpoint's origin or an HTTPS
    /// subdomain of its host (a vault `<name>.vault.azure.net` for the Key Vault audience), as
    /// the request carries this client's token.
    pub async fn get_url(
        &self,
        url_or_path: &str,
        api_version: &str,
    ) -> Result<Option<Fetched>, ArmError> {
        let mut url = match Url::parse(url_or_path) {
            Ok(url) if token_may_go_to(&url, &self.inner.endpoint) => url,
            Ok(url) => {
                return Err(ArmError::Config(format!(
                    "{} is outside the endpoint {}",
                    url.origin().ascii_serialization(),
                    self.inner.endpoint
                )));
            }
            Err(_) => self.resource_url(url_or_path, api_version, &[])?,
        };
        if !url.query_pairs().any(|(k, _)| k == "api-version") {
            url.query_pairs_mut()
                .append_pair("api-version", api_version);
        }
        let label = url.path().to_owned();
        self.with_retries(&label, || self.fetch(&label, url.clone()))
            .await
    }

    /// PUTs a resource and follows its long-running operation to the end. Returns the final
    /// resource: the PUT's body when it was final, else a GET after the operation succeeded.
    pub async fn put(
        &self,
        id: &str,
        api_version: &str,
        body: &Value,
        opts: &PutOptions,
    ) -> Result<Value, ArmError> {
        self.with_retries(id, || self.put_once(id, api_version, body, opts))
            .await
    }

    /// DELETEs a resource and follows its long-running operation. A resource that is already
    /// gone (404, 204) counts as deleted.
    pub async fn delete(&self, id: &str, api_version: &str) -> Result<(), ArmError> {
        self.with_retries(id, || self.delete_once(id, api_version))
            .await
    }

    /// Runs `call` again while its error is transient by the classifier, with jittered
    /// exponential backoff, never sooner than the error's `Retry-After`, scheduling no retry past
    /// the deadline.
    async fn with_retries<T, F, Fut>(&self, resource_id: &str, call: F) -> Result<T, ArmError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ArmError>>,
    {
        let settings = &self.inner.reconcile_retry;
        let deadline = Instant::now() + settings.deadline;
        let backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(settings.min_delay)
            .with_max_delay(settings.max_delay)
            .without_max_times();
        call.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &ArmError| e.disposition() == Disposition::Retry)
            .adjust(move |e: &ArmError, delay| {
                delay
                    .map(|d| d.max(e.retry_after().unwrap_or_default()))
                    .filter(|d| Instant::now() + *d <= deadline)
            })
            .notify(|e: &ArmError, delay| {
                tracing::warn!(
                    resource_id,
                    error = %e,
                    reason = e.code().and_then(retry_reason).unwrap_or("transient failure"),
                    delay_ms = delay.as_millis() as u64,
                    "retrying ARM call"
                );
            })
            .await
    }

    /// `<endpoint><id>?api-version=..&extra..`. The ID must be a path: `/subscriptions/...`.
    fn resource_url(
        &self,
        id: &str,
        api_version: &str,
        query: &[(String, String)],
    ) -> Result<Url, ArmError> {
        if !id.starts_with('/') || id.contains(['?', '#']) {
            return Err(ArmError::Config(format!(
                "{id:?} is not a resource ID (a path starting with '/')"
            )));
        }
        let mut url = self.inner.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{id}"));
        url.set_query(None);
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("api-version", api_version);
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    async fn send(
        &self,
        resource_id: &str,
        method: Method,
        url: Url,
        headers: &[(HeaderName, String)],
        body: Option<&Value>,
    ) -> Result<Response, ArmError> {
        let mut request = Request::new(url, method);
        request.insert_header(ACCEPT, "application/json");
        for (name, value) in headers {
            request.insert_header(name.clone(), value.clone());
        }
        if let Some(body) = body {
            request.insert_header(CONTENT_TYPE, "application/json");
            request.set_body(body.to_string().into_bytes());
        }
        let options = PipelineSendOptions {
            // Statuses are ARM's to interpret here, not azure_core's.
            skip_checks: true,
            ..PipelineSendOptions::default()
        };
        let response = self
            .inner
            .pipeline
            .send(&Context::new(), &mut request, Some(options))
            .await
            .map_err(|source| match source.kind() {
                azure_core::error::ErrorKind::Credential => ArmError::Auth {
                    resource_id: resource_id.to_owned(),
                    source,
                },
                _ => ArmError::Transport {
                    resource_id: resource_id.to_owned(),
                    source,
                },
            })?;
        let (status, headers, body) = response.deconstruct();
        Ok(Response {
            status: u16::from(status),
            headers,
            body: parse_body(&body),
        })
    }

    async fn fetch(&self, resource_id: &str, url: Url) -> Result<Option<Fetched>, ArmError> {
        let response = self.send(resource_id, Method::Get, url, &[], None).await?;
        if response.status == 404 {
            return Ok(None);
        }
        if !response.is_success() {
            return Err(response.into_error("GET", resource_id));
        }
        let etag = response.headers.get_optional_string(&ETAG).or_else(|| {
            response
                .body
                .get("etag")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        Ok(Some(Fetched {
            body: response.body,
            etag,
        }))
    }

    async fn put_once(
        &self,
        id: &str,
        api_version: &str,
        body: &Value,
        opts: &PutOptions,
    ) -> Result<Value, ArmError> {
        let url = self.resource_url(id, api_version, &opts.query)?;
        let conditions: Vec<(HeaderName, String)> = [
            (IF_MATCH, &opts.if_match),
            (IF_NONE_MATCH, &opts.if_none_match),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.clone().map(|v| (name, v)))
        .collect();
        let response = self
            .send(id, Method::Put, url, &conditions, Some(body))
            .await?;
        if !response.is_success() {
            return Err(response.into_error("PUT", id));
        }
        let get_url = self.resource_url(id, api_version, &[])?;
        let initial = lro::initial_outcome(
            Operation::Put,
            id,
            &get_url,
            response.reply(),
            OffsetDateTime::now_utc,
        )?;
        match initial {
            Initial::Done(resource) => Ok(resource),
            Initial::Poll {
                url,
                via,
                retry_after,
            } => {
                self.follow(Operation::Put, id, url, via, retry_after)
                    .await?;
                match self.fetch(id, get_url).await? {
                    Some(fetched) => Ok(fetched.body),
                    None => Err(ArmError::Protocol {
                        resource_id: id.to_owned(),
                        status: 404,
                        reason: "the resource is missing after its PUT succeeded".into(),
                    }),
                }
            }
        }
    }

    async fn delete_once(&self, id: &str, api_version: &str) -> Result<(), ArmError> {
        let url = self.resource_url(id, api_version, &[])?;
        let response = self
            .send(id, Method::Delete, url.clone(), &[], None)
            .await?;
        if response.status == 404 {
            return Ok(());
        }
        if !response.is_success() {
            return Err(response.into_error("DELETE", id));
        }
        let initial = lro::initial_outcome(
            Operation::Delete,
            id,
            &url,
            response.reply(),
            OffsetDateTime::now_utc,
        )?;
        match initial {
            Initial::Done(_) => Ok(()),
            Initial::Poll {
                url,
                via,
                retry_after,
            } => {
                self.follow(Operation::Delete, id, url, via, retry_after)
                    .await
            }
        }
    }

    /// Polls `url` until the operation ends or `max_lro_wait` has passed.
    async fn follow(
        &self,
        op: Operation,
        resource_id: &str,
        url: Url,
        via: PollVia,
        first_wait: Duration,
    ) -> Result<(), ArmError> {
        let started = Instant::now();
        let tell = |state: LroState| {
            if let Some(progress) = &self.inner.progress {
                progress.send(&LroEvent {
                    method: match op {
                        Operation::Put => "PUT",
                        Operation::Delete => "DELETE",
                    },
                    resource_id: resource_id.to_owned(),
                    elapsed: started.elapsed(),
                    state,
                });
            }
        };
        tell(LroState::Started);
        let deadline = started + self.inner.max_lro_wait;
        let result = async {
            let mut wait = first_wait;
            loop {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    return Err(ArmError::LroTimeout {
                        resource_id: resource_id.to_owned(),
                        waited: started.elapsed(),
                    });
                }
                tokio::time::sleep(wait.min(remaining)).await;
                let response = self
                    .send(resource_id, Method::Get, url.clone(), &[], None)
                    .await?;
                match lro::poll_outcome(
                    op,
                    via,
                    resource_id,
                    response.reply(),
                    OffsetDateTime::now_utc,
                ) {
                    PollOutcome::Pending { retry_after } => {
                        tell(LroState::Running {
                            status: reported_status(&response.body),
                        });
                        wait = retry_after;
                    }
                    PollOutcome::Succeeded => return Ok(()),
                    PollOutcome::Failed(e) | PollOutcome::Canceled(e) => return Err(e),
                }
            }
        }
        .await;
        tell(LroState::Finished {
            succeeded: result.is_ok(),
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm::StaticToken;

    fn client(endpoint: &str) -> ArmClient {
        let cloud = Cloud::Custom {
            arm_endpoint: Url::parse(endpoint).unwrap(),
            authority: Url::parse("https://login.test").unwrap(),
            key_vault_audience: Url::parse("https://vault.test").unwrap(),
        };
        ArmClient::new(ArmClientOptions::new(
            cloud,
            Arc::new(StaticToken::new("t")),
        ))
        .unwrap()
    }

    #[test]
    fn resource_urls() {
        let id =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v n";
        let query = [("x".to_owned(), "1".to_owned())];
        let cases = [
            (
                "https://arm.test",
                "https://arm.test/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v%20n?api-version=2024-01-01&x=1",
            ),
            (
                "https://arm.test/base/",
                "https://arm.test/base/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v%20n?api-version=2024-01-01&x=1",
            ),
        ];
        for (endpoint, want) in cases {
            let url = client(endpoint)
                .resource_url(id, "2024-01-01", &query)
                .unwrap();
            assert_eq!(url.as_str(), want);
        }
        for bad in ["subscriptions/s", "/subscriptions/s?x=1", "/a#b"] {
            assert!(matches!(
                client("https://arm.test").resource_url(bad, "v", &[]),
                Err(ArmError::Config(_))
            ));
        }
    }

    #[test]
    fn tokens_stay_on_the_endpoint_or_its_subdomains() {
        let vault = Url::parse("https://vault.azure.net").unwrap();
        let cases = [
            ("https://vault.azure.net/certificates/c", true),
            ("https://myvault.vault.azure.net/certificates/c", true),
            ("https://myvault.vault.azure.net:443/certificates/c", true),
            ("https://myvault.vault.azure.net:8443/certificates/c", false),
            ("http://myvault.vault.azure.net/certificates/c", false),
            ("https://evilvault.azure.net/certificates/c", false),
            ("https://vault.azure.net.evil.test/certificates/c", false),
            ("https://.vault.azure.net/c", false),
        ];
        for (url, want) in cases {
            assert_eq!(
                token_may_go_to(&Url::parse(url).unwrap(), &vault),
                want,
                "{url}"
            );
        }
    }

    #[test]
    fn bodies() {
        assert_eq!(parse_body(b""), Value::Null);
        assert_eq!(parse_body(b" \n"), Value::Null);
        assert_eq!(parse_body(br#"{"a":1}"#), serde_json::json!({"a": 1}));
        assert_eq!(parse_body(b"<html>"), Value::String("<html>".into()));
    }

    #[test]
    fn key_vault_sibling_targets_the_vault_audience() {
        let kv = client("https://arm.test").key_vault().unwrap();
        assert_eq!(kv.endpoint().as_str(), "https://vault.test/");
    }

    #[test]
    fn client_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<ArmClient>();
    }
}
