//! ARM request handling: authentication and api-version checks, then GET, PUT and DELETE on
//! resources, lists of collections, implicit subscriptions and resource groups, and polls of
//! long-running operations. It works on [`EmulatorState`] and plain request data and returns a
//! [`Reply`]; the server does the HTTP.

use hyper::HeaderMap;
use serde_json::{Map, Value, json};

use super::arm_error::ArmError;
use super::arm_id::{ArmId, ArmPath, Scope};
use super::log::RequestKind;
use super::lro::{OperationKind, Outcome, PollState};
use super::state::EmulatorState;
use super::store::doc_id;
use super::types::{PutContext, kind_for};

/// A request as the handlers see it.
pub(crate) struct ArmRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// How a long-running write this request starts will end (a fault can plan a failure).
    pub outcome: Outcome,
}

impl ArmRequest<'_> {
    fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A response before it becomes HTTP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    pub kind: RequestKind,
    /// Whether the store changed, so the state file is due for a save.
    pub changed: bool,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
            kind: RequestKind::Arm,
            changed: false,
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
            kind: RequestKind::Arm,
            changed: false,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    fn changed(mut self) -> Reply {
        self.changed = true;
        self
    }
}

impl From<ArmError> for Reply {
    fn from(error: ArmError) -> Reply {
        Reply::json(error.status, error.body())
    }
}

/// Whether the request carries `Authorization: Bearer <something>`. Any token is accepted.
pub(crate) fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
        })
}

/// Checks `If-Match` / `If-None-Match` against the current etag (`None`: no resource).
pub(crate) fn check_preconditions(
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    current_etag: Option<Option<&str>>,
) -> Result<(), ArmError> {
    let exists = current_etag.is_some();
    let etag = current_etag.flatten();
    let matches =
        |wanted: &str| wanted.trim() == "*" && exists || etag.is_some_and(|e| e == wanted.trim());
    if if_match.is_some_and(|m| !matches(m)) || if_none_match.is_some_and(matches) {
        return Err(ArmError::precondition_failed());
    }
    Ok(())
}

pub(crate) fn handle(state: &mut EmulatorState, req: &ArmRequest<'_>) -> Reply {
    if !has_bearer(req.headers) {
        return ArmError::authentication_failed().into();
    }
    let Some(api_version) = req.query_value("api-version").filter(|v| !v.is_empty()) else {
        return ArmError::missing_api_version().into();
    };
    let api_version = api_version.to_owned();
    let Some(path) = ArmPath::parse(req.path) else {
        return ArmError::invalid_path(req.path).into();
    };
    let reply = match (req.method, path) {
        ("GET", ArmPath::Operation { id, results }) => poll(state, &id, results, req),
        ("GET", ArmPath::Subscription { subscription }) => Reply::json(
            200,
            json!({
                "id": format!("/subscriptions/{subscription}"),
                "subscriptionId": subscription,
                "displayName": "azrecon emulator",
                "state": "Enabled",
            }),
        ),
        ("GET" | "PUT", ArmPath::ResourceGroup { subscription, name }) => {
            let location = serde_json::from_slice::<Value>(req.body)
                .ok()
                .and_then(|b| b.get("location").cloned())
                .unwrap_or_else(|| json!("westeurope"));
            Reply::json(
                200,
                json!({
                    "id": format!("/subscriptions/{subscription}/resourceGroups/{name}"),
                    "name": name,
                    "type": "Microsoft.Resources/resourceGroups",
                    "location": location,
                    "properties": { "provisioningState": "Succeeded" },
                }),
            )
        }
        (
            "GET",
            ArmPath::Collection {
                parent,
                scope,
                type_segment,
            },
        ) => list(state, parent.as_ref(), &scope, &type_segment),
        ("GET", ArmPath::Resource(id)) => match state.read(&id) {
            (Some(doc), ended) => Reply {
                changed: ended,
                ..Reply::json(200, doc)
            },
            (None, _) => ArmError::not_found(&id).into(),
        },
        ("PUT", ArmPath::Resource(id)) => {
            put(state, &id, req, &api_version).unwrap_or_else(Reply::from)
        }
        ("DELETE", ArmPath::Resource(id)) => {
            delete(state, &id, req, &api_version).unwrap_or_else(Reply::from)
        }
        (method, _) => ArmError::method_not_allowed(method).into(),
    };
    with_common_headers(reply)
}

/// The headers every ARM answer carries.
pub(crate) fn with_common_headers(reply: Reply) -> Reply {
    reply
        .header("content-type", "application/json; charset=utf-8")
        .header("x-ms-request-id", uuid::Uuid::new_v4().to_string())
}

