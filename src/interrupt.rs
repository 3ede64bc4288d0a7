//! SIGINT and SIGTERM: a batch stops cleanly. The run loop waits for them
//! beside the next result, so a signal is acted on between two writes:
//! every finished domain is already a whole line, none is half written.
//! Exit status 128 + the signal number, as shells report a command killed
//! by it: 130 for SIGINT (Ctrl-C), 143 for SIGTERM.

/// Which signal stopped the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    Int,
    Term,
}

impl Interrupt {
    /// The exit status of an interrupted run.
    #[must_use]
    pub fn exit_status(self) -> u8 {
        match self {
            Interrupt::Int => crate::exit::INTERRUPTED,
            Interrupt::Term => crate::exit::TERMINATED,
        }
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Interrupt::Int => "SIGINT",
            Interrupt::Term => "SIGTERM",
        }
    }
}

/// Listens for SIGINT and SIGTERM from now on.
pub struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Installs the handlers; where one cannot be installed, that signal
    /// keeps its default action (the process ends).
    #[must_use]
    pub fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal (cancel-safe: a signal that arrives while another
    /// branch of a `select!` wins is kept for the next call).
    pub async fn next(&mut self) -> Interrupt {
        #[cfg(unix)]
        {
            let Signals { int, term } = self;
            let int = async {
                match int.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            let term = async {
                match term.as_mut() {
                    Some(s) => s.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = int => Interrupt::Int,
                _ = term => Interrupt::Term,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Interrupt::Int
        }
    }
}
