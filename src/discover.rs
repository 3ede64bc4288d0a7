//! Discovery: the DNS half of what a sending MTA does before it connects.
//!
//! MX (with null and implicit MX), the addresses of every MX host, TLSA at
//! `_25._tcp.<host>` where DANE could apply (RFC 7672 §2.2), and the TLSRPT
//! record (RFC 8460 §3). This module only gathers evidence; judging it is
//! `classify`'s job.

use std::net::IpAddr;

use futures_util::future::join_all;
use hickory_proto::rr::{Name, RData, RecordType};

use crate::dane::applies::{Applicability, applicability};
use crate::dane::tlsa::TlsaRecord;
use crate::dns::display_name;
use crate::dns::{Answer, Dnssec, DnssecMode, Status};
use crate::evidence::{
    Address, Discovery, MxHost, MxLookup, MxStatus, RuaDomain, TlsRpt, Tlsa, TlsaStatus,
};
use crate::mx::{self, MxSet};
use crate::timeline::TimedDns;
use crate::tlsrpt::{self, TlsRptAssessment};

/// Told each MX host's name and addresses as soon as they are known, when
/// the host name is the one a session must send as SNI whatever DANE's
/// verdict (the host is no alias: its TLSA base domain is its own name,
/// RFC 7672 §2.2.3). The sessions start then, beside the TLSA lookup.
pub type OnAddresses<'a> = &'a (dyn Fn(&str, &[IpAddr]) + Send + Sync);

/// `planned_mx`, when not empty, replaces the published MX hosts (the MX
/// lookup still runs, for its DNSSEC status).
pub async fn discover(
    dns: &TimedDns<'_>,
    domain: &Name,
    planned_mx: &[Name],
    on_addresses: OnAddresses<'_>,
) -> Discovery {
    let (mx, tlsrpt) = tokio::join!(
        discover_mx(dns, domain, planned_mx, on_addresses),
        discover_tlsrpt(dns, domain)
    );
    let (mx_lookup, null_mixed, mx) = mx;
    Discovery {
        mx_lookup,
        null_mixed,
        mx,
        tlsrpt,
    }
}

async fn discover_mx(
    dns: &TimedDns<'_>,
    domain: &Name,
    planned: &[Name],
    on_addresses: OnAddresses<'_>,
) -> (MxLookup, bool, Vec<MxHost>) {
    let answer = dns.lookup(domain, RecordType::MX).await;
    if !planned.is_empty() && answer.dnssec != Dnssec::Bogus {
        // The planned set is judged as if published in the same zone, so
        // it carries the zone's DNSSEC status.
        let hosts = join_all(planned.iter().enumerate().map(|(i, host)| {
            let pref = u16::try_from((i + 1) * 10).unwrap_or(u16::MAX);
            discover_host(dns, host.clone(), pref, answer.dnssec, on_addresses)
        }))
        .await;
        let lookup = MxLookup {
            status: MxStatus::Found,
            dnssec: answer.dnssec,
            error: None,
            overloaded: false,
        };
        return (lookup, false, hosts);
    }
    let lookup = |status| MxLookup {
        status,
        dnssec: answer.dnssec,
        error: answer.error.clone(),
        overloaded: answer.overloaded,
    };
    match answer.status {
        Status::Found => match mx::classify(&answer.mx_records()) {
            MxSet::Null => (lookup(MxStatus::NullMx), false, Vec::new()),
            MxSet::Hosts { hosts, null_mixed } => {
                let hosts = join_all(hosts.into_iter().map(|(pref, host)| {
                    discover_host(dns, host, pref, answer.dnssec, on_addresses)
                }))
                .await;
                (lookup(MxStatus::Found), null_mixed, hosts)
            }
        },
        // RFC 5321 §5.1: no MX records, the domain is its own mail host. The
        // denial's DNSSEC status stands in for the MX RRset's (RFC 7672 §2.2.1).
        Status::NoData => {
            let host = discover_host(dns, domain.clone(), 0, answer.dnssec, on_addresses).await;
            (lookup(MxStatus::Implicit), false, vec![host])
        }
        Status::NxDomain => (lookup(MxStatus::Nxdomain), false, Vec::new()),
        Status::Failed => (lookup(MxStatus::Error), false, Vec::new()),
    }
}

