//! Whether an address is on the public Internet (pure).
//!
//! A scanning service connects wherever a domain's DNS points. A hostile
//! domain can point its MX or policy host at the scanner's own network
//! (loopback, RFC 1918, link-local metadata services). By default the
//! scanner refuses such addresses; `--allow-private` lifts that for labs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not public, or None when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_reason(v4);
            }
            v6_reason(v6)
        }
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified (0.0.0.0/8)")
    } else if ip.is_loopback() {
        Some("loopback (127.0.0.0/8)")
    } else if ip.is_private() {
        Some("private (RFC 1918)")
    } else if ip.is_link_local() {
        Some("link-local (169.254.0.0/16)")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared address space (100.64.0.0/10)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || o[0] >= 240 {
        Some("reserved (240.0.0.0/4)")
    } else if ip.is_documentation() {
        Some("documentation (RFC 5737)")
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        Some("IETF protocol assignments (192.0.0.0/24)")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("benchmarking (198.18.0.0/15)")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        Some("unspecified (::)")
    } else if ip.is_loopback() {
        Some("loopback (::1)")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("unique-local (fc00::/7)")
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some("link-local (fe80::/10)")
    } else if ip.is_multicast() {
        Some("multicast (ff00::/8)")
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Some("documentation (2001:db8::/32)")
    } else if s[0] == 0x0064 && s[1] == 0xff9b {
        Some("NAT64 (64:ff9b::/96)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_non_public_range_is_recognised() {
        for (ip, public) in [
            ("8.8.8.8", true),
            ("2a00:1450::1", true),
            ("127.0.0.1", false),
            ("127.9.9.9", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("172.32.0.1", true),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("224.0.0.1", false),
            ("255.255.255.255", false),
            ("192.0.2.1", false),
            ("::1", false),
            ("::", false),
            ("fd00::1", false),
            ("fe80::1", false),
            ("ff02::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("2001:db8::1", false),
        ] {
            let parsed: IpAddr = ip.parse().expect("test address");
            assert_eq!(non_public_reason(parsed).is_none(), public, "{ip}");
        }
    }
}
