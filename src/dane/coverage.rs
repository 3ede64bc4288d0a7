//! RFC 7671 §8 for each chain a server serves: every published (usage,
//! selector, matching type) combination needs a record that matches the
//! chain, because a client may support only some combinations and then
//! uses only the records of those. [`unmatched`] lists the combinations
//! without a match for one chain, each with the record that would match it.
//!
//! A server with an RSA and an ECDSA certificate serves two chains; the
//! rule holds for each (RFC 7671 §8: "the TLSA records for each of the
//! server's certificates").
//!
//! The record offered for a DANE-TA(2) combination names the certificate
//! that issued the leaf (the second presented): RFC 7672 §3.1.2 has the
//! server send its trust anchor, and the issuer is the one every chain
//! carries. Leaves out: which anchor the operator meant to pin.

use ring::digest;
use rustls::pki_types::CertificateDer;
use serde::Serialize;

use super::tlsa::{
    MATCHING_FULL, MATCHING_SHA256, MATCHING_SHA512, SELECTOR_CERT, SELECTOR_SPKI, TlsaRecord,
    USAGE_DANE_EE, USAGE_DANE_TA,
};
use super::verdict::combinations_without_match;
use crate::pki::facts;

/// A published combination with no record for the chain, and the record
/// that would match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    /// `usage selector matching-type`, e.g. `3 1 1`.
    pub combination: String,
    /// The zone-file line to add (`_25._tcp.mx.example. IN TLSA 3 1 1 …`);
    /// `None` when the chain has no certificate the combination could name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

