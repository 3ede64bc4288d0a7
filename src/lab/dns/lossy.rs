//! A lossy path for chosen RRsets: the lab's servers drop every other UDP
//! query for them, starting with the first, without an answer, as a
//! congested link or a resolver shedding load does. A scanner that
//! retransmits gets the answer from its second datagram; one that does not
//! waits out its timeout. TCP is never dropped (a lost segment is resent
//! by the kernel).
//!
//! Silent RRsets are never answered at all, over UDP or TCP: a name server
//! that has lost them, or a query lost on every path.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use hickory_proto::rr::{LowerName, RecordType};
use hickory_server::net::xfer::Protocol;

/// Per server: how many UDP queries each lossy RRset has had.
#[derive(Debug, Default)]
pub struct Lossy {
    seen: Mutex<HashMap<(LowerName, RecordType), u64>>,
    silent: HashSet<(LowerName, RecordType)>,
}

impl Lossy {
    pub fn new(keys: &HashSet<(LowerName, RecordType)>) -> Lossy {
        Lossy {
            seen: Mutex::new(keys.iter().map(|k| (k.clone(), 0)).collect()),
            silent: HashSet::new(),
        }
    }

    /// The same path, never answering the `silent` RRsets.
    pub fn with_silent(self, silent: &HashSet<(LowerName, RecordType)>) -> Lossy {
        Lossy {
            silent: silent.clone(),
            ..self
        }
    }

    /// Whether this query is lost: the 1st, 3rd, 5th… UDP query for a
    /// lossy RRset.
    pub fn drops(&self, name: &LowerName, rtype: RecordType, protocol: Protocol) -> bool {
        if self.silent.contains(&(name.clone(), rtype)) {
            return true;
        }
        if protocol != Protocol::Udp {
            return false;
        }
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        match seen.get_mut(&(name.clone(), rtype)) {
            Some(n) => {
                *n += 1;
                *n % 2 == 1
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Name;

    #[test]
    fn every_other_udp_query_is_lost_and_tcp_never() {
        let name = LowerName::new(&Name::from_ascii("lossy.test.").expect("name"));
        let lossy = Lossy::new(&HashSet::from([(name.clone(), RecordType::MX)]));
        let udp: Vec<bool> = (0..4)
            .map(|_| lossy.drops(&name, RecordType::MX, Protocol::Udp))
            .collect();
        assert_eq!(udp, [true, false, true, false]);
        assert!(!lossy.drops(&name, RecordType::MX, Protocol::Tcp));
        assert!(!lossy.drops(&name, RecordType::A, Protocol::Udp));
    }

    #[test]
    fn a_silent_rrset_is_never_answered_over_udp_or_tcp() {
        let name = LowerName::new(&Name::from_ascii("_25._tcp.mx1.test.").expect("name"));
        let lossy =
            Lossy::default().with_silent(&HashSet::from([(name.clone(), RecordType::TLSA)]));
        for protocol in [Protocol::Udp, Protocol::Udp, Protocol::Tcp] {
            assert!(lossy.drops(&name, RecordType::TLSA, protocol));
        }
        assert!(!lossy.drops(&name, RecordType::A, Protocol::Udp));
    }
}
