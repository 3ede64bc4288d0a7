//! The DANE verdict of a TLSA RRset on a presented chain (RFC 7672 §3).
//!
//! Rules, in the order they apply:
//!
//! 1. Only usable records count (RFC 7672 §3.1; [`TlsaRecord::usability`]).
//!    None usable: [`DaneVerdict::AllUnusable`]. TLS is still mandatory then,
//!    unauthenticated (RFC 7672 §2.2).
//! 2. Digest agility (RFC 7671 §9): among records of one usage and selector,
//!    only the strongest matching type present counts (2 > 1 > 0); the
//!    weaker ones are set aside, even when they would match.
//! 3. DANE-EE(3) (RFC 7672 §3.1.1): the leaf certificate (selector 0) or its
//!    SubjectPublicKeyInfo (selector 1) matches. No name, date or chain
//!    check.
//! 4. DANE-TA(2) (RFC 7672 §3.1.2): a certificate the server presented
//!    *above the leaf* matches — servers MUST send the trust anchor. The
//!    leaf must chain to it by signature (webpki, with the matched
//!    certificate as the only trust anchor), the leaf and the intermediates
//!    below the anchor must be inside their validity windows, and the leaf
//!    must name one of the reference identifiers (RFC 7672 §3.2.2): DNS-IDs
//!    only, unless it has none, when its CN counts (§3.2.3); a wildcard only
//!    as the whole left-most label.
//!
//! A DANE-TA record that matches only the leaf does not authenticate it:
//! a trust anchor is an issuer, and OpenSSL's DANE code (which Postfix and
//! Exim use) considers DANE-TA records only above depth 0. Such a chain gets
//! [`TaFailure::AnchorIsLeaf`], so the advice can say to publish the record
//! as DANE-EE instead.
//!
//! Result types (RFC 8460 §4.3, SPEC §5): no usable record and no match are
//! `tlsa-invalid` (`all-records-unusable`, `dane-no-match`). Under DANE-TA,
//! a trusted chain with a wrong name or an expired certificate is
//! `certificate-host-mismatch` or `certificate-expired`, as under MTA-STS; a
//! not-yet-valid one is `certificate-not-trusted` (reason `not-yet-valid`),
//! as in `pki::webpki`; a leaf that does not chain to the matched anchor, or
//! a DANE-TA record matching only the leaf, is `tlsa-invalid`: the records
//! do not authenticate this chain.
//!
//! Leaves out: RFC 7671 §5.2.2's allowance for a server to omit a trust
//! anchor published in full (`2 0 0`), since RFC 7672 §3.1.2 requires SMTP
//! servers to send it; the DANE-TA anchor's own dates, which trust anchors
//! do not carry for a verifier.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use ring::digest;
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

use super::tlsa::{
    MATCHING_FULL, MATCHING_SHA256, MATCHING_SHA512, SELECTOR_CERT, SELECTOR_SPKI, TlsaRecord,
    USAGE_DANE_EE, USAGE_DANE_TA, UnusableReason, Usability,
};
use crate::pki::facts::{CertError, CertFacts, CertView};
use crate::pki::webpki::{self, Defect};
use crate::tlsrpt::report::ResultType;

/// The names a DANE-TA leaf may carry (RFC 7672 §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceIds {
    /// The TLSA base domain: the MX host after secure CNAME expansion, or
    /// the MX host itself (RFC 7672 §2.2.3). Also the SNI name.
    pub tlsa_base: String,
    /// The MX host name as the MX record gives it (before CNAME expansion).
    pub mx_host: String,
    /// The next-hop (recipient) domain; only when the MX RRset is secure.
    pub next_hop: Option<String>,
}

impl ReferenceIds {
    /// The identifiers in RFC 7672 §3.2.2's order, without repeats.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::with_capacity(3);
        let all = [Some(self.tlsa_base.as_str()), Some(self.mx_host.as_str())];
        for name in all.into_iter().chain([self.next_hop.as_deref()]).flatten() {
            let seen = names.iter().any(|n| {
                n.trim_end_matches('.')
                    .eq_ignore_ascii_case(name.trim_end_matches('.'))
            });
            if !seen && !name.is_empty() {
                names.push(name);
            }
        }
        names
    }
}

/// A record and the presented certificate it was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordCert {
    /// Index into the records given to [`verify`].
    pub record_index: usize,
    /// Index into the presented chain (0 is the leaf).
    pub cert_index: usize,
}