/// The combinations published at `owner` (the TLSA name, `_25._tcp.<host>`)
/// of which no record matches `chain`, in (usage, selector, matching) order.
pub fn unmatched(
    records: &[TlsaRecord],
    chain: &[CertificateDer<'_>],
    owner: &str,
) -> Vec<Unmatched> {
    let owner = owner.trim_end_matches('.');
    combinations_without_match(records, chain)
        .into_iter()
        .map(|(usage, selector, matching)| Unmatched {
            combination: format!("{usage} {selector} {matching}"),
            record: record_for((usage, selector, matching), chain)
                .map(|r| format!("{owner}. IN TLSA {}", r.to_presentation())),
        })
        .collect()
}

/// The record of `combination` that matches `chain`: DANE-EE names the
/// leaf, DANE-TA the leaf's issuer; `None` when that certificate is missing
/// or cannot be read, or the combination is not one SMTP may use.
pub fn record_for(combination: (u8, u8, u8), chain: &[CertificateDer<'_>]) -> Option<TlsaRecord> {
    let (usage, selector, matching) = combination;
    let cert = match usage {
        USAGE_DANE_EE => chain.first()?,
        USAGE_DANE_TA => chain.get(1)?,
        _ => return None,
    };
    let selected = match selector {
        SELECTOR_CERT => cert.as_ref().to_vec(),
        SELECTOR_SPKI => facts::view(cert.as_ref()).ok()?.spki_der,
        _ => return None,
    };
    let data = match matching {
        MATCHING_FULL => selected,
        MATCHING_SHA256 => digest::digest(&digest::SHA256, &selected).as_ref().to_vec(),
        MATCHING_SHA512 => digest::digest(&digest::SHA512, &selected).as_ref().to_vec(),
        _ => return None,
    };
    Some(TlsaRecord::new(usage, selector, matching, data))
}

/// A published record that matches the chain served but that senders
/// ignore, because a stronger digest is published for its usage and
/// selector (digest agility, RFC 7671 §9, RFC 7672 §3.1.2): Postfix and
/// OpenSSL report "no matching DANE TLSA records".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    /// The ignored record, `3 1 1 ab12…`.
    pub record: String,
    /// The records that supersede it, `3 1 2 cd34…`.
    pub stronger: Vec<String>,
    /// The ignored record's usage and selector, and the matching type of
    /// the first record that supersedes it.
    pub usage: u8,
    pub selector: u8,
    pub stronger_matching: u8,
    /// The zone-file line of the stronger digest of the chain served, the
    /// record that would make it match again.
    pub fix: Option<String>,
}

/// The records of `superseded` (indices into `records`, as the verdict
/// gives them) that match `chain`, each with what supersedes it.
pub fn superseded_matches(
    records: &[TlsaRecord],
    superseded: &[usize],
    chain: &[CertificateDer<'_>],
    owner: &str,
) -> Vec<Superseded> {
    let owner = owner.trim_end_matches('.');
    superseded
        .iter()
        .filter_map(|&i| records.get(i))
        .filter(|r| record_for(r.combination(), chain).is_some_and(|m| m.data() == r.data()))
        .filter_map(|r| {
            let stronger: Vec<&TlsaRecord> = records
                .iter()
                .enumerate()
                .filter(|(j, x)| {
                    !superseded.contains(j)
                        && x.is_usable()
                        && x.usage() == r.usage()
                        && x.selector() == r.selector()
                })
                .map(|(_, x)| x)
                .collect();
            let strongest = stronger.first()?;
            Some(Superseded {
                record: r.to_presentation(),
                stronger: stronger.iter().map(|x| x.to_presentation()).collect(),
                usage: r.usage(),
                selector: r.selector(),
                stronger_matching: strongest.matching(),
                fix: record_for((r.usage(), r.selector(), strongest.matching()), chain)
                    .map(|x| format!("{owner}. IN TLSA {}", x.to_presentation())),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dane::verdict::{ReferenceIds, verify};
    use crate::pki::test_pki::{Pki, leaf_spec, now};

    const OWNER: &str = "_25._tcp.mx1.example.test";

    fn names() -> ReferenceIds {
        ReferenceIds {
            tlsa_base: "mx1.example.test".into(),
            mx_host: "mx1.example.test".into(),
            next_hop: None,
        }
    }

    fn combos(list: &[Unmatched]) -> Vec<&str> {
        list.iter().map(|u| u.combination.as_str()).collect()
    }

    #[test]
    fn each_chain_of_a_two_key_server_needs_every_combination() {
        let pki = Pki::new();
        let one = pki.chain(&leaf_spec(&["mx1.example.test"]));
        let two = pki.chain(&leaf_spec(&["mx1.example.test"]));
        let ee = |chain: &[CertificateDer<'static>], m| {
            record_for((3, 1, m), chain).expect("a leaf makes a dane-ee record")
        };
        type Row<'a> = (&'a str, Vec<TlsaRecord>, Vec<&'a str>, Vec<&'a str>);
        let rows: Vec<Row<'_>> = vec![
            (
                "both keys under 3 1 1",
                vec![ee(&one, 1), ee(&two, 1)],
                vec![],
                vec![],
            ),
            (
                "only the first key",
                vec![ee(&one, 1)],
                vec![],
                vec!["3 1 1"],
            ),
            (
                "first key under 3 1 1 and 3 1 2, second under 3 1 1 only",
                vec![ee(&one, 1), ee(&one, 2), ee(&two, 1)],
                vec![],
                vec!["3 1 2"],
            ),
            (
                "dane-ta on the shared issuer covers both",
                vec![record_for((2, 0, 1), &one).expect("issuer present")],
                vec![],
                vec![],
            ),
            (
                "dane-ta beside a dane-ee of the first key only",
                vec![
                    record_for((2, 0, 1), &one).expect("issuer present"),
                    ee(&one, 1),
                ],
                vec![],
                vec!["3 1 1"],
            ),
        ];
        for (rule, records, want_one, want_two) in rows {
            assert_eq!(
                combos(&unmatched(&records, &one, OWNER)),
                want_one,
                "{rule}: first chain"
            );
            assert_eq!(
                combos(&unmatched(&records, &two, OWNER)),
                want_two,
                "{rule}: second chain"
            );
        }
    }

    #[test]
    fn the_record_offered_matches_the_chain_it_is_offered_for() {
        let pki = Pki::new();
        let chain = pki.chain(&leaf_spec(&["mx1.example.test"]));
        for combination in [
            (3, 1, 1),
            (3, 1, 2),
            (3, 0, 1),
            (3, 1, 0),
            (2, 0, 1),
            (2, 1, 2),
        ] {
            let record = record_for(combination, &chain).expect("computable");
            assert_eq!(record.combination(), combination);
            assert!(
                verify(std::slice::from_ref(&record), &chain, &names(), now()).is_pass(),
                "{combination:?} authenticates the chain it was made for"
            );
        }
    }

    #[test]
    fn the_line_to_add_is_a_zone_file_line_at_the_owner() {
        let pki = Pki::new();
        let one = pki.chain(&leaf_spec(&["mx1.example.test"]));
        let two = pki.chain(&leaf_spec(&["mx1.example.test"]));
        let records = vec![record_for((3, 1, 1), &one).expect("leaf")];
        let got = unmatched(&records, &two, "_25._tcp.mx1.example.test.");
        let want = record_for((3, 1, 1), &two).expect("leaf").to_presentation();
        assert_eq!(
            got,
            vec![Unmatched {
                combination: "3 1 1".into(),
                record: Some(format!("_25._tcp.mx1.example.test. IN TLSA {want}")),
            }]
        );
    }

    #[test]
    fn no_record_is_offered_where_the_chain_has_no_such_certificate() {
        let pki = Pki::new();
        let leaf_only = vec![pki.leaf(&leaf_spec(&["mx1.example.test"]))];
        let garbage = vec![CertificateDer::from(b"\x30\x03abc".to_vec())];
        assert_eq!(record_for((2, 0, 1), &leaf_only), None, "no issuer sent");
        assert_eq!(record_for((3, 1, 1), &garbage), None, "no spki to read");
        assert!(
            record_for((3, 0, 1), &garbage).is_some(),
            "a cert digest needs no parse"
        );
        assert_eq!(
            record_for((1, 1, 1), &leaf_only),
            None,
            "pkix-ee is not for smtp"
        );
        assert_eq!(record_for((3, 1, 1), &[]), None, "an empty chain");
    }
}
