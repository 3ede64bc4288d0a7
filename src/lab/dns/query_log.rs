//! How many queries the authoritative server received for each (name,
//! type): lets tests prove that a scanner did not ask for a shared zone's
//! keys again.

use std::collections::HashMap;
use std::sync::Mutex;

use hickory_proto::rr::{LowerName, Name, RecordType};

/// Counts per (owner, type), shared between the server and the lab handle.
#[derive(Debug, Default)]
pub struct QueryLog {
    counts: Mutex<HashMap<(LowerName, RecordType), u64>>,
}

impl QueryLog {
    pub fn record(&self, name: &LowerName, rtype: RecordType) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry((name.clone(), rtype)).or_default() += 1;
        }
    }

    /// Queries received so far for `name`/`rtype`, over UDP and TCP.
    pub fn count(&self, name: &Name, rtype: RecordType) -> u64 {
        self.counts
            .lock()
            .ok()
            .and_then(|c| c.get(&(LowerName::new(name), rtype)).copied())
            .unwrap_or(0)
    }
}
