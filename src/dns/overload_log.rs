//! The lookups of one domain's scan that the scanner's own load left
//! unanswered (see `transport`: its queue to the resolver was full).
//!
//! Each such lookup says nothing about the domain; the scan reports them
//! together, as one inconclusive outcome of the domain, instead of one
//! failure per lookup.

use std::sync::Mutex;

use hickory_proto::rr::{Name, RecordType};

use super::display_name;

/// Lookups named in the log; past this only the count grows (a domain's
/// scan makes a few dozen lookups at most).
pub const MAX_NAMED: usize = 16;

/// Per domain scanned: the lookups lost to the scanner's own load.
#[derive(Debug, Default)]
pub struct OverloadLog {
    inner: Mutex<(Vec<String>, usize)>,
}

impl OverloadLog {
    /// Notes that `name`/`rtype` was lost (once per name and type).
    pub fn record(&self, name: &Name, rtype: RecordType) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let (named, count) = &mut *inner;
        let text = format!("{} {rtype}", display_name(name));
        if named.contains(&text) {
            return;
        }
        *count += 1;
        if named.len() < MAX_NAMED {
            named.push(text);
        }
    }

    /// The lookups lost, as "name TYPE", and how many there were in all.
    pub fn entries(&self) -> (Vec<String>, usize) {
        self.inner
            .lock()
            .map(|i| (i.0.clone(), i.1))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_lost_lookup_is_named_once_and_all_are_counted() {
        let log = OverloadLog::default();
        let name = Name::from_ascii("_25._tcp.mx1.example.test.").expect("name");
        log.record(&name, RecordType::TLSA);
        log.record(&name, RecordType::TLSA);
        for i in 0..MAX_NAMED + 3 {
            let other = Name::from_ascii(format!("mx{i}.example.test.")).expect("name");
            log.record(&other, RecordType::A);
        }
        let (named, count) = log.entries();
        assert_eq!(count, MAX_NAMED + 4);
        assert_eq!(named.len(), MAX_NAMED);
        assert_eq!(named[0], "_25._tcp.mx1.example.test TLSA");
    }
}
