//! Whether a trust anchor validates the root DNSKEY RRset a resolver serves.
//!
//! Local validation starts at the root: the DNSKEY RRset of "." is trusted
//! when it holds a key that matches a trust anchor and carries a signature
//! by that key that verifies and is valid now (RFC 4035 §5, RFC 4034 §3.1.5,
//! RFC 5011 §2.1 for the REVOKE bit). When it is not, every signed domain
//! looks bogus and the scanner would tell each domain to re-sign its zone,
//! so the scanner checks this once, before any domain, and names its own
//! environment instead: the wrong anchor, a resolver serving another root,
//! or this host's clock.
//!
//! Pure: the records, the anchors and the time come in, a verdict goes out.

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, RRSIG};
use hickory_proto::dnssec::{PublicKey, Verifier};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::anchor::AnchorKey;

/// Why the root DNSKEY RRset cannot be trusted from the anchors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootKeysProblem {
    /// The answer holds no DNSKEY record for ".".
    NoKeys,
    /// DNSKEY records without an RRSIG covering them.
    Unsigned,
    /// No key of the served set matches an anchor (another root, or an
    /// outdated anchor).
    AnchorNotServed {
        anchor_tags: Vec<u16>,
        served_tags: Vec<u16>,
    },
    /// An anchor key is served, but no signature by it verifies.
    SignatureInvalid { tags: Vec<u16> },
    /// A signature by an anchor key verifies, but this host's clock is
    /// outside its validity period (unix seconds).
    OutsideValidity {
        inception: u32,
        expiration: u32,
        now: u32,
    },
}

impl RootKeysProblem {
    /// What is wrong, in words (without the fix, which depends on the cause).
    pub fn describe(&self) -> String {
        let tags = |t: &[u16]| t.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        match self {
            RootKeysProblem::NoKeys => "the answer holds no root DNSKEY RRset".to_string(),
            RootKeysProblem::Unsigned => {
                "the root DNSKEY RRset came back without signatures".to_string()
            }
            RootKeysProblem::AnchorNotServed {
                anchor_tags,
                served_tags,
            } => format!(
                "none of the anchor's keys (key tag {}) is in the served root DNSKEY set (key tag {})",
                tags(anchor_tags),
                tags(served_tags)
            ),
            RootKeysProblem::SignatureInvalid { tags: t } => format!(
                "the anchor key (key tag {}) is served, but no signature by it over the root DNSKEY set verifies",
                tags(t)
            ),
            RootKeysProblem::OutsideValidity {
                inception,
                expiration,
                now,
            } => format!(
                "the root DNSKEY set is signed for {} to {}, but this host's clock says {}",
                crate::datetime::format_unix_rfc3339(i64::from(*inception)),
                crate::datetime::format_unix_rfc3339(i64::from(*expiration)),
                crate::datetime::format_unix_rfc3339(i64::from(*now)),
            ),
        }
    }
}

/// The root DNSKEY records of an answer.
pub fn served_keys(answers: &[Record]) -> Vec<&DNSKEY> {
    answers
        .iter()
        .filter(|r| r.name.is_root())
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::DNSKEY(k)) => Some(k),
            _ => None,
        })
        .collect()
}

/// The served key as an anchor file would write it.
pub fn as_anchor_key(k: &DNSKEY) -> AnchorKey {
    AnchorKey {
        flags: k.flags(),
        protocol: 3,
        algorithm: u8::from(k.public_key().algorithm()),
        public_key: k.public_key().public_bytes().to_vec(),
    }
}

