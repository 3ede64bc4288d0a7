//! Gathering MTA-STS evidence: the TXT record, the policy host's addresses
//! and the policy fetch (RFC 8461 §3). I/O only; `assess` judges.

use std::net::IpAddr;

use hickory_proto::rr::{Name, RecordType};

use super::fetch::{self, FetchConfig, FetchOutcome};
use super::record::{self, StsRecordAssessment, StsRecordStatus};
use crate::dns::{Dnssec, Status, display_name};
use crate::ip_scope;
use crate::timeline::TimedDns;

/// How to fetch, whether non-public addresses may be contacted, and how
/// long a fetch may take before it is reported as slow.
#[derive(Debug, Clone)]
pub struct StsConfig {
    pub fetch: FetchConfig,
    pub allow_private: bool,
    /// A successful fetch slower than this is an `sts-policy-slow` warning
    /// ([`super::sender_timeouts::SLOW_AFTER`] unless a caller knows its
    /// senders better).
    pub slow_after: std::time::Duration,
}

/// What the DNS said about one name.
#[derive(Debug, Clone)]
pub struct NameFacts {
    pub name: String,
    pub dnssec: Dnssec,
    /// The canonical name, when the name is an alias (RFC 8461 §3.1, §8.2:
    /// senders follow CNAMEs of both names).
    pub cname: Option<String>,
    pub error: Option<String>,
    /// A lookup of the name was lost to the scanner's own load (`error`
    /// says so): what is missing says nothing about the domain.
    pub overloaded: bool,
}

/// Everything learned about a domain's MTA-STS, before judgement.
#[derive(Debug, Clone)]
pub struct StsEvidence {
    pub record_name: NameFacts,
    pub record: StsRecordAssessment,
    pub host: NameFacts,
    pub addresses: Vec<IpAddr>,
    /// The fetch, when one was attempted.
    pub fetch: Option<FetchOutcome>,
    /// Why no fetch was attempted although the record asks for one.
    pub not_fetched: Option<String>,
}

impl StsEvidence {
    /// Evidence for a domain whose scan was cut short: nothing known.
    pub fn unavailable(domain: &str, reason: &str) -> StsEvidence {
        let facts = |n: &str| NameFacts {
            name: format!("{n}.{domain}"),
            dnssec: Dnssec::Indeterminate,
            cname: None,
            error: Some(reason.to_string()),
            overloaded: false,
        };
        StsEvidence {
            record_name: facts("_mta-sts"),
            record: StsRecordAssessment::lookup_failed(false, Some(reason.to_string())),
            host: facts("mta-sts"),
            addresses: Vec::new(),
            fetch: None,
            not_fetched: None,
        }
    }
}

