//! The WebPKI verdict on a presented chain (RFC 8461 §4.2, RFC 6125 §6).
//!
//! An MTA-STS sender accepts an MX certificate when the chain leads to a
//! trusted root, no certificate of it is outside its validity window, and a
//! subjectAltName DNS-ID matches the MX host name. rustls's webpki verifier
//! judges chain and time, but it stops at its first error, so this module
//! finds each defect on its own:
//!
//! - trust: webpki, with one crypto provider passed explicitly; when webpki
//!   objects to a date, the chain is checked again at a moment inside the
//!   certificates' validity windows, so an expired *and* untrusted chain
//!   reports both;
//! - dates: from the certificates' own fields, for the leaf and each issuer
//!   on the path up to (not including) a self-issued root, since roots are
//!   trust anchors whose dates webpki does not judge;
//! - name: [`name_matches`], RFC 6125 §6.4 restricted the way RFC 8461 §4.2
//!   asks: DNS-IDs only (a certificate with only a CN fails), a wildcard only
//!   as the whole left-most label, case-insensitive.
//!
//! Each [`Defect`] knows its RFC 8460 §4.3.1 result type and our
//! failure-reason-code; [`WebPkiVerdict::primary`] picks one by SPEC §5's
//! precedence. Leaves out: revocation, OCSP, certificate policies.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, RootCertStore};
use serde::Serialize;

use super::facts::{self, CertError, CertFacts, CertView};
use crate::clock_map::Memo;
use crate::tlsrpt::report::ResultType;

/// Chains longer than this are not real server chains; certificates past it
/// are ignored so hostile input cannot make the work grow without bound.
pub(crate) const MAX_CHAIN_CERTS: usize = 16;

/// Name given to webpki's own name check, whose verdict we do not use
/// (see [`verify`]): any syntactically valid name serves.
const PLACEHOLDER_NAME: &str = "name-checked-separately.invalid";

/// Verdicts remembered per set of roots: a session shared by the domains
/// of one provider is judged once per second, not once per domain.
const VERDICT_MEMO_ENTRIES: usize = 1024;

/// The trust anchors a WebPKI verdict is judged against.
#[derive(Debug, Clone)]
pub struct Roots {
    verifier: Arc<WebPkiServerVerifier>,
    store: Arc<RootCertStore>,
    anchors: usize,
    /// [`verify`]'s answers by (SHA-256 of the chain, host, second). The
    /// verdict depends on nothing else: the same chain judged for the same
    /// host at the same second (the resolution of [`UnixTime`]) gets the
    /// same defects, so reusing it changes no output.
    verdicts: Arc<Memo<MemoKey, WebPkiVerdict>>,
}

/// SHA-256 of the chain, host, Unix second.
type MemoKey = ([u8; 32], String, u64);