/// Checks the root DNSKEY RRset in `answers` against `anchors` at `now`
/// (unix seconds).
pub fn check(answers: &[Record], anchors: &[AnchorKey], now: u32) -> Result<(), RootKeysProblem> {
    let key_records: Vec<&Record> = answers
        .iter()
        .filter(|r| r.name.is_root() && r.record_type() == RecordType::DNSKEY)
        .collect();
    let served = served_keys(answers);
    if served.is_empty() {
        return Err(RootKeysProblem::NoKeys);
    }
    let signatures: Vec<&RRSIG> = answers
        .iter()
        .filter(|r| r.name.is_root())
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig))
                if sig.input().type_covered == RecordType::DNSKEY
                    && sig.input().signer_name.is_root() =>
            {
                Some(sig)
            }
            _ => None,
        })
        .collect();
    if signatures.is_empty() {
        return Err(RootKeysProblem::Unsigned);
    }
    // RFC 5011 §2.1: a key with the REVOKE bit must not be used as an anchor.
    let trusted: Vec<&DNSKEY> = served
        .iter()
        .copied()
        .filter(|k| !k.revoke())
        .filter(|k| {
            let served = as_anchor_key(k);
            anchors
                .iter()
                .any(|a| a.algorithm == served.algorithm && a.public_key == served.public_key)
        })
        .collect();
    if trusted.is_empty() {
        return Err(RootKeysProblem::AnchorNotServed {
            anchor_tags: anchors.iter().map(AnchorKey::key_tag).collect(),
            served_tags: served.iter().map(|k| as_anchor_key(k).key_tag()).collect(),
        });
    }
    let mut outside = None;
    for key in &trusted {
        let tag = as_anchor_key(key).key_tag();
        for sig in signatures.iter().filter(|s| s.input().key_tag == tag) {
            let verified = key
                .verify_rrsig(
                    &Name::root(),
                    DNSClass::IN,
                    sig,
                    key_records.iter().copied(),
                )
                .is_ok();
            if !verified {
                continue;
            }
            let inception = sig.input().sig_inception.get();
            let expiration = sig.input().sig_expiration.get();
            if within(inception, expiration, now) {
                return Ok(());
            }
            outside.get_or_insert(RootKeysProblem::OutsideValidity {
                inception,
                expiration,
                now,
            });
        }
    }
    Err(
        outside.unwrap_or_else(|| RootKeysProblem::SignatureInvalid {
            tags: trusted.iter().map(|k| as_anchor_key(k).key_tag()).collect(),
        }),
    )
}