/// One comparison of a record's data with a presented certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// Index into the records given to [`verify`].
    pub record_index: usize,
    /// Index into the presented chain (0 is the leaf).
    pub cert_index: usize,
    /// Whether the data matched.
    pub matched: bool,
}

/// A record SMTP may not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusableRecord {
    /// Index into the records given to [`verify`].
    pub record_index: usize,
    /// Why it is unusable.
    pub reason: UnusableReason,
}

/// Why a DANE-TA record that matched a presented certificate still does not
/// authenticate the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "failure", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TaFailure {
    /// The record matches the leaf itself, which cannot be its own anchor
    /// under DANE-TA (see the module notes); DANE-EE is the usage for that.
    AnchorIsLeaf,
    /// The leaf does not chain to the matched anchor (wrong issuer, bad
    /// signature, wrong key usage), or the anchor cannot be used as one.
    ChainInvalid {
        /// webpki's objection, in words.
        detail: String,
    },
    /// The leaf or an intermediate below the anchor is not valid yet.
    NotYetValid {
        /// Position in the presented chain.
        cert_index: usize,
        /// Its notBefore, RFC 3339.
        not_before: String,
    },
    /// The leaf or an intermediate below the anchor has expired.
    Expired {
        /// Position in the presented chain.
        cert_index: usize,
        /// Its notAfter, RFC 3339.
        not_after: String,
    },
    /// The leaf names none of the reference identifiers.
    HostMismatch {
        /// The leaf's DNS-IDs, or its CN when it has no DNS-ID.
        names_presented: Vec<String>,
        /// The names it was checked against.
        reference_ids: Vec<String>,
    },
}

impl TaFailure {
    /// RFC 8460 §4.3 result type (see the module notes for the choices).
    pub fn result_type(&self) -> ResultType {
        match self {
            TaFailure::AnchorIsLeaf | TaFailure::ChainInvalid { .. } => ResultType::TlsaInvalid,
            TaFailure::NotYetValid { .. } => ResultType::CertificateNotTrusted,
            TaFailure::Expired { .. } => ResultType::CertificateExpired,
            TaFailure::HostMismatch { .. } => ResultType::CertificateHostMismatch,
        }
    }

    /// Our failure-reason-code.
    pub fn reason_code(&self) -> &'static str {
        match self {
            TaFailure::AnchorIsLeaf => "dane-ta-matches-leaf",
            TaFailure::ChainInvalid { .. } => "dane-ta-chain-invalid",
            TaFailure::NotYetValid { .. } => "not-yet-valid",
            TaFailure::Expired { .. } => "certificate-expired",
            TaFailure::HostMismatch { .. } => "certificate-host-mismatch",
        }
    }

    /// SPEC §5 precedence, as for WebPKI defects: lower comes first. Also
    /// how far a candidate anchor got: a chain that is trusted but misnamed
    /// went further than one that does not chain at all.
    fn precedence(&self) -> u8 {
        match self {
            TaFailure::AnchorIsLeaf => 0,
            TaFailure::ChainInvalid { .. } => 1,
            TaFailure::NotYetValid { .. } => 2,
            TaFailure::Expired { .. } => 3,
            TaFailure::HostMismatch { .. } => 4,
        }
    }
}

/// What a TLSA RRset says about a presented chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
#[must_use]
pub enum DaneVerdict {
    /// At least one usable record authenticates the chain.
    Pass {
        /// Every record/certificate pair that authenticates it.
        matched: Vec<RecordCert>,
    },
    /// No record is usable for SMTP: TLS is mandatory but unauthenticated.
    AllUnusable {
        /// Each record and why it is unusable.
        unusable: Vec<UnusableRecord>,
    },
    /// No usable record matches the presented chain.
    NoMatch {
        /// Every comparison made.
        tried: Vec<Attempt>,
        /// Records set aside because a stronger matching type is published
        /// for the same usage and selector (RFC 7671 §9).
        superseded: Vec<usize>,
    },
    /// A DANE-TA record matched a presented certificate, but the chain fails
    /// under it. When several anchors matched, the one that got furthest.
    TaFailed {
        /// The DANE-TA record.
        record_index: usize,
        /// The certificate it matched.
        cert_index: usize,
        /// Every failure, in precedence order; never empty.
        failures: Vec<TaFailure>,
    },
}

impl DaneVerdict {
    /// True for [`DaneVerdict::Pass`].
    pub fn is_pass(&self) -> bool {
        matches!(self, DaneVerdict::Pass { .. })
    }

