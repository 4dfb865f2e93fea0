//! Counting ARM requests: a per-try pipeline policy records every request that went to the wire
//! (retries included) by method and HTTP status, with the time the transport took, into a
//! registry shared by the clients of one run. The run's metrics are read from it.

use async_trait::async_trait;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The status label of a request that got no HTTP response (connection or I/O failure).
pub const NO_RESPONSE: &str = "error";

/// Requests of one method and status: how many, and their summed duration.
#[derive(Clone, Debug, PartialEq)]
pub struct CallCount {
    pub method: String,
    /// The HTTP status code, or [`NO_RESPONSE`].
    pub status: String,
    pub count: u64,
    pub seconds: f64,
}

/// Requests and their summed duration, by (method, status).
type Counts = BTreeMap<(String, String), (u64, Duration)>;

/// The shared registry of request counts. Cheap to clone; clones count into the same registry.
#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<Counts>>,
}

impl CallCounter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one request.
    pub fn record(&self, method: &str, status: &str, took: Duration) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let entry = counts
            .entry((method.to_owned(), status.to_owned()))
            .or_default();
        entry.0 += 1;
        entry.1 += took;
    }

    /// Every (method, status) seen so far, sorted by method then status.
    pub fn snapshot(&self) -> Vec<CallCount> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts
            .iter()
            .map(|((method, status), (count, took))| CallCount {
                method: method.clone(),
                status: status.clone(),
                count: *count,
                seconds: took.as_secs_f64(),
            })
            .collect()
    }
}

/// The pipeline policy that feeds a [`CallCounter`]; it sits just before the transport.
#[derive(Debug)]
pub(crate) struct CountCalls(pub CallCounter);

#[async_trait]
impl Policy for CountCalls {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let method = request.method().to_string();
        let started = Instant::now();
        let result = next[0].send(ctx, request, &next[1..]).await;
        let status = match &result {
            Ok(response) => u16::from(response.status()).to_string(),
            Err(_) => NO_RESPONSE.to_owned(),
        };
        self.0.record(&method, &status, started.elapsed());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accumulate_per_method_and_status_in_order() {
        let calls = CallCounter::new();
        let shared = calls.clone();
        calls.record("PUT", "201", Duration::from_millis(500));
        shared.record("GET", "200", Duration::from_millis(100));
        calls.record("GET", "200", Duration::from_millis(300));
        calls.record("GET", NO_RESPONSE, Duration::ZERO);
        let got: Vec<(String, String, u64, f64)> = calls
            .snapshot()
            .into_iter()
            .map(|c| (c.method, c.status, c.count, c.seconds))
            .collect();
        assert_eq!(
            got,
            vec![
                ("GET".into(), "200".into(), 2, 0.4),
                ("GET".into(), "error".into(), 1, 0.0),
                ("PUT".into(), "201".into(), 1, 0.5),
            ]
        );
    }
}
