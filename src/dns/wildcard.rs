//! Answers synthesised from a wildcard (RFC 4034 §3.1.3, RFC 4035 §3.1.3.3):
//! is the proof that no closer name exists complete?
//!
//! A signed answer expanded from `*.example.com` carries an RRSIG whose
//! Labels field counts fewer labels than the owner, and an NSEC record
//! showing that the next closer name (the closest encloser plus one label
//! of the owner) does not exist (RFC 4035 §5.3.4). That is all BIND, NSD,
//! Knot and PowerDNS send, and all Unbound and Postfix's resolver ask for.
//! hickory-net 0.26 also asks for an NSEC *covering* the wildcard name
//! itself, which cannot exist when the wildcard does, and calls such
//! answers bogus: an MX host, a TLSA record or an MTA-STS policy host
//! behind a wildcard in an NSEC-signed zone would be blamed for broken
//! DNSSEC. The validator has already checked every signature; this module
//! judges the denial as the RFC does, from the records it marked secure.

use std::pin::Pin;

use futures_util::stream::{Stream, StreamExt};
use hickory_proto::dnssec::Proof;
use hickory_proto::dnssec::rdata::DNSSECRData;
use hickory_proto::op::{DnsRequest, DnsResponse, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::net::xfer::DnsHandle;
use hickory_resolver::net::{DnsError, NetError};

/// Longest CNAME chain followed through the answer (as the resolver's).
const MAX_ALIASES: usize = 8;

/// Whether `answers` hold a secure positive answer for `name`/`rtype`,
/// through secure CNAMEs, in which at least one RRset was expanded from a
/// wildcard and every such expansion is proven by a secure NSEC in
/// `authorities`. `false` leaves the validator's verdict as it was: an
/// answer without a wildcard was called bogus for another reason.
pub fn proven(name: &Name, rtype: RecordType, answers: &[Record], authorities: &[Record]) -> bool {
    let mut owner = name.clone();
    let mut expanded = false;
    for _ in 0..=MAX_ALIASES {
        let here = |t: RecordType| rrset(answers, &owner, t);
        let (found, next) = if here(rtype).next().is_some() {
            (rtype, None)
        } else {
            let target = here(RecordType::CNAME).find_map(|r| match &r.data {
                RData::CNAME(t) => Some(t.0.clone()),
                _ => None,
            });
            match target {
                Some(t) if rtype != RecordType::CNAME => (RecordType::CNAME, Some(t)),
                _ => return false,
            }
        };
        if here(found).any(|r| r.proof != Proof::Secure) {
            return false;
        }
        match expansion(&owner, found, answers) {
            None => return false,
            Some(None) => {}
            Some(Some((labels, signer))) => {
                if !no_closer_name(&owner, labels, &signer, authorities) {
                    return false;
                }
                expanded = true;
            }
        }
        match next {
            None => return expanded,
            Some(target) => owner = target,
        }
    }
    false
}

fn rrset<'a>(
    answers: &'a [Record],
    owner: &'a Name,
    rtype: RecordType,
) -> impl Iterator<Item = &'a Record> + 'a {
    answers
        .iter()
        .filter(move |r| r.name == *owner && r.record_type() == rtype)
}

/// How the RRset `owner`/`rtype` was signed: `None` without a secure RRSIG,
/// `Some(None)` when it is not a wildcard expansion, else the RRSIG's
/// Labels and signer.
fn expansion(owner: &Name, rtype: RecordType, answers: &[Record]) -> Option<Option<(u8, Name)>> {
    let sig = answers
        .iter()
        .filter(|r| r.name == *owner && r.proof == Proof::Secure)
        .find_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) if sig.input().type_covered == rtype => {
                Some(sig.input())
            }
            _ => None,
        })?;
    let labels = sig.num_labels;
    Some((labels < owner.num_labels()).then(|| (labels, sig.signer_name.clone())))
}

