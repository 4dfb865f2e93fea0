//! Long-running operations in flight, as text: a live block for a terminal (redrawn in place)
//! and plain periodic lines for CI logs, which cannot redraw. Pure: the operations and their
//! elapsed times in, text out.

use std::time::Duration;

/// One operation the client is waiting on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    pub method: &'static str,
    pub resource_id: String,
    /// What ARM last said; `None` before the first poll.
    pub status: Option<String>,
    pub elapsed: Duration,
}

/// `2m10s`, `45s`, `1h02m`.
pub fn elapsed_text(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// The tail of a resource ID that names it: `.../applicationGateways/agw`.
pub fn short_id(id: &str) -> String {
    let parts: Vec<&str> = id.trim_end_matches('/').rsplitn(3, '/').collect();
    match parts.as_slice() {
        [name, kind, _] => format!(".../{kind}/{name}"),
        _ => id.to_owned(),
    }
}

fn status(op: &InFlight) -> &str {
    op.status.as_deref().unwrap_or("Accepted")
}

/// The CI form: one line per operation, printed every so often while it runs.
pub fn waiting_line(op: &InFlight) -> String {
    format!(
        "still waiting: {} {} ({}, {})",
        op.method,
        short_id(&op.resource_id),
        status(op),
        elapsed_text(op.elapsed)
    )
}

/// The terminal form: one aligned line per operation, to be redrawn in place.
pub fn live_block(ops: &[InFlight]) -> String {
    let width = ops
        .iter()
        .map(|op| op.method.len() + 1 + short_id(&op.resource_id).len())
        .max()
        .unwrap_or(0);
    ops.iter()
        .map(|op| {
            let what = format!("{} {}", op.method, short_id(&op.resource_id));
            format!(
                "  … {what:<width$}  {:<12} {:>6}\n",
                status(op),
                elapsed_text(op.elapsed)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGW: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/applicationGateways/agw";

    fn op(status: Option<&str>, secs: u64) -> InFlight {
        InFlight {
            method: "PUT",
            resource_id: AGW.into(),
            status: status.map(str::to_owned),
            elapsed: Duration::from_secs(secs),
        }
    }

    #[test]
    fn elapsed_times_read_like_a_clock() {
        let cases = [
            (0, "0s"),
            (45, "45s"),
            (130, "2m10s"),
            (3600, "1h00m"),
            (3725, "1h02m"),
        ];
        for (secs, want) in cases {
            assert_eq!(elapsed_text(Duration::from_secs(secs)), want);
        }
    }

    #[test]
    fn ci_lines_name_the_operation_its_status_and_time() {
        assert_eq!(
            waiting_line(&op(Some("Updating"), 130)),
            "still waiting: PUT .../applicationGateways/agw (Updating, 2m10s)"
        );
        assert_eq!(
            waiting_line(&op(None, 5)),
            "still waiting: PUT .../applicationGateways/agw (Accepted, 5s)"
        );
    }

    #[test]
    fn terminal_block_has_one_aligned_line_per_operation() {
        let mut other = op(Some("InProgress"), 61);
        other.method = "DELETE";
        other.resource_id = "/subscriptions/s/x/virtualNetworkPeerings/p".into();
        let block = live_block(&[op(Some("Updating"), 130), other]);
        assert_eq!(
            block,
            "  … PUT .../applicationGateways/agw      Updating      2m10s\n  … DELETE .../virtualNetworkPeerings/p  InProgress    1m01s\n"
        );
    }
}
