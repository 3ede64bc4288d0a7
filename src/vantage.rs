//! The scanner's vantage point: what this host could not test is told to
//! the operator, never blamed on the domain (pure).
//!
//! Two limits of the scanning host make SMTP sessions fail whatever the
//! domain does:
//!
//! - No route for an address family. A host without IPv6 connectivity gets
//!   ENETUNREACH for every IPv6 MX address, decided by its own kernel
//!   before anything is sent (`smtp::route` asks the routing table). Such
//!   a session is *untested* ("not tested from here"): `untested` in the
//!   JSON, no `mx-connect-failed` finding, and one info finding per domain
//!   about the scanner (`scanner-no-ipv6-route`), with advice for the
//!   operator. IPv6-capable senders do use those addresses, so they stay
//!   listed, just not judged.
//! - Outbound port 25 blocked: Google Cloud, and by default AWS EC2 and
//!   Azure, block it, as do many residential ISPs. Every SMTP connection
//!   then times out or is refused while DNS works. One session cannot tell
//!   this from a dead MX; a run can: when no connection of the whole run
//!   got through, to at least [`BLOCKED_MIN_ADDRESSES`] addresses of at
//!   least [`BLOCKED_MIN_HOSTS`] MX hosts, the run ends with one diagnostic
//!   to the operator (and exit status 2: the STARTTLS half of the audit
//!   could not be done from here). One MX host down with all its addresses
//!   is an everyday outage; independent hosts all failing at once while
//!   DNS answers is far more likely the scanner's network.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::Serialize;

use crate::finding::{Code, Finding, Severity};
use crate::smtp::route::RouteLookup;
use crate::smtp::session::Connect;

/// Why a session was not tested from this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Untested {
    /// This host has no IPv4 route (or no IPv4 at all).
    NoIpv4Route,
    /// This host has no IPv6 route (or no IPv6 at all).
    NoIpv6Route,
}

impl Untested {
    /// The finding code naming this limit of the scanner.
    pub fn code(self) -> Code {
        match self {
            Untested::NoIpv4Route => Code::ScannerNoIpv4Route,
            Untested::NoIpv6Route => Code::ScannerNoIpv6Route,
        }
    }

    fn family(self) -> &'static str {
        match self {
            Untested::NoIpv4Route => "IPv4",
            Untested::NoIpv6Route => "IPv6",
        }
    }
}

/// Whether a session to `ip` that ended in `connect` was not tested from
/// here. Only a connect that failed without reaching the network
/// (unreachable, or an error) is looked into, and only this host's routing
/// table (`route`, called at most once) can make it the scanner's: an
/// "unreachable" that a router sent back about the MX's network is the
/// domain's.
pub fn untested(
    ip: IpAddr,
    connect: Connect,
    route: impl FnOnce() -> RouteLookup,
) -> Option<Untested> {
    if !matches!(connect, Connect::Unreachable | Connect::Error) {
        return None;
    }
    match route() {
        RouteLookup::NoRoute(_) | RouteLookup::FamilyUnavailable(_) => Some(if ip.is_ipv4() {
            Untested::NoIpv4Route
        } else {
            Untested::NoIpv6Route
        }),
        RouteLookup::Routed | RouteLookup::Unknown(_) => None,
    }
}

/// One finding per limit of the scanner met in a domain's sessions, given
/// as (MX host, address, why untested).
pub fn findings<'a>(
    domain: &str,
    sessions: impl IntoIterator<Item = (&'a str, IpAddr, Untested)>,
) -> Vec<Finding> {
    let mut by_kind: BTreeMap<Untested, Vec<String>> = BTreeMap::new();
    for (mx, ip, why) in sessions {
        by_kind.entry(why).or_default().push(format!("{ip} ({mx})"));
    }
    by_kind
        .into_iter()
        .map(|(why, addresses)| {
            let family = why.family();
            Finding::new(
                Severity::Info,
                why.code(),
                "scanner",
                format!(
                    "this host has no {family} route, so {} could not be tested from here: not tested, which says nothing about {domain}",
                    addresses.join(", ")
                ),
                format!(
                    "For the operator of mxtls, not the domain: run the scan from a host with {family} connectivity to test these addresses; senders with {family} use them."
                ),
            )
        })
        .collect()
}

/// Fewest distinct MX addresses, and MX hosts, that must all fail before
/// the run blames the scanner's network for port 25 (see the module doc).
pub const BLOCKED_MIN_ADDRESSES: usize = 3;
pub const BLOCKED_MIN_HOSTS: usize = 2;
/// Distinct addresses and hosts remembered: enough to count past the
/// thresholds and show a sample, bounded whatever the size of the run.
const REMEMBERED: usize = 1_000;

/// The SMTP connections of a whole run, for the diagnostics about this
/// host's network that no single domain can give.
#[derive(Debug, Clone, Default)]
pub struct RunTally {
    /// Sessions that tried to connect (untested ones aside).
    attempted: usize,
    connected: usize,
    timeouts: usize,
    refused: usize,
    addresses: BTreeSet<IpAddr>,
    hosts: BTreeSet<String>,
    domains: usize,
    untested: BTreeMap<Untested, usize>,
}

