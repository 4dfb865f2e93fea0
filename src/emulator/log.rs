//! The request log: every exchange the emulator served, with what it was (ARM call, LRO poll,
//! admin or token call), and its export as traffic files for the oav validator.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Header values that are credentials; the log keeps only that they were there.
const REDACTED_HEADERS: &[&str] = &["authorization", "x-identity-header"];

/// What part of the emulator served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RequestKind {
    /// A call on an ARM resource, collection, group or subscription.
    Arm,
    /// A poll of a long-running operation's status or result URL.
    LroPoll,
    /// The `/_emulator/...` administration endpoints.
    Admin,
    /// The managed-identity token endpoint.
    Identity,
    /// The Key Vault data plane (`/_vault/...`).
    KeyVault,
}

/// One served request and its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub kind: RequestKind,
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// The response status; 0 when the connection was dropped without a response.
    pub status: u16,
    /// Lower-cased names; credential values replaced by `<redacted>`.
    pub request_headers: Vec<(String, String)>,
    /// The body as JSON, or as a JSON string when it was not JSON; `None` when empty.
    pub request_body: Option<Value>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<Value>,
}

impl LoggedRequest {
    /// A write on ARM: PUT, PATCH, DELETE or POST that was not an admin, token or poll call.
    pub fn is_write(&self) -> bool {
        self.kind == RequestKind::Arm
            && matches!(self.method.as_str(), "PUT" | "PATCH" | "DELETE" | "POST")
    }

    /// A GET on ARM, not counting long-running-operation polls.
    pub fn is_read(&self) -> bool {
        self.kind == RequestKind::Arm && self.method == "GET"
    }

    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The exchange in the traffic format `oav validate-traffic` reads.
    pub fn traffic_exchange(&self) -> Value {
        let url = if self.query.is_empty() {
            format!("https://management.azure.com{}", self.path)
        } else {
            format!("https://management.azure.com{}?{}", self.path, self.query)
        };
        let mut request_headers = Map::new();
        if self.request_body.is_some() {
            request_headers.insert("Content-Type".into(), json!("application/json"));
        }
        let mut response_headers = Map::new();
        for (name, value) in &self.response_headers {
            if name != "content-length" {
                response_headers.insert(traffic_header_name(name), json!(value));
            }
        }
        json!({
            "liveRequest": {
                "url": url,
                "method": self.method,
                "headers": request_headers,
                "body": self.request_body.clone().unwrap_or(Value::Null),
            },
            "liveResponse": {
                "statusCode": self.status.to_string(),
                "headers": response_headers,
                "body": self.response_body.clone().unwrap_or(Value::Null),
            }
        })
    }
}

/// Header names in the casing the specs use (`Content-Type`, `Azure-AsyncOperation`).
fn traffic_header_name(name: &str) -> String {
    match name {
        "azure-asyncoperation" => "Azure-AsyncOperation".into(),
        other => other
            .split('-')
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// Header pairs with lower-cased names and credentials redacted.
pub(crate) fn loggable_headers(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_ascii_lowercase();
            let value = if REDACTED_HEADERS.contains(&name.as_str()) {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

/// A logged body: JSON when it parses, otherwise the text as a JSON string.
pub(crate) fn loggable_body(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

/// Writes one traffic file per ARM exchange (polls, admin and token calls and dropped
/// connections left out) into `dir`; returns how many it wrote.
pub(crate) fn write_traffic(log: &[LoggedRequest], dir: &Path) -> io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut written = 0;
    for entry in log
        .iter()
        .filter(|e| e.kind == RequestKind::Arm && e.status != 0)
    {
        written += 1;
        let last = entry
            .path
            .rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("root");
        let file = dir.join(format!(
            "{written:04}-{}-{}.json",
            entry.method,
            sanitize(last)
        ));
        let text =
            serde_json::to_vec_pretty(&entry.traffic_exchange()).map_err(io::Error::other)?;
        std::fs::write(file, text)?;
    }
    Ok(written)
}

fn sanitize(segment: &str) -> String {
    segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_header_names_follow_spec_casing() {
        assert_eq!(traffic_header_name("content-type"), "Content-Type");
        assert_eq!(
            traffic_header_name("azure-asyncoperation"),
            "Azure-AsyncOperation"
        );
        assert_eq!(traffic_header_name("retry-after"), "Retry-After");
    }
}
