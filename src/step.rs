//! What a scan is doing now ("looking up MX records", "STARTTLS to
//! mx1.example.com 192.0.2.1"), for the progress line of a single-domain
//! scan on a terminal. The board is task-local: the scan code says what it
//! starts with [`set`] or [`during`], which do nothing when no one is
//! watching, so the layers below the output need not know about progress.
//!
//! Parts of a scan run side by side (the policy fetch beside the STARTTLS
//! sessions), so the board shows the oldest step still under way: when the
//! quick one ends, the slow one it overlapped is shown again, not the
//! last one announced.

use std::sync::{Arc, Mutex};

tokio::task_local! {
    static BOARD: Board;
}

/// The steps announced by the scan running in [`Board::watch`].
#[derive(Clone, Default)]
pub struct Board(Arc<Mutex<Steps>>);

#[derive(Default)]
struct Steps {
    /// The last step announced with [`set`].
    base: String,
    /// Steps under way ([`during`]), oldest first, with their numbers.
    running: Vec<(u64, String)>,
    next: u64,
}

impl Board {
    /// The step now: the oldest under way, else the last announced; empty
    /// before the first.
    #[must_use]
    pub fn current(&self) -> String {
        self.0
            .lock()
            .map(|s| {
                s.running
                    .first()
                    .map_or_else(|| s.base.clone(), |(_, step)| step.clone())
            })
            .unwrap_or_default()
    }

    /// Runs `work` with this board receiving its steps.
    pub async fn watch<F: Future>(&self, work: F) -> F::Output {
        BOARD.scope(self.clone(), work).await
    }
}

/// `work` with the board watching the current task, if any: for work
/// spawned as a task of its own, which task-local values do not reach.
pub fn inherit<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let board = BOARD.try_with(Board::clone).ok();
    async move {
        match board {
            Some(board) => board.watch(work).await,
            None => work.await,
        }
    }
}

/// Announces a step of the current scan; `describe` runs only when a
/// board is watching.
pub fn set(describe: impl FnOnce() -> String) {
    let _ = BOARD.try_with(|board| {
        if let Ok(mut steps) = board.0.lock() {
            steps.base = describe();
        }
    });
}

/// Runs `work` as a step of the current scan, shown while it is the oldest
/// under way (also when `work` is dropped unfinished, it ends there).
pub async fn during<F: Future>(describe: impl FnOnce() -> String, work: F) -> F::Output {
    let entry = BOARD
        .try_with(|board| {
            let mut steps = board.0.lock().ok()?;
            let id = steps.next;
            steps.next += 1;
            steps.running.push((id, describe()));
            Some((board.clone(), id))
        })
        .ok()
        .flatten();
    let _done = entry.map(|(board, id)| Done(board, id));
    work.await
}

/// Takes a step off the board when it ends.
struct Done(Board, u64);

impl Drop for Done {
    fn drop(&mut self) {
        if let Ok(mut steps) = self.0.0.lock() {
            steps.running.retain(|(id, _)| *id != self.1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn steps_reach_the_watching_board_only() {
        set(|| panic!("nobody watches: not described"));
        during(|| panic!("nobody watches: not described"), async {}).await;
        let board = Board::default();
        board
            .watch(async {
                set(|| "looking up MX records".into());
            })
            .await;
        assert_eq!(board.current(), "looking up MX records");
    }

    #[tokio::test]
    async fn the_oldest_step_under_way_is_shown_and_a_quick_one_gives_way() {
        let board = Board::default();
        let (slow_started, started) = tokio::sync::oneshot::channel();
        let (end_slow, slow_may_end) = tokio::sync::oneshot::channel::<()>();
        board
            .watch(async {
                set(|| "looking up".into());
                let slow = during(|| "STARTTLS to mx1".into(), async {
                    let _ = slow_started.send(());
                    let _ = slow_may_end.await;
                });
                let rest = async {
                    let _ = started.await;
                    assert_eq!(board.current(), "STARTTLS to mx1");
                    during(|| "fetching the policy".into(), async {
                        assert_eq!(board.current(), "STARTTLS to mx1", "the older one stays");
                    })
                    .await;
                    assert_eq!(board.current(), "STARTTLS to mx1", "the quick one gave way");
                    let _ = end_slow.send(());
                };
                tokio::join!(slow, rest);
                assert_eq!(board.current(), "looking up", "nothing under way");
                // A step dropped unfinished ends too.
                let cut = during(|| "cut off".into(), std::future::pending::<()>());
                let _ = tokio::time::timeout(std::time::Duration::from_millis(1), cut).await;
                assert_eq!(board.current(), "looking up");
            })
            .await;
    }
}