impl RunTally {
    /// Counts one domain's sessions, given as (MX host, address, connect,
    /// why untested).
    pub fn add_domain<'a>(
        &mut self,
        sessions: impl IntoIterator<Item = (&'a str, IpAddr, Connect, Option<Untested>)>,
    ) {
        let mut any = false;
        for (mx, ip, connect, untested) in sessions {
            if let Some(why) = untested {
                *self.untested.entry(why).or_default() += 1;
                continue;
            }
            any = true;
            self.attempted += 1;
            match connect {
                Connect::Ok => self.connected += 1,
                Connect::Timeout => self.timeouts += 1,
                Connect::Refused => self.refused += 1,
                Connect::Unreachable | Connect::Error => {}
            }
            if self.addresses.len() < REMEMBERED {
                self.addresses.insert(ip);
            }
            if self.hosts.len() < REMEMBERED && !self.hosts.contains(mx) {
                self.hosts.insert(mx.to_string());
            }
        }
        if any {
            self.domains += 1;
        }
    }

    /// The diagnostic when every SMTP connection of the run timed out or
    /// was refused, over enough addresses and hosts to blame this host's
    /// network rather than the domains (`port`: the SMTP port tried).
    pub fn port_blocked(&self, port: u16) -> Option<String> {
        let all_blocked = self.attempted > 0
            && self.connected == 0
            && self.timeouts + self.refused == self.attempted;
        if !all_blocked
            || self.addresses.len() < BLOCKED_MIN_ADDRESSES
            || self.hosts.len() < BLOCKED_MIN_HOSTS
        {
            return None;
        }
        let count = |n: usize| {
            if n >= REMEMBERED {
                format!("{n}+")
            } else {
                n.to_string()
            }
        };
        let example = self
            .addresses
            .iter()
            .next()
            .map(IpAddr::to_string)
            .unwrap_or_default();
        let one_domain = if self.domains == 1 {
            " (with one domain scanned, all its MX hosts may also be down: scan a domain known to work to tell)"
        } else {
            ""
        };
        Some(format!(
            "none of the {} SMTP connections of this run got through ({} timed out, {} refused), to {} addresses of {} MX hosts, while DNS answered: outbound connections to port {port} are probably blocked from this host{one_domain}; the failed connections say nothing about the domains. Check with `nc -vz {example} {port}`, then run mxtls from a host that may connect to port {port} (Google Cloud, and by default AWS EC2 and Azure, block it, as do many residential ISPs), or ask the provider to lift the block",
            self.attempted,
            self.timeouts,
            self.refused,
            count(self.addresses.len()),
            count(self.hosts.len()),
        ))
    }

