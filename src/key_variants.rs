//! A server's certificates per key type, judged under DANE (pure).
//!
//! One handshake shows one chain, but a server may hold an RSA and an
//! ECDSA certificate and show each to the clients that offer its signature
//! schemes (see `smtp::key_type`). Where DANE applies, the probe makes one
//! more session offering only RSA and one offering only ECDSA; each chain
//! that differs from the session's is judged under the same TLSA records
//! and reference identifiers (RFC 7672 §3).
//!
//! RFC 7671 §8 asks for TLSA records "for each of the server's
//! certificates", under every published (usage, selector, matching type)
//! combination. Two findings follow:
//!
//! - `mx-dane-key-type-fails` (error): a chain served to senders limited
//!   to one key type fails DANE, so DANE senders limited to that key type
//!   (older OpenSSL builds, some appliances offer RSA only) will not
//!   deliver, though the session itself passes.
//! - `tlsa-combination-unmatched` (warning): a chain passes DANE, but a
//!   published combination has no record for it; a sender that supports
//!   only that combination fails.
//!
//! A variant whose handshake ends in a `handshake_failure` alert means the
//! server has no certificate of that key type: nothing to judge, no
//! finding. Other failures are kept as evidence, without a finding: the
//! session itself already says whether the server speaks TLS.

use rustls::pki_types::{CertificateDer, UnixTime};
use serde::Serialize;

use crate::dane::coverage::{self, Unmatched};
use crate::dane::tlsa::TlsaRecord;
use crate::dane::verdict::{self as dane, DaneVerdict, ReferenceIds};
use crate::finding::{Code, Finding, Severity};
use crate::pki::facts;
use crate::smtp::key_type::KeyType;
use crate::smtp::session::Outcome;

/// How the session limited to one key type ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VariantStatus {
    /// TLS came up: the server has a certificate of this key type.
    Served,
    /// The server refused the handshake with `handshake_failure`: it has
    /// no certificate of this key type.
    NoSuchKey,
    /// Anything else (a refusal, a timeout): nothing can be said.
    Failed,
}

/// The DANE verdict on a variant's chain, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DaneResult {
    Pass,
    Fail,
}

/// One key type's session (`key_variants[]` of a session in the JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyVariant {
    /// The key type offered: `rsa` or `ecdsa`.
    pub key: KeyType,
    pub status: VariantStatus,
    /// What the server did, for `no-such-key` and `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The leaf served: its key (`RSA 2048`), SHA-256 of it and of its SPKI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spki_sha256: Option<String>,
    /// Whether it is the leaf the session (all schemes offered) got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_leaf: Option<bool>,
    /// The DANE verdict on this chain, with the reason code of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dane: Option<DaneResult>,
    /// The chain served, leaf first, for the look-ahead (a second
    /// certificate expires on its own date); the JSON has its dates there.
    #[serde(skip)]
    pub chain_facts: Vec<facts::CertFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a chain that fails: the DANE-EE record that would authenticate
    /// it (`_25._tcp.<host>. IN TLSA 3 1 1 <SHA-256 of its SPKI>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_to_add: Option<String>,
    /// RFC 7671 §8 for this chain, when it differs from the session's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmatched_combinations: Vec<Unmatched>,
}

/// What the variants are judged against: the host's DANE context.
pub struct DaneTarget<'a> {
    pub records: &'a [TlsaRecord],
    pub names: &'a ReferenceIds,
    /// Where the TLSA records live (`_25._tcp.<host>`), for records to add.
    pub owner: &'a str,
}

/// What one session limited to a key type saw.
pub struct Seen<'a> {
    pub key: KeyType,
    /// How it ended; `Err(bound)` when it was cut off at `bound`.
    pub outcome: Result<&'a Outcome, std::time::Duration>,
    /// The chain presented, leaf first.
    pub chain: &'a [CertificateDer<'static>],
}