    /// The failure that decides a failed verdict's codes.
    pub fn ta_failure(&self) -> Option<&TaFailure> {
        match self {
            DaneVerdict::TaFailed { failures, .. } => failures.first(),
            _ => None,
        }
    }

    /// RFC 8460 §4.3 result type; `None` for a pass (a success is counted,
    /// not typed).
    pub fn result_type(&self) -> Option<ResultType> {
        match self {
            DaneVerdict::Pass { .. } => None,
            DaneVerdict::AllUnusable { .. } | DaneVerdict::NoMatch { .. } => {
                Some(ResultType::TlsaInvalid)
            }
            DaneVerdict::TaFailed { .. } => Some(
                self.ta_failure()
                    .map_or(ResultType::TlsaInvalid, TaFailure::result_type),
            ),
        }
    }

    /// Our failure-reason-code; `None` for a pass.
    pub fn reason_code(&self) -> Option<&'static str> {
        match self {
            DaneVerdict::Pass { .. } => None,
            DaneVerdict::AllUnusable { .. } => Some(ALL_RECORDS_UNUSABLE),
            DaneVerdict::NoMatch { .. } => Some("dane-no-match"),
            DaneVerdict::TaFailed { .. } => Some(
                self.ta_failure()
                    .map_or("dane-ta-chain-invalid", TaFailure::reason_code),
            ),
        }
    }
}

/// The failure-reason-code of a TLSA RRset with no record usable for SMTP
/// ([`DaneVerdict::AllUnusable`]); the outlook, the key-type sessions and
/// the advice tell it from a mismatch by this code.
pub const ALL_RECORDS_UNUSABLE: &str = "all-records-unusable";

/// Judges a secure, non-empty TLSA RRset against the presented `chain`.
///
/// Call it only when DANE applies (RFC 7672 §2.2). An empty `records` is
/// reported as [`DaneVerdict::AllUnusable`] with nothing listed.
pub fn verify(
    records: &[TlsaRecord],
    chain: &[CertificateDer<'_>],
    names: &ReferenceIds,
    now: UnixTime,
) -> DaneVerdict {
    let unusable: Vec<UnusableRecord> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.usability() {
            Usability::Usable => None,
            Usability::Unusable(reason) => Some(UnusableRecord {
                record_index: i,
                reason,
            }),
        })
        .collect();
    if unusable.len() == records.len() {
        return DaneVerdict::AllUnusable { unusable };
    }

    let (effective, superseded) = digest_agility(records);
    let views = webpki::parse_chain(chain);
    let certs = Material::of_chain(chain, &views);
    let mut matched = Vec::new();
    let mut tried = Vec::new();
    let mut candidates = Vec::new();
    let mut leaf_only_ta = None;
    for &ri in &effective {
        let record = &records[ri];
        match record.usage() {
            USAGE_DANE_EE => {
                if let Some(leaf) = certs.first() {
                    let hit = leaf.matches(record);
                    tried.push(Attempt {
                        record_index: ri,
                        cert_index: 0,
                        matched: hit,
                    });
                    if hit {
                        matched.push(RecordCert {
                            record_index: ri,
                            cert_index: 0,
                        });
                    }
                }
            }
            USAGE_DANE_TA => {
                for (ci, cert) in certs.iter().enumerate().skip(1) {
                    let hit = cert.matches(record);
                    tried.push(Attempt {
                        record_index: ri,
                        cert_index: ci,
                        matched: hit,
                    });
                    if hit {
                        candidates.push(RecordCert {
                            record_index: ri,
                            cert_index: ci,
                        });
                    }
                }
                if leaf_only_ta.is_none() && certs.first().is_some_and(|c| c.matches(record)) {
                    leaf_only_ta = Some(ri);
                }
            }
            _ => {}
        }
    }

    // Each matched anchor is checked once, however many records name it.
    let mut by_anchor: BTreeMap<usize, Vec<TaFailure>> = BTreeMap::new();
    let mut failed = Vec::new();
    for candidate in candidates {
        let failures = by_anchor
            .entry(candidate.cert_index)
            .or_insert_with(|| anchor_failures(chain, &views, candidate.cert_index, names, now));
        if failures.is_empty() {
            matched.push(candidate);
        } else {
            failed.push((candidate, failures.clone()));
        }
    }
    if !matched.is_empty() {
        return DaneVerdict::Pass { matched };
    }
    // The first of the candidates whose primary failure came furthest.
    let furthest = failed
        .into_iter()
        .min_by_key(|(_, f)| Reverse(f.first().map_or(0, TaFailure::precedence)));
    if let Some((at, failures)) = furthest {
        return DaneVerdict::TaFailed {
            record_index: at.record_index,
            cert_index: at.cert_index,
            failures,
        };
    }
    if let Some(ri) = leaf_only_ta {
        return DaneVerdict::TaFailed {
            record_index: ri,
            cert_index: 0,
            failures: vec![TaFailure::AnchorIsLeaf],
        };
    }
    DaneVerdict::NoMatch { tried, superseded }
}