/// SHA-256 over the certificates of a chain (DER, leaf first), each
/// with its length.
pub(crate) fn chain_digest<'a>(chain: impl IntoIterator<Item = &'a [u8]>) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for der in chain {
        // Lengths first, so two chains cut at different places differ.
        ctx.update(&(der.len() as u64).to_be_bytes());
        ctx.update(der);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Why a set of trust anchors could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RootsError {
    /// The PEM text itself is malformed.
    #[error("pem block {index} is malformed: {reason}")]
    Pem {
        /// 1-based position of the certificate block.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The PEM text holds no `CERTIFICATE` block.
    #[error("no certificate found in the pem input (expected -----BEGIN CERTIFICATE-----)")]
    NoCertificates,
    /// A certificate cannot serve as a trust anchor.
    #[error("extra root {index} cannot be used as a trust anchor: {reason}")]
    Rejected {
        /// 1-based position among the extra roots.
        index: usize,
        /// webpki's explanation.
        reason: String,
    },
    /// Only the extra roots were asked for, and there are none.
    #[error("no trust anchors: only extra roots were requested and none were given")]
    Empty,
    /// rustls refused to build a verifier over the anchors.
    #[error("cannot build a certificate verifier: {reason}")]
    Verifier {
        /// rustls's explanation.
        reason: String,
    },
}

impl Roots {
    /// The webpki-roots set plus `extra`, or `extra` alone when `only_extra`.
    pub fn new(extra: Vec<CertificateDer<'static>>, only_extra: bool) -> Result<Self, RootsError> {
        let mut store = if only_extra {
            RootCertStore::empty()
        } else {
            RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }
        };
        for (i, cert) in extra.into_iter().enumerate() {
            store.add(cert).map_err(|e| RootsError::Rejected {
                index: i + 1,
                reason: e.to_string(),
            })?;
        }
        if store.is_empty() {
            return Err(RootsError::Empty);
        }
        let anchors = store.len();
        let store = Arc::new(store);
        let verifier =
            verifier_over((*store).clone()).map_err(|reason| RootsError::Verifier { reason })?;
        Ok(Roots {
            verifier,
            store,
            anchors,
            verdicts: Arc::new(Memo::new(VERDICT_MEMO_ENTRIES)),
        })
    }

    /// Like [`Roots::new`], with the extra roots read from PEM text (every
    /// `CERTIFICATE` block; other blocks such as keys are skipped).
    pub fn from_pem(pem: &[u8], only_extra: bool) -> Result<Self, RootsError> {
        let mut extra = Vec::new();
        for (i, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let cert = item.map_err(|e| RootsError::Pem {
                index: i + 1,
                reason: e.to_string(),
            })?;
            extra.push(cert);
        }
        if extra.is_empty() {
            return Err(RootsError::NoCertificates);
        }
        Self::new(extra, only_extra)
    }

    /// The anchors themselves, for TLS clients that verify as they connect
    /// (the MTA-STS policy fetch).
    pub fn store(&self) -> Arc<RootCertStore> {
        Arc::clone(&self.store)
    }

    /// How many trust anchors the set holds.
    pub fn anchor_count(&self) -> usize {
        self.anchors
    }
}

/// A webpki verifier over `store`, with the ring provider given explicitly
/// rather than a process-wide default a dependency could change.
pub(crate) fn verifier_over(store: RootCertStore) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(
        Arc::new(store),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .map_err(|e| e.to_string())
}

/// One thing wrong with a presented chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "defect", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Defect {
    /// The server presented no certificate.
    NoCertificate,
    /// The leaf certificate cannot be parsed.
    Unparseable {
        /// Position in the presented chain (0 is the leaf).
        cert_index: usize,
        /// The parser's explanation.
        reason: String,
    },
    /// The chain does not lead to a trusted root (or a signature, key usage
    /// or encoding on the way is wrong).
    NotTrusted {
        /// webpki's objection, in words.
        detail: String,
    },
    /// A certificate on the path is not valid yet.
    NotYetValid {
        /// Position in the presented chain.
        cert_index: usize,
        /// Its notBefore, RFC 3339.
        not_before: String,
    },
    /// A certificate on the path has expired.
    Expired {
        /// Position in the presented chain.
        cert_index: usize,
        /// Its notAfter, RFC 3339.
        not_after: String,
    },
    /// No subjectAltName DNS-ID matches the host.
    HostMismatch {
        /// The DNS-IDs the leaf presents.
        names_presented: Vec<String>,
    },
    /// The leaf has no subjectAltName DNS-ID at all (at most a CN, which
    /// RFC 8461 §4.2 does not accept).
    NoSan {
        /// The CN it carries instead, if any.
        common_name: Option<String>,
    },
}

impl Defect {
    /// RFC 8460 §4.3.1 result type.
    ///
    /// A not-yet-valid certificate is `certificate-not-trusted` (our choice,
    /// SPEC §5); an unparseable or missing certificate is
    /// `validation-failure`.
    pub fn result_type(&self) -> ResultType {
        match self {
            Defect::NoCertificate | Defect::Unparseable { .. } => ResultType::ValidationFailure,
            Defect::NotTrusted { .. } | Defect::NotYetValid { .. } => {
                ResultType::CertificateNotTrusted
            }
            Defect::Expired { .. } => ResultType::CertificateExpired,
            Defect::HostMismatch { .. } | Defect::NoSan { .. } => {
                ResultType::CertificateHostMismatch
            }
        }
    }