/// Judges each key type's session against the session's own chain.
pub fn judge(
    target: &DaneTarget<'_>,
    session_chain: &[CertificateDer<'_>],
    variants: &[Seen<'_>],
    now: UnixTime,
) -> Vec<KeyVariant> {
    variants
        .iter()
        .map(|seen| judge_one(target, session_chain, seen, now))
        .collect()
}

fn judge_one(
    target: &DaneTarget<'_>,
    session_chain: &[CertificateDer<'_>],
    seen: &Seen<'_>,
    now: UnixTime,
) -> KeyVariant {
    let key = seen.key;
    let mut out = KeyVariant {
        key,
        status: VariantStatus::Failed,
        detail: None,
        leaf_key: None,
        leaf_sha256: None,
        spki_sha256: None,
        same_leaf: None,
        dane: None,
        chain_facts: Vec::new(),
        reason: None,
        record_to_add: None,
        unmatched_combinations: Vec::new(),
    };
    match seen.outcome {
        Ok(Outcome::TlsEstablished) => {}
        Ok(Outcome::HandshakeFailed {
            alert: Some(alert), ..
        }) if alert == "handshake_failure" => {
            out.status = VariantStatus::NoSuchKey;
            out.detail = Some(format!(
                "the server refused a ClientHello offering only {key} signature schemes with the TLS alert handshake_failure: it has no {key} certificate"
            ));
            return out;
        }
        Ok(other) => {
            out.detail = Some(describe(other));
            return out;
        }
        Err(bound) => {
            out.detail = Some(format!(
                "not finished within {} ms, twice what the session took plus one step",
                bound.as_millis()
            ));
            return out;
        }
    }
    out.status = VariantStatus::Served;
    let chain = seen.chain;
    out.chain_facts = chain
        .iter()
        .filter_map(|c| facts::facts(c.as_ref()).ok())
        .collect();
    if let Some(leaf) = chain.first().and_then(|c| facts::facts(c.as_ref()).ok()) {
        out.leaf_key = Some(leaf.key);
        out.leaf_sha256 = Some(leaf.sha256);
        out.spki_sha256 = Some(leaf.spki_sha256);
    }
    let same = chain.first().map(CertificateDer::as_ref)
        == session_chain.first().map(CertificateDer::as_ref);
    out.same_leaf = Some(same);
    let verdict = dane::verify(target.records, chain, target.names, now);
    out.dane = Some(if verdict.is_pass() {
        DaneResult::Pass
    } else {
        DaneResult::Fail
    });
    out.reason = verdict.reason_code().map(str::to_string);
    if !same {
        out.unmatched_combinations = coverage::unmatched(target.records, chain, target.owner);
        if !verdict.is_pass() && !matches!(verdict, DaneVerdict::AllUnusable { .. }) {
            out.record_to_add = coverage::record_for((3, 1, 1), chain).map(|r| {
                format!(
                    "{}. IN TLSA {}",
                    target.owner.trim_end_matches('.'),
                    r.to_presentation()
                )
            });
        }
    }
    out
}

/// The outcome of a variant that did not reach TLS, in words.
fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::ConnectFailed { detail }
        | Outcome::HandshakeFailed { detail, .. }
        | Outcome::ProtocolError { detail, .. } => detail.clone(),
        Outcome::Inconclusive { code, text, .. } => format!("refused: {code} {text}"),
        Outcome::StarttlsNotOffered => "STARTTLS was not offered".to_string(),
        Outcome::StarttlsRefused { code, text } => {
            format!("STARTTLS was refused: {code} {text}")
        }
        Outcome::PlaintextAfterStarttls { text, .. } => {
            format!("plain text instead of TLS: {text}")
        }
        Outcome::TlsEstablished => "TLS established".to_string(),
    }
}

/// A variant whose chain differs from the session's and fails DANE: the
/// key type whose DANE senders will not deliver. A verdict of no usable
/// record is about the records, not the key, and is left to the session's
/// own finding.
pub fn failing(v: &KeyVariant) -> bool {
    v.status == VariantStatus::Served
        && v.same_leaf == Some(false)
        && v.dane == Some(DaneResult::Fail)
        && v.reason.as_deref() != Some(crate::dane::verdict::ALL_RECORDS_UNUSABLE)
}

/// The key types whose DANE senders will not deliver to a session's
/// address, though the session itself may pass.
pub fn failing_key_types(variants: &[KeyVariant]) -> Vec<KeyType> {
    variants
        .iter()
        .filter(|v| failing(v))
        .map(|v| v.key)
        .collect()
}

/// What the rule reads of one judged session
/// (`crate::session::SessionOut::key_chains`).
pub struct Chains<'a> {
    pub mx: &'a str,
    pub ip: std::net::IpAddr,
    /// Whether the session (every scheme offered) passes DANE.
    pub session_passes: bool,
    /// The key type of the session's leaf.
    pub session_key: Option<KeyType>,
    /// RFC 7671 §8 on the session's chain.
    pub unmatched: &'a [Unmatched],
    pub variants: &'a [KeyVariant],
}

