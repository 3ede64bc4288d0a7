//! NXDOMAIN proofs as BIND and NSD send them (RFC 4035 §3.1.3.2).
//!
//! hickory-server's own NXDOMAIN answers miss NSEC records in two common
//! shapes: a zone whose NSEC chain is one record (apex to apex), and a name
//! two or more labels below its closest encloser, where the NSEC denying the
//! wildcard differs from the one covering the name. A validator rightly
//! calls such answers bogus, while real servers send complete proofs. So the
//! lab answers NXDOMAIN itself from the signed zone's NSEC chain: the SOA,
//! the NSEC covering the name and the NSEC covering the wildcard at the
//! closest encloser, each with its RRSIGs.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};

/// One NSEC record of the chain, with its signatures.
struct Link {
    owner: Name,
    next: Name,
    records: Vec<Record>,
}

/// What a signed zone needs to deny names.
pub struct Denial {
    origin: Name,
    /// Owner names and the empty non-terminals above them.
    existing: HashSet<LowerName>,
    /// Delegation points below the apex: names under them are the child's.
    cuts: Vec<Name>,
    /// NSEC chain, in canonical order (hickory's `Name` ordering).
    chain: Vec<Link>,
    /// The apex SOA with its RRSIGs.
    soa: Vec<Record>,
}

impl Denial {
    /// Reads the NSEC chain and SOA of a signed zone.
    pub fn from_zone(origin: &Name, records: &BTreeMap<RrKey, Arc<RecordSet>>) -> Denial {
        let mut existing = HashSet::new();
        let mut cuts = Vec::new();
        let mut chain = Vec::new();
        let mut soa = Vec::new();
        for rrset in records.values() {
            let owner = rrset.name().clone();
            let mut n = owner.clone();
            while origin.zone_of(&n) {
                existing.insert(LowerName::new(&n));
                if n == *origin {
                    break;
                }
                n = n.base_name();
            }
            let with_sigs = || {
                let mut v: Vec<Record> = rrset.records_without_rrsigs().cloned().collect();
                v.extend(rrset.rrsigs().iter().cloned());
                v
            };
            match rrset.record_type() {
                RecordType::NS if owner != *origin => cuts.push(owner.clone()),
                RecordType::SOA if owner == *origin => soa = with_sigs(),
                RecordType::NSEC => {
                    let next = rrset.records_without_rrsigs().find_map(|r| match &r.data {
                        RData::DNSSEC(DNSSECRData::NSEC(nsec)) => {
                            Some(nsec.next_domain_name().clone())
                        }
                        _ => None,
                    });
                    if let Some(next) = next {
                        chain.push(Link {
                            owner,
                            next,
                            records: with_sigs(),
                        });
                    }
                }
                _ => {}
            }
        }
        chain.sort_by(|a, b| a.owner.cmp(&b.owner));
        Denial {
            origin: origin.clone(),
            existing,
            cuts,
            chain,
            soa,
        }
    }

    /// The authority section of an NXDOMAIN answer for `qname`, or None when
    /// the name exists, lies outside the zone or below a delegation (the
    /// normal server logic answers those).
    pub fn nxdomain(&self, qname: &Name, dnssec_ok: bool) -> Option<Vec<Record>> {
        if !self.origin.zone_of(qname) || self.existing.contains(&LowerName::new(qname)) {
            return None;
        }
        if self.cuts.iter().any(|cut| cut.zone_of(qname)) || self.chain.is_empty() {
            return None;
        }
        let mut out = self.soa.clone();
        if !dnssec_ok {
            out.retain(|r| r.record_type() == RecordType::SOA);
            return Some(out);
        }
        let mut encloser = qname.base_name();
        while !self.existing.contains(&LowerName::new(&encloser)) && encloser != self.origin {
            encloser = encloser.base_name();
        }
        let wildcard = encloser.prepend_label("*").ok()?;
        let mut used: Vec<usize> = Vec::new();
        for name in [qname, &wildcard] {
            if let Some(i) = self.covering(name) {
                if !used.contains(&i) {
                    used.push(i);
                }
            }
        }
        for i in used {
            out.extend(self.chain[i].records.iter().cloned());
        }
        Some(out)
    }

    /// Index of the NSEC whose span (owner, next) holds `name`; the last
    /// link wraps around to the apex.
    fn covering(&self, name: &Name) -> Option<usize> {
        self.chain.iter().position(|l| {
            name > &l.owner && (name < &l.next || l.next <= l.owner || l.next == self.origin)
        })
    }
}
