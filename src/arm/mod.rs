//! The ARM client: azure_core's `Pipeline` with an azure_identity credential, GET/PUT/DELETE on
//! resource IDs with a kind's api-version, and long-running operations followed to their end.
//!
//! Map: `cloud` (endpoints and token scopes per cloud), `credential` (choosing and building the
//! credential), `error` (`ArmError` and the one classifier of ARM errors), `lro` (pure steps of
//! long-running operations), `pacing` (spending ARM's per-subscription quota evenly),
//! `pipeline` (azure_core policies and transport), `calls` (counting requests by status),
//! `progress` (events of long-running operations for the caller), `client` (the executor:
//! requests, polling, reconcile-level retries).

mod calls;
mod client;
mod cloud;
mod credential;
mod error;
pub mod lro;
mod pacing;
mod pipeline;
mod progress;

pub use calls::{CallCount, CallCounter, NO_RESPONSE};
pub use client::{ArmClient, ArmClientOptions, Fetched, PutOptions, ReconcileRetry};
pub use cloud::{Cloud, PATH_STYLE_VAULTS, scope_for};
pub use credential::{AuthMode, EnvSnapshot, StaticToken, choose, credential};
pub use error::{
    ArmError, Disposition, ErrorBody, OperationEnd, classify, classify_error, retry_reason,
};
pub use pacing::Pacing;
pub use pipeline::{PipelineRetry, http_client};
pub use progress::{LroEvent, LroState, ProgressSink, reported_status};