    /// Our failure-reason-code (RFC 8460 §4.4 leaves its values open).
    pub fn reason_code(&self) -> &'static str {
        match self {
            Defect::NoCertificate => "no-certificate",
            Defect::Unparseable { .. } => "certificate-unparseable",
            Defect::NotTrusted { .. } => "chain-not-trusted",
            Defect::NotYetValid { .. } => "not-yet-valid",
            Defect::Expired { .. } => "certificate-expired",
            Defect::HostMismatch { .. } => "host-mismatch",
            Defect::NoSan { .. } => "no-subject-alt-name",
        }
    }

    /// SPEC §5 precedence: nothing to judge, then not-trusted (including
    /// not-yet-valid), then expired, then host mismatch. Lower comes first.
    fn precedence(&self) -> u8 {
        match self {
            Defect::NoCertificate | Defect::Unparseable { .. } => 0,
            Defect::NotTrusted { .. } => 1,
            Defect::NotYetValid { .. } => 2,
            Defect::Expired { .. } => 3,
            Defect::HostMismatch { .. } | Defect::NoSan { .. } => 4,
        }
    }
}

/// Every defect of a chain for one host; no defect means a sender accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[must_use]
pub struct WebPkiVerdict {
    /// The host the chain was judged for.
    pub host: String,
    /// Defects in precedence order (see [`WebPkiVerdict::primary`]).
    pub defects: Vec<Defect>,
}

impl WebPkiVerdict {
    /// True when a WebPKI sender would accept the chain for the host.
    pub fn is_valid(&self) -> bool {
        self.defects.is_empty()
    }

    /// The one defect a session's `result` shows: not-trusted, then expired,
    /// then host-mismatch (SPEC §5).
    pub fn primary(&self) -> Option<&Defect> {
        self.defects.first()
    }
}

/// Judges `chain` (leaf first, as presented) for `host` at `now`.
pub fn verify(
    chain: &[CertificateDer<'_>],
    host: &str,
    roots: &Roots,
    now: UnixTime,
) -> WebPkiVerdict {
    let key = (
        chain_digest(chain.iter().map(AsRef::as_ref)),
        host.to_string(),
        now.as_secs(),
    );
    roots
        .verdicts
        .get_or_insert_with(key, || verify_afresh(chain, host, roots, now))
}

fn verify_afresh(
    chain: &[CertificateDer<'_>],
    host: &str,
    roots: &Roots,
    now: UnixTime,
) -> WebPkiVerdict {
    let views = parse_chain(chain);
    let mut defects = chain_defects(&roots.verifier, chain, &views, None, now);
    if let Some(Ok(leaf)) = views.first() {
        defects.extend(name_defect(&leaf.facts, host));
    }
    defects.sort_by_key(Defect::precedence);
    WebPkiVerdict {
        host: host.to_string(),
        defects,
    }
}

/// RFC 6125 §6.4.3 as RFC 8461 §4.2 and RFC 7672 §3.2.3 restrict it: does
/// the presented DNS-ID `pattern` match the reference identifier `host`?
///
/// Case-insensitive; one trailing dot on either side is ignored. A `*` is
/// allowed only as the whole left-most label and stands for exactly one
/// non-empty label (`*.example.com` matches `mx.example.com`, neither
/// `example.com` nor `a.b.example.com`). Like OpenSSL, a wildcard needs at
/// least two labels after it (`*.com` matches nothing), following RFC 6125
/// §7.2's warning about wildcards over public suffixes.
pub fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let host = host.strip_suffix('.').unwrap_or(host);
    if !labels_nonempty(host) || host.contains('*') {
        return false;
    }
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            if suffix.contains('*') || !labels_nonempty(suffix) || !suffix.contains('.') {
                return false;
            }
            match host.split_once('.') {
                Some((_, rest)) => rest.eq_ignore_ascii_case(suffix),
                None => false,
            }
        }
        None => !pattern.contains('*') && pattern.eq_ignore_ascii_case(host),
    }
}