/// RFC 4035 §5.3.4: a secure NSEC of the signing zone covers the next
/// closer name, so neither `owner` nor any name between it and the
/// wildcard exists.
fn no_closer_name(owner: &Name, labels: u8, zone: &Name, authorities: &[Record]) -> bool {
    let next_closer = owner.trim_to(usize::from(labels) + 1);
    authorities
        .iter()
        .filter(|r| r.proof == Proof::Secure && zone.zone_of(&r.name))
        .any(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::NSEC(nsec)) => {
                let next = nsec.next_domain_name();
                // A parent's NSEC at a delegation says nothing below it
                // (RFC 6840 §4.1).
                let cut = nsec.type_set().contains(RecordType::NS)
                    && !nsec.type_set().contains(RecordType::SOA);
                let wraps = next <= &r.name;
                !(cut && r.name.zone_of(&next_closer))
                    && next_closer > r.name
                    && (next_closer < *next || wraps)
            }
            _ => false,
        })
}

/// The validator with its wildcard verdicts judged again (see the module
/// comment): an answer it calls bogus only for want of an NSEC covering the
/// wildcard name is passed on as the secure answer it is. Sits between the
/// validator and hickory's resolver, which turns that verdict into a bare
/// "bogus" without the records.
#[derive(Clone)]
pub struct Rejudged<H>(pub H);

impl<H: DnsHandle> DnsHandle for Rejudged<H> {
    type Response = Pin<Box<dyn Stream<Item = Result<DnsResponse, NetError>> + Send>>;
    type Runtime = H::Runtime;

    fn is_verifying_dnssec(&self) -> bool {
        self.0.is_verifying_dnssec()
    }