fn list(state: &EmulatorState, parent: Option<&ArmId>, scope: &Scope, type_segment: &str) -> Reply {
    let ids: Vec<ArmId> = match parent {
        Some(parent) => {
            if state.store.get(parent).is_none() {
                return ArmError::not_found(parent).into();
            }
            state
                .store
                .children(parent, type_segment)
                .into_iter()
                .filter_map(doc_id)
                .collect()
        }
        None => {
            let type_path = format!("{}/{}", scope.namespace, type_segment);
            state
                .store
                .of_type(&type_path)
                .filter_map(doc_id)
                .filter(|id| {
                    id.subscription.eq_ignore_ascii_case(&scope.subscription)
                        && id
                            .resource_group
                            .eq_ignore_ascii_case(&scope.resource_group)
                })
                .collect()
        }
    };
    let value: Vec<Value> = ids.iter().filter_map(|id| state.view(id)).collect();
    Reply::json(200, json!({ "value": value }))
}

/// The region segment of operation URLs: the resource's (or its parent's) location.
fn operation_location(state: &EmulatorState, id: &ArmId) -> String {
    std::iter::successors(Some(id.clone()), ArmId::parent)
        .find_map(|i| {
            state
                .store
                .get(&i)?
                .get("location")?
                .as_str()
                .map(str::to_owned)
        })
        .map_or_else(
            || "global".to_owned(),
            |l| l.to_ascii_lowercase().replace(' ', ""),
        )
}

fn operation_url(
    state: &EmulatorState,
    id: &ArmId,
    op: &str,
    results: bool,
    api_version: &str,
) -> String {
    format!(
        "{}/subscriptions/{}/providers/{}/locations/{}/{}/{op}?api-version={api_version}",
        state.settings.base_url,
        id.subscription,
        id.namespace,
        operation_location(state, id),
        if results {
            "operationResults"
        } else {
            "operations"
        },
    )
}

fn put(
    state: &mut EmulatorState,
    id: &ArmId,
    req: &ArmRequest<'_>,
    api_version: &str,
) -> Result<Reply, ArmError> {
    let kind = kind_for(id);
    let existing_etag = state
        .store
        .get(id)
        .map(|d| d.get("etag").and_then(Value::as_str));
    check_preconditions(
        req.header("if-match"),
        req.header("if-none-match"),
        existing_etag,
    )?;
    if let Some(parent) = id.parent()
        && state.store.get(&parent).is_none()
    {
        return Err(ArmError::parent_not_found(&parent));
    }
    let mut body: Value =
        serde_json::from_slice(req.body).map_err(|e| ArmError::invalid_content(&e.to_string()))?;
    let Some(object) = body.as_object_mut() else {
        return Err(ArmError::invalid_content(
            "the request body must be a JSON object",
        ));
    };
    for key in ["id", "name", "type", "etag"] {
        object.remove(key);
    }
    if let Some(props) = object.get_mut("properties").and_then(Value::as_object_mut) {
        props.remove("provisioningState");
        props.remove("resourceGuid");
    }

    let superseding = kind.superseding_put_operation();
    state.settle(id, superseding.is_some());
    let existing = state.store.get(id).cloned();
    let etag = kind.fresh_etag();
    let ctx = PutContext {
        store: &state.store,
        directory: &state.directory,
        id,
        existing: existing.as_ref(),
        query: req.query,
        etag: &etag,
    };
    kind.prepare(&ctx, &mut body)?;

    let long_running = kind.long_running().put;
    let stored_id = existing
        .as_ref()
        .and_then(|d| d.get("id").cloned())
        .unwrap_or_else(|| json!(id.to_string()));
    let name = existing
        .as_ref()
        .and_then(|d| d.get("name").cloned())
        .unwrap_or_else(|| json!(id.name()));
    let resource_guid = kind.has_resource_guid().then(|| {
        existing
            .as_ref()
            .and_then(|d| d.get("properties")?.get("resourceGuid").cloned())
            .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string()))
    });
    let mut doc = Map::new();
    doc.insert("name".into(), name);
    doc.insert("id".into(), stored_id);
    doc.insert("etag".into(), json!(etag));
    doc.insert("type".into(), json!(kind.type_name(id)));
    let Value::Object(fields) = body else {
        unreachable!("checked to be an object above")
    };
    for (key, value) in fields {
        if key == "properties" {
            let mut props = Map::new();
            props.insert(
                "provisioningState".into(),
                json!(if long_running {
                    "Updating"
                } else {
                    "Succeeded"
                }),
            );
            if let Some(guid) = resource_guid.clone() {
                props.insert("resourceGuid".into(), guid);
            }
            props.extend(value.as_object().cloned().unwrap_or_default());
            doc.insert(key, Value::Object(props));
        } else {
            doc.insert(key, value);
        }
    }
    state.store.insert(id, Value::Object(doc));
    kind.after_put(&mut state.store, id);

    let body = state.view(id).expect("just stored");
    let mut reply = Reply::json(if existing.is_some() { 200 } else { 201 }, body).changed();
    if long_running {
        let op = state.operations.start(
            id.clone(),
            OperationKind::Put,
            state.settings.lro_polls,
            req.outcome.clone(),
        );
        if let Some(name) = superseding {
            state.operations.supersede_puts(id, &op, |canceled, by| {
                ArmError::canceled_and_superseded(name, canceled, by).error_object()
            });
        }
        reply = reply
            .header(
                "azure-asyncoperation",
                operation_url(state, id, &op, false, api_version),
            )
            .header("retry-after", state.settings.retry_after_secs.to_string());
    }
    Ok(reply)
}

