//! Certificate facts: what a certificate says, read with x509-parser.
//!
//! Implements the read-only view the report shows for every presented
//! certificate: subject and issuer as RFC 4514 strings (§2: the last RDN
//! first, `,` between RDNs, `+` inside one, special characters escaped),
//! subjectAltName dNSNames (RFC 5280 §4.2.1.6), the Common Name, the validity
//! window (RFC 5280 §4.1.2.5) as Unix seconds and RFC 3339 strings, the key
//! and signature algorithms, SHA-256 fingerprints of the certificate and of
//! its SubjectPublicKeyInfo (the `3 0 1` and `3 1 1` TLSA data of RFC 6698
//! §2.1), the serial number and the basicConstraints CA flag.
//!
//! Leaves out: judging anything (that is `pki::webpki` and `dane::verdict`),
//! IP-address and e-mail SANs, and attribute names outside RFC 4514 §3's
//! table (they are written as a dotted OID with a `#`-hex value, as §2.4
//! requires).

use std::sync::OnceLock;

use ring::digest;
use serde::Serialize;
use x509_parser::der_parser::asn1_rs::{Any, Tag, ToDer};
use x509_parser::extensions::GeneralName;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
use x509_parser::public_key::PublicKey;

use crate::clock_map::Memo;

/// Seconds in a day, for [`days_until_expiry`].
const SECONDS_PER_DAY: i64 = 86_400;

/// What one certificate states, ready to show and to serialise.
///
/// Built only by [`facts`]; the fields are plain data for renderers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertFacts {
    /// Subject distinguished name, RFC 4514 string form.
    pub subject: String,
    /// Issuer distinguished name, RFC 4514 string form.
    pub issuer: String,
    /// The subject's last (most specific) Common Name, if any.
    pub common_name: Option<String>,
    /// subjectAltName dNSName entries, as presented (RFC 6125 DNS-IDs).
    pub dns_names: Vec<String>,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
    /// notBefore as RFC 3339 (`2026-01-31T12:00:00Z`).
    pub not_before_rfc3339: String,
    /// notAfter as RFC 3339.
    pub not_after_rfc3339: String,
    /// Key type and size: `ECDSA P-256`, `RSA 2048`, `Ed25519`.
    pub key: String,
    /// Signature algorithm short name (`ecdsa-with-SHA256`), or its OID.
    pub signature_algorithm: String,
    /// SHA-256 of the whole DER certificate, lower-case hex.
    pub sha256: String,
    /// SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex.
    pub spki_sha256: String,
    /// Serial number as lower-case hex of its DER content octets.
    pub serial: String,
    /// basicConstraints cA is true.
    pub is_ca: bool,
    /// Subject and issuer are the same name (a root or a self-signed leaf).
    pub self_issued: bool,
}

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// x509-parser rejected the DER encoding.
    #[error("certificate is not a valid DER X.509 certificate: {reason}")]
    Der {
        /// x509-parser's explanation.
        reason: String,
    },
    /// Bytes follow the certificate's outer SEQUENCE.
    #[error("certificate is followed by {extra} unexpected bytes")]
    TrailingData {
        /// How many bytes follow.
        extra: usize,
    },
    /// An extension we read (subjectAltName, basicConstraints) is malformed
    /// or repeated.
    #[error("certificate extension {extension} is invalid: {reason}")]
    Extension {
        /// Which extension.
        extension: &'static str,
        /// x509-parser's explanation.
        reason: String,
    },
}

/// The parsed view the verdict modules need beyond [`CertFacts`]: raw names to
/// follow issuer links, and the SPKI bytes for TLSA selector 1.
#[derive(Debug, Clone)]
pub(crate) struct CertView {
    pub(crate) facts: CertFacts,
    pub(crate) subject_raw: Vec<u8>,
    pub(crate) issuer_raw: Vec<u8>,
    pub(crate) spki_der: Vec<u8>,
}

/// Reads the facts of one DER certificate.
///
/// Any certificate x509-parser rejects is a [`CertError`] carrying its
/// reason; no input makes this panic.
pub fn facts(der: &[u8]) -> Result<CertFacts, CertError> {
    view(der).map(|v| v.facts)
}

/// The modulus length in bits of a certificate's RSA key; `None` for other
/// keys and for DER x509-parser rejects.
pub fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(unsigned_bits(rsa.modulus)),
        _ => None,
    }
}

