//! Pacing of ARM requests per subscription, so that a large run is never throttled in the first
//! place. ARM keeps a token bucket per subscription for reads, writes and deletes and reports
//! what is left in `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` on every answer.
//! The pacer mirrors each bucket: the last reported remainder, refilled at ARM's documented rate,
//! less the requests sent since. A request that would take the mirror below the reserve waits
//! until the refill makes room. The first request of a bucket goes alone, so that the others
//! start from a reported remainder rather than a guess.
//!
//! The arithmetic ([`Mirror`]) is pure; the policy around it is the only part that waits.

use async_trait::async_trait;
use azure_core::http::headers::HeaderName;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Method, Request};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How fast ARM refills each bucket, and how much of it a run leaves to others.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pacing {
    /// Tokens per second ARM adds to the subscription's read bucket.
    pub reads_per_second: f64,
    /// Tokens per second ARM adds to the write bucket.
    pub writes_per_second: f64,
    /// Tokens per second ARM adds to the delete bucket.
    pub deletes_per_second: f64,
    /// Tokens a run leaves in each bucket for the subscription's other clients (the portal,
    /// other pipelines); requests wait rather than go below it.
    pub reserve: u32,
}

impl Default for Pacing {
    /// ARM's documented refill rates: reads 25 per second, writes and deletes 10 per second.
    fn default() -> Self {
        Pacing {
            reads_per_second: 25.0,
            writes_per_second: 10.0,
            deletes_per_second: 10.0,
            reserve: 10,
        }
    }
}

/// Which bucket a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bucket {
    Reads,
    Writes,
    Deletes,
}

impl Bucket {
    fn of(method: &Method) -> Bucket {
        match method {
            Method::Get | Method::Head => Bucket::Reads,
            Method::Delete => Bucket::Deletes,
            _ => Bucket::Writes,
        }
    }

    fn header(self) -> HeaderName {
        HeaderName::from_static(match self {
            Bucket::Reads => "x-ms-ratelimit-remaining-subscription-reads",
            Bucket::Writes => "x-ms-ratelimit-remaining-subscription-writes",
            Bucket::Deletes => "x-ms-ratelimit-remaining-subscription-deletes",
        })
    }

    fn rate(self, pacing: &Pacing) -> f64 {
        match self {
            Bucket::Reads => pacing.reads_per_second,
            Bucket::Writes => pacing.writes_per_second,
            Bucket::Deletes => pacing.deletes_per_second,
        }
        .clamp(f64::MIN_POSITIVE, f64::MAX)
    }
}

/// The client's estimate of one of ARM's buckets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Mirror {
    tokens: f64,
    at: Instant,
}

impl Mirror {
    /// A bucket as ARM just reported it.
    fn reported(remaining: u32, now: Instant) -> Mirror {
        Mirror {
            tokens: f64::from(remaining),
            at: now,
        }
    }

    fn refill(&mut self, now: Instant, rate: f64) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens += elapsed * rate;
        self.at = now;
    }

    /// Takes a token for a request about to be sent and returns how long it must wait first:
    /// zero while the bucket stays above `reserve`, else until the refill has made room. The
    /// token is taken at once, so concurrent requests queue behind each other.
    fn take(&mut self, now: Instant, rate: f64, reserve: u32) -> Duration {
        self.refill(now, rate);
        self.tokens -= 1.0;
        let short = f64::from(reserve) - self.tokens;
        if short <= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(short / rate).unwrap_or(Duration::MAX)
        }
    }

    /// What an answer reported. ARM's count wins when it is lower (others spend the same
    /// quota); a higher one is not believed, as requests in flight have not reached it yet.
    fn observe(&mut self, remaining: u32, now: Instant, rate: f64) {
        self.refill(now, rate);
        self.tokens = self.tokens.min(f64::from(remaining));
    }
}

/// What the pacer knows of one bucket.
#[derive(Debug)]
enum Known {
    /// Nothing yet: the next request probes it alone.
    Unknown,
    /// The endpoint reports no quota (a data plane): nothing to pace.
    Unmetered,
    Mirrored(Mirror),
}

type Key = (String, Bucket);

/// The pacer shared by every pipeline of a client and its siblings.
#[derive(Debug)]
pub(crate) struct Pacer {
    pacing: Pacing,
    buckets: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Known>>>>,
}

impl Pacer {
    pub fn new(pacing: Pacing) -> Pacer {
        Pacer {
            pacing,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn bucket(&self, key: Key) -> Arc<tokio::sync::Mutex<Known>> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        buckets
            .entry(key)
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Known::Unknown)))
            .clone()
    }
}