async fn discover_host(
    dns: &TimedDns<'_>,
    host: Name,
    preference: u16,
    mx_dnssec: Dnssec,
    on_addresses: OnAddresses<'_>,
) -> MxHost {
    let (a, aaaa) = tokio::join!(
        dns.lookup_mx_host(&host, RecordType::A),
        dns.lookup_mx_host(&host, RecordType::AAAA)
    );
    let address_dnssec = a.dnssec.and(aaaa.dnssec);
    let mut addresses: Vec<Address> = Vec::new();
    for ans in [&a, &aaaa] {
        addresses.extend(ans.addresses().into_iter().map(|ip| Address {
            ip,
            dnssec: ans.dnssec,
        }));
    }
    let address_error = [&a, &aaaa]
        .iter()
        .filter_map(|x| x.error.clone())
        .reduce(|x, y| if x == y { x } else { format!("{x}; {y}") });
    let canonical = [&a, &aaaa]
        .iter()
        .find(|x| !x.aliases.is_empty())
        .map(|x| x.canonical.clone());
    if canonical.is_none() && !addresses.is_empty() {
        let ips: Vec<IpAddr> = addresses.iter().map(|a| a.ip).collect();
        on_addresses(&display_name(&host), &ips);
    }
    // DNSSEC per address family (RFC 7672 §2.2.2 asks for secure address
    // records): a secure A RRset with addresses keeps DANE for the IPv4
    // sessions even when the AAAA lookup is bogus or failed, and the other
    // way round; the broken family is a finding of its own.
    let secure_family = [&a, &aaaa]
        .iter()
        .any(|x| x.dnssec == Dnssec::Secure && !x.addresses().is_empty());
    let tlsa_gate = if secure_family {
        Dnssec::Secure
    } else {
        address_dnssec
    };
    let tlsa = discover_tlsa(
        dns,
        &host,
        canonical.as_ref(),
        mx_dnssec,
        tlsa_gate,
        &addresses,
    )
    .await;
    MxHost {
        host: display_name(&host),
        preference,
        dnssec: mx_dnssec,
        cname: canonical.as_ref().map(display_name),
        addresses,
        address_dnssec,
        address_error,
        address_overloaded: a.overloaded || aaaa.overloaded,
        tlsa,
    }
}

/// RFC 7672 §2.2.2–2.2.3: TLSA is looked up only for hosts whose address
/// records are secure; for an alias, first at the CNAME-expanded name (the
/// chain was secure, since the addresses are), then at the original name.
async fn discover_tlsa(
    dns: &TimedDns<'_>,
    host: &Name,
    canonical: Option<&Name>,
    mx_dnssec: Dnssec,
    address_dnssec: Dnssec,
    addresses: &[Address],
) -> Tlsa {
    let skipped = |reason: &str| Tlsa {
        status: TlsaStatus::Skipped,
        name: None,
        base_domain: None,
        dnssec: Dnssec::Indeterminate,
        records: Vec::new(),
        usable: 0,
        applies: false,
        reason: reason.to_string(),
        parsed: Vec::new(),
        planned: false,
        error: None,
        overloaded: false,
    };
    if dns.mode() == DnssecMode::Off {
        return skipped("DNSSEC is off (--dnssec off): DANE cannot apply");
    }
    if addresses.is_empty() {
        return skipped("the host has no addresses");
    }
    if address_dnssec != Dnssec::Secure {
        return skipped(&format!(
            "the host's address records are {}: DANE needs them secure (RFC 7672 §2.2.2)",
            address_dnssec.as_str()
        ));
    }
    let mut bases: Vec<&Name> = Vec::new();
    if let Some(c) = canonical {
        bases.push(c);
    }
    bases.push(host);
    let mut last: Option<(Name, Answer, &Name)> = None;
    for base in bases {
        let Ok(name) = Name::from_ascii("_25._tcp").and_then(|p| p.append_domain(base)) else {
            continue;
        };
        let answer = dns.lookup_mx_host(&name, RecordType::TLSA).await;
        let settled = matches!(answer.status, Status::Failed)
            || (answer.status == Status::Found && answer.dnssec == Dnssec::Secure);
        last = Some((name, answer, base));
        if settled {
            break;
        }
    }
    let Some((name, answer, base)) = last else {
        return skipped("the TLSA owner name is not a valid name");
    };
    let tlsa: Vec<TlsaRecord> = answer
        .records
        .iter()
        .filter_map(|r| match r {
            RData::TLSA(t) => Some(TlsaRecord::new(
                u8::from(t.cert_usage),
                u8::from(t.selector),
                u8::from(t.matching),
                t.cert_data.clone(),
            )),
            _ => None,
        })
        .collect();
    let records: Vec<String> = tlsa.iter().map(TlsaRecord::to_presentation).collect();
    let usable = tlsa.iter().filter(|t| t.is_usable()).count();
    let (status, reason) = match (answer.status, answer.dnssec) {
        (Status::Found, Dnssec::Secure) if mx_dnssec == Dnssec::Secure => (
            TlsaStatus::Found,
            "MX, addresses and TLSA records are secure: DANE applies".to_string(),
        ),
        (Status::Found, Dnssec::Secure) => (
            TlsaStatus::Found,
            format!(
                "the MX RRset is {}: only senders that opt in use these TLSA records, with the MX host name as the only reference identifier (RFC 7672 §2.2.1)",
                mx_dnssec.as_str()
            ),
        ),
        (Status::Found, d) => (
            TlsaStatus::Found,
            format!("the TLSA records are {}: senders ignore them", d.as_str()),
        ),
        (Status::NoData | Status::NxDomain, _) => (
            TlsaStatus::None,
            "no TLSA records: DANE is not published for this host".to_string(),
        ),
        (Status::Failed, Dnssec::Bogus) => (
            TlsaStatus::Bogus,
            "the TLSA lookup is bogus: a DANE sender treats this MX as unreachable (RFC 7672 §2.1.1)".to_string(),
        ),
        (Status::Failed, _) if answer.overloaded => (
            TlsaStatus::Error,
            "the TLSA lookup was lost to the scanner's own DNS queue: whether DANE applies cannot be told (scan again)".to_string(),
        ),
        (Status::Failed, _) => (
            TlsaStatus::Error,
            "the TLSA lookup failed: a DANE sender treats this MX as unreachable (RFC 7672 §2.1.1)".to_string(),
        ),
    };
    Tlsa {
        status,
        name: Some(display_name(&name)),
        base_domain: (status == TlsaStatus::Found).then(|| display_name(base)),
        dnssec: answer.dnssec,
        records,
        usable,
        applies: applicability(status, answer.dnssec, mx_dnssec, false) == Applicability::Applies,
        reason,
        parsed: tlsa,
        planned: false,
        error: answer.error,
        overloaded: answer.overloaded,
    }
}

