//! The emulator's injected faults and ARM throttling, each produced as specified (status, ARM
//! error code, headers, how many times), through the in-process API and the admin endpoint; and
//! the ARM client's answer to a few of them.

mod common;

use azrecon::arm::{ArmError, OperationEnd, PutOptions};
use azrecon::emulator::{BucketLimit, Emulator, Fault, FaultRule, RateLimits};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";
const NET: &str = "2024-01-01";

fn vnet(name: &str) -> String {
    format!("{SUB}/resourceGroups/rg-edge/providers/Microsoft.Network/virtualNetworks/{name}")
}

fn vnet_body() -> Value {
    json!({ "location": "koreacentral", "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] } } })
}

struct Harness {
    emulator: Emulator,
    client: Client,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

impl Harness {
    async fn new() -> Harness {
        let emulator = common::emulator().await;
        let ca = reqwest::Certificate::from_pem(emulator.ca_pem().unwrap().as_bytes()).unwrap();
        let client = Client::builder().tls_certs_only([ca]).build().unwrap();
        Harness { emulator, client }
    }

    async fn try_send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer, reqwest::Error> {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.emulator.base_url())
        };
        let mut req = self.client.request(method, url).bearer_auth("fake-token");
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        Ok(Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        })
    }

    async fn send(&self, method: Method, url: &str, body: Option<&Value>) -> Answer {
        self.try_send(method, url, body).await.unwrap()
    }

    async fn get(&self, id: &str) -> Answer {
        self.send(Method::GET, &format!("{id}?api-version={NET}"), None)
            .await
    }

    async fn put(&self, id: &str, body: &Value) -> Answer {
        self.send(Method::PUT, &format!("{id}?api-version={NET}"), Some(body))
            .await
    }

    /// Polls the operation of a long-running answer until it leaves `InProgress`.
    async fn wait(&self, answer: &Answer) -> Value {
        let url = answer.header("azure-asyncoperation").unwrap().to_owned();
        loop {
            let status = self.send(Method::GET, &url, None).await.body;
            if status["status"] != "InProgress" {
                return status;
            }
        }
    }

    fn fault(&self, rule: FaultRule) {
        self.emulator.add_fault(rule).unwrap();
    }
}

#[tokio::test]
async fn throttled_answers_429_with_retry_after_and_no_quota_left() {
    let h = Harness::new().await;
    h.fault(
        FaultRule::new(Fault::Throttled {
            retry_after_secs: 17,
        })
        .method("PUT")
        .times(1),
    );
    let refused = h.put(&vnet("hub"), &vnet_body()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.code(), "SubscriptionRequestsThrottled");
    assert_eq!(refused.header("retry-after"), Some("17"));
    assert_eq!(
        refused.header("x-ms-ratelimit-remaining-subscription-writes"),
        Some("0")
    );
    let served = h.put(&vnet("hub"), &vnet_body()).await;
    assert_eq!(served.status, StatusCode::CREATED, "only the first time");
    assert_eq!(
        served.header("x-ms-ratelimit-remaining-subscription-writes"),
        Some("199")
    );
    let read = h.get(&vnet("hub")).await;
    assert_eq!(
        read.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("249"),
        "the quota headers are always sent"
    );
}