fn delete(
    state: &mut EmulatorState,
    id: &ArmId,
    req: &ArmRequest<'_>,
    api_version: &str,
) -> Result<Reply, ArmError> {
    let existing_etag = state
        .store
        .get(id)
        .map(|d| d.get("etag").and_then(Value::as_str));
    check_preconditions(req.header("if-match"), None, existing_etag)?;
    state.settle(id, false);
    if state.store.get(id).is_none() {
        return Ok(Reply::empty(204));
    }
    if !kind_for(id).long_running().delete {
        state.delete_now(id);
        return Ok(Reply::empty(200).changed());
    }
    if let Some(props) = state
        .store
        .get_mut(id)
        .and_then(|d| d.get_mut("properties"))
        .and_then(Value::as_object_mut)
    {
        props.insert("provisioningState".into(), json!("Deleting"));
    }
    let op = state.operations.start(
        id.clone(),
        OperationKind::Delete,
        state.settings.lro_polls,
        req.outcome.clone(),
    );
    Ok(Reply::empty(202)
        .changed()
        .header("location", operation_url(state, id, &op, true, api_version))
        .header(
            "azure-asyncoperation",
            operation_url(state, id, &op, false, api_version),
        )
        .header("retry-after", state.settings.retry_after_secs.to_string()))
}

/// A poll of `operations/{id}` (status body) or `operationResults/{id}` (Location semantics:
/// 202 while running, then the final result).
fn poll(state: &mut EmulatorState, op: &str, results: bool, req: &ArmRequest<'_>) -> Reply {
    let Some(poll) = state.operations.poll(op) else {
        return ArmError::operation_not_found(op).into();
    };
    let mut reply = match (poll.state, results) {
        (PollState::InProgress, false) => Reply::json(200, json!({ "status": "InProgress" }))
            .header("retry-after", state.settings.retry_after_secs.to_string()),
        (PollState::InProgress, true) => {
            let url = format!(
                "{}{}?{}",
                state.settings.base_url,
                req.path,
                query_string(req.query)
            );
            Reply::empty(202)
                .header("location", url)
                .header("retry-after", state.settings.retry_after_secs.to_string())
        }
        (ended, results) => {
            if ended == PollState::JustEnded {
                state.complete(&poll.resource, poll.kind, &poll.outcome);
            }
            let mut reply = match (results, poll.kind, &poll.outcome) {
                (false, _, outcome) => Reply::json(200, outcome.status_body()),
                (true, OperationKind::Delete, Outcome::Succeeded) => Reply::empty(204),
                (true, OperationKind::Put, Outcome::Succeeded) => {
                    match state.view(&poll.resource) {
                        Some(doc) => Reply::json(200, doc),
                        None => Reply::empty(204),
                    }
                }
                // The result URL of an operation that did not succeed answers with its error.
                (true, _, Outcome::Failed(error) | Outcome::Canceled(error)) => {
                    Reply::json(400, json!({ "error": error }))
                }
            };
            reply.changed = ended == PollState::JustEnded;
            reply
        }
    };
    reply.kind = RequestKind::LroPoll;
    reply
}

fn query_string(query: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preconditions_follow_http_semantics() {
        let etag = Some(Some("W/\"1\""));
        assert!(check_preconditions(Some("W/\"1\""), None, etag).is_ok());
        assert!(check_preconditions(Some("W/\"2\""), None, etag).is_err());
        assert!(check_preconditions(Some("*"), None, etag).is_ok());
        assert!(check_preconditions(Some("*"), None, None).is_err());
        assert!(check_preconditions(None, Some("*"), etag).is_err());
        assert!(check_preconditions(None, Some("*"), None).is_ok());
        assert!(check_preconditions(None, Some("W/\"2\""), etag).is_ok());
    }

    #[test]
    fn bearer_scheme_is_required() {
        let mut headers = HeaderMap::new();
        assert!(!has_bearer(&headers));
        headers.insert("authorization", "Basic abc".parse().unwrap());
        assert!(!has_bearer(&headers));
        headers.insert("authorization", "Bearer fake".parse().unwrap());
        assert!(has_bearer(&headers));
    }
}