/// The findings of one session's key variants and RFC 7671 §8 checks.
pub fn findings_of(c: &Chains<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let chain_name = |key: Option<KeyType>| match key {
        Some(k) => format!("the {k} certificate"),
        None => "the certificate".to_string(),
    };
    // RFC 7671 §8 on the session's own chain, when DANE passes (a failing
    // chain has its own finding).
    if c.session_passes {
        let shown = chain_name(c.session_key);
        for u in c.unmatched {
            out.push(unmatched_finding(c, &shown, u));
        }
    }
    for v in c.variants {
        if v.status == VariantStatus::Failed {
            out.push(untested(c, v));
            continue;
        }
        if v.status != VariantStatus::Served || v.same_leaf != Some(false) {
            continue;
        }
        if failing(v) {
            out.push(key_type_fails(c, v));
        } else if v.dane == Some(DaneResult::Pass) {
            let shown = chain_name(Some(v.key));
            for u in &v.unmatched_combinations {
                out.push(unmatched_finding(c, &shown, u));
            }
        }
    }
    out
}

fn unmatched_finding(c: &Chains<'_>, chain: &str, u: &Unmatched) -> Finding {
    let advice = match &u.record {
        Some(record) => format!(
            "Publish `{record}` beside the existing records (RFC 7671 §8: every combination published needs a record for each certificate served), or remove the other {} records.",
            u.combination
        ),
        None => format!(
            "Publish a {} record for {chain} beside the existing records, or remove the other {} records.",
            u.combination, u.combination
        ),
    };
    Finding::new(
        Severity::Warning,
        Code::TlsaCombinationUnmatched,
        format!("{} {}", c.mx, c.ip),
        format!(
            "no {} TLSA record of {} matches {chain} served by {}, though {} records are published: a DANE sender that uses only {} records will not deliver to it (RFC 7671 §8)",
            u.combination, c.mx, c.ip, u.combination, u.combination
        ),
        advice,
    )
}

/// A key-type session that did not reach TLS (turned away, timed out):
/// said, so that a check not made is not taken for one passed.
fn untested(c: &Chains<'_>, v: &KeyVariant) -> Finding {
    let key = v.key;
    let what = v.detail.as_deref().unwrap_or("no TLS");
    Finding::new(
        Severity::Info,
        Code::MxDaneKeyTypeUntested,
        format!("{} {}", c.mx, c.ip),
        format!(
            "the session to {} ({}) offering only {key} signature schemes did not reach TLS ({what}): whether DANE senders limited to {key} deliver is not known",
            c.ip, c.mx
        ),
        "Scan again later; if the server limits connections per client (Postfix anvil, postscreen), let the scanner's address through.",
    )
}

