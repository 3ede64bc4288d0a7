//! A lab switch: one bit a test flips between two scans, so that the lab
//! serves a second state of a scenario (a policy edited, a server's key
//! changed) the way a real domain changes between two monitoring runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Off until [`Switch::flip`]; clones share the bit.
#[derive(Debug, Clone, Default)]
pub struct Switch(Arc<AtomicBool>);

impl Switch {
    /// Turns the switch on (the second state); stays on.
    pub fn flip(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the switch was flipped.
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Two switches are equal when they are the same bit.
impl PartialEq for Switch {
    fn eq(&self, other: &Switch) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Switch {}
