//! Whether this host has a route to an address, asked without sending
//! anything.
//!
//! `connect()` on a UDP socket only looks up the routing table and picks a
//! source address (no datagram leaves the host), so it tells apart a TCP
//! connect that failed here (the kernel has no route: ENETUNREACH, typical
//! of a host without IPv6 connectivity) from one that failed out there (a
//! router's ICMP "host unreachable" about the MX's network). The first is
//! the scanner's environment, the second the domain's problem.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// What the routing table says about an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteLookup {
    /// There is a route (and a source address) for it.
    Routed,
    /// No route, or no source address, for it on this host: the error.
    NoRoute(String),
    /// This host cannot open a socket of the address's family at all
    /// (IPv6 disabled at boot), while the other family works.
    FamilyUnavailable(String),
    /// The lookup itself failed for another reason; it tells nothing.
    Unknown(String),
}

impl RouteLookup {
    /// Reads the error of a UDP `connect()`.
    pub fn from_connect_error(e: &io::Error) -> RouteLookup {
        match e.kind() {
            io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkDown
            // No source address of the family (e.g. IPv6 with link-local
            // addresses only).
            | io::ErrorKind::AddrNotAvailable => RouteLookup::NoRoute(e.to_string()),
            _ => RouteLookup::Unknown(e.to_string()),
        }
    }
}

fn wildcard(v4: bool) -> SocketAddr {
    if v4 {
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
    } else {
        SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))
    }
}

/// Looks `ip` up in this host's routing table. Sends nothing.
pub fn lookup(ip: IpAddr) -> RouteLookup {
    let socket = match UdpSocket::bind(wildcard(ip.is_ipv4())) {
        Ok(s) => s,
        Err(e) => {
            // When the other family works, this one is missing from the
            // host (EAFNOSUPPORT); when neither does, it is something else
            // (no file descriptors left).
            return if UdpSocket::bind(wildcard(!ip.is_ipv4())).is_ok() {
                RouteLookup::FamilyUnavailable(e.to_string())
            } else {
                RouteLookup::Unknown(e.to_string())
            };
        }
    };
    match socket.connect(SocketAddr::new(ip, 25)) {
        Ok(()) => RouteLookup::Routed,
        Err(e) => RouteLookup::from_connect_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_routed() {
        assert_eq!(lookup(IpAddr::from([127, 0, 0, 1])), RouteLookup::Routed);
    }

    #[test]
    fn errors_that_mean_no_route_here_are_told_from_the_rest() {
        for (kind, no_route) in [
            (io::ErrorKind::NetworkUnreachable, true),
            (io::ErrorKind::HostUnreachable, true),
            (io::ErrorKind::NetworkDown, true),
            (io::ErrorKind::AddrNotAvailable, true),
            (io::ErrorKind::PermissionDenied, false),
            (io::ErrorKind::InvalidInput, false),
        ] {
            let got = RouteLookup::from_connect_error(&io::Error::from(kind));
            assert_eq!(
                matches!(got, RouteLookup::NoRoute(_)),
                no_route,
                "{kind:?}: {got:?}"
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_enetunreach_and_ehostunreach_are_no_route() {
        // 101 ENETUNREACH: no route for the family, the host without IPv6
        // connectivity; 113 EHOSTUNREACH: an "unreachable" route.
        for errno in [101, 113] {
            let got = RouteLookup::from_connect_error(&io::Error::from_raw_os_error(errno));
            assert!(matches!(got, RouteLookup::NoRoute(_)), "{errno}: {got:?}");
        }
    }
}
