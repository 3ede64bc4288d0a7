//! What a scan is doing now ("looking up MX records", "STARTTLS to
//! mx1.example.com 192.0.2.1"), for the progress line of a single-domain
//! scan on a terminal. The board is task-local: the scan code says what it
//! starts with [`set`], which does nothing when no one is watching, so the
//! layers below the output need not know about progress.

use std::sync::{Arc, Mutex};

tokio::task_local! {
    static BOARD: Board;
}

/// The step last announced by the scan running in [`Board::watch`].
#[derive(Clone, Default)]
pub struct Board(Arc<Mutex<String>>);

impl Board {
    /// The step now; empty before the first.
    #[must_use]
    pub fn current(&self) -> String {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
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
        if let Ok(mut step) = board.0.lock() {
            *step = describe();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn steps_reach_the_watching_board_only() {
        set(|| panic!("nobody watches: not described"));
        let board = Board::default();
        board
            .watch(async {
                set(|| "looking up MX records".into());
            })
            .await;
        assert_eq!(board.current(), "looking up MX records");
    }
}