#[tokio::test]
async fn token_buckets_throttle_per_subscription_when_enabled() {
    let h = Harness::new().await;
    // A refill so slow (one token in 1000 s) that no test run sees it.
    h.emulator.set_rate_limits(Some(RateLimits {
        writes: BucketLimit {
            capacity: 2,
            per_second: 0.001,
        },
        ..RateLimits::ARM
    }));
    let remaining = |a: &Answer| {
        a.header("x-ms-ratelimit-remaining-subscription-writes")
            .map(str::to_owned)
    };
    let first = h.put(&vnet("a"), &vnet_body()).await;
    assert_eq!(remaining(&first).as_deref(), Some("1"));
    let second = h.put(&vnet("b"), &vnet_body()).await;
    assert_eq!(remaining(&second).as_deref(), Some("0"));
    let third = h.put(&vnet("c"), &vnet_body()).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.code(), "SubscriptionRequestsThrottled");
    let retry_after: u64 = third.header("retry-after").unwrap().parse().unwrap();
    assert!((990..=1000).contains(&retry_after), "{retry_after}");
    assert_eq!(
        h.get(&vnet("a")).await.status,
        StatusCode::OK,
        "reads have their own bucket"
    );
    let other_sub = vnet("d").replace("0001", "0002");
    assert_eq!(
        h.put(&other_sub, &vnet_body()).await.status,
        StatusCode::CREATED,
        "buckets are per subscription"
    );
    h.emulator.set_rate_limits(None);
    assert_eq!(
        h.put(&vnet("c"), &vnet_body()).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn server_errors_and_operation_conflicts_have_arm_shapes() {
    let h = Harness::new().await;
    let cases = [
        (Fault::InternalServerError, 500, "InternalServerError"),
        (
            Fault::ServiceUnavailable {
                retry_after_secs: Some(3),
            },
            503,
            "ServiceUnavailable",
        ),
        (
            Fault::AnotherOperationInProgress,
            409,
            "AnotherOperationInProgress",
        ),
        (
            Fault::RetryableErrorDueToAnotherOperation {
                retry_after_secs: 14,
            },
            429,
            "RetryableError",
        ),
        (
            Fault::ReferencedResourceNotProvisioned {
                referenced: format!("{}/subnets/snet-pe", vnet("hub")),
            },
            400,
            "ReferencedResourceNotProvisioned",
        ),
    ];
    for (fault, status, code) in cases {
        h.emulator.set_faults(Vec::new()).unwrap();
        h.fault(FaultRule::new(fault.clone()).path_contains("virtualNetworks/hub"));
        let answer = h.put(&vnet("hub"), &vnet_body()).await;
        assert_eq!(answer.status.as_u16(), status, "{fault:?}: {}", answer.body);
        assert_eq!(answer.code(), code, "{fault:?}");
        match fault {
            Fault::ServiceUnavailable { .. } => assert_eq!(answer.header("retry-after"), Some("3")),
            Fault::RetryableErrorDueToAnotherOperation { .. } => {
                assert_eq!(answer.header("retry-after"), Some("14"));
                assert_eq!(
                    answer.body["error"]["details"][0]["code"],
                    "RetryableErrorDueToAnotherOperation"
                );
            }
            Fault::AnotherOperationInProgress => assert!(
                answer.body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("/operations/"),
                "points at the running operation"
            ),
            Fault::ReferencedResourceNotProvisioned { .. } => assert!(
                answer.body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("subnets/snet-pe"),
            ),
            _ => {}
        }
    }
    assert_eq!(
        h.emulator.resource(&vnet("hub")),
        None,
        "no fault wrote anything"
    );
}

#[tokio::test]
async fn principal_not_found_is_answered_as_authorization_does() {
    let h = Harness::new().await;
    // A real principal, so that only the injected fault refuses the assignment.
    let identity = format!(
        "{SUB}/resourceGroups/rg-edge/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-agw?api-version=2023-01-31"
    );
    let created = h
        .send(
            Method::PUT,
            &identity,
            Some(&json!({"location": "koreacentral"})),
        )
        .await;
    let principal = created.body["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    // Scoped to a resource (here the identity itself), as role assignments are.
    let assignment = format!(
        "{SUB}/resourceGroups/rg-edge/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-agw/providers/Microsoft.Authorization/roleAssignments/6f1ad7b8-0000-4000-8000-000000000001"
    );
    h.fault(
        FaultRule::new(Fault::PrincipalNotFound {
            principal_id: principal.clone(),
        })
        .path_regex(r"/providers/Microsoft\.Authorization/roleAssignments/[^/]+$")
        .times(1),
    );
    let body = json!({ "properties": {
        "roleDefinitionId": format!("{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"),
        "principalId": principal } });
    let url = format!("{assignment}?api-version=2022-04-01");
    let refused = h.send(Method::PUT, &url, Some(&body)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.code(), "PrincipalNotFound");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("Principal {principal} does not exist")),
        "{message}"
    );
    let accepted = h.send(Method::PUT, &url, Some(&body)).await;
    assert!(accepted.status.is_success(), "{:?}", accepted.body);
}

#[tokio::test]
async fn connection_reset_drops_the_connection_without_an_answer() {
    let h = Harness::new().await;
    h.fault(
        FaultRule::new(Fault::ConnectionReset)
            .method("GET")
            .times(1),
    );
    let dropped = h
        .try_send(
            Method::GET,
            &format!("{}?api-version={NET}", vnet("hub")),
            None,
        )
        .await;
    assert!(dropped.is_err(), "no HTTP response");
    assert_eq!(h.get(&vnet("hub")).await.status, StatusCode::NOT_FOUND);
    let log = h.emulator.requests();
    assert_eq!(log[0].status, 0, "logged as dropped");
}

