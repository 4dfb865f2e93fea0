//! Stopping a run on SIGTERM or Ctrl-C (a container being stopped): no new write starts, the
//! writes in flight get a grace period to finish, and what is left unfinished is reported. The
//! run then exits with `Exit::Interrupted`; a later run picks up where this one stopped.

use azrecon::arm::ArmClient;
use azrecon::engine::{self, ResourceOutcome, RunOptions, Stop};
use azrecon::kinds::Desired;
use azrecon::plan::Plan;
use std::time::Duration;

/// How an apply ended.
pub enum Applied {
    /// Ran to its end; the resources a stop kept from starting are `Interrupted`.
    Finished(Vec<ResourceOutcome>),
    /// The grace period ran out with these writes still in flight.
    GraceExpired { in_flight: Vec<String> },
}

/// Applies the plan until it ends, or until a stop signal plus `grace` have passed.
pub async fn apply(
    arm: &ArmClient,
    desired: &[Desired],
    plan: &Plan,
    opts: RunOptions,
    grace: Duration,
) -> Applied {
    let stop = Stop::default();
    let apply = engine::apply_until(arm, desired, plan, opts, &stop);
    tokio::pin!(apply);
    tokio::select! {
        outcomes = &mut apply => return Applied::Finished(outcomes),
        signal = stop_signal() => {
            stop.request();
            let in_flight = stop.in_flight();
            tracing::warn!(%signal, ?in_flight, grace_secs = grace.as_secs(), "stopping: no new writes; waiting for the writes in flight");
            eprintln!(
                "{signal}: starting no new writes; waiting up to {}s for {} in flight",
                grace.as_secs(),
                in_flight.len()
            );
        }
    }
    match tokio::time::timeout(grace, &mut apply).await {
        Ok(outcomes) => Applied::Finished(outcomes),
        Err(_) => Applied::GraceExpired {
            in_flight: stop.in_flight(),
        },
    }
}

/// Resolves on the first SIGTERM or SIGINT, naming it.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Parses a grace period: `90`, `90s`, `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.strip_suffix('m') {
        Some(minutes) => (minutes, 60),
        None => (text.strip_suffix('s').unwrap_or(text), 1),
    };
    number
        .trim()
        .parse::<u64>()
        .map(|n| Duration::from_secs(n * unit))
        .map_err(|_| format!("`{text}` is not a duration such as 60s or 2m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_periods() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
