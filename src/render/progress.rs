//! Progress on stderr, only when stderr is a terminal (indicatif): for a
//! batch, a bar with domains done of the total (when known), the rate,
//! domains with errors so far, what is still running and the ETA; for one
//! domain, after a second, the step it is at (`step`). Otherwise nothing.
//!
//! Anything else written while the bar shows goes through [`Progress::note`]
//! or [`Progress::suspend`], which clear the bar first, so no text is glued
//! to it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::step::Board;

/// How long a single-domain scan runs before its step is shown.
pub const SINGLE_DELAY: Duration = Duration::from_secs(1);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(200);
/// Running domains named on the line; more are counted.
const NAMED_RUNNING: usize = 2;

/// The progress display of one run.
pub struct Progress {
    bar: Option<ProgressBar>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    errors: usize,
    running: BTreeMap<usize, String>,
}

impl Progress {
    /// A batch display when `enabled` (stderr is a terminal): `total`
    /// domains when known.
    #[must_use]
    pub fn batch(enabled: bool, total: Option<usize>) -> Progress {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(
                total.map(|t| t as u64),
                ProgressDrawTarget::stderr(),
            );
            let template = if total.is_some() {
                "{bar:24} {pos}/{len} domains · {per_sec} · {msg} · ETA {eta}"
            } else {
                "{spinner} {pos} domains · {per_sec} · {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(TICK);
            bar
        });
        Progress {
            bar,
            state: Mutex::new(State::default()),
        }
    }

    /// No display at all.
    #[must_use]
    pub fn hidden() -> Progress {
        Progress::batch(false, None)
    }

    /// Writes a diagnostic line to stderr, above the bar.
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Runs `write` (output to the terminal) with the bar cleared.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Domain `index` has started.
    pub fn started(&self, index: usize, domain: &str) {
        if self.bar.is_none() {
            return;
        }
        if let Ok(mut s) = self.state.lock() {
            s.running.insert(index, domain.to_string());
        }
        self.redraw();
    }

    /// Domain `index` has finished, with an error finding or not.
    pub fn finished(&self, index: usize, error: bool) {
        let Some(bar) = &self.bar else { return };
        if let Ok(mut s) = self.state.lock() {
            s.running.remove(&index);
            s.errors += usize::from(error);
        }
        bar.inc(1);
        self.redraw();
    }

    fn redraw(&self) {
        let (Some(bar), Ok(s)) = (&self.bar, self.state.lock()) else {
            return;
        };
        let mut names: Vec<&str> = s
            .running
            .values()
            .take(NAMED_RUNNING)
            .map(String::as_str)
            .collect();
        let more = s.running.len().saturating_sub(NAMED_RUNNING);
        let more_text = format!("+{more}");
        if more > 0 {
            names.push(&more_text);
        }
        let running = if names.is_empty() {
            String::new()
        } else {
            format!(" · running {}", names.join(", "))
        };
        bar.set_message(format!("{} with errors{running}", s.errors));
    }

    /// Clears the bar for good.
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Shows a single-domain scan's step from `board` after [`SINGLE_DELAY`]
/// while `work` runs, when `enabled`; the line is cleared before this
/// returns. The caller keeps one board for the whole run: a scan started
/// while one call watched goes on reporting to that board in the next.
pub async fn single<F: Future>(enabled: bool, board: &Board, domain: &str, work: F) -> F::Output {
    if !enabled {
        return work.await;
    }
    let shown = async {
        tokio::time::sleep(SINGLE_DELAY).await;
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_elapsed(SINGLE_DELAY)
            .with_message(board.current());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_prefix(domain.to_string());
        bar.enable_steady_tick(TICK);
        BarGuard(bar)
    };
    let watched = board.watch(work);
    tokio::pin!(watched);
    tokio::pin!(shown);
    let guard = tokio::select! {
        out = &mut watched => return out,
        guard = &mut shown => guard,
    };
    let update = async {
        loop {
            guard.0.set_message(board.current());
            tokio::time::sleep(TICK).await;
        }
    };
    tokio::select! {
        out = &mut watched => out,
        () = update => unreachable!("the update loop never ends"),
    }
}

/// Clears the single-domain line when dropped (also on an interrupt).
struct BarGuard(ProgressBar);

impl Drop for BarGuard {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
