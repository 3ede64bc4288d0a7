//! The bulk set: N more signed domains for measuring batches
//! (`mxtls-lab --bulk N`), the shape assessment services meet: many
//! domains, a few shared mail providers.
//!
//! Domain `i` (1-based) is `d{i:05}.bulk.<tld>` (more digits past 99 999),
//! a zone of its own, signed and delegated with a DS from the signed zone
//! `bulk.<tld>`, so a validating scanner checks a DS and a DNSKEY per
//! domain as it would on the Internet. Every domain has a TLSRPT record.
//! Four MX hosts in `bulk.<tld>` serve them all, each on its own loopback
//! address with a good certificate from the lab CA:
//!
//! - even `i`: DANE — MX `mx1`, `mx2`, whose `_25._tcp` TLSA `3 1 1`
//!   records match their keys;
//! - odd `i`: MTA-STS in enforce mode — MX `mx3`, `mx4` (no TLSA; the
//!   signed zone proves it absent), the policy served by the lab's HTTPS
//!   server under `mta-sts.d….bulk.<tld>`.
//!
//! Start-up stays quick at 10 000 domains: every bulk zone is signed with
//! one shared key (each zone still has its own DS, DNSKEY RRset and
//! signatures), zones are signed on every core, and the policy hosts share
//! certificates naming [`HOSTS_PER_CERT`] hosts each.

use std::net::{IpAddr, Ipv4Addr};

use super::LabError;
use super::ca::{IssueSpec, LabCa};
use super::https::{Behaviour, Site};
use super::prepare::{sha256_hex, spki};
use super::smtp::{SmtpBehaviour, SmtpServer};

/// The zone under the lab's TLD that holds the bulk domains and MX hosts.
pub const PARENT_LABEL: &str = "bulk";
/// Most bulk domains the lab serves.
pub const MAX_DOMAINS: usize = 1_000_000;
/// Policy hosts named by one HTTPS certificate.
pub const HOSTS_PER_CERT: usize = 100;
/// The MTA-STS record's id (RFC 8461 §3.1).
pub const STS_ID: &str = "20260101";

/// The bulk domains and what the servers need to know about them.
#[derive(Debug, Clone)]
pub struct BulkSet {
    count: usize,
    tld: String,
    /// SHA-256 of the SPKI of each MX host's certificate (hex), mx1 first.
    mx_spki: Vec<String>,
}

impl BulkSet {
    /// How many bulk domains there are.
    #[must_use]
    pub fn count(&self) -> usize {
        self.count
    }

    /// `bulk.<tld>` without the trailing dot.
    #[must_use]
    pub fn parent(&self) -> String {
        format!("{PARENT_LABEL}.{}", self.tld)
    }

    /// Domain `i` (1-based): `d00001.bulk.test`.
    #[must_use]
    pub fn domain(&self, i: usize) -> String {
        format!("d{i:05}.{}", self.parent())
    }

    /// Every bulk domain, in order.
    pub fn domains(&self) -> impl Iterator<Item = String> + '_ {
        (1..=self.count).map(|i| self.domain(i))
    }

    /// Whether domain `i` publishes MTA-STS (odd) rather than DANE (even).
    #[must_use]
    pub fn has_sts(i: usize) -> bool {
        i % 2 == 1
    }

    /// MX host `k` (1..=4): `mx1.bulk.test`.
    #[must_use]
    pub fn mx_host(&self, k: usize) -> String {
        format!("mx{k}.{}", self.parent())
    }

    /// The loopback address of MX host `k`: 127.0.1.k.
    #[must_use]
    pub fn mx_ip(k: usize) -> Ipv4Addr {
        Ipv4Addr::new(127, 0, 1, u8::try_from(k).unwrap_or(0))
    }

    /// The two MX hosts (numbers) of domain `i`.
    #[must_use]
    pub fn mx_of(i: usize) -> [usize; 2] {
        if Self::has_sts(i) { [3, 4] } else { [1, 2] }
    }

    /// SHA-256 of the SPKI of MX host `k`'s certificate (hex), for its
    /// TLSA `3 1 1` record.
    #[must_use]
    pub fn mx_spki(&self, k: usize) -> Option<&str> {
        self.mx_spki.get(k.checked_sub(1)?).map(String::as_str)
    }

    /// Whether MX host `k` has TLSA records (mx1 and mx2).
    #[must_use]
    pub fn mx_has_tlsa(k: usize) -> bool {
        k <= 2
    }

    /// The TLSRPT record of domain `i`.
    #[must_use]
    pub fn tlsrpt(&self, i: usize) -> String {
        format!("v=TLSRPTv1; rua=mailto:tlsrpt@{}", self.domain(i))
    }

    /// The `_mta-sts` record of the MTA-STS domains.
    #[must_use]
    pub fn sts_record() -> String {
        format!("v=STSv1; id={STS_ID}")
    }

    /// The MTA-STS policy every odd domain serves.
    #[must_use]
    pub fn policy(&self) -> String {
        format!(
            "version: STSv1\nmode: enforce\nmx: {}\nmx: {}\nmax_age: 86400\n",
            self.mx_host(3),
            self.mx_host(4)
        )
    }
}