/// A non-empty name with no empty label.
fn labels_nonempty(name: &str) -> bool {
    !name.is_empty() && name.split('.').all(|label| !label.is_empty())
}

/// The name defect of `leaf` for `host`, if any (DNS-IDs only).
fn name_defect(leaf: &CertFacts, host: &str) -> Option<Defect> {
    if leaf.dns_names.is_empty() {
        return Some(Defect::NoSan {
            common_name: leaf.common_name.clone(),
        });
    }
    if leaf.dns_names.iter().any(|p| name_matches(p, host)) {
        return None;
    }
    Some(Defect::HostMismatch {
        names_presented: leaf.dns_names.clone(),
    })
}

/// Parses the first [`MAX_CHAIN_CERTS`] certificates of a chain.
pub(crate) fn parse_chain(chain: &[CertificateDer<'_>]) -> Vec<Result<CertView, CertError>> {
    chain
        .iter()
        .take(MAX_CHAIN_CERTS)
        .map(|der| facts::view(der))
        .collect()
}

/// Trust and date defects of `chain` under `verifier`; no name defects.
///
/// `anchor` is the index of a presented certificate that is itself the
/// trust anchor (DANE-TA): the date check stops below it.
pub(crate) fn chain_defects(
    verifier: &WebPkiServerVerifier,
    chain: &[CertificateDer<'_>],
    views: &[Result<CertView, CertError>],
    anchor: Option<usize>,
    now: UnixTime,
) -> Vec<Defect> {
    let Some(leaf_der) = chain.first() else {
        return vec![Defect::NoCertificate];
    };
    if let Some(Err(e)) = views.first() {
        return vec![Defect::Unparseable {
            cert_index: 0,
            reason: e.to_string(),
        }];
    }
    let end = chain.len().min(MAX_CHAIN_CERTS);
    let intermediates = chain.get(1..end).unwrap_or_default();
    let run = |at: UnixTime| classify(verify_at(verifier, leaf_der, intermediates, at));

    let path = dated_path(views, anchor, now);
    let mut defects = date_defects(views, &path, now);
    match run(now) {
        // webpki judged the dates of every certificate on the path it
        // built; a stale duplicate we may have walked to is not on it.
        Outcome::Accepted => defects.clear(),
        Outcome::Untrusted(detail) => defects.push(Defect::NotTrusted { detail }),
        Outcome::Dates(err) => {
            // webpki checks dates before it looks for an issuer, so its date
            // error may hide a trust error: ask again at a moment every
            // certificate on the path was valid.
            if let Some(at) = inside_windows(views, &path, now)
                && let Outcome::Untrusted(detail) = run(at)
            {
                defects.push(Defect::NotTrusted { detail });
            }
            if !defects.iter().any(is_date_defect) {
                // Our path walk missed the certificate webpki objects to:
                // report webpki's finding rather than nothing.
                defects.push(date_defect_from(&err, views));
            }
        }
    }
    defects
}

fn is_date_defect(d: &Defect) -> bool {
    matches!(d, Defect::Expired { .. } | Defect::NotYetValid { .. })
}

fn verify_at(
    verifier: &WebPkiServerVerifier,
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    at: UnixTime,
) -> Result<(), rustls::Error> {
    let name = ServerName::try_from(PLACEHOLDER_NAME)
        .expect("the placeholder is a valid DNS name, fixed at compile time");
    verifier
        .verify_server_cert(leaf, intermediates, &name, &[], at)
        .map(|_| ())
}

/// What webpki thought of the chain, name aside.
enum Outcome {
    /// Chain and dates are fine (a name objection is ignored: we judge names
    /// ourselves, with the CN and reference-identifier rules webpki lacks).
    Accepted,
    /// A date is outside a validity window.
    Dates(CertificateError),
    /// Anything else: unknown issuer, bad signature, wrong key usage.
    Untrusted(String),
}

fn classify(result: Result<(), rustls::Error>) -> Outcome {
    let err = match result {
        Ok(()) => return Outcome::Accepted,
        Err(rustls::Error::InvalidCertificate(err)) => err,
        Err(other) => return Outcome::Untrusted(other.to_string()),
    };
    match err {
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            Outcome::Accepted
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => Outcome::Dates(err),
        CertificateError::UnknownIssuer => Outcome::Untrusted(
            "the chain does not lead to a trusted root (unknown issuer)".to_string(),
        ),
        CertificateError::BadSignature => Outcome::Untrusted(
            "a certificate's signature does not verify with its issuer's key".to_string(),
        ),
        CertificateError::BadEncoding => {
            Outcome::Untrusted("a certificate of the chain is not valid DER".to_string())
        }
        other => Outcome::Untrusted(other.to_string()),
    }
}

/// The leaf and its issuers among the presented certificates, found by
/// issuer/subject name, stopping at a self-issued certificate or at
/// `anchor`; these are the certificates whose dates count. The top one is
/// left out when it is self-issued or is `anchor`: trust anchors carry no
/// dates a verifier judges. When several presented certificates share the
/// issuer's name (a renewed or cross-signed CA sent twice), `anchor` is
/// preferred, then one valid at `now`, as a path builder would.
fn dated_path(
    views: &[Result<CertView, CertError>],
    anchor: Option<usize>,
    now: UnixTime,
) -> Vec<usize> {
    let now = unix_seconds(now);
    let mut path = Vec::new();
    let Some(Ok(leaf)) = views.first() else {
        return path;
    };
    let mut current: &CertView = leaf;
    path.push(0);
    // Each step adds a new index, so the walk ends within views.len() steps.
    while !current.facts.self_issued && path.len() < views.len() {
        let issuers: Vec<(usize, &CertView)> = views
            .iter()
            .enumerate()
            .filter(|(i, _)| !path.contains(i))
            .filter_map(|(i, v)| Some((i, v.as_ref().ok()?)))
            .filter(|(_, v)| v.subject_raw == current.issuer_raw)
            .collect();
        let current_at_now = |v: &CertView| v.facts.not_before <= now && now <= v.facts.not_after;
        let chosen = issuers
            .iter()
            .find(|(i, _)| Some(*i) == anchor)
            .or_else(|| issuers.iter().find(|(_, v)| current_at_now(v)))
            .or_else(|| issuers.first());
        let Some(&(i, next)) = chosen else { break };
        if Some(i) == anchor || next.facts.self_issued {
            break;
        }
        path.push(i);
        current = next;
    }
    path
}

fn date_defects(
    views: &[Result<CertView, CertError>],
    path: &[usize],
    now: UnixTime,
) -> Vec<Defect> {
    let now = unix_seconds(now);
    let mut defects = Vec::new();
    for &i in path {
        let Some(Ok(view)) = views.get(i) else {
            continue;
        };
        let f = &view.facts;
        if now < f.not_before {
            defects.push(Defect::NotYetValid {
                cert_index: i,
                not_before: f.not_before_rfc3339.clone(),
            });
        }
        if now > f.not_after {
            defects.push(Defect::Expired {
                cert_index: i,
                not_after: f.not_after_rfc3339.clone(),
            });
        }
    }
    defects
}

/// A moment inside every validity window on `path`, as close to `now` as
/// possible; `None` when the windows do not overlap.
fn inside_windows(
    views: &[Result<CertView, CertError>],
    path: &[usize],
    now: UnixTime,
) -> Option<UnixTime> {
    let windows = path
        .iter()
        .filter_map(|&i| views.get(i)?.as_ref().ok())
        .map(|v| (v.facts.not_before, v.facts.not_after));
    let (lo, hi) = windows.fold((i64::MIN, i64::MAX), |(lo, hi), (nb, na)| {
        (lo.max(nb), hi.min(na))
    });
    if lo > hi {
        return None;
    }
    let at = unix_seconds(now).clamp(lo, hi);
    let at = u64::try_from(at).ok()?;
    Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        at,
    )))
}