    fn send(&self, request: DnsRequest) -> Self::Response {
        Box::pin(self.0.send(request).map(|result| match result {
            Err(NetError::Dns(DnsError::Nsec {
                query,
                response,
                proof: Proof::Bogus,
                ..
            })) if response.response_code == ResponseCode::NoError
                && proven(
                    query.name(),
                    query.query_type(),
                    &response.answers,
                    &response.authorities,
                ) =>
            {
                Ok(*response)
            }
            other => other,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::dnssec::Algorithm;
    use hickory_proto::dnssec::rdata::{NSEC, RRSIG, SigInput};
    use hickory_proto::rr::SerialNumber;
    use hickory_proto::rr::rdata::{A, CNAME};

    fn n(text: &str) -> Name {
        Name::from_ascii(text).expect("name")
    }

    fn secure(mut r: Record) -> Record {
        r.proof = Proof::Secure;
        r
    }

    fn rrsig(owner: &str, covered: RecordType, labels: u8, signer: &str) -> Record {
        let input = SigInput {
            type_covered: covered,
            algorithm: Algorithm::ECDSAP256SHA256,
            num_labels: labels,
            original_ttl: 300,
            sig_expiration: SerialNumber::new(2_000_000_000),
            sig_inception: SerialNumber::new(1_000_000_000),
            key_tag: 1,
            signer_name: n(signer),
        };
        secure(Record::from_rdata(
            n(owner),
            300,
            RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(input, vec![0; 64]))),
        ))
    }

    fn a(owner: &str) -> Record {
        secure(Record::from_rdata(
            n(owner),
            300,
            RData::A(A::new(127, 0, 0, 25)),
        ))
    }

    fn nsec(owner: &str, next: &str, types: &[RecordType]) -> Record {
        secure(Record::from_rdata(
            n(owner),
            300,
            RData::DNSSEC(DNSSECRData::NSEC(NSEC::new(n(next), types.to_vec()))),
        ))
    }

    #[test]
    fn a_wildcard_answer_with_the_nsec_bind_sends_is_proven() {
        // `* A` in wild.example.: mx1 sorts between _smtp._tls and mx2.
        let answers = [
            a("mx1.wild.example."),
            rrsig("mx1.wild.example.", RecordType::A, 2, "wild.example."),
        ];
        let proof = [nsec(
            "_smtp._tls.wild.example.",
            "mx2.wild.example.",
            &[RecordType::TXT],
        )];
        assert!(proven(
            &n("mx1.wild.example."),
            RecordType::A,
            &answers,
            &proof
        ));
        // No NSEC, an NSEC that does not cover the name, an insecure one,
        // or one of another zone: not proven.
        assert!(!proven(
            &n("mx1.wild.example."),
            RecordType::A,
            &answers,
            &[]
        ));
        let elsewhere = [nsec(
            "mx2.wild.example.",
            "zz.wild.example.",
            &[RecordType::A],
        )];
        assert!(!proven(
            &n("mx1.wild.example."),
            RecordType::A,
            &answers,
            &elsewhere
        ));
        let mut insecure = proof.clone();
        insecure[0].proof = Proof::Bogus;
        assert!(!proven(
            &n("mx1.wild.example."),
            RecordType::A,
            &answers,
            &insecure
        ));
        let other_zone = [nsec(
            "a.other.example.",
            "z.other.example.",
            &[RecordType::A],
        )];
        assert!(!proven(
            &n("mx1.wild.example."),
            RecordType::A,
            &answers,
            &other_zone
        ));
    }

    #[test]
    fn the_next_closer_name_is_what_must_be_denied() {
        // `*._tcp.mx2.wild.example. TLSA` answering _25._tcp.mx2: the next
        // closer name is _25._tcp.mx2 itself.
        let name = n("_25._tcp.mx2.wild.example.");
        let answers = [
            secure(Record::from_rdata(
                name.clone(),
                300,
                RData::A(A::new(127, 0, 0, 1)),
            )),
            rrsig(
                "_25._tcp.mx2.wild.example.",
                RecordType::A,
                4,
                "wild.example.",
            ),
        ];
        let covering = [nsec(
            "*._tcp.mx2.wild.example.",
            "mx3.wild.example.",
            &[RecordType::TLSA],
        )];
        assert!(proven(&name, RecordType::A, &answers, &covering));
        // Two labels below the closest encloser: the name between must be
        // denied too, which an NSEC below it cannot do.
        let deep = n("a.b.wild.example.");
        let answers = [
            a("a.b.wild.example."),
            rrsig("a.b.wild.example.", RecordType::A, 2, "wild.example."),
        ];
        let below = [nsec(
            "a.b.wild.example.",
            "c.wild.example.",
            &[RecordType::A],
        )];
        assert!(!proven(&deep, RecordType::A, &answers, &below));
        let above = [nsec("*.wild.example.", "c.wild.example.", &[RecordType::A])];
        assert!(proven(&deep, RecordType::A, &answers, &above));
    }

    #[test]
    fn an_answer_without_a_wildcard_keeps_its_verdict() {
        let answers = [
            a("mx1.wild.example."),
            rrsig("mx1.wild.example.", RecordType::A, 3, "wild.example."),
        ];
        let proof = [nsec(
            "_smtp._tls.wild.example.",
            "mx2.wild.example.",
            &[RecordType::TXT],
        )];
        assert!(!proven(
            &n("mx1.wild.example."),
            RecordType::A,
            &answers,
            &proof
        ));
    }

    #[test]
    fn a_cname_into_a_wildcard_is_followed_and_both_must_be_secure() {
        let cname = secure(Record::from_rdata(
            n("mta-sts.pol.example."),
            300,
            RData::CNAME(CNAME(n("pol.sts.wild.example."))),
        ));
        let answers = vec![
            cname.clone(),
            rrsig("mta-sts.pol.example.", RecordType::CNAME, 3, "pol.example."),
            a("pol.sts.wild.example."),
            rrsig("pol.sts.wild.example.", RecordType::A, 3, "wild.example."),
        ];
        let proof = [nsec("mx2.wild.example.", "wild.example.", &[RecordType::A])];
        let name = n("mta-sts.pol.example.");
        assert!(proven(&name, RecordType::A, &answers, &proof));
        let mut unsigned = answers.clone();
        unsigned[0].proof = Proof::Insecure;
        assert!(!proven(&name, RecordType::A, &unsigned, &proof));
        // A delegation's NSEC in the parent cannot deny names below it.
        let cut = [nsec(
            "sts.wild.example.",
            "zz.wild.example.",
            &[RecordType::NS],
        )];
        assert!(!proven(&name, RecordType::A, &answers, &cut));
    }
}