fn key_type_fails(c: &Chains<'_>, v: &KeyVariant) -> Finding {
    let key = v.key;
    let reason = v.reason.as_deref().unwrap_or("dane-failure");
    let others = match (c.session_passes, c.session_key) {
        (true, Some(k)) if k != key => {
            format!(" Senders that offer {k} get the {k} certificate, which passes.")
        }
        (true, _) => " The session offering every scheme passes.".to_string(),
        (false, _) => String::new(),
    };
    let advice = match (&v.record_to_add, reason) {
        (Some(record), "dane-no-match") => format!(
            "Publish `{record}` beside the existing records, so that both certificates are covered (RFC 7671 §8), or stop serving the {key} certificate."
        ),
        (Some(record), _) => format!(
            "Fix the {key} certificate ({reason}), or publish `{record}` to authenticate its key under DANE-EE."
        ),
        (None, _) => {
            format!("Make the TLSA records match the {key} certificate too, or stop serving it.")
        }
    };
    Finding::new(
        Severity::Error,
        Code::MxDaneKeyTypeFails,
        format!("{} {}", c.mx, c.ip),
        format!(
            "DANE senders that offer only {key} signatures (older OpenSSL builds, some appliances) get the {key} certificate of {} ({}), which the TLSA records do not authenticate ({reason}): they will not deliver.{others}",
            c.ip, c.mx
        ),
        advice,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::test_pki::{Pki, leaf_spec, now};
    use std::net::{IpAddr, Ipv4Addr};

    const MX: &str = "mx1.example.test";
    const OWNER: &str = "_25._tcp.mx1.example.test";
    const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const UP: Outcome = Outcome::TlsEstablished;

    fn names() -> ReferenceIds {
        ReferenceIds {
            tlsa_base: MX.into(),
            mx_host: MX.into(),
            next_hop: Some("example.test".into()),
        }
    }

    fn refused(alert: &str) -> Outcome {
        Outcome::HandshakeFailed {
            alert: Some(alert.to_string()),
            detail: format!("the server sent the TLS alert {alert}"),
            protocol_version: false,
        }
    }

    fn ee(chain: &[CertificateDer<'static>], matching: u8) -> TlsaRecord {
        coverage::record_for((3, 1, matching), chain).expect("a leaf makes a record")
    }

    fn seen<'a>(
        key: KeyType,
        outcome: &'a Outcome,
        chain: &'a [CertificateDer<'static>],
    ) -> Seen<'a> {
        Seen {
            key,
            outcome: Ok(outcome),
            chain,
        }
    }

    /// The findings for a session that got `chain`, as probe.rs judges it.
    fn findings_for(
        records: &[TlsaRecord],
        chain: &[CertificateDer<'static>],
        variants: &[Seen<'_>],
    ) -> Vec<Finding> {
        let names = names();
        let target = DaneTarget {
            records,
            names: &names,
            owner: OWNER,
        };
        let unmatched = coverage::unmatched(records, chain, OWNER);
        let variants = judge(&target, chain, variants, now());
        findings_of(&Chains {
            mx: MX,
            ip: IP,
            session_passes: dane::verify(records, chain, &names, now()).is_pass(),
            session_key: Some(KeyType::Ecdsa),
            unmatched: &unmatched,
            variants: &variants,
        })
    }

    fn codes(found: &[Finding]) -> Vec<(&'static str, Severity)> {
        found
            .iter()
            .map(|f| (f.code.as_str(), f.severity))
            .collect()
    }

    #[test]
    fn the_rule_one_row_each() {
        let pki = Pki::new();
        // Two keys for the same names: "main" is what a client offering
        // everything gets, "other" what one limited to the other key type
        // gets.
        let main = pki.chain(&leaf_spec(&[MX]));
        let other = pki.chain(&leaf_spec(&[MX]));
        let stranger = pki.chain(&leaf_spec(&[MX]));
        let (no_key, busy) = (refused("handshake_failure"), refused("internal_error"));
        let both = || {
            vec![
                seen(KeyType::Rsa, &UP, &other),
                seen(KeyType::Ecdsa, &UP, &main),
            ]
        };
        let fails = ("mx-dane-key-type-fails", Severity::Error);
        let unmatched = ("tlsa-combination-unmatched", Severity::Warning);
        let untested = ("mx-dane-key-type-untested", Severity::Info);
        type Row<'a> = (
            &'a str,
            Vec<TlsaRecord>,
            Vec<Seen<'a>>,
            Vec<(&'static str, Severity)>,
        );
        let rows: Vec<Row<'_>> = vec![
            (
                "records for both keys: nothing to say",
                vec![ee(&main, 1), ee(&other, 1)],
                both(),
                vec![],
            ),
            (
                "records for the main key only: the other key type's senders fail",
                vec![ee(&main, 1)],
                both(),
                vec![fails],
            ),
            (
                "one key only, the other variant refused with handshake_failure",
                vec![ee(&main, 1)],
                vec![
                    seen(KeyType::Rsa, &no_key, &[]),
                    seen(KeyType::Ecdsa, &UP, &main),
                ],
                vec![],
            ),
            (
                "a variant cut off at its bound: an info that it was not told",
                vec![ee(&main, 1)],
                vec![
                    Seen {
                        key: KeyType::Rsa,
                        outcome: Err(std::time::Duration::from_secs(3)),
                        chain: &[],
                    },
                    seen(KeyType::Ecdsa, &UP, &main),
                ],
                vec![untested],
            ),
            (
                "a variant that failed otherwise: the same info",
                vec![ee(&main, 1)],
                vec![
                    seen(KeyType::Rsa, &busy, &[]),
                    seen(KeyType::Ecdsa, &UP, &main),
                ],
                vec![untested],
            ),
            (
                "digest agility: the other key under 3 1 1 only beside the main key's 3 1 2 fails",
                vec![ee(&main, 1), ee(&main, 2), ee(&other, 1)],
                both(),
                vec![fails],
            ),
            (
                "both keys under 3 1 1, the main key also under 3 0 1: the other misses 3 0 1",
                vec![
                    ee(&main, 1),
                    ee(&other, 1),
                    coverage::record_for((3, 0, 1), &main).expect("leaf"),
                ],
                both(),
                vec![unmatched],
            ),
            (
                "the session's chain misses 3 0 1 but passes under 3 1 1",
                vec![
                    ee(&main, 1),
                    coverage::record_for((3, 0, 1), &stranger).expect("leaf"),
                ],
                vec![],
                vec![unmatched],
            ),
            (
                "the session's chain fails: its own finding says so, no warning",
                vec![ee(&main, 1), ee(&stranger, 2)],
                vec![],
                vec![],
            ),
            (
                "no record usable: the session's finding says it, not the variants",
                vec![TlsaRecord::new(1, 1, 1, vec![0; 32])],
                both(),
                vec![],
            ),
            (
                "the session fails and the other key fails too: the other is said",
                vec![ee(&stranger, 1)],
                both(),
                vec![fails],
            ),
        ];
        for (rule, records, variants, want) in rows {
            let found = findings_for(&records, &main, &variants);
            assert_eq!(codes(&found), want, "{rule}: {found:#?}");
        }
    }

    #[test]
    fn the_failure_names_the_key_type_and_the_record_to_add() {
        let pki = Pki::new();
        let ecdsa = pki.chain(&leaf_spec(&[MX]));
        let rsa = pki.chain(&leaf_spec(&[MX]));
        let found = findings_for(
            &[ee(&ecdsa, 1)],
            &ecdsa,
            &[
                seen(KeyType::Rsa, &UP, &rsa),
                seen(KeyType::Ecdsa, &UP, &ecdsa),
            ],
        );
        let [f] = found.as_slice() else {
            panic!("one finding: {found:#?}")
        };
        let want = format!("{OWNER}. IN TLSA {}", ee(&rsa, 1).to_presentation());
        assert!(
            f.message.contains("offer only RSA signatures"),
            "{}",
            f.message
        );
        assert!(f.message.contains("dane-no-match"), "{}", f.message);
        assert!(
            f.message.contains("Senders that offer ECDSA"),
            "{}",
            f.message
        );
        assert!(f.advice.contains(&format!("`{want}`")), "{}", f.advice);
        assert_eq!(f.subject, format!("{MX} {IP}"));
    }

    #[test]
    fn the_warning_names_the_combination_and_the_record_to_add() {
        let pki = Pki::new();
        let main = pki.chain(&leaf_spec(&[MX]));
        let other = pki.chain(&leaf_spec(&[MX]));
        let cert_record = |c| coverage::record_for((3, 0, 1), c).expect("leaf");
        let found = findings_for(
            &[ee(&main, 1), ee(&other, 1), cert_record(&main)],
            &main,
            &[
                seen(KeyType::Rsa, &UP, &other),
                seen(KeyType::Ecdsa, &UP, &main),
            ],
        );
        let [f] = found.as_slice() else {
            panic!("one finding: {found:#?}")
        };
        let want = format!("{OWNER}. IN TLSA {}", cert_record(&other).to_presentation());
        assert!(f.message.contains("no 3 0 1 TLSA record"), "{}", f.message);
        assert!(f.message.contains("the RSA certificate"), "{}", f.message);
        assert!(f.advice.contains(&format!("`{want}`")), "{}", f.advice);
    }

    #[test]
    fn variants_record_what_they_saw() {
        let pki = Pki::new();
        let main = pki.chain(&leaf_spec(&[MX]));
        let other = pki.chain(&leaf_spec(&[MX]));
        let no_key = refused("handshake_failure");
        let names = names();
        let records = [ee(&main, 1)];
        let target = DaneTarget {
            records: &records,
            names: &names,
            owner: OWNER,
        };
        let got = judge(
            &target,
            &main,
            &[
                seen(KeyType::Rsa, &UP, &other),
                seen(KeyType::Ecdsa, &UP, &main),
                seen(KeyType::Ecdsa, &no_key, &[]),
            ],
            now(),
        );
        assert!(failing(&got[0]) && !failing(&got[1]) && !failing(&got[2]));
        let json = serde_json::to_value(&got).expect("serialises");
        assert_eq!(json[0]["key"], "rsa");
        assert_eq!(json[0]["status"], "served");
        assert_eq!(json[0]["same_leaf"], false);
        assert_eq!(json[0]["dane"], "fail");
        assert_eq!(json[0]["reason"], "dane-no-match");
        assert_eq!(json[0]["unmatched_combinations"][0]["combination"], "3 1 1");
        let spki = facts::facts(other[0].as_ref()).expect("leaf").spki_sha256;
        assert_eq!(json[0]["spki_sha256"], spki.as_str());
        assert!(
            json[0]["record_to_add"]
                .as_str()
                .is_some_and(|r| r.ends_with(&spki)),
            "{}",
            json[0]
        );
        assert_eq!(json[1]["key"], "ecdsa");
        assert_eq!(json[1]["same_leaf"], true);
        assert_eq!(json[1]["dane"], "pass");
        assert!(json[1].get("unmatched_combinations").is_none());
        assert_eq!(json[2]["status"], "no-such-key");
        assert!(json[2].get("dane").is_none());
    }
}
