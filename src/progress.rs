//! Showing long-running operations while azrecon waits on them (a gateway update takes minutes).
//! The ARM client reports each operation's start, polls and end to a sink; the board here keeps
//! what is in flight, and a display task shows it: redrawn in place every second on a terminal,
//! or as plain "still waiting" lines every 30 seconds in CI logs. Output goes to stderr, so the
//! plan on stdout stays clean.

use azrecon::arm::{LroEvent, LroState, ProgressSink};
use azrecon::render::{self, InFlight};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// A block redrawn in place (stderr is a terminal).
    Live,
    /// A line per operation every so often (CI, redirected output).
    Plain,
}

const LIVE_EVERY: Duration = Duration::from_secs(1);
const PLAIN_EVERY: Duration = Duration::from_secs(30);

struct Running {
    started: Instant,
    status: Option<String>,
}

/// Operations in flight, keyed by method and resource ID.
#[derive(Default)]
struct Board {
    ops: Mutex<BTreeMap<(&'static str, String), Running>>,
}

impl Board {
    fn update(&self, event: &LroEvent) {
        let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        let key = (event.method, event.resource_id.clone());
        match &event.state {
            LroState::Started => {
                ops.insert(
                    key,
                    Running {
                        started: Instant::now() - event.elapsed,
                        status: None,
                    },
                );
            }
            LroState::Running { status } => {
                if let Some(op) = ops.get_mut(&key) {
                    op.status.clone_from(status);
                }
            }
            LroState::Finished { .. } => {
                ops.remove(&key);
            }
        }
    }

    fn in_flight(&self) -> Vec<InFlight> {
        let ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        ops.iter()
            .map(|((method, id), op)| InFlight {
                method,
                resource_id: id.clone(),
                status: op.status.clone(),
                elapsed: op.started.elapsed(),
            })
            .collect()
    }
}

/// The board and its display task; [`Progress::finish`] stops the display.
pub struct Progress {
    board: Arc<Board>,
    display: Display,
    /// Lines of the live block now on screen.
    drawn: Arc<AtomicUsize>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Progress {
    pub fn new(display: Display) -> Arc<Progress> {
        Arc::new(Progress {
            board: Arc::default(),
            display,
            drawn: Arc::default(),
            task: Mutex::new(None),
        })
    }

    /// The sink the ARM client reports to.
    pub fn sink(&self) -> ProgressSink {
        let board = self.board.clone();
        ProgressSink::new(move |event| board.update(event))
    }

    /// Starts showing progress until [`Progress::finish`].
    pub fn start(&self) {
        let board = self.board.clone();
        let display = self.display;
        let drawn = self.drawn.clone();
        let task = tokio::spawn(async move {
            let every = match display {
                Display::Live => LIVE_EVERY,
                Display::Plain => PLAIN_EVERY,
            };
            loop {
                tokio::time::sleep(every).await;
                let ops = board.in_flight();
                let mut err = std::io::stderr().lock();
                match display {
                    Display::Live => {
                        let before = drawn.swap(ops.len(), Ordering::Relaxed);
                        let _ = write!(err, "{}{}", erase(before), render::live_block(&ops));
                    }
                    Display::Plain => {
                        for op in &ops {
                            let _ = writeln!(err, "{}", render::waiting_line(op));
                        }
                    }
                }
            }
        });
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    /// Stops the display, clearing a live block.
    pub fn finish(&self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
            if self.display == Display::Live {
                let before = self.drawn.swap(0, Ordering::Relaxed);
                let _ = write!(std::io::stderr(), "{}", erase(before));
            }
        }
    }
}

/// ANSI: move up over the `lines` last drawn and clear to the end of the screen.
fn erase(lines: usize) -> String {
    if lines == 0 {
        String::new()
    } else {
        format!("\x1b[{lines}A\x1b[J")
    }
}
