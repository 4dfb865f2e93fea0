//! The HTTP shell: one TCP port that serves TLS and plain HTTP alike (a first byte of 0x16 is a
//! TLS handshake), routing each request to the admin endpoints, the token endpoint or ARM, and
//! recording it in the request log. State changes are saved to the state file when there is one.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::arm::{self, ArmRequest, Reply};
use super::faults::{Admission, FaultTable, Plan, RequestClass, Throttle, subscription_of};
use super::log::{LoggedRequest, RequestKind, loggable_body, loggable_headers};
use super::state::EmulatorState;
use super::store::save_state;
use super::{admin, identity, vault};

/// Everything the connections share.
pub(crate) struct Shared {
    state: Mutex<EmulatorState>,
    log: Mutex<Vec<LoggedRequest>>,
    pub faults: Mutex<FaultTable>,
    pub throttle: Mutex<Throttle>,
    state_file: Option<PathBuf>,
    pub identity_secret: String,
}

/// A poisoned lock only means a handler panicked mid-request; the data is still usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn new(
        state: EmulatorState,
        state_file: Option<PathBuf>,
        identity_secret: String,
    ) -> Shared {
        Shared {
            state: Mutex::new(state),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(FaultTable::default()),
            throttle: Mutex::new(Throttle::default()),
            state_file,
            identity_secret,
        }
    }

    pub fn with_state<T>(&self, f: impl FnOnce(&EmulatorState) -> T) -> T {
        f(&lock(&self.state))
    }

    /// Runs a change on the state and saves it.
    pub fn write_state<T>(&self, f: impl FnOnce(&mut EmulatorState) -> T) -> T {
        let mut state = lock(&self.state);
        let out = f(&mut state);
        self.save(&state);
        out
    }

    fn save(&self, state: &EmulatorState) {
        if let Some(path) = &self.state_file
            && let Err(error) = save_state(&state.store, path)
        {
            tracing::warn!(path = %path.display(), %error, "could not save the emulator state");
        }
    }

    pub fn log_snapshot(&self) -> Vec<LoggedRequest> {
        lock(&self.log).clone()
    }

    pub fn clear_log(&self) {
        lock(&self.log).clear();
    }
}

/// Accepts connections until `shutdown` fires, then drops the open ones.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(connection(stream, tls.clone(), shared.clone()));
                }
            }
        }
        while connections.try_join_next().is_some() {}
    }
    connections.abort_all();
}

async fn connection(stream: TcpStream, tls: Option<TlsAcceptor>, shared: Arc<Shared>) {
    let mut first = [0u8; 1];
    let is_tls = matches!(stream.peek(&mut first).await, Ok(1) if first[0] == 0x16);
    let service = service_fn(move |req| {
        let shared = shared.clone();
        async move { respond(&shared, req).await }
    });
    let served = match (is_tls, tls) {
        (true, Some(acceptor)) => match acceptor.accept(stream).await {
            Ok(stream) => {
                http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
            }
            Err(error) => {
                tracing::debug!(%error, "TLS handshake failed");
                return;
            }
        },
        _ => {
            http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
        }
    };
    if let Err(error) = served {
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// A request answered by closing the connection (an injected connection reset).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct Dropped;

async fn respond(
    shared: &Shared,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let query: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();
    let method = parts.method.as_str().to_owned();

    let reply = if path.starts_with(admin::PREFIX) {
        Some(admin::handle(shared, &method, &path, &body))
    } else if path.eq_ignore_ascii_case(identity::TOKEN_PATH) {
        Some(identity::token(
            &query,
            &parts.headers,
            &shared.identity_secret,
        ))
    } else if vault::is_vault_path(&path) {
        let state = lock(&shared.state);
        Some(vault::handle(
            &state.certificates,
            &method,
            &path,
            &query,
            &parts.headers,
        ))
    } else {
        arm_reply(shared, &method, &path, &query, &parts.headers, &body).await
    };

    lock(&shared.log).push(LoggedRequest {
        kind: reply.as_ref().map_or(RequestKind::Arm, |r| r.kind),
        method,
        path,
        query: raw_query,
        status: reply.as_ref().map_or(0, |r| r.status),
        request_headers: loggable_headers(&parts.headers),
        request_body: loggable_body(&body),
        response_headers: reply
            .as_ref()
            .map(|r| r.headers.clone())
            .unwrap_or_default(),
        response_body: reply.as_ref().and_then(|r| r.body.clone()),
    });
    reply.map(into_response).ok_or(Dropped)
}

/// An ARM request through throttling and the fault table, then the handlers; `None` when the
/// connection is to be dropped.
async fn arm_reply(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &hyper::HeaderMap,
    body: &[u8],
) -> Option<Reply> {
    let class = RequestClass::of(method);
    let subscription = subscription_of(path);
    let admission = subscription.map(|subscription| {
        let admission = lock(&shared.throttle).admit(subscription, class, Instant::now());
        (admission, class, subscription)
    });
    let fault = match admission {
        Some((Admission::Throttled { .. }, ..)) => None,
        _ => lock(&shared.faults).take(method, path),
    };
    let operations_url = shared.with_state(|s| {
        format!(
            "{}/subscriptions/{}/providers/Microsoft.Network/locations/global/operations",
            s.settings.base_url,
            subscription.unwrap_or_default()
        )
    });
    let mut reply = match Plan::decide(admission, fault, path, &operations_url) {
        Plan::Drop => return None,
        Plan::Answer(reply) => arm::with_common_headers(reply),
        Plan::Serve { delay, outcome } => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let request = ArmRequest {
                method,
                path,
                query,
                headers,
                body,
                outcome,
            };
            let mut state = lock(&shared.state);
            let reply = arm::handle(&mut state, &request);
            if reply.changed {
                shared.save(&state);
            }
            reply
        }
    };
    if let Some((Admission::Admitted { remaining }, class, _)) = admission
        && reply.headers.iter().all(|(name, _)| name != class.header())
    {
        reply = reply.header(class.header(), remaining.to_string());
    }
    Some(reply)
}

fn into_response(reply: Reply) -> Response<Full<Bytes>> {
    let body = reply
        .body
        .map(|b| Bytes::from(serde_json::to_vec(&b).unwrap_or_default()))
        .unwrap_or_default();
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name, value);
    }
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}