/// RFC 7671 §8: the usable (usage, selector, matching type) combinations
/// published of which no record matches the current chain.
///
/// Publishing the next key beside the current one is fine, but a client
/// may use only one combination, so each needs a record for the chain in
/// service. A match here is a data match (DANE-EE on the leaf, DANE-TA on a
/// certificate above it); whether a DANE-TA chain then validates is
/// [`verify`]'s question.
pub fn combinations_without_match(
    records: &[TlsaRecord],
    chain: &[CertificateDer<'_>],
) -> Vec<(u8, u8, u8)> {
    let views = webpki::parse_chain(chain);
    let certs = Material::of_chain(chain, &views);
    let mut published = BTreeSet::new();
    let mut satisfied = BTreeSet::new();
    for record in records.iter().filter(|r| r.is_usable()) {
        published.insert(record.combination());
        let hit = match record.usage() {
            USAGE_DANE_EE => certs.first().is_some_and(|c| c.matches(record)),
            USAGE_DANE_TA => certs.iter().skip(1).any(|c| c.matches(record)),
            _ => false,
        };
        if hit {
            satisfied.insert(record.combination());
        }
    }
    published.difference(&satisfied).copied().collect()
}

/// RFC 7671 §9: per usage and selector, the usable records of the strongest
/// matching type present; returns (effective, superseded) record indices.
fn digest_agility(records: &[TlsaRecord]) -> (Vec<usize>, Vec<usize>) {
    let mut strongest: BTreeMap<(u8, u8), u8> = BTreeMap::new();
    for r in records.iter().filter(|r| r.is_usable()) {
        let slot = strongest.entry((r.usage(), r.selector())).or_insert(0);
        *slot = (*slot).max(strength(r.matching()));
    }
    let mut effective = Vec::new();
    let mut superseded = Vec::new();
    for (i, r) in records.iter().enumerate().filter(|(_, r)| r.is_usable()) {
        if strongest.get(&(r.usage(), r.selector())) == Some(&strength(r.matching())) {
            effective.push(i);
        } else {
            superseded.push(i);
        }
    }
    (effective, superseded)
}

/// RFC 7671 §9's order of matching types: SHA2-512 over SHA2-256 over Full.
fn strength(matching: u8) -> u8 {
    match matching {
        MATCHING_SHA512 => 3,
        MATCHING_SHA256 => 2,
        MATCHING_FULL => 1,
        _ => 0,
    }
}

/// Failures of the chain under the presented certificate `anchor` as the
/// only trust anchor; empty when the chain is authenticated.
fn anchor_failures(
    chain: &[CertificateDer<'_>],
    views: &[Result<CertView, CertError>],
    anchor: usize,
    names: &ReferenceIds,
    now: UnixTime,
) -> Vec<TaFailure> {
    let Some(anchor_der) = chain.get(anchor) else {
        return vec![TaFailure::ChainInvalid {
            detail: format!("certificate {anchor} is not in the chain"),
        }];
    };
    let mut store = RootCertStore::empty();
    if let Err(e) = store.add(anchor_der.clone().into_owned()) {
        return vec![TaFailure::ChainInvalid {
            detail: format!("certificate {anchor} cannot serve as a trust anchor: {e}"),
        }];
    }
    let verifier = match webpki::verifier_over(store) {
        Ok(v) => v,
        Err(detail) => return vec![TaFailure::ChainInvalid { detail }],
    };
    let mut failures: Vec<TaFailure> =
        webpki::chain_defects(&verifier, chain, views, Some(anchor), now)
            .into_iter()
            .map(|d| match d {
                Defect::Expired {
                    cert_index,
                    not_after,
                } => TaFailure::Expired {
                    cert_index,
                    not_after,
                },
                Defect::NotYetValid {
                    cert_index,
                    not_before,
                } => TaFailure::NotYetValid {
                    cert_index,
                    not_before,
                },
                Defect::NotTrusted { detail } => TaFailure::ChainInvalid { detail },
                Defect::Unparseable { reason, .. } => TaFailure::ChainInvalid {
                    detail: format!("the leaf certificate cannot be parsed: {reason}"),
                },
                // No certificate cannot happen (the anchor is one); name
                // defects are not chain_defects' business.
                other => TaFailure::ChainInvalid {
                    detail: other.reason_code().to_string(),
                },
            })
            .collect();
    if let Some(Ok(leaf)) = views.first() {
        failures.extend(name_failure(&leaf.facts, names));
    }
    failures.sort_by_key(TaFailure::precedence);
    failures
}

/// RFC 7672 §3.2.3: DNS-IDs if the leaf has any, else its CN, against every
/// reference identifier.
fn name_failure(leaf: &CertFacts, names: &ReferenceIds) -> Option<TaFailure> {
    let presented: Vec<String> = if leaf.dns_names.is_empty() {
        leaf.common_name.iter().cloned().collect()
    } else {
        leaf.dns_names.clone()
    };
    let reference = names.names();
    let ok = presented
        .iter()
        .any(|p| reference.iter().any(|r| webpki::name_matches(p, r)));
    (!ok).then(|| TaFailure::HostMismatch {
        names_presented: presented,
        reference_ids: reference.into_iter().map(str::to_string).collect(),
    })
}

/// What a record can be compared with, per presented certificate: the DER
/// and, when the certificate parses, its SPKI.
struct Material<'a> {
    der: &'a [u8],
    spki: Option<&'a [u8]>,
}

impl<'a> Material<'a> {
    fn of_chain(
        chain: &'a [CertificateDer<'_>],
        views: &'a [Result<CertView, CertError>],
    ) -> Vec<Self> {
        chain
            .iter()
            .zip(views)
            .map(|(der, view)| Material {
                der: der.as_ref(),
                spki: view.as_ref().ok().map(|v| v.spki_der.as_slice()),
            })
            .collect()
    }

    /// RFC 6698 §2.1.2–2.1.3: select, digest, compare.
    fn matches(&self, record: &TlsaRecord) -> bool {
        let selected = match record.selector() {
            SELECTOR_CERT => self.der,
            SELECTOR_SPKI => match self.spki {
                Some(spki) => spki,
                None => return false,
            },
            _ => return false,
        };
        match record.matching() {
            MATCHING_FULL => selected == record.data(),
            MATCHING_SHA256 => digest::digest(&digest::SHA256, selected).as_ref() == record.data(),
            MATCHING_SHA512 => digest::digest(&digest::SHA512, selected).as_ref() == record.data(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::facts::view;
    use crate::pki::test_pki::{LeafSpec, Pki, leaf_spec, now, self_signed};

    const MX: &str = "mx1.example.test";

    fn names() -> ReferenceIds {
        ReferenceIds {
            tlsa_base: MX.to_string(),
            mx_host: MX.to_string(),
            next_hop: Some("example.test".to_string()),
        }
    }

    fn sha256(b: &[u8]) -> Vec<u8> {
        digest::digest(&digest::SHA256, b).as_ref().to_vec()
    }

    fn sha512(b: &[u8]) -> Vec<u8> {
        digest::digest(&digest::SHA512, b).as_ref().to_vec()
    }

    fn spki(der: &[u8]) -> Vec<u8> {
        view(der).expect("test certificate parses").spki_der
    }

    /// A record of `usage` for `cert` with selector and matching type.
    fn rec(usage: u8, selector: u8, matching: u8, cert: &[u8]) -> TlsaRecord {
        let selected = if selector == SELECTOR_SPKI {
            spki(cert)
        } else {
            cert.to_vec()
        };
        let data = match matching {
            MATCHING_SHA256 => sha256(&selected),
            MATCHING_SHA512 => sha512(&selected),
            _ => selected,
        };
        TlsaRecord::new(usage, selector, matching, data)
    }

    fn expired(sans: &[&'static str]) -> LeafSpec<'static> {
        let mut spec = leaf_spec(sans);
        spec.not_before = (2020, 1, 1);
        spec.not_after = (2021, 1, 1);
        spec
    }

    /// Pass, or the reason code of the failure.
    fn outcome(v: &DaneVerdict) -> &'static str {
        v.reason_code().unwrap_or("pass")
    }

    struct Row {
        rule: &'static str,
        records: Vec<TlsaRecord>,
        chain: Vec<CertificateDer<'static>>,
        names: ReferenceIds,
        want: &'static str,
        result_type: Option<&'static str>,
    }

    #[test]
    fn dane_rules_one_row_each() {
        let pki = Pki::new();
        let good = pki.chain(&leaf_spec(&[MX]));
        let (leaf, inter) = (good[0].clone(), good[1].clone());
        let other_key = pki.leaf(&leaf_spec(&[MX]));
        let stale = pki.chain(&expired(&["elsewhere.example.test"]));
        let misnamed = pki.chain(&leaf_spec(&["mx9.example.test"]));
        let expired_ok_name = pki.chain(&expired(&[MX]));
        let with_root = vec![leaf.clone(), inter.clone(), pki.root.clone()];
        let mut cn_only_spec = leaf_spec(&[]);
        cn_only_spec.cn = Some(MX);
        let cn_only = pki.chain(&cn_only_spec);
        let mut dns_id_wins_spec = leaf_spec(&["mx9.example.test"]);
        dns_id_wins_spec.cn = Some(MX);
        let dns_id_wins = pki.chain(&dns_id_wins_spec);
        let wildcard = pki.chain(&leaf_spec(&["*.example.test"]));
        let next_hop_named = pki.chain(&leaf_spec(&["example.test"]));
        let pre_cname_named = pki.chain(&leaf_spec(&[MX]));
        let self_signed_leaf = self_signed(&leaf_spec(&[MX]));
        let garbage = CertificateDer::from(b"\x30\x03abc".to_vec());
        let cname_names = ReferenceIds {
            tlsa_base: "mail.provider.test".to_string(),
            mx_host: MX.to_string(),
            next_hop: None,
        };

        let row = |rule, records, chain: &Vec<CertificateDer<'static>>, want, result_type| Row {
            rule,
            records,
            chain: chain.clone(),
            names: names(),
            want,
            result_type,
        };
        let mut rows = vec![
            row(
                "3 1 1 matching the leaf spki passes",
                vec![rec(3, 1, 1, &leaf)],
                &good,
                "pass",
                None,
            ),
            row(
                "3 1 1 of another key does not match",
                vec![rec(3, 1, 1, &other_key)],
                &good,
                "dane-no-match",
                Some("tlsa-invalid"),
            ),
            row(
                "3 0 1 matches the whole leaf certificate",
                vec![rec(3, 0, 1, &leaf)],
                &good,
                "pass",
                None,
            ),
            row(
                "3 1 2 sha-512 of the spki passes",
                vec![rec(3, 1, 2, &leaf)],
                &good,
                "pass",
                None,
            ),
            row(
                "3 1 0 full spki passes",
                vec![rec(3, 1, 0, &leaf)],
                &good,
                "pass",
                None,
            ),
            row(
                "3 1 1 ignores dates and names: expired leaf for another host passes",
                vec![rec(3, 1, 1, &stale[0])],
                &stale,
                "pass",
                None,
            ),
            row(
                "3 1 1 never matches an intermediate",
                vec![rec(3, 1, 1, &inter)],
                &good,
                "dane-no-match",
                Some("tlsa-invalid"),
            ),
            row(
                "2 0 1 on the intermediate, right name, passes",
                vec![rec(2, 0, 1, &inter)],
                &good,
                "pass",
                None,
            ),
            row(
                "2 1 1 on the intermediate spki passes",
                vec![rec(2, 1, 1, &inter)],
                &good,
                "pass",
                None,
            ),
            row(
                "2 0 1 on the root sent in the chain passes",
                vec![rec(2, 0, 1, &pki.root)],
                &with_root,
                "pass",
                None,
            ),
            row(
                "2 0 1 with a leaf for another name fails on the name",
                vec![rec(2, 0, 1, &inter)],
                &misnamed,
                "certificate-host-mismatch",
                Some("certificate-host-mismatch"),
            ),
            row(
                "2 0 1 with an expired leaf fails on the date",
                vec![rec(2, 0, 1, &inter)],
                &expired_ok_name,
                "certificate-expired",
                Some("certificate-expired"),
            ),
            row(
                "2 0 1 whose anchor is not presented does not match",
                vec![rec(2, 0, 1, &inter)],
                &vec![leaf.clone()],
                "dane-no-match",
                Some("tlsa-invalid"),
            ),
            row(
                "2 0 1 on a presented certificate the leaf does not chain to fails",
                vec![rec(2, 0, 1, &pki.root)],
                &vec![leaf.clone(), pki.root.clone()],
                "dane-ta-chain-invalid",
                Some("tlsa-invalid"),
            ),
            row(
                "2 0 1 matching only a self-signed leaf is not an anchor",
                vec![rec(2, 0, 1, &self_signed_leaf)],
                &vec![self_signed_leaf.clone()],
                "dane-ta-matches-leaf",
                Some("tlsa-invalid"),
            ),
            row(
                "2 0 1 accepts the cn when the leaf has no dns-id",
                vec![rec(2, 0, 1, &inter)],
                &cn_only,
                "pass",
                None,
            ),
            row(
                "2 0 1 ignores the cn when a dns-id is present",
                vec![rec(2, 0, 1, &inter)],
                &dns_id_wins,
                "certificate-host-mismatch",
                Some("certificate-host-mismatch"),
            ),
            row(
                "2 0 1 accepts a left-most wildcard",
                vec![rec(2, 0, 1, &inter)],
                &wildcard,
                "pass",
                None,
            ),
            row(
                "2 0 1 accepts the next-hop domain as a name",
                vec![rec(2, 0, 1, &inter)],
                &next_hop_named,
                "pass",
                None,
            ),
            row(
                "pkix-only records are all unusable",
                vec![rec(0, 0, 1, &inter), rec(1, 1, 1, &leaf)],
                &good,
                "all-records-unusable",
                Some("tlsa-invalid"),
            ),
            row(
                "a digest of the wrong length is unusable",
                vec![TlsaRecord::new(
                    3,
                    1,
                    1,
                    sha256(&spki(&leaf))[..31].to_vec(),
                )],
                &good,
                "all-records-unusable",
                Some("tlsa-invalid"),
            ),
            row(
                "an unusable record beside a matching one does not matter",
                vec![rec(1, 1, 1, &other_key), rec(3, 1, 1, &leaf)],
                &good,
                "pass",
                None,
            ),
            row(
                "digest agility: a matching 3 1 1 is ignored beside a stronger 3 1 2",
                vec![rec(3, 1, 1, &leaf), rec(3, 1, 2, &other_key)],
                &good,
                "dane-no-match",
                Some("tlsa-invalid"),
            ),
            row(
                "digest agility: the stronger 3 1 2 matching passes",
                vec![rec(3, 1, 1, &other_key), rec(3, 1, 2, &leaf)],
                &good,
                "pass",
                None,
            ),
            row(
                "digest agility is per selector: 3 0 1 counts beside 3 1 2",
                vec![rec(3, 0, 1, &leaf), rec(3, 1, 2, &other_key)],
                &good,
                "pass",
                None,
            ),
            row(
                "digest agility ignores an unusable stronger record",
                vec![rec(3, 1, 1, &leaf), TlsaRecord::new(3, 1, 2, vec![0; 32])],
                &good,
                "pass",
                None,
            ),
            row(
                "rollover: current and next key published passes",
                vec![rec(3, 1, 1, &other_key), rec(3, 1, 1, &leaf)],
                &good,
                "pass",
                None,
            ),
            row(
                "a garbage leaf matches nothing and does not panic",
                vec![rec(3, 1, 1, &leaf), rec(2, 0, 1, &inter)],
                &vec![garbage.clone(), inter.clone()],
                "dane-ta-chain-invalid",
                Some("tlsa-invalid"),
            ),
            row(
                "an empty chain matches nothing",
                vec![rec(3, 1, 1, &leaf)],
                &vec![],
                "dane-no-match",
                Some("tlsa-invalid"),
            ),
        ];
        rows.push(Row {
            rule: "2 0 1 accepts the mx host name before cname expansion",
            records: vec![rec(2, 0, 1, &pki.intermediate)],
            chain: pre_cname_named,
            names: cname_names.clone(),
            want: "pass",
            result_type: None,
        });
        rows.push(Row {
            rule: "2 0 1 without a secure mx has only the tlsa base and mx host",
            records: vec![rec(2, 0, 1, &pki.intermediate)],
            chain: next_hop_named.clone(),
            names: cname_names,
            want: "certificate-host-mismatch",
            result_type: Some("certificate-host-mismatch"),
        });

        for r in rows {
            let v = verify(&r.records, &r.chain, &r.names, now());
            let shown: Vec<String> = r.records.iter().map(TlsaRecord::to_presentation).collect();
            assert_eq!(
                outcome(&v),
                r.want,
                "{}: records {shown:.60?}\nverdict {v:?}",
                r.rule
            );
            assert_eq!(
                v.result_type().map(ResultType::as_str),
                r.result_type,
                "{}: {v:?}",
                r.rule
            );
        }
    }

    #[test]
    fn garbage_leaf_under_dane_ta_says_why() {
        // The row above checks the code; here the detail says the leaf
        // itself is the problem.
        let pki = Pki::new();
        let chain = vec![
            CertificateDer::from(b"\x30\x03abc".to_vec()),
            pki.intermediate.clone(),
        ];
        let v = verify(&[rec(2, 0, 1, &pki.intermediate)], &chain, &names(), now());
        let DaneVerdict::TaFailed {
            failures,
            cert_index: 1,
            ..
        } = &v
        else {
            panic!("expected a dane-ta failure on the intermediate, got {v:?}");
        };
        assert!(
            matches!(failures.first(), Some(TaFailure::ChainInvalid { detail }) if detail.contains("cannot be parsed")),
            "{failures:?}"
        );
    }

    #[test]
    fn pass_lists_every_authenticating_pair_and_no_match_lists_attempts() {
        let pki = Pki::new();
        let chain = pki.chain(&leaf_spec(&[MX]));
        let other = pki.leaf(&leaf_spec(&[MX]));
        let records = vec![
            rec(3, 1, 1, &chain[0]),
            rec(2, 0, 1, &chain[1]),
            rec(3, 1, 1, &other),
        ];
        assert_eq!(
            verify(&records, &chain, &names(), now()),
            DaneVerdict::Pass {
                matched: vec![
                    RecordCert {
                        record_index: 0,
                        cert_index: 0
                    },
                    RecordCert {
                        record_index: 1,
                        cert_index: 1
                    },
                ],
            },
            "both the dane-ee and the dane-ta record authenticate"
        );

        let records = vec![
            rec(3, 1, 1, &chain[0]),
            rec(3, 1, 2, &other),
            rec(2, 0, 1, &other),
        ];
        assert_eq!(
            verify(&records, &chain, &names(), now()),
            DaneVerdict::NoMatch {
                tried: vec![
                    Attempt {
                        record_index: 1,
                        cert_index: 0,
                        matched: false
                    },
                    Attempt {
                        record_index: 2,
                        cert_index: 1,
                        matched: false
                    },
                ],
                superseded: vec![0],
            },
            "the superseded 3 1 1 is not tried; the 2 0 1 is tried above the leaf only"
        );
    }

    type Combination = (u8, u8, u8);

    #[test]
    fn every_published_combination_needs_a_current_match() {
        let pki = Pki::new();
        let chain = pki.chain(&leaf_spec(&[MX]));
        let next = pki.leaf(&leaf_spec(&[MX]));
        let cases: Vec<(&str, Vec<TlsaRecord>, Vec<Combination>)> = vec![
            (
                "current and next key under one combination",
                vec![rec(3, 1, 1, &chain[0]), rec(3, 1, 1, &next)],
                vec![],
            ),
            (
                "next key alone under a second combination",
                vec![rec(3, 1, 1, &chain[0]), rec(3, 1, 2, &next)],
                vec![(3, 1, 2)],
            ),
            (
                "dane-ta on the intermediate beside a stale dane-ee",
                vec![rec(2, 0, 1, &chain[1]), rec(3, 1, 1, &next)],
                vec![(3, 1, 1)],
            ),
            (
                "dane-ta matching only the leaf does not count",
                vec![rec(2, 0, 1, &chain[0])],
                vec![(2, 0, 1)],
            ),
            (
                "unusable records are not combinations to satisfy",
                vec![rec(3, 1, 1, &chain[0]), rec(1, 1, 1, &next)],
                vec![],
            ),
        ];
        for (rule, records, want) in cases {
            assert_eq!(combinations_without_match(&records, &chain), want, "{rule}");
        }
    }

    #[test]
    fn reference_ids_are_listed_once_in_rfc_order() {
        let ids = ReferenceIds {
            tlsa_base: "mx1.example.test".to_string(),
            mx_host: "MX1.example.test.".to_string(),
            next_hop: Some("example.test".to_string()),
        };
        assert_eq!(ids.names(), ["mx1.example.test", "example.test"]);
    }
}
