//! Politeness toward shared providers: a batch where thousands of domains
//! share a few mail providers must not look like an attack to them.
//!
//! - At most `--per-ip N` (default 2) connections at once to one address,
//!   and at least [`MIN_GAP`] between two connection starts to it.
//!   Postfix's anvil counts concurrent connections and connection rate per
//!   client, and postscreen or `smtpd_client_connection_count_limit`
//!   answer `421` past them.
//! - A temporary refusal (a 4xx greeting or EHLO reply, or 4xx to
//!   STARTTLS) is retried after [`RETRY_DELAYS`], inside the domain's
//!   bound; what still fails stays what it was (`inconclusive` for a
//!   greeting or EHLO refusal), never a verdict about TLS.
//!
//! The gates are kept per address, at most [`MAX_ADDRESSES`]; when that
//! many are held, idle ones are dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::smtp::session::{Outcome, Session};

/// Default of `--per-ip`.
pub const DEFAULT_PER_IP: usize = 2;
/// Least time between two connection starts to one address.
pub const MIN_GAP: Duration = Duration::from_millis(100);
/// Waits before each retry of a temporary refusal: two retries, 4 s in
/// all, well inside a domain's bound of 15 × `--timeout`.
pub const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];
/// Addresses whose gates are kept.
pub const MAX_ADDRESSES: usize = 65_536;

/// The gates of one run.
#[derive(Clone)]
pub struct Politeness {
    per_ip: usize,
    gates: Arc<Mutex<HashMap<IpAddr, Arc<Gate>>>>,
}

struct Gate {
    permits: Arc<Semaphore>,
    next_start: tokio::sync::Mutex<Instant>,
}

impl Default for Politeness {
    fn default() -> Self {
        Politeness::new(DEFAULT_PER_IP)
    }
}

impl Politeness {
    /// At most `per_ip` connections at once per address (at least 1).
    #[must_use]
    pub fn new(per_ip: usize) -> Politeness {
        Politeness {
            per_ip: per_ip.max(1),
            gates: Arc::default(),
        }
    }

    fn gate(&self, ip: IpAddr) -> Arc<Gate> {
        let fresh = || {
            Arc::new(Gate {
                permits: Arc::new(Semaphore::new(self.per_ip)),
                next_start: tokio::sync::Mutex::new(Instant::now()),
            })
        };
        let Ok(mut gates) = self.gates.lock() else {
            return fresh();
        };
        if let Some(gate) = gates.get(&ip) {
            return Arc::clone(gate);
        }
        if gates.len() >= MAX_ADDRESSES {
            let per_ip = self.per_ip;
            gates.retain(|_, g| g.permits.available_permits() < per_ip);
        }
        let gate = fresh();
        if gates.len() < MAX_ADDRESSES {
            gates.insert(ip, Arc::clone(&gate));
        }
        gate
    }

    /// Waits until a connection to `ip` may start; hold the permit for
    /// the connection's life.
    pub async fn admit(&self, ip: IpAddr) -> Option<OwnedSemaphorePermit> {
        let gate = self.gate(ip);
        let permit = Arc::clone(&gate.permits).acquire_owned().await.ok();
        let mut next = gate.next_start.lock().await;
        tokio::time::sleep_until(*next).await;
        *next = Instant::now() + MIN_GAP;
        permit
    }
}

/// Whether a session ended in a temporary refusal worth asking again: a
/// 4xx greeting or EHLO reply, or 4xx to STARTTLS (RFC 5321 §4.2.1: the
/// same request may succeed later).
#[must_use]
pub fn temporary_refusal(session: &Session) -> bool {
    match &session.outcome {
        Outcome::Inconclusive { code, .. } | Outcome::StarttlsRefused { code, .. } => {
            code.is_transient()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn at_most_per_ip_connections_at_once_per_address() {
        let p = Politeness::new(2);
        let ip = IpAddr::from([192, 0, 2, 1]);
        let free = |ip| p.gate(ip).permits.available_permits();
        let a = p.admit(ip).await.expect("permit");
        let b = p.admit(ip).await.expect("permit");
        assert_eq!(free(ip), 0, "two held: a third would wait");
        drop(a);
        assert_eq!(free(ip), 1, "a freed permit is given back");
        drop(b);
        let other = IpAddr::from([192, 0, 2, 2]);
        let _c = p.admit(other).await.expect("permit");
        assert_eq!(free(ip), 2, "another address has its own gate");
        assert_eq!(free(other), 1);
    }
}