    /// One note per address family this host could not reach.
    pub fn untested_notes(&self) -> Vec<String> {
        self.untested
            .iter()
            .map(|(why, n)| {
                let family = why.family();
                format!(
                    "this host has no {family} route: {n} session(s) to {family} addresses were not tested (untested: {}); run mxtls from a host with {family} connectivity to test them",
                    serde_json::to_value(why)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    fn v6() -> IpAddr {
        "2001:db8::25".parse().expect("an IPv6 address")
    }

    #[test]
    fn only_a_failure_of_this_hosts_routing_makes_a_session_untested() {
        let no_route = || RouteLookup::NoRoute("Network is unreachable (os error 101)".into());
        for (rule, ip, connect, route, want) in [
            (
                "ENETUNREACH here on IPv6",
                v6(),
                Connect::Unreachable,
                no_route(),
                Some(Untested::NoIpv6Route),
            ),
            (
                "no route here on IPv4",
                v4(1),
                Connect::Unreachable,
                no_route(),
                Some(Untested::NoIpv4Route),
            ),
            (
                "IPv6 disabled at boot: the socket cannot even be made",
                v6(),
                Connect::Error,
                RouteLookup::FamilyUnavailable("Address family not supported".into()),
                Some(Untested::NoIpv6Route),
            ),
            (
                "unreachable reported by a router out there: the domain's",
                v6(),
                Connect::Unreachable,
                RouteLookup::Routed,
                None,
            ),
            (
                "a lookup that failed otherwise proves nothing",
                v6(),
                Connect::Unreachable,
                RouteLookup::Unknown("Too many open files".into()),
                None,
            ),
            (
                "a timeout is never this host's routing",
                v6(),
                Connect::Timeout,
                no_route(),
                None,
            ),
            (
                "refused means the packet got there",
                v4(1),
                Connect::Refused,
                no_route(),
                None,
            ),
            ("connected", v4(1), Connect::Ok, no_route(), None),
        ] {
            assert_eq!(untested(ip, connect, || route), want, "{rule}");
        }
    }

    #[test]
    fn the_route_is_looked_up_only_for_failures_that_may_be_ours() {
        let mut asked = false;
        let _ = untested(v4(1), Connect::Timeout, || {
            asked = true;
            RouteLookup::Routed
        });
        assert!(!asked, "a timeout needs no route lookup");
    }

    #[test]
    fn one_info_finding_per_family_about_the_scanner() {
        let got = findings(
            "example.com",
            [
                ("mx1.example.com", v6(), Untested::NoIpv6Route),
                (
                    "mx2.example.com",
                    "2001:db8::26".parse().expect("ip"),
                    Untested::NoIpv6Route,
                ),
            ],
        );
        assert_eq!(got.len(), 1, "{got:?}");
        let f = &got[0];
        assert_eq!(f.code, "scanner-no-ipv6-route");
        assert_eq!(f.severity, Severity::Info);
        assert_eq!(f.subject, "scanner");
        assert!(
            f.message
                .contains("2001:db8::25 (mx1.example.com), 2001:db8::26 (mx2.example.com)"),
            "{}",
            f.message
        );
        assert!(f.message.contains("says nothing about example.com"));
        assert!(f.advice.contains("not the domain"), "{}", f.advice);
        assert!(f.advice.contains("IPv6 connectivity"), "{}", f.advice);
        assert!(findings("example.com", []).is_empty());
    }

    fn tally(sessions: &[(&'static str, IpAddr, Connect)]) -> RunTally {
        let mut t = RunTally::default();
        t.add_domain(sessions.iter().map(|(m, ip, c)| (*m, *ip, *c, None)));
        t
    }

    #[test]
    fn port_25_is_blamed_only_when_every_connection_over_enough_hosts_failed() {
        use Connect::*;
        for (rule, sessions, blamed) in [
            (
                "three addresses, two hosts, all timed out",
                vec![
                    ("mx1", v4(1), Timeout),
                    ("mx1", v6(), Timeout),
                    ("mx2", v4(2), Timeout),
                ],
                true,
            ),
            (
                "refused counts too (a local REJECT)",
                vec![
                    ("mx1", v4(1), Refused),
                    ("mx2", v4(2), Timeout),
                    ("mx3", v4(3), Refused),
                ],
                true,
            ),
            (
                "one connection got through",
                vec![
                    ("mx1", v4(1), Timeout),
                    ("mx2", v4(2), Timeout),
                    ("mx3", v4(3), Ok),
                ],
                false,
            ),
            (
                "one host down with all its addresses is an outage",
                vec![
                    ("mx1", v4(1), Timeout),
                    ("mx1", v4(2), Timeout),
                    ("mx1", v6(), Timeout),
                ],
                false,
            ),
            (
                "two addresses are too few",
                vec![("mx1", v4(1), Timeout), ("mx2", v4(2), Timeout)],
                false,
            ),
            (
                "an unreachable network out there is not a blocked port",
                vec![
                    ("mx1", v4(1), Timeout),
                    ("mx2", v4(2), Timeout),
                    ("mx3", v4(3), Unreachable),
                ],
                false,
            ),
        ] {
            assert_eq!(
                tally(&sessions).port_blocked(25).is_some(),
                blamed,
                "{rule}"
            );
        }
    }

    #[test]
    fn the_port_25_diagnostic_names_the_counts_the_check_and_the_fix() {
        use Connect::*;
        let mut t = tally(&[("mx1", v4(1), Timeout), ("mx2", v4(2), Refused)]);
        t.add_domain([("mx3", v4(3), Timeout, None)]);
        let text = t.port_blocked(25).expect("blamed");
        for needle in [
            "none of the 3 SMTP connections of this run got through (2 timed out, 1 refused)",
            "to 3 addresses of 3 MX hosts",
            "outbound connections to port 25 are probably blocked from this host;",
            "nc -vz 192.0.2.1 25",
            "run mxtls from a host that may connect to port 25",
        ] {
            assert!(text.contains(needle), "{needle:?} in {text}");
        }
        // One domain alone: an outage of all its MX hosts is also possible.
        let one = tally(&[
            ("mx1", v4(1), Timeout),
            ("mx2", v4(2), Timeout),
            ("mx3", v4(3), Timeout),
        ]);
        assert!(
            one.port_blocked(25)
                .expect("blamed")
                .contains("all its MX hosts may also be down")
        );
    }

    #[test]
    fn untested_sessions_count_neither_for_nor_against_port_25() {
        let mut t = RunTally::default();
        t.add_domain([
            ("mx1", v4(1), Connect::Timeout, None),
            ("mx2", v4(2), Connect::Timeout, None),
            ("mx3", v4(3), Connect::Timeout, None),
            (
                "mx3",
                v6(),
                Connect::Unreachable,
                Some(Untested::NoIpv6Route),
            ),
        ]);
        assert!(t.port_blocked(25).is_some());
        let notes = t.untested_notes();
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("no IPv6 route: 1 session(s) to IPv6 addresses were not tested (untested: no-ipv6-route)"),
            "{notes:?}"
        );
    }

    #[test]
    fn memory_stays_bounded_over_a_huge_run() {
        let mut t = RunTally::default();
        for i in 0..5_000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            t.add_domain([("mx", ip, Connect::Timeout, None)]);
        }
        assert_eq!(t.addresses.len(), REMEMBERED);
        assert!(t.port_blocked(25).is_none(), "one host name only");
    }
}
