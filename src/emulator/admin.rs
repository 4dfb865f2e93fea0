//! Administration endpoints outside the ARM namespace, for tests that run the emulator out of
//! process: `GET|DELETE /_emulator/requests` (the request log),
//! `PUT|GET|DELETE /_emulator/resources/{ARM id}` (raw state injection, no ARM side effects),
//! `PUT|GET|DELETE /_emulator/faults` (the fault table: PUT replaces it with a JSON array of
//! rules) and `PUT|DELETE /_emulator/rate-limits` (ARM's token buckets: PUT `{}` for ARM's
//! limits or a full set, DELETE turns them off).

use serde_json::{Value, json};

use super::arm::Reply;
use super::arm_id::ArmId;
use super::faults::{FaultRule, RateLimits};
use super::log::RequestKind;
use super::server::{Shared, lock};

pub(crate) const PREFIX: &str = "/_emulator/";

pub(crate) fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Reply {
    let rest = &path[PREFIX.len()..];
    let mut reply = match (method, rest) {
        ("GET", "requests") => Reply::json(200, json!(shared.log_snapshot())),
        ("DELETE", "requests") => {
            shared.clear_log();
            Reply::empty(204)
        }
        ("GET", "faults") => Reply::json(200, json!(lock(&shared.faults).rules())),
        ("PUT", "faults") => match serde_json::from_slice::<Vec<FaultRule>>(body) {
            Ok(rules) => match lock(&shared.faults).set(rules) {
                Ok(()) => Reply::empty(204),
                Err(error) => bad_request(&error.to_string()),
            },
            Err(error) => bad_request(&error.to_string()),
        },
        ("DELETE", "faults") => {
            lock(&shared.faults)
                .set(Vec::new())
                .expect("no rules to compile");
            Reply::empty(204)
        }
        ("PUT", "rate-limits") => match rate_limits(body) {
            Ok(limits) => {
                lock(&shared.throttle).set_limits(Some(limits));
                Reply::empty(204)
            }
            Err(error) => bad_request(&error.to_string()),
        },
        ("DELETE", "rate-limits") => {
            lock(&shared.throttle).set_limits(None);
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

fn bad_request(reason: &str) -> Reply {
    Reply::json(
        400,
        json!({ "error": { "code": "InvalidRequestContent", "message": reason } }),
    )
}

/// `{}` (or an empty body) means ARM's own limits.
fn rate_limits(body: &[u8]) -> Result<RateLimits, serde_json::Error> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) if map.is_empty() => Ok(RateLimits::ARM),
        _ if body.iter().all(u8::is_ascii_whitespace) => Ok(RateLimits::ARM),
        _ => serde_json::from_slice(body),
    }
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