/// Looks up `_mta-sts.<domain>` and `mta-sts.<domain>`, then fetches the
/// policy when a record is published or the policy host exists.
pub async fn gather(dns: &TimedDns<'_>, domain: &Name, config: &StsConfig) -> StsEvidence {
    let domain_text = display_name(domain);
    let record_name = Name::from_ascii("_mta-sts").and_then(|p| p.append_domain(domain));
    let host_name = Name::from_ascii("mta-sts").and_then(|p| p.append_domain(domain));
    let (Ok(record_name), Ok(host_name)) = (record_name, host_name) else {
        let facts = |n: &str| NameFacts {
            name: format!("{n}.{domain_text}"),
            dnssec: Dnssec::Indeterminate,
            cname: None,
            error: Some("the name is too long to be a DNS name".into()),
            overloaded: false,
        };
        return StsEvidence {
            record_name: facts("_mta-sts"),
            record: record::assess_record(&domain_text, &[]),
            host: facts("mta-sts"),
            addresses: Vec::new(),
            fetch: None,
            not_fetched: Some("the policy host name is too long to be a DNS name".into()),
        };
    };
    let host_addresses = async {
        let a = dns.lookup(&host_name, RecordType::A).await;
        // NXDOMAIN says the name has no records of any type (RFC 8020),
        // so AAAA would get the same denial; most domains have no policy
        // host, and the denial's signatures need checking only once. The
        // round trip this adds runs beside the MX and SMTP work.
        let aaaa = if a.status == Status::NxDomain {
            a.clone()
        } else {
            dns.lookup(&host_name, RecordType::AAAA).await
        };
        (a, aaaa)
    };
    let (txt, (a, aaaa)) = tokio::join!(dns.lookup(&record_name, RecordType::TXT), host_addresses);
    let assessment = if txt.status == Status::Failed {
        StsRecordAssessment::lookup_failed(txt.dnssec == Dnssec::Bogus, txt.error.clone())
    } else {
        record::assess_record(&domain_text, &txt.txt_strings())
    };
    let record_facts = NameFacts {
        name: display_name(&record_name),
        dnssec: txt.dnssec,
        cname: (!txt.aliases.is_empty()).then(|| display_name(&txt.canonical)),
        error: txt.error.clone(),
        overloaded: txt.overloaded,
    };
    let mut addresses = a.addresses();
    addresses.extend(aaaa.addresses());
    let host_alias = [&a, &aaaa]
        .iter()
        .find(|x| !x.aliases.is_empty())
        .map(|x| display_name(&x.canonical));
    let host_error = [&a, &aaaa]
        .iter()
        .filter(|x| x.status == Status::Failed)
        .find_map(|x| x.error.clone());
    let host = NameFacts {
        name: display_name(&host_name),
        dnssec: a.dnssec.and(aaaa.dnssec),
        cname: host_alias,
        error: host_error,
        overloaded: a.overloaded || aaaa.overloaded,
    };

    let start = std::time::Instant::now();
    let (fetch, not_fetched) = if host.overloaded && addresses.is_empty() {
        // Whether the policy host exists cannot be told: no fetch, and
        // nothing blamed on the domain (`assess`).
        (
            None,
            Some(format!(
                "not fetched: the address lookups of {} were lost to the scanner's own DNS queue",
                host.name
            )),
        )
    } else {
        fetch_if_published(&domain_text, &host_name, &assessment, &addresses, config).await
    };
    if fetch.is_some() {
        dns.timeline.policy_fetch(start, std::time::Instant::now());
    }
    StsEvidence {
        record_name: record_facts,
        record: assessment,
        host,
        addresses,
        fetch,
        not_fetched,
    }
}

/// Fetches the policy when a record is published or the policy host exists,
/// from public addresses only unless `--allow-private`. Returns the fetch,
/// or why none was made although one was due.
async fn fetch_if_published(
    domain: &str,
    host_name: &Name,
    record: &StsRecordAssessment,
    addresses: &[IpAddr],
    config: &StsConfig,
) -> (Option<FetchOutcome>, Option<String>) {
    if record.status == StsRecordStatus::Missing && addresses.is_empty() {
        // Nothing published and no host: no policy to look for.
        return (None, None);
    }
    let (usable, refused): (Vec<IpAddr>, Vec<IpAddr>) = addresses
        .iter()
        .partition(|ip| config.allow_private || ip_scope::non_public_reason(**ip).is_none());
    if usable.is_empty() && !refused.is_empty() {
        let list: Vec<String> = refused
            .iter()
            .map(|ip| {
                format!(
                    "{ip} ({})",
                    ip_scope::non_public_reason(*ip).unwrap_or("non-public")
                )
            })
            .collect();
        let why = format!(
            "not fetched: {} resolves only to non-public addresses ({}); use --allow-private to fetch from them",
            display_name(host_name),
            list.join(", ")
        );
        return (None, Some(why));
    }
    (
        Some(
            crate::step::during(
                || format!("fetching the MTA-STS policy from mta-sts.{domain}"),
                fetch::fetch(domain, &usable, &config.fetch),
            )
            .await,
        ),
        None,
    )
}
