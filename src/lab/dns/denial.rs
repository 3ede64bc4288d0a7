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
//!
//! Names a wildcard answers are synthesised here too, with the one NSEC
//! BIND sends (the next closer name's): hickory-server adds others that
//! real servers do not, and a validator must cope with what BIND sends.

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
    /// RRsets owned by wildcard names (`*.<encloser>`), with their RRSIGs.
    wildcards: Vec<(Name, RecordType, Vec<Record>)>,
}

/// An answer synthesised from a wildcard, as BIND sends it.
pub struct WildcardAnswer {
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
}

impl Denial {
    /// Reads the NSEC chain and SOA of a signed zone.
    pub fn from_zone(origin: &Name, records: &BTreeMap<RrKey, Arc<RecordSet>>) -> Denial {
        let mut existing = HashSet::new();
        let mut cuts = Vec::new();
        let mut chain = Vec::new();
        let mut soa = Vec::new();
        let mut wildcards = Vec::new();
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
            if owner.is_wildcard() && rrset.record_type() != RecordType::NSEC {
                wildcards.push((owner.clone(), rrset.record_type(), with_sigs()));
            }
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
            wildcards,
        }
    }

    /// Whether `qname` is a name of this zone (not below a delegation) that
    /// does not exist: what a wildcard may answer, or NXDOMAIN denies.
    fn absent(&self, qname: &Name) -> bool {
        self.origin.zone_of(qname)
            && !self.existing.contains(&LowerName::new(qname))
            && !self.cuts.iter().any(|cut| cut.zone_of(qname))
    }

    /// The closest encloser of a name that does not exist: its nearest
    /// ancestor that does (RFC 4592 §3.3.1).
    fn closest_encloser(&self, qname: &Name) -> Name {
        let mut encloser = qname.base_name();
        while !self.existing.contains(&LowerName::new(&encloser)) && encloser != self.origin {
            encloser = encloser.base_name();
        }
        encloser
    }

    /// The answer to `qname`/`qtype` synthesised from the wildcard at its
    /// closest encloser (RFC 4592), as BIND and NSD send it: the wildcard's
    /// RRset (or CNAME) under `qname` with the wildcard's RRSIGs, and the
    /// NSEC covering the next closer name (RFC 4035 §3.1.3.3). When the
    /// wildcard has no such type: NODATA with the SOA, that NSEC and the
    /// wildcard's own NSEC (§3.1.3.4). `None` when the name exists, no
    /// wildcard applies, or the name is outside the zone or below a cut.
    pub fn wildcard(
        &self,
        qname: &Name,
        qtype: RecordType,
        dnssec_ok: bool,
    ) -> Option<WildcardAnswer> {
        if !self.absent(qname) || self.wildcards.is_empty() {
            return None;
        }
        let encloser = self.closest_encloser(qname);
        let wildcard = encloser.prepend_label("*").ok()?;
        let at_wildcard: Vec<&(Name, RecordType, Vec<Record>)> = self
            .wildcards
            .iter()
            .filter(|(o, _, _)| *o == wildcard)
            .collect();
        if at_wildcard.is_empty() {
            return None;
        }
        let next_closer = qname.trim_to(encloser.num_labels() as usize + 1);
        let covering_at = self.covering(&next_closer);
        let covering: Vec<Record> = covering_at
            .map(|i| self.chain[i].records.clone())
            .unwrap_or_default();
        let keep = |r: &Record| dnssec_ok || r.record_type() != RecordType::RRSIG;
        let found = at_wildcard
            .iter()
            .find(|(_, t, _)| *t == qtype)
            .or_else(|| at_wildcard.iter().find(|(_, t, _)| *t == RecordType::CNAME));
        Some(match found {
            Some((_, _, records)) => WildcardAnswer {
                answers: records
                    .iter()
                    .filter(|r| keep(r))
                    .map(|r| {
                        let mut r = r.clone();
                        r.name = qname.clone();
                        r
                    })
                    .collect(),
                authority: if dnssec_ok { covering } else { Vec::new() },
            },
            None => {
                let mut authority = self.soa.clone();
                if dnssec_ok {
                    authority.extend(covering);
                    // The wildcard's own NSEC, unless it is the one
                    // already there (an RRset is sent once).
                    let own = self.chain.iter().position(|l| l.owner == wildcard);
                    if let Some(i) = own.filter(|i| Some(*i) != covering_at) {
                        authority.extend(self.chain[i].records.iter().cloned());
                    }
                } else {
                    authority.retain(|r| r.record_type() == RecordType::SOA);
                }
                WildcardAnswer {
                    answers: Vec::new(),
                    authority,
                }
            }
        })
    }

    /// The authority section of an NXDOMAIN answer for `qname`, or None when
    /// the name exists, lies outside the zone or below a delegation (the
    /// normal server logic answers those).
    pub fn nxdomain(&self, qname: &Name, dnssec_ok: bool) -> Option<Vec<Record>> {
        if !self.absent(qname) || self.chain.is_empty() {
            return None;
        }
        let wildcard = self.closest_encloser(qname).prepend_label("*").ok();
        // A name the wildcard answers exists (`wildcard` above).
        if let Some(w) = &wildcard {
            if self.wildcards.iter().any(|(o, _, _)| o == w) {
                return None;
            }
        }
        let mut out = self.soa.clone();
        if !dnssec_ok {
            out.retain(|r| r.record_type() == RecordType::SOA);
            return Some(out);
        }
        let wildcard = wildcard?;
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