/// webpki's own date finding, placed on the certificate whose date it names.
fn date_defect_from(err: &CertificateError, views: &[Result<CertView, CertError>]) -> Defect {
    let index_where = |pick: &dyn Fn(&CertFacts) -> i64, secs: u64| {
        views
            .iter()
            .position(|v| {
                v.as_ref()
                    .is_ok_and(|v| u64::try_from(pick(&v.facts)).ok() == Some(secs))
            })
            .unwrap_or(0)
    };
    match err {
        CertificateError::NotValidYetContext { not_before, .. } => {
            let secs = not_before.as_secs();
            Defect::NotYetValid {
                cert_index: index_where(&|f| f.not_before, secs),
                not_before: facts::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX)),
            }
        }
        CertificateError::ExpiredContext { not_after, .. } => {
            let secs = not_after.as_secs();
            Defect::Expired {
                cert_index: index_where(&|f| f.not_after, secs),
                not_after: facts::rfc3339(i64::try_from(secs).unwrap_or(i64::MAX)),
            }
        }
        other => Defect::NotTrusted {
            detail: format!("a certificate of the chain has invalid dates: {other}"),
        },
    }
}

/// Seconds since the epoch as i64 (saturating: u64 seconds past i64::MAX are
/// billions of years away).
pub(crate) fn unix_seconds(t: UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::test_pki::{Pki, at, leaf_spec, now, self_signed, unix_time};

    fn lab_roots(pki: &Pki) -> Roots {
        Roots::new(vec![pki.root.clone()], true).expect("the lab root is a valid anchor")
    }

    fn codes(v: &WebPkiVerdict) -> Vec<&'static str> {
        v.defects.iter().map(Defect::reason_code).collect()
    }

    #[test]
    fn a_remembered_verdict_is_the_one_judged_afresh_and_keyed_by_host_and_second() {
        let pki = Pki::new();
        let host = "mx1.example.test";
        let chain = pki.chain(&leaf_spec(&[host]));
        let roots = lab_roots(&pki);
        let t = now();
        let first = verify(&chain, host, &roots, t);
        let again = verify(&chain, host, &roots, t);
        assert_eq!(first, again);
        assert_eq!(first, verify_afresh(&chain, host, &roots, t));
        let memo = |roots: &Roots| roots.verdicts.len();
        assert_eq!(memo(&roots), 1, "the second call reused the first verdict");

        let other = verify(&chain, "mx2.example.test", &roots, t);
        assert_eq!(codes(&other), vec!["host-mismatch"]);
        let later = verify(&chain, host, &roots, unix_time(at(2099, 1, 1)));
        assert!(codes(&later).contains(&"certificate-expired"));
        assert_eq!(memo(&roots), 3);
    }

    #[test]
    fn chain_verdicts_list_every_defect() {
        let pki = Pki::new();
        let host = "mx1.example.test";
        let good = leaf_spec(&[host]);
        let mut expired = good.clone();
        expired.not_before = (2020, 1, 1);
        expired.not_after = (2021, 1, 1);
        let mut future = good.clone();
        future.not_before = (2030, 1, 1);
        future.not_after = (2031, 1, 1);
        let mut cn_only = leaf_spec(&[]);
        cn_only.cn = Some(host);

        let mut expired_elsewhere = leaf_spec(&["other.example.test"]);
        expired_elsewhere.not_after = (2021, 1, 1);
        expired_elsewhere.not_before = (2020, 1, 1);

        let cases: Vec<(&str, Vec<CertificateDer<'static>>, &str, Vec<&str>)> = vec![
            (
                "leaf via intermediate to lab root is valid",
                pki.chain(&good),
                host,
                vec![],
            ),
            (
                "leaf without its intermediate is not trusted",
                vec![pki.leaf(&good)],
                host,
                vec!["chain-not-trusted"],
            ),
            (
                "expired leaf is expired, and still trusted",
                pki.chain(&expired),
                host,
                vec!["certificate-expired"],
            ),
            (
                "not-yet-valid leaf is reported as such",
                pki.chain(&future),
                host,
                vec!["not-yet-valid"],
            ),
            (
                "self-signed leaf is not trusted",
                vec![self_signed(&good)],
                host,
                vec!["chain-not-trusted"],
            ),
            (
                "wrong name is a host mismatch",
                pki.chain(&leaf_spec(&["mx2.example.test"])),
                host,
                vec!["host-mismatch"],
            ),
            (
                "wildcard covers one left-most label",
                pki.chain(&leaf_spec(&["*.example.test"])),
                "a.example.test",
                vec![],
            ),
            (
                "wildcard does not cover two labels",
                pki.chain(&leaf_spec(&["*.example.test"])),
                "a.b.example.test",
                vec!["host-mismatch"],
            ),
            (
                "cn-only leaf fails: no cn fallback",
                pki.chain(&cn_only),
                host,
                vec!["no-subject-alt-name"],
            ),
            (
                "expired, untrusted and misnamed lists all three in precedence order",
                vec![pki.leaf(&expired_elsewhere)],
                host,
                vec!["chain-not-trusted", "certificate-expired", "host-mismatch"],
            ),
            (
                "stale copy of the intermediate beside the current one is ignored",
                vec![
                    pki.leaf(&good),
                    pki.intermediate_reissued((2019, 1, 1), (2020, 1, 1)),
                    pki.intermediate.clone(),
                ],
                host,
                vec![],
            ),
            (
                "only the stale copy of the intermediate: expired on its index",
                vec![
                    pki.leaf(&good),
                    pki.intermediate_reissued((2019, 1, 1), (2020, 1, 1)),
                ],
                host,
                vec!["certificate-expired"],
            ),
            (
                "garbage der is unparseable, no panic",
                vec![CertificateDer::from(b"\x30\x03garbage".to_vec())],
                host,
                vec!["certificate-unparseable"],
            ),
            (
                "empty chain has no certificate",
                vec![],
                host,
                vec!["no-certificate"],
            ),
        ];
        let roots = lab_roots(&pki);
        for (rule, chain, host, want) in cases {
            let v = verify(&chain, host, &roots, now());
            assert_eq!(codes(&v), want, "{rule}: host {host}, verdict {v:?}");
            assert_eq!(v.is_valid(), want.is_empty(), "{rule}");
        }
    }

    #[test]
    fn expired_intermediate_is_reported_on_its_index() {
        let pki = Pki::new();
        let leaf = pki.chain(&leaf_spec(&["mx1.example.test"]));
        let later = unix_time(at(2041, 1, 1));
        let v = verify(&leaf, "mx1.example.test", &lab_roots(&pki), later);
        // At 2041 the leaf (to 2035) and the intermediate (to 2040) are both
        // expired; the root's own dates are not judged.
        let got: Vec<_> = v
            .defects
            .iter()
            .map(|d| match d {
                Defect::Expired { cert_index, .. } => *cert_index,
                other => panic!("only expiry expected, got {other:?}"),
            })
            .collect();
        assert_eq!(got, [0, 1], "{v:?}");
    }

    #[test]
    fn defects_map_to_rfc8460_result_types() {
        let cases: &[(&str, Defect, &str)] = &[
            (
                "untrusted chain",
                Defect::NotTrusted {
                    detail: String::new(),
                },
                "certificate-not-trusted",
            ),
            (
                "not yet valid counts as not trusted (our choice)",
                Defect::NotYetValid {
                    cert_index: 0,
                    not_before: String::new(),
                },
                "certificate-not-trusted",
            ),
            (
                "expired",
                Defect::Expired {
                    cert_index: 0,
                    not_after: String::new(),
                },
                "certificate-expired",
            ),
            (
                "name mismatch",
                Defect::HostMismatch {
                    names_presented: vec![],
                },
                "certificate-host-mismatch",
            ),
            (
                "cn only is a name mismatch",
                Defect::NoSan { common_name: None },
                "certificate-host-mismatch",
            ),
            (
                "unparseable is a validation failure",
                Defect::Unparseable {
                    cert_index: 0,
                    reason: String::new(),
                },
                "validation-failure",
            ),
        ];
        for (rule, defect, want) in cases {
            assert_eq!(defect.result_type().as_str(), *want, "{rule}: {defect:?}");
        }
    }

    #[test]
    fn name_matching_follows_rfc6125_restricted() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("exact name", "mx1.example.test", "mx1.example.test", true),
            (
                "case-insensitive",
                "MX1.Example.TEST",
                "mx1.example.test",
                true,
            ),
            (
                "trailing dot on host ignored",
                "mx1.example.test",
                "mx1.example.test.",
                true,
            ),
            (
                "different name",
                "mx2.example.test",
                "mx1.example.test",
                false,
            ),
            (
                "suffix is not a match",
                "example.test",
                "mx1.example.test",
                false,
            ),
            (
                "wildcard matches one label",
                "*.example.test",
                "mx1.example.test",
                true,
            ),
            (
                "wildcard not the parent",
                "*.example.test",
                "example.test",
                false,
            ),
            (
                "wildcard not two labels",
                "*.example.test",
                "a.b.example.test",
                false,
            ),
            (
                "partial-label wildcard refused",
                "mx*.example.test",
                "mx1.example.test",
                false,
            ),
            (
                "wildcard not left-most refused",
                "mx1.*.test",
                "mx1.example.test",
                false,
            ),
            (
                "wildcard over a single label refused",
                "*.test",
                "example.test",
                false,
            ),
            ("double wildcard refused", "*.*.test", "a.b.test", false),
            (
                "empty label in host refused",
                "*.example.test",
                ".example.test",
                false,
            ),
            ("empty host refused", "", "", false),
            (
                "literal star host refused",
                "*.example.test",
                "*.example.test",
                false,
            ),
        ];
        for (rule, pattern, host, want) in cases {
            assert_eq!(
                name_matches(pattern, host),
                *want,
                "{rule}: {pattern} vs {host}"
            );
        }
    }

    #[test]
    fn roots_from_pem_name_the_problem() {
        let pki = Pki::new();
        let pem_of = |der: &[u8]| {
            let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
            out.push_str(&base64(der));
            out.push_str("\n-----END CERTIFICATE-----\n");
            out
        };
        let good = pem_of(&pki.root);
        let junk = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_string();
        let unterminated = "-----BEGIN CERTIFICATE-----\nMIIB\n".to_string();
        let cases: Vec<(&str, String, Result<usize, RootsError>)> = vec![
            ("one root alone", good.clone(), Ok(1)),
            (
                "no certificate block",
                "hello\n".to_string(),
                Err(RootsError::NoCertificates),
            ),
            (
                "a block that is not a certificate is rejected",
                junk,
                Err(RootsError::Rejected {
                    index: 1,
                    reason: String::new(),
                }),
            ),
            (
                "unterminated block is malformed pem",
                unterminated,
                Err(RootsError::Pem {
                    index: 1,
                    reason: String::new(),
                }),
            ),
        ];
        for (rule, pem, want) in cases {
            let got = Roots::from_pem(pem.as_bytes(), true).map(|r| r.anchor_count());
            match (&got, &want) {
                (Ok(n), Ok(w)) => assert_eq!(n, w, "{rule}"),
                (Err(g), Err(w)) => assert_eq!(
                    std::mem::discriminant(g),
                    std::mem::discriminant(w),
                    "{rule}: got {g}"
                ),
                _ => panic!("{rule}: got {got:?}, want {want:?}\n{pem}"),
            }
        }
        let with_builtin = Roots::from_pem(good.as_bytes(), false).expect("valid");
        assert!(with_builtin.anchor_count() > 1, "webpki-roots are added");
        assert_eq!(Roots::new(vec![], true).err(), Some(RootsError::Empty));
    }

    /// Standard base64 for the PEM test (no dependency needed for a test).
    fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
