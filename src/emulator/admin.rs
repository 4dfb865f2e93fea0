//! Administration endpoints outside the ARM namespace, for tests that run the emulator out of
//! process: `GET|DELETE /_emulator/requests` (the request log) and
//! `PUT|GET|DELETE /_emulator/resources/{ARM id}` (raw state injection, no ARM side effects).

use serde_json::{Value, json};

use super::arm::Reply;
use super::arm_id::ArmId;
use super::log::RequestKind;
use super::server::Shared;

pub(crate) const PREFIX: &str = "/_emulator/";

pub(crate) fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Reply {
    let rest = &path[PREFIX.len()..];
    let mut reply = match (method, rest) {
        ("GET", "requests") => Reply::json(200, json!(shared.log_snapshot())),
        ("DELETE", "requests") => {
            shared.clear_log();
            Reply::empty(204)
        }
        (method, rest) if rest.starts_with("resources/") => {
            resource(shared, method, &rest["resources".len()..], body)
        }
        _ => Reply::json(
            404,
            json!({ "error": { "code": "NotFound", "message": "No such admin endpoint." } }),
        ),
    };
    reply.kind = RequestKind::Admin;
    reply.header("content-type", "application/json")
}

fn resource(shared: &Shared, method: &str, id: &str, body: &[u8]) -> Reply {
    let Some(id) = ArmId::parse(id) else {
        return Reply::json(
            400,
            json!({ "error": { "code": "InvalidResourceId", "message": "Not an ARM resource id." } }),
        );
    };
    match method {
        "GET" => match shared.with_state(|s| s.view(&id)) {
            Some(doc) => Reply::json(200, doc),
            None => Reply::json(
                404,
                json!({ "error": { "code": "ResourceNotFound", "message": "Not in the store." } }),
            ),
        },
        "PUT" => match serde_json::from_slice::<Value>(body) {
            Ok(doc) if doc.is_object() => {
                shared.write_state(|s| s.put_raw(&id, doc));
                Reply::empty(204)
            }
            _ => Reply::json(
                400,
                json!({ "error": { "code": "InvalidRequestContent", "message": "Expected a JSON object." } }),
            ),
        },
        "DELETE" => {
            shared.write_state(|s| s.remove_raw(&id));
            Reply::empty(204)
        }
        _ => Reply::json(
            405,
            json!({ "error": { "code": "MethodNotAllowed", "message": "Use GET, PUT or DELETE." } }),
        ),
    }
}
