//! Judging an MX RRset: null MX, implicit MX and odd targets (pure).
//!
//! RFC 7505: a single `0 .` record says the domain accepts no mail; beside
//! other records it is an error (§3). RFC 5321 §5.1: no MX records means the
//! domain's own address records are the implicit MX. An MX target must be a
//! host name with address records: not an alias (RFC 2181 §10.3), not an IP
//! address written as a name (RFC 5321 §5.1 forbids address literals there).

use hickory_proto::rr::Name;

/// What an MX RRset says, before any host is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxSet {
    /// Only `0 .`: the domain accepts no mail.
    Null,
    /// Real hosts, by preference then name; `null_mixed` when a `.` entry
    /// was published beside them (RFC 7505 §3 forbids it; senders skip it).
    Hosts {
        hosts: Vec<(u16, Name)>,
        null_mixed: bool,
    },
}

/// Sorts and de-duplicates an MX RRset (RFC 5321 §5.1: lower preference
/// first) and recognises null MX.
pub fn classify(records: &[(u16, Name)]) -> MxSet {
    let (null, mut hosts): (Vec<_>, Vec<_>) =
        records.iter().cloned().partition(|(_, n)| n.is_root());
    if !null.is_empty() && hosts.is_empty() {
        return MxSet::Null;
    }
    hosts.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    hosts.dedup();
    MxSet::Hosts {
        hosts,
        null_mixed: !null.is_empty(),
    }
}

/// Whether an MX target is an IP address written as a name (`192.0.2.1.`,
/// or an IPv6 address): senders look it up as a name and find nothing.
pub fn is_ip_literal(host: &Name) -> bool {
    let text = host.to_ascii();
    let text = text.trim_end_matches('.');
    let text = text.trim_start_matches('[').trim_end_matches(']');
    text.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).expect("test name")
    }

    #[test]
    fn single_dot_is_null_mx() {
        assert_eq!(classify(&[(0, Name::root())]), MxSet::Null);
    }

    #[test]
    fn dot_beside_hosts_is_null_mixed_and_dropped() {
        let set = classify(&[(0, Name::root()), (10, n("mx.example."))]);
        assert_eq!(
            set,
            MxSet::Hosts {
                hosts: vec![(10, n("mx.example."))],
                null_mixed: true
            }
        );
    }

    #[test]
    fn hosts_sort_by_preference_then_name() {
        let set = classify(&[
            (20, n("b.example.")),
            (10, n("c.example.")),
            (20, n("a.example.")),
        ]);
        let MxSet::Hosts { hosts, .. } = set else {
            panic!("hosts expected")
        };
        let order: Vec<String> = hosts.iter().map(|(_, h)| h.to_ascii()).collect();
        assert_eq!(order, ["c.example.", "a.example.", "b.example."]);
    }

    #[test]
    fn ip_literals_are_recognised() {
        for (host, want) in [
            ("192.0.2.1.", true),
            ("127.0.0.1", true),
            ("mx1.example.", false),
            ("1.example.", false),
        ] {
            assert_eq!(is_ip_literal(&n(host)), want, "{host}");
        }
    }
}
