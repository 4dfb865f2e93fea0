//! The ARM client against a small scripted HTTPS server: what goes over the wire (bearer token,
//! api-version, user agent, body) and how responses are followed (404, long-running operations,
//! failures, throttling, transient ARM errors). The server's certificate comes from a test CA
//! handed to the client as its extra root, as with the emulator.

use async_trait::async_trait;
use azrecon::arm::{
    ArmClient, ArmClientOptions, ArmError, Cloud, PipelineRetry, PutOptions, ReconcileRetry,
    StaticToken,
};
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use url::Url;

const TOKEN: &str = "test-token";
const API: &str = "2024-01-01";
const ID: &str =
    "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/pip";

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: String,
    authorization: Option<String>,
    user_agent: Option<String>,
    if_match: Option<String>,
    body: String,
}

/// One scripted response.
struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

fn canned(status: u16, body: Value) -> Canned {
    Canned {
        status,
        headers: Vec::new(),
        body,
    }
}

impl Canned {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Canned {
        self.headers.push((name, value.into()));
        self
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Canned + Send + Sync>;

struct TestServer {
    base: String,
    ca_pem: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    /// Starts a server whose handler is built knowing the server's base URL.
    async fn start(handler: impl FnOnce(String) -> Handler) -> TestServer {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    leaf.der().clone(),
                    CertificateDer::from(ca_cert.der().to_vec()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let handler = handler(base.clone());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                let handler = handler.clone();
                let record = record.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let handler = handler.clone();
                        let record = record.clone();
                        async move {
                            let header = |name: &str| {
                                req.headers()
                                    .get(name)
                                    .map(|v| v.to_str().unwrap().to_owned())
                            };
                            let mut seen = Seen {
                                method: req.method().to_string(),
                                path: req.uri().path().to_owned(),
                                query: req.uri().query().unwrap_or_default().to_owned(),
                                authorization: header("authorization"),
                                user_agent: header("user-agent"),
                                if_match: header("if-match"),
                                body: String::new(),
                            };
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            seen.body = String::from_utf8(body.to_vec()).unwrap();
                            let canned = handler(&seen);
                            record.lock().unwrap().push(seen);
                            let mut response = hyper::Response::builder().status(canned.status);
                            for (name, value) in canned.headers {
                                response = response.header(name, value);
                            }
                            let body = match canned.body {
                                Value::Null => Bytes::new(),
                                body => Bytes::from(body.to_string()),
                            };
                            Ok::<_, hyper::Error>(response.body(Full::new(body)).unwrap())
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TestServer {
            base,
            ca_pem: ca_cert.pem(),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// "METHOD path" of every request, in order.
    fn trail(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }

    /// The same server under the name `localhost`, standing in for the Key Vault data plane.
    fn vault_base(&self) -> String {
        self.base.replace("127.0.0.1", "localhost")
    }

    fn options(&self, credential: Arc<dyn TokenCredential>) -> ArmClientOptions {
        let cloud = Cloud::Custom {
            arm_endpoint: Url::parse(&self.base).unwrap(),
            authority: Url::parse("https://login.test").unwrap(),
            key_vault_audience: Url::parse(&self.vault_base()).unwrap(),
        };
        ArmClientOptions {
            extra_root_ca_pem: Some(self.ca_pem.clone()),
            pipeline_retry: PipelineRetry {
                max_retries: 3,
                initial_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(100),
                max_elapsed: Duration::from_secs(30),
            },
            reconcile_retry: ReconcileRetry {
                deadline: Duration::from_secs(30),
                min_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
            },
            ..ArmClientOptions::new(cloud, credential)
        }
    }

    fn client(&self) -> ArmClient {
        ArmClient::new(self.options(Arc::new(StaticToken::new(TOKEN)))).unwrap()
    }
}

/// A handler answering the n-th request (0-based) with `script(n, request)`.
fn sequence(script: impl Fn(usize, &Seen) -> Canned + Send + Sync + 'static) -> Handler {
    let count = AtomicUsize::new(0);
    Arc::new(move |seen| script(count.fetch_add(1, Ordering::SeqCst), seen))
}

fn resource(state: &str) -> Value {
    json!({"id": ID, "name": "pip", "etag": "W/\"1\"", "properties": {"provisioningState": state}})
}

#[tokio::test]
async fn get_sends_token_api_version_and_user_agent_and_maps_404_to_none() {
    let server = TestServer::start(|_| {
        Arc::new(|seen: &Seen| {
            if seen.path == ID {
                canned(200, resource("Succeeded")).header("etag", "W/\"7\"")
            } else {
                canned(
                    404,
                    json!({"error": {"code": "ResourceNotFound", "message": "gone"}}),
                )
            }
        })
    })
    .await;
    let client = server.client();

    let fetched = client
        .get(ID, API)
        .await
        .unwrap()
        .expect("the resource exists");
    assert_eq!(fetched.body, resource("Succeeded"));
    assert_eq!(fetched.etag.as_deref(), Some("W/\"7\""));
    assert_eq!(client.get(&format!("{ID}x"), API).await.unwrap(), None);

    for seen in server.seen() {
        assert_eq!(seen.authorization.as_deref(), Some("Bearer test-token"));
        assert_eq!(seen.query, "api-version=2024-01-01");
        assert_eq!(
            seen.user_agent.as_deref(),
            Some(concat!("azrecon/", env!("CARGO_PKG_VERSION")))
        );
    }
}

#[tokio::test]
async fn put_follows_azure_async_operation_then_gets_the_final_resource() {
    let server = TestServer::start(|base| {
        let op = format!("{base}/subscriptions/sub/providers/Microsoft.Network/locations/westeurope/operations/op1?api-version={API}");
        sequence(move |n, seen| match (n, seen.method.as_str()) {
            (0, "PUT") => canned(201, resource("Updating"))
                .header("azure-asyncoperation", op.clone())
                .header("retry-after", "0"),
            (1 | 2, "GET") => canned(200, json!({"status": "InProgress"})).header("retry-after", "0"),
            (3, "GET") => canned(200, json!({"status": "Succeeded"})),
            (4, "GET") if seen.path == ID => canned(200, resource("Succeeded")),
            _ => canned(500, json!({"error": {"code": "Unexpected", "message": format!("{n} {seen:?}")}})),
        })
    })
    .await;
    let desired =
        json!({"location": "westeurope", "properties": {"publicIPAllocationMethod": "Static"}});

    let live = server
        .client()
        .put(ID, API, &desired, &PutOptions::default())
        .await
        .unwrap();

    assert_eq!(live, resource("Succeeded"));
    let op_path =
        "/subscriptions/sub/providers/Microsoft.Network/locations/westeurope/operations/op1";
    assert_eq!(
        server.trail(),
        [
            format!("PUT {ID}"),
            format!("GET {op_path}"),
            format!("GET {op_path}"),
            format!("GET {op_path}"),
            format!("GET {ID}"),
        ]
    );
    let put = &server.seen()[0];
    assert_eq!(serde_json::from_str::<Value>(&put.body).unwrap(), desired);
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer test-token"))
    );
}

#[tokio::test]
async fn failed_operation_surfaces_the_arm_code_and_message() {
    let server = TestServer::start(|base| {
        let op = format!("{base}/operations/op2");
        sequence(move |n, _| match n {
            0 => canned(201, resource("Updating"))
                .header("azure-asyncoperation", op.clone())
                .header("retry-after", "0"),
            _ => canned(
                200,
                json!({"status": "Failed", "error": {"code": "PublicIPAddressInUse",
                    "message": "the address is in use"}}),
            ),
        })
    })
    .await;

    let err = server
        .client()
        .put(ID, API, &json!({}), &PutOptions::default())
        .await
        .expect_err("the operation failed");

    assert!(matches!(err, ArmError::Operation { .. }), "{err:?}");
    assert_eq!(err.code(), Some("PublicIPAddressInUse"));
    assert_eq!(err.resource_id(), Some(ID));
    let shown = err.to_string();
    assert!(shown.contains("the address is in use"), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
    // A final error is not retried: one PUT, one poll.
    assert_eq!(server.trail().len(), 2);
}

#[tokio::test]
async fn throttled_request_is_retried_after_retry_after() {
    let server = TestServer::start(|_| {
        sequence(|n, _| match n {
            0 => canned(
                429,
                json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
            )
            .header("retry-after", "0"),
            _ => canned(200, resource("Succeeded")),
        })
    })
    .await;

    // No reconcile-level retries: the pipeline alone must absorb the 429.
    let client = ArmClient::new(ArmClientOptions {
        reconcile_retry: ReconcileRetry {
            deadline: Duration::ZERO,
            ..ReconcileRetry::default()
        },
        ..server.options(Arc::new(StaticToken::new(TOKEN)))
    })
    .unwrap();

    let fetched = client.get(ID, API).await.unwrap();

    assert_eq!(fetched.map(|f| f.body), Some(resource("Succeeded")));
    assert_eq!(server.trail(), [format!("GET {ID}"), format!("GET {ID}")]);
}

#[tokio::test]
async fn transient_arm_error_retries_the_whole_call() {
    let server = TestServer::start(|_| {
        sequence(|n, _| match n {
            0 => canned(
                409,
                json!({"error": {"code": "AnotherOperationInProgress", "message": "busy"}}),
            ),
            _ => canned(200, resource("Succeeded")),
        })
    })
    .await;

    let live = server
        .client()
        .put(ID, API, &json!({}), &PutOptions::default())
        .await
        .unwrap();

    assert_eq!(live, resource("Succeeded"));
    assert_eq!(server.trail(), [format!("PUT {ID}"), format!("PUT {ID}")]);
}

#[tokio::test]
async fn operation_failed_with_a_retryable_code_retries_the_put() {
    let server = TestServer::start(|base| {
        let op = format!("{base}/operations/op4");
        sequence(move |n, _| match n {
            0 => canned(201, resource("Updating"))
                .header("azure-asyncoperation", op.clone())
                .header("retry-after", "0"),
            1 => canned(
                200,
                json!({"status": "Failed", "error": {"code": "RetryableError", "message": "try again"}}),
            ),
            _ => canned(200, resource("Succeeded")),
        })
    })
    .await;

    let live = server
        .client()
        .put(ID, API, &json!({}), &PutOptions::default())
        .await
        .unwrap();

    assert_eq!(live, resource("Succeeded"));
    assert_eq!(
        server.trail(),
        [
            format!("PUT {ID}"),
            "GET /operations/op4".to_owned(),
            format!("PUT {ID}")
        ]
    );
}

#[tokio::test]
async fn final_arm_error_is_returned_at_once() {
    let server = TestServer::start(|_| {
        Arc::new(|_: &Seen| {
            canned(
                400,
                json!({"error": {"code": "InvalidParameter", "message": "sku is required"}}),
            )
        })
    })
    .await;

    let err = server
        .client()
        .put(ID, API, &json!({}), &PutOptions::default())
        .await
        .expect_err("bad request");

    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("InvalidParameter"));
    assert_eq!(server.trail().len(), 1);
}

#[tokio::test]
async fn put_sends_conditions_and_extra_query() {
    let server =
        TestServer::start(|_| Arc::new(|_: &Seen| canned(200, resource("Succeeded")))).await;
    let opts = PutOptions {
        query: vec![("force".into(), "true".into())],
        if_match: Some("W/\"1\"".into()),
        if_none_match: None,
    };

    server
        .client()
        .put(ID, API, &json!({}), &opts)
        .await
        .unwrap();

    let put = &server.seen()[0];
    assert_eq!(put.query, "api-version=2024-01-01&force=true");
    assert_eq!(put.if_match.as_deref(), Some("W/\"1\""));
}

#[tokio::test]
async fn delete_follows_location_until_done_and_treats_404_as_gone() {
    let server = TestServer::start(|base| {
        let location = format!("{base}/operationResults/op3");
        sequence(move |n, _| match n {
            0 => canned(202, Value::Null)
                .header("location", location.clone())
                .header("retry-after", "0"),
            1 => canned(202, Value::Null).header("retry-after", "0"),
            2 => canned(204, Value::Null),
            _ => canned(
                404,
                json!({"error": {"code": "ResourceNotFound", "message": "gone"}}),
            ),
        })
    })
    .await;
    let client = server.client();

    client.delete(ID, API).await.unwrap();
    client.delete(ID, API).await.unwrap();

    assert_eq!(
        server.trail(),
        [
            format!("DELETE {ID}"),
            "GET /operationResults/op3".to_owned(),
            "GET /operationResults/op3".to_owned(),
            format!("DELETE {ID}"),
        ]
    );
}

#[tokio::test]
async fn operation_that_outlives_the_wait_is_a_timeout() {
    let server = TestServer::start(|base| {
        let op = format!("{base}/operations/slow");
        Arc::new(move |seen: &Seen| match seen.method.as_str() {
            "PUT" => canned(201, resource("Updating"))
                .header("azure-asyncoperation", op.clone())
                .header("retry-after", "0"),
            _ => canned(200, json!({"status": "InProgress"})).header("retry-after", "0"),
        })
    })
    .await;
    let client = ArmClient::new(ArmClientOptions {
        max_lro_wait: Duration::from_millis(50),
        ..server.options(Arc::new(StaticToken::new(TOKEN)))
    })
    .unwrap();

    let err = client
        .put(ID, API, &json!({}), &PutOptions::default())
        .await
        .expect_err("still running");

    assert!(matches!(err, ArmError::LroTimeout { .. }), "{err:?}");
}

/// Records the scopes tokens are asked for.
#[derive(Debug, Default)]
struct ScopeRecorder(Mutex<Vec<String>>);

#[async_trait]
impl TokenCredential for ScopeRecorder {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.0
            .lock()
            .unwrap()
            .extend(scopes.iter().map(|s| s.to_string()));
        StaticToken::new(TOKEN).get_token(scopes, options).await
    }
}

#[tokio::test]
async fn arm_and_key_vault_clients_ask_for_their_own_scopes() {
    let server = TestServer::start(|_| Arc::new(|_: &Seen| canned(200, json!({"id": "x"})))).await;
    let recorder = Arc::new(ScopeRecorder::default());
    let arm = ArmClient::new(server.options(recorder.clone())).unwrap();
    let vault = arm.key_vault().unwrap();

    arm.get(ID, API).await.unwrap();
    vault
        .get_url(
            &format!("{}/certificates/listener", server.vault_base()),
            "7.4",
        )
        .await
        .unwrap();
    let elsewhere = vault
        .get_url(&format!("{}/certificates/listener", server.base), "7.4")
        .await
        .expect_err("the ARM host is not under the vault audience");

    assert!(matches!(elsewhere, ArmError::Config(_)), "{elsewhere}");
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            format!("{}/.default", server.base),
            format!("{}/.default", server.vault_base())
        ]
    );
    assert_eq!(server.trail().len(), 2);
    assert_eq!(server.seen()[1].query, "api-version=7.4");
}

#[tokio::test]
async fn untrusted_server_certificate_is_a_transport_error() {
    let server = TestServer::start(|_| Arc::new(|_: &Seen| canned(200, json!({})))).await;
    let client = ArmClient::new(ArmClientOptions {
        extra_root_ca_pem: None,
        pipeline_retry: PipelineRetry {
            max_retries: 0,
            ..PipelineRetry::default()
        },
        reconcile_retry: ReconcileRetry {
            deadline: Duration::ZERO,
            ..ReconcileRetry::default()
        },
        ..server.options(Arc::new(StaticToken::new(TOKEN)))
    })
    .unwrap();

    let err = client
        .get(ID, API)
        .await
        .expect_err("the test CA is not trusted");

    assert!(matches!(err, ArmError::Transport { .. }), "{err:?}");
    assert!(server.seen().is_empty());
}