#[tokio::test(start_paused = true)]
async fn slow_responses_arrive_after_the_delay() {
    let h = Harness::new().await;
    h.fault(FaultRule::new(Fault::Delay { millis: 90_000 }).times(1));
    let start = tokio::time::Instant::now();
    let answer = h.get(&vnet("hub")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "served normally");
    assert!(start.elapsed() >= std::time::Duration::from_secs(90));
}

#[tokio::test]
async fn long_running_operations_can_end_failed_or_canceled() {
    let h = Harness::new().await;
    h.fault(
        FaultRule::new(Fault::OperationFailed {
            code: "InternalServerError".into(),
            message: "An error occurred.".into(),
        })
        .path_contains("virtualNetworks/hub"),
    );
    h.fault(FaultRule::new(Fault::OperationCanceled).path_contains("virtualNetworks/spoke"));

    let accepted = h.put(&vnet("hub"), &vnet_body()).await;
    assert_eq!(accepted.status, StatusCode::CREATED);
    assert_eq!(
        h.wait(&accepted).await,
        json!({ "status": "Failed", "error": { "code": "InternalServerError", "message": "An error occurred." } })
    );
    assert_eq!(
        h.get(&vnet("hub")).await.body["properties"]["provisioningState"],
        "Failed"
    );

    let accepted = h.put(&vnet("spoke"), &vnet_body()).await;
    let status = h.wait(&accepted).await;
    assert_eq!(status["status"], "Canceled");
    assert_eq!(status["error"]["code"], "Canceled");
}

#[tokio::test]
async fn the_fault_table_is_served_over_the_admin_endpoint() {
    let h = Harness::new().await;
    let rules = json!([
        { "match": { "method": "PUT", "path": { "contains": "virtualNetworks" }, "times": 1 },
          "fault": { "kind": "anotherOperationInProgress" } },
        { "match": { "path": { "regex": "^/nope(" } }, "fault": { "kind": "internalServerError" } }
    ]);
    let bad = h.send(Method::PUT, "/_emulator/faults", Some(&rules)).await;
    assert_eq!(
        bad.status,
        StatusCode::BAD_REQUEST,
        "a bad regex is refused"
    );

    let rules = json!([rules[0].clone()]);
    let set = h.send(Method::PUT, "/_emulator/faults", Some(&rules)).await;
    assert_eq!(set.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.send(Method::GET, "/_emulator/faults", None).await.body,
        rules
    );
    assert_eq!(
        h.put(&vnet("hub"), &vnet_body()).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        h.put(&vnet("hub"), &vnet_body()).await.status,
        StatusCode::CREATED
    );

    let limits = h
        .send(Method::PUT, "/_emulator/rate-limits", Some(&json!({})))
        .await;
    assert_eq!(limits.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.get(&vnet("hub"))
            .await
            .header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("249"),
        "ARM's read bucket, one token taken"
    );
    assert_eq!(
        h.get(&vnet("hub"))
            .await
            .header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("248")
    );
    let cleared = h.send(Method::DELETE, "/_emulator/faults", None).await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert!(h.emulator.faults().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_client_honours_retry_after_and_then_succeeds() {
    let h = Harness::new().await;
    h.emulator.put_raw(
        &vnet("hub"),
        common::vnet_doc(&vnet("hub"), "hub", "10.0.0.0/16"),
    );
    h.fault(
        FaultRule::new(Fault::Throttled {
            retry_after_secs: 30,
        })
        .method("GET")
        .times(1),
    );
    let client = common::client(&h.emulator);
    let start = tokio::time::Instant::now();
    let fetched = client.get(&vnet("hub"), NET).await.unwrap();
    assert!(fetched.is_some());
    assert!(
        start.elapsed() >= std::time::Duration::from_secs(30),
        "waited as Retry-After asked"
    );
    let statuses: Vec<u16> = h.emulator.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
}

#[tokio::test]
async fn a_failed_operation_surfaces_its_arm_code_through_the_client() {
    let h = Harness::new().await;
    h.fault(FaultRule::new(Fault::OperationFailed {
        code: "InvalidResourceReference".into(),
        message: "Resource /x referenced by resource /y was not found.".into(),
    }));
    let client = common::client(&h.emulator);
    let error = client
        .put(&vnet("hub"), NET, &vnet_body(), &PutOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            ArmError::Operation {
                end: OperationEnd::Failed,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.code(), Some("InvalidResourceReference"));
    assert_eq!(h.emulator.writes(), 1, "a final error is not retried");
}
