//! The managed-identity token endpoint, in the App Service (`IDENTITY_ENDPOINT` /
//! `IDENTITY_HEADER`, api-version 2019-08-01) form that azure_identity's managed identity
//! credential calls: `GET {endpoint}?api-version=2019-08-01&resource=...` with the secret in the
//! `x-identity-header` header. The token it hands out is a fixed, non-secret placeholder.

use std::time::{SystemTime, UNIX_EPOCH};

use hyper::HeaderMap;
use serde_json::json;

use super::arm::Reply;
use super::log::RequestKind;

/// Path of the token endpoint on the emulator's port.
pub(crate) const TOKEN_PATH: &str = "/msi/token";
/// The header azure_identity puts the `IDENTITY_HEADER` value in.
pub(crate) const SECRET_HEADER: &str = "x-identity-header";
/// The access token handed out; ARM accepts any bearer token, so it carries nothing.
const ACCESS_TOKEN: &str = "azrecon-emulator-access-token";
const LIFETIME_SECS: u64 = 3600;

pub(crate) fn token(
    query: &[(String, String)],
    headers: &HeaderMap,
    expected_secret: &str,
) -> Reply {
    let secret_ok = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected_secret);
    let reply = if !secret_ok {
        Reply::json(
            401,
            json!({
                "error": "unauthorized",
                "error_description": "The x-identity-header header is missing or does not match IDENTITY_HEADER.",
            }),
        )
    } else if let Some((_, resource)) = query.iter().find(|(k, _)| k == "resource") {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Reply::json(
            200,
            json!({
                "access_token": ACCESS_TOKEN,
                "expires_on": (now + LIFETIME_SECS).to_string(),
                "resource": resource,
                "token_type": "Bearer",
            }),
        )
    } else {
        Reply::json(
            400,
            json!({ "error": "invalid_request", "error_description": "The 'resource' query parameter is required." }),
        )
    };
    let mut reply = reply.header("content-type", "application/json");
    reply.kind = RequestKind::Identity;
    reply
}