/// Whole days from `now_unix` until notAfter; negative once expired.
///
/// Rounds towards the past, so a certificate expiring in 23 hours has 0 days
/// left and one that expired an hour ago has -1.
pub fn days_until_expiry(facts: &CertFacts, now_unix: i64) -> i64 {
    facts
        .not_after
        .saturating_sub(now_unix)
        .div_euclid(SECONDS_PER_DAY)
}

/// Certificates whose view is remembered: the MX certificates of a batch's
/// shared sessions are read for every domain that uses them (DANE, WebPKI,
/// key variants, the JSON), so each is parsed once while it is in use.
const VIEW_MEMO_ENTRIES: usize = 512;

type ViewMemo = Memo<[u8; 32], Result<CertView, CertError>>;

/// Parses `der` into the full internal view (remembered by the SHA-256 of
/// the DER: the view is a function of those bytes alone).
pub(crate) fn view(der: &[u8]) -> Result<CertView, CertError> {
    static MEMO: OnceLock<ViewMemo> = OnceLock::new();
    let memo = MEMO.get_or_init(|| Memo::new(VIEW_MEMO_ENTRIES));
    let mut key = [0u8; 32];
    key.copy_from_slice(digest::digest(&digest::SHA256, der).as_ref());
    memo.get_or_insert_with(key, || parse_view(der))
}

fn parse_view(der: &[u8]) -> Result<CertView, CertError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| CertError::Der {
        reason: e.to_string(),
    })?;
    if !rest.is_empty() {
        return Err(CertError::TrailingData { extra: rest.len() });
    }

    let dns_names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some((*dns).to_string()),
                _ => None,
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => {
            return Err(CertError::Extension {
                extension: "subjectAltName",
                reason: e.to_string(),
            });
        }
    };
    let is_ca = match cert.basic_constraints() {
        Ok(bc) => bc.is_some_and(|bc| bc.value.ca),
        Err(e) => {
            return Err(CertError::Extension {
                extension: "basicConstraints",
                reason: e.to_string(),
            });
        }
    };

    let subject = cert.subject();
    let issuer = cert.issuer();
    let common_name = subject
        .iter_common_name()
        .filter_map(|cn| attribute_text(cn.attr_value()))
        .last();
    let validity = cert.validity();
    let not_before = validity.not_before.timestamp();
    let not_after = validity.not_after.timestamp();
    let spki = cert.public_key();

    let facts = CertFacts {
        subject: rfc4514(subject),
        issuer: rfc4514(issuer),
        common_name,
        dns_names,
        not_before,
        not_after,
        not_before_rfc3339: rfc3339(not_before),
        not_after_rfc3339: rfc3339(not_after),
        key: key_description(&cert),
        signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
        sha256: hex(digest::digest(&digest::SHA256, der).as_ref()),
        spki_sha256: hex(digest::digest(&digest::SHA256, spki.raw).as_ref()),
        serial: hex(cert.raw_serial()),
        is_ca,
        self_issued: subject.as_raw() == issuer.as_raw(),
    };
    Ok(CertView {
        facts,
        subject_raw: subject.as_raw().to_vec(),
        issuer_raw: issuer.as_raw().to_vec(),
        spki_der: spki.raw.to_vec(),
    })
}

/// Lower-case hex, no separators.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// RFC 3339 UTC timestamp of Unix seconds (certificate times are whole
/// seconds in years 0000–9999, RFC 5280 §4.1.2.5).
pub(crate) fn rfc3339(unix: i64) -> String {
    crate::datetime::format_unix_rfc3339(unix)
}

/// `ECDSA P-256`, `RSA 2048`, `Ed25519`, or the algorithm OID when unknown.
fn key_description(cert: &X509Certificate<'_>) -> String {
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    match alg.as_str() {
        // RFC 8410 §3: the algorithm OID names the curve.
        "1.3.101.112" => return "Ed25519".to_string(),
        "1.3.101.113" => return "Ed448".to_string(),
        _ => {}
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", unsigned_bits(rsa.modulus)),
        Ok(PublicKey::EC(_)) => {
            // RFC 5480 §2.1.1: namedCurve in the algorithm parameters.
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "ECDSA P-256".to_string(),
                Some("1.3.132.0.34") => "ECDSA P-384".to_string(),
                Some("1.3.132.0.35") => "ECDSA P-521".to_string(),
                Some(other) => format!("ECDSA curve {other}"),
                None => "ECDSA (no named curve)".to_string(),
            }
        }
        Ok(PublicKey::DSA(y)) => format!("DSA {}", unsigned_bits(y)),
        _ => format!("unknown key algorithm {alg}"),
    }
}