/// Makes the MX hosts' certificates and servers and the policy sites for
/// `count` bulk domains under `tld`.
pub fn prepare(
    ca: &LabCa,
    tld: &str,
    count: usize,
) -> Result<(BulkSet, Vec<SmtpServer>, Vec<Site>), LabError> {
    if count > MAX_DOMAINS {
        return Err(LabError::Server {
            what: "bulk set".into(),
            detail: format!("{count} domains asked, at most {MAX_DOMAINS} served"),
        });
    }
    let fail = |what: String, e: String| LabError::Server { what, detail: e };
    let mut set = BulkSet {
        count,
        tld: tld.to_string(),
        mx_spki: Vec::new(),
    };
    let mut servers = Vec::new();
    for k in 1..=4 {
        let host = set.mx_host(k);
        let cert = ca
            .issue(&IssueSpec::good(&host).through_intermediate())
            .map_err(|e| fail(format!("certificate for {host}"), e.to_string()))?;
        let leaf = cert
            .chain
            .first()
            .map(|c| c.as_ref().to_vec())
            .unwrap_or_default();
        set.mx_spki.push(sha256_hex(&spki(&leaf)));
        servers.push(SmtpServer {
            ip: IpAddr::V4(BulkSet::mx_ip(k)),
            cert,
            rsa_cert: None,
            next_cert: None,
            behaviour: SmtpBehaviour::Good,
        });
    }
    let sts: Vec<usize> = (1..=count).filter(|i| BulkSet::has_sts(*i)).collect();
    let body = set.policy().into_bytes();
    let mut sites = Vec::with_capacity(sts.len());
    for chunk in sts.chunks(HOSTS_PER_CERT) {
        let hosts: Vec<String> = chunk
            .iter()
            .map(|i| format!("mta-sts.{}", set.domain(*i)))
            .collect();
        let first = hosts.first().cloned().unwrap_or_default();
        let cert = ca
            .issue(&IssueSpec {
                names: hosts.clone(),
                ..IssueSpec::good(&first)
            })
            .map_err(|e| fail(format!("certificate for {first}"), e.to_string()))?;
        for host in hosts {
            sites.push(Site {
                host,
                cert: cert.clone(),
                behaviour: Behaviour::Policy {
                    status: 200,
                    content_type: Some("text/plain".into()),
                    body: body.clone(),
                },
            });
        }
    }
    Ok((set, servers, sites))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(count: usize) -> BulkSet {
        BulkSet {
            count,
            tld: "test".into(),
            mx_spki: vec!["aa".into(), "bb".into()],
        }
    }

    #[test]
    fn names_are_deterministic_and_halves_split_by_parity() {
        let s = set(10);
        assert_eq!(s.domain(1), "d00001.bulk.test");
        assert_eq!(s.domains().count(), 10);
        assert!(BulkSet::has_sts(1) && !BulkSet::has_sts(2));
        assert_eq!(BulkSet::mx_of(2), [1, 2]);
        assert_eq!(BulkSet::mx_of(1), [3, 4]);
        assert_eq!(s.mx_spki(1), Some("aa"));
        assert!(BulkSet::mx_has_tlsa(2) && !BulkSet::mx_has_tlsa(3));
        assert_eq!(BulkSet::mx_ip(4).to_string(), "127.0.1.4");
    }
}