async fn discover_tlsrpt(dns: &TimedDns<'_>, domain: &Name) -> TlsRpt {
    let name = Name::from_ascii("_smtp._tls").and_then(|p| p.append_domain(domain));
    let domain_text = display_name(domain);
    let Ok(name) = name else {
        return TlsRpt {
            name: format!("_smtp._tls.{domain_text}"),
            dnssec: Dnssec::Indeterminate,
            assessment: tlsrpt::assess(&domain_text, &[]),
            rua_domains: Vec::new(),
            error: Some("the record name is too long to be a DNS name".into()),
            overloaded: false,
        };
    };
    let answer = dns.lookup(&name, RecordType::TXT).await;
    let assessment = if answer.status == Status::Failed {
        TlsRptAssessment::lookup_failed(answer.dnssec == Dnssec::Bogus, answer.error.clone())
    } else {
        tlsrpt::assess(&domain_text, &answer.txt_strings())
    };
    let rua_domains = rua_mail_domains(dns, &assessment).await;
    TlsRpt {
        name: display_name(&name),
        dnssec: answer.dnssec,
        assessment,
        rua_domains,
        error: answer.error,
        overloaded: answer.overloaded,
    }
}

/// Most report-address domains checked per domain: a hostile record may
/// list many; a real one lists one or two.
const MAX_RUA_DOMAINS: usize = 4;

/// Whether the domains of the `mailto:` report addresses accept mail (a
/// null MX, a name that does not exist, or no MX and no address means the
/// reports bounce; SPEC.md §1, our own check).
async fn rua_mail_domains(dns: &TimedDns<'_>, a: &tlsrpt::TlsRptAssessment) -> Vec<RuaDomain> {
    let mut domains: Vec<String> = Vec::new();
    for uri in &a.rua {
        if let tlsrpt::record::ReportUriKind::Mailto { address } = uri.kind() {
            if let Some((_, d)) = address.rsplit_once('@') {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if !d.is_empty() && !domains.contains(&d) && domains.len() < MAX_RUA_DOMAINS {
                    domains.push(d);
                }
            }
        }
    }
    join_all(domains.into_iter().map(|d| rua_domain(dns, d))).await
}

async fn rua_domain(dns: &TimedDns<'_>, domain: String) -> RuaDomain {
    let verdict = |accepts: Option<bool>, reason: &str| RuaDomain {
        domain: domain.clone(),
        accepts_mail: accepts,
        reason: reason.to_string(),
    };
    let Ok(name) = Name::from_utf8(format!("{domain}.")) else {
        return verdict(Some(false), "not a valid domain name");
    };
    let mx = dns.lookup(&name, RecordType::MX).await;
    match mx.status {
        Status::Found => match mx::classify(&mx.mx_records()) {
            MxSet::Null => verdict(
                Some(false),
                "it publishes a null MX (RFC 7505): it accepts no mail",
            ),
            MxSet::Hosts { .. } => verdict(Some(true), "it has MX records"),
        },
        Status::NxDomain => verdict(Some(false), "the domain does not exist (NXDOMAIN)"),
        Status::NoData => {
            let (a, aaaa) = tokio::join!(
                dns.lookup(&name, RecordType::A),
                dns.lookup(&name, RecordType::AAAA)
            );
            if a.addresses().is_empty() && aaaa.addresses().is_empty() {
                if a.overloaded || aaaa.overloaded {
                    verdict(
                        None,
                        "its address lookup was lost to the scanner's own DNS queue: cannot be told",
                    )
                } else if a.status == Status::Failed || aaaa.status == Status::Failed {
                    verdict(None, "its address lookup failed")
                } else {
                    verdict(Some(false), "it has no MX and no A/AAAA records")
                }
            } else {
                verdict(Some(true), "no MX, but an address (implicit MX)")
            }
        }
        Status::Failed if mx.overloaded => verdict(
            None,
            "its MX lookup was lost to the scanner's own DNS queue: cannot be told",
        ),
        Status::Failed => verdict(None, "its MX lookup failed"),
    }
}