/// The subscription an ARM URL path is about, lowercased.
fn subscription_of(path: &str) -> Option<String> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    while let Some(segment) = segments.next() {
        if segment.eq_ignore_ascii_case("subscriptions") {
            return segments.next().map(str::to_ascii_lowercase);
        }
    }
    None
}

fn remaining(response: &PolicyResult, bucket: Bucket) -> Option<u32> {
    let response = response.as_ref().ok()?;
    response
        .headers()
        .get_optional_str(&bucket.header())?
        .trim()
        .parse()
        .ok()
}

/// The per-try policy: every try of a request spends a token, retries included.
#[derive(Debug)]
pub(crate) struct PacingPolicy(pub Arc<Pacer>);

#[async_trait]
impl Policy for PacingPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let Some(subscription) = subscription_of(request.url().path()) else {
            return next[0].send(ctx, request, &next[1..]).await;
        };
        let bucket = Bucket::of(&request.method());
        let rate = bucket.rate(&self.0.pacing);
        let cell = self.0.bucket((subscription.clone(), bucket));
        let mut known = cell.lock().await;
        if let Known::Unknown = *known {
            // Sent with the bucket locked: the others wait for its report.
            let response = next[0].send(ctx, request, &next[1..]).await;
            if response.is_ok() {
                *known = match remaining(&response, bucket) {
                    Some(left) => Known::Mirrored(Mirror::reported(left, Instant::now())),
                    None => Known::Unmetered,
                };
            }
            return response;
        }
        let wait = match &mut *known {
            Known::Mirrored(mirror) => mirror.take(Instant::now(), rate, self.0.pacing.reserve),
            _ => Duration::ZERO,
        };
        drop(known);
        if !wait.is_zero() {
            tracing::debug!(
                subscription = %subscription,
                bucket = ?bucket,
                wait_ms = wait.as_millis() as u64,
                "pacing: waiting for ARM's quota to refill"
            );
            tokio::time::sleep(wait).await;
        }
        let response = next[0].send(ctx, request, &next[1..]).await;
        if let Some(left) = remaining(&response, bucket)
            && let Known::Mirrored(mirror) = &mut *cell.lock().await
        {
            mirror.observe(left, Instant::now(), rate);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_above_the_reserve_go_at_once_then_wait_for_the_refill() {
        let t0 = Instant::now();
        let mut mirror = Mirror::reported(3, t0);
        // reserve 1, refill 2 per second: two go at once, the third waits half a second for
        // its token, the fourth a second.
        let waits: Vec<Duration> = (0..4).map(|_| mirror.take(t0, 2.0, 1)).collect();
        assert_eq!(
            waits,
            [
                Duration::ZERO,
                Duration::ZERO,
                Duration::from_millis(500),
                Duration::from_secs(1)
            ]
        );
        // Two seconds later the refill has paid the debt back and one more token is free.
        assert_eq!(
            mirror.take(t0 + Duration::from_secs(3), 2.0, 1),
            Duration::ZERO
        );
    }

    #[test]
    fn a_lower_report_wins_and_a_higher_one_is_not_believed() {
        let t0 = Instant::now();
        let mut mirror = Mirror::reported(100, t0);
        mirror.observe(5, t0, 10.0);
        assert_eq!(mirror.tokens, 5.0);
        mirror.observe(50, t0, 10.0);
        assert_eq!(
            mirror.tokens, 5.0,
            "requests in flight are not in ARM's count yet"
        );
        mirror.observe(50, t0 + Duration::from_secs(1), 10.0);
        assert_eq!(mirror.tokens, 15.0, "refilled at ARM's rate");
    }

    #[test]
    fn buckets_by_method_and_subscription_by_path() {
        assert_eq!(Bucket::of(&Method::Get), Bucket::Reads);
        assert_eq!(Bucket::of(&Method::Put), Bucket::Writes);
        assert_eq!(Bucket::of(&Method::Patch), Bucket::Writes);
        assert_eq!(Bucket::of(&Method::Delete), Bucket::Deletes);
        assert_eq!(
            subscription_of("/subscriptions/ABC/resourceGroups/rg").as_deref(),
            Some("abc")
        );
        assert_eq!(
            subscription_of("/base/subscriptions/s/providers/x").as_deref(),
            Some("s")
        );
        assert_eq!(subscription_of("/certificates/c"), None);
    }
}