/// Bit length of a big-endian unsigned integer (leading zero octets, as
/// DER INTEGER encoding adds them, do not count).
fn unsigned_bits(be: &[u8]) -> usize {
    let digits = match be.iter().position(|&b| b != 0) {
        Some(first) => &be[first..],
        None => return 0,
    };
    digits.len() * 8 - digits[0].leading_zeros() as usize
}

/// Short name from x509-parser's OID registry, else the dotted OID.
fn oid_name(oid: &x509_parser::der_parser::oid::Oid<'_>) -> String {
    oid2sn(oid, oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

/// RFC 4514 §3 attribute type names, plus serialNumber (an LDAP descriptor
/// from RFC 4519 that RFC 4514 §3 allows); anything else is a dotted OID.
fn rfc4514_type_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "2.5.4.5" => "serialNumber",
        _ => return None,
    })
}

/// RFC 4514 §2.1: RDNs from the last to the first, `,` between them, `+`
/// between the attributes of a multi-valued RDN.
fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let value = atv.attr_value();
                    match (rfc4514_type_name(&oid), attribute_text(value)) {
                        (Some(ty), Some(text)) => format!("{ty}={}", escape_rfc4514(&text)),
                        // RFC 4514 §2.4: a dotted-decimal type, or a value
                        // that is not a string, is written `#` + hex of its
                        // BER encoding.
                        (ty, _) => {
                            format!("{}=#{}", ty.unwrap_or(&oid), hex(&der_of(value)))
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// The whole TLV of an attribute value, for RFC 4514's `#` form.
fn der_of(value: &Any<'_>) -> Vec<u8> {
    value
        .to_der_vec()
        .unwrap_or_else(|_| value.as_bytes().to_vec())
}

/// The text of a directory string value, when it has one.
fn attribute_text(value: &Any<'_>) -> Option<String> {
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::T61String => std::str::from_utf8(value.as_bytes())
            .ok()
            .map(str::to_string),
        Tag::BmpString => {
            let units: Vec<u16> = value
                .as_bytes()
                .chunks(2)
                .map(|pair| match pair {
                    [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                    // An odd trailing octet is not UTF-16: mark it.
                    _ => 0xFFFD,
                })
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// RFC 4514 §2.4 escaping of an attribute value.
fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::test_pki::{Pki, at, leaf_spec};
    use rcgen::{CertificateParams, DnType, KeyPair, SerialNumber};

    #[test]
    fn rfc3339_formats_unix_seconds() {
        let cases: &[(&str, i64, &str)] = &[
            ("epoch", 0, "1970-01-01T00:00:00Z"),
            ("leap day", 951_782_400, "2000-02-29T00:00:00Z"),
            ("one second before epoch", -1, "1969-12-31T23:59:59Z"),
            ("time of day", 1_780_272_000 + 3_723, "2026-06-01T01:02:03Z"),
            ("far future", 253_402_300_799, "9999-12-31T23:59:59Z"),
        ];
        for (rule, unix, want) in cases {
            assert_eq!(rfc3339(*unix), *want, "{rule}: {unix}");
        }
    }

    #[test]
    fn days_until_expiry_rounds_towards_the_past() {
        let pki = Pki::new();
        let der = pki.leaf(&leaf_spec(&["mx1.example.test"]));
        let f = facts(&der).expect("rcgen leaf parses");
        let na = f.not_after;
        let cases: &[(&str, i64, i64)] = &[
            ("ten days left", na - 10 * 86_400, 10),
            ("less than a day left is zero", na - 3_600, 0),
            ("expiring now is zero", na, 0),
            ("expired an hour ago is minus one", na + 3_600, -1),
            ("expired two days ago", na + 2 * 86_400, -2),
        ];
        for (rule, now, want) in cases {
            assert_eq!(days_until_expiry(&f, *now), *want, "{rule}: now={now}");
        }
    }

    #[test]
    fn a_remembered_view_is_the_one_parsed_afresh_and_is_told_apart_by_its_bytes() {
        let pki = Pki::new();
        let one = pki.leaf(&leaf_spec(&["one.example.test"]));
        let two = pki.leaf(&leaf_spec(&["two.example.test"]));
        for der in [&one, &two, &one, &two] {
            let remembered = view(der).expect("parses");
            let afresh = parse_view(der).expect("parses");
            assert_eq!(remembered.facts, afresh.facts);
            assert_eq!(remembered.spki_der, afresh.spki_der);
        }
        assert_eq!(
            view(&one).expect("parses").facts.dns_names,
            ["one.example.test"]
        );
        let mut cut = one.as_ref().to_vec();
        cut.truncate(cut.len() / 2);
        assert!(view(&cut).is_err(), "other bytes, another answer");
    }

    #[test]
    fn facts_read_names_dates_and_flags() {
        let pki = Pki::new();
        let mut spec = leaf_spec(&["mx1.example.test", "MX2.Example.Test"]);
        spec.cn = Some("mx1.example.test");
        let leaf = facts(&pki.leaf(&spec)).expect("leaf parses");
        let inter = facts(&pki.intermediate).expect("intermediate parses");
        let root = facts(&pki.root).expect("root parses");

        assert_eq!(leaf.dns_names, ["mx1.example.test", "MX2.Example.Test"]);
        assert_eq!(leaf.common_name.as_deref(), Some("mx1.example.test"));
        assert_eq!(leaf.subject, "CN=mx1.example.test");
        assert_eq!(leaf.issuer, "CN=Test Intermediate,O=Mxtls Lab");
        assert_eq!(leaf.not_before, at(2025, 1, 1));
        assert_eq!(leaf.not_after_rfc3339, "2035-01-01T00:00:00Z");
        assert_eq!(leaf.key, "ECDSA P-256");
        assert_eq!(leaf.signature_algorithm, "ecdsa-with-SHA256");
        assert!(!leaf.is_ca, "leaf is not a CA");
        assert!(!leaf.self_issued, "leaf is issued by the intermediate");
        assert!(inter.is_ca, "intermediate is a CA");
        assert!(!inter.self_issued, "intermediate is issued by the root");
        assert!(root.is_ca && root.self_issued, "root is a self-issued CA");
        assert_eq!(leaf.sha256.len(), 64);
        assert_ne!(leaf.sha256, leaf.spki_sha256);
    }

    #[test]
    fn facts_name_key_types() {
        let cases: &[(&str, &rcgen::SignatureAlgorithm, &str)] = &[
            ("p-256", &rcgen::PKCS_ECDSA_P256_SHA256, "ECDSA P-256"),
            ("p-384", &rcgen::PKCS_ECDSA_P384_SHA384, "ECDSA P-384"),
            ("ed25519", &rcgen::PKCS_ED25519, "Ed25519"),
        ];
        for (rule, alg, want) in cases {
            let key = KeyPair::generate_for(alg).expect("ring generates this key type");
            let params =
                CertificateParams::new(vec!["k.example.test".to_string()]).expect("valid san");
            let der = params.self_signed(&key).expect("self-signs").der().to_vec();
            let f = facts(&der).expect("parses");
            assert_eq!(f.key, *want, "{rule}");
        }
    }

    #[test]
    fn rsa_bits_ignore_der_leading_zero() {
        let cases: &[(&str, &[u8], usize)] = &[
            ("leading zero octet skipped", &[0x00, 0x80, 0x00], 16),
            ("no leading zero", &[0x7f, 0xff], 15),
            ("all zero", &[0x00, 0x00], 0),
            ("empty", &[], 0),
        ];
        for (rule, be, want) in cases {
            assert_eq!(unsigned_bits(be), *want, "{rule}: {be:?}");
        }
    }

    #[test]
    fn subject_is_rfc4514_reversed_and_escaped() {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(vec!["x.example.test".to_string()]).expect("valid san");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CountryName, "US");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Mail, Inc. <ops>");
        params.distinguished_name.push(DnType::CommonName, "#x ");
        params.serial_number = Some(SerialNumber::from_slice(&[0x01, 0xab]));
        let der = params.self_signed(&key).expect("signs").der().to_vec();
        let f = facts(&der).expect("parses");
        assert_eq!(f.subject, r"CN=\#x\ ,O=Mail\, Inc. \<ops\>,C=US");
        assert_eq!(f.serial, "01ab");
    }

    #[test]
    fn hostile_der_is_an_error_not_a_panic() {
        let pki = Pki::new();
        let good = pki.leaf(&leaf_spec(&["mx1.example.test"]));
        let mut trailing = good.to_vec();
        trailing.push(0);
        let truncated = &good[..good.len() / 2];
        let cases: &[(&str, &[u8])] = &[
            ("empty input", &[]),
            ("garbage bytes", b"not a certificate"),
            ("truncated certificate", truncated),
            ("sequence header only", &[0x30, 0x82, 0xff, 0xff]),
        ];
        for (rule, der) in cases {
            assert!(
                matches!(facts(der), Err(CertError::Der { .. })),
                "{rule}: {:?}",
                facts(der)
            );
        }
        assert_eq!(
            facts(&trailing),
            Err(CertError::TrailingData { extra: 1 }),
            "trailing byte after the certificate"
        );
    }
}