/// `inception <= now <= expiration` in serial number arithmetic (RFC 4034
/// §3.1.5 refers to RFC 1982: the 32-bit times wrap around).
fn within(inception: u32, expiration: u32, now: u32) -> bool {
    let after = |a: u32, b: u32| (a.wrapping_sub(b) as i32) >= 0;
    after(now, inception) && after(expiration, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::dnssec::crypto::EcdsaSigningKey;
    use hickory_proto::dnssec::rdata::SigInput;
    use hickory_proto::dnssec::{Algorithm, SigningKey, TBS};
    use hickory_proto::rr::SerialNumber;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

    const NOW: u32 = 1_750_000_000;
    const DAY: u32 = 86_400;

    struct Key {
        signing: EcdsaSigningKey,
        dnskey: DNSKEY,
    }

    fn key() -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("ring generates a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("the key just made loads");
        let signing = EcdsaSigningKey::from_ecdsa(pair, Algorithm::ECDSAP256SHA256);
        let public = signing.to_public_key().expect("a public key");
        Key {
            dnskey: DNSKEY::from_key(&public),
            signing,
        }
    }

    fn record(data: DNSSECRData) -> Record {
        Record::from_rdata(Name::root(), 3600, RData::DNSSEC(data))
    }

    /// The root DNSKEY RRset of `keys`, signed by `signer` for
    /// [inception, expiration].
    fn rrset(keys: &[&Key], signer: &Key, inception: u32, expiration: u32) -> Vec<Record> {
        let mut records: Vec<Record> = keys
            .iter()
            .map(|k| record(DNSSECRData::DNSKEY(k.dnskey.clone())))
            .collect();
        let input = SigInput {
            type_covered: RecordType::DNSKEY,
            algorithm: Algorithm::ECDSAP256SHA256,
            num_labels: 0,
            original_ttl: 3600,
            sig_expiration: SerialNumber::new(expiration),
            sig_inception: SerialNumber::new(inception),
            key_tag: as_anchor_key(&signer.dnskey).key_tag(),
            signer_name: Name::root(),
        };
        let tbs = TBS::from_input(&Name::root(), DNSClass::IN, &input, records.iter())
            .expect("the RRset encodes");
        let sig = signer.signing.sign(&tbs).expect("the key signs");
        records.push(record(DNSSECRData::RRSIG(RRSIG::from_sig(input, sig))));
        records
    }

    fn anchor(k: &Key) -> Vec<AnchorKey> {
        vec![as_anchor_key(&k.dnskey)]
    }

    #[test]
    fn rrset_signed_by_the_anchor_key_validates() {
        let root = key();
        let records = rrset(&[&root], &root, NOW - DAY, NOW + DAY);
        assert_eq!(check(&records, &anchor(&root), NOW), Ok(()));
    }

    #[test]
    fn anchor_for_another_root_names_both_key_tags() {
        let (root, other) = (key(), key());
        let records = rrset(&[&root], &root, NOW - DAY, NOW + DAY);
        let got = check(&records, &anchor(&other), NOW);
        assert_eq!(
            got,
            Err(RootKeysProblem::AnchorNotServed {
                anchor_tags: vec![as_anchor_key(&other.dnskey).key_tag()],
                served_tags: vec![as_anchor_key(&root.dnskey).key_tag()],
            })
        );
    }

    #[test]
    fn anchor_key_served_but_signed_by_another_key_does_not_validate() {
        // The anchor key is in the set, but the only signature is by a key
        // carrying the same key tag claim: a forged or corrupted RRSIG.
        let (root, forger) = (key(), key());
        let mut records = rrset(&[&root], &forger, NOW - DAY, NOW + DAY);
        for r in &mut records {
            if let RData::DNSSEC(DNSSECRData::RRSIG(sig)) = &r.data {
                let mut input = sig.input().clone();
                input.key_tag = as_anchor_key(&root.dnskey).key_tag();
                r.data = RData::DNSSEC(DNSSECRData::RRSIG(RRSIG::from_sig(
                    input,
                    sig.sig().to_vec(),
                )));
            }
        }
        assert_eq!(
            check(&records, &anchor(&root), NOW),
            Err(RootKeysProblem::SignatureInvalid {
                tags: vec![as_anchor_key(&root.dnskey).key_tag()]
            })
        );
    }

    #[test]
    fn a_clock_outside_the_signature_validity_is_named() {
        let root = key();
        let records = rrset(&[&root], &root, NOW - DAY, NOW + DAY);
        for now in [NOW - 2 * DAY, NOW + 2 * DAY] {
            assert_eq!(
                check(&records, &anchor(&root), now),
                Err(RootKeysProblem::OutsideValidity {
                    inception: NOW - DAY,
                    expiration: NOW + DAY,
                    now
                }),
                "now = {now}"
            );
        }
    }

    #[test]
    fn stripped_and_empty_answers_are_told_apart() {
        let root = key();
        let mut records = rrset(&[&root], &root, NOW - DAY, NOW + DAY);
        records.retain(|r| r.record_type() != RecordType::RRSIG);
        assert_eq!(
            check(&records, &anchor(&root), NOW),
            Err(RootKeysProblem::Unsigned)
        );
        assert_eq!(
            check(&[], &anchor(&root), NOW),
            Err(RootKeysProblem::NoKeys)
        );
    }

    #[test]
    fn a_revoked_anchor_key_is_not_trusted() {
        let root = key();
        let mut revoked = key();
        revoked.dnskey = DNSKEY::with_flags(
            revoked.dnskey.flags() | 0x0080,
            revoked.dnskey.public_key().clone(),
        );
        let records = rrset(&[&revoked], &revoked, NOW - DAY, NOW + DAY);
        let got = check(&records, &anchor(&revoked), NOW);
        assert!(
            matches!(got, Err(RootKeysProblem::AnchorNotServed { .. })),
            "{got:?}"
        );
        // A second, valid anchor key in the same set still validates.
        let records = rrset(&[&revoked, &root], &root, NOW - DAY, NOW + DAY);
        let mut anchors = anchor(&revoked);
        anchors.extend(anchor(&root));
        assert_eq!(check(&records, &anchors, NOW), Ok(()));
    }

    #[test]
    fn serial_arithmetic_handles_the_wrap_of_32_bit_time() {
        assert!(within(u32::MAX - 10, 10, 0));
        assert!(within(u32::MAX - 10, 10, u32::MAX));
        assert!(!within(u32::MAX - 10, 10, 11));
        assert!(!within(100, 200, 99));
        assert!(within(100, 200, 100) && within(100, 200, 200));
    }
}
