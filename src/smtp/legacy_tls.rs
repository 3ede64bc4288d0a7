//! The second look at a server that refused rustls: when it is worth
//! it, and what it saw (values and pure rules; the session itself is in
//! [`super::client`]).
//!
//! rustls has no CBC, DHE, static-RSA or 3DES suites and refuses RSA keys
//! under 2048 bits; OpenSSL- and Go-based senders have some of them. A
//! server configured with nothing else answers the rustls ClientHello with
//! `handshake_failure` or `insufficient_security` (RFC 5246 §7.2.2), or
//! just closes, and would be reported as one that no sender can reach.
//! [`worth_asking`] spots those handshakes; the client then runs the same
//! dialogue again (connect, greeting, EHLO, STARTTLS), sends the legacy
//! ClientHello of [`super::legacy_hello`], and records in a [`LegacyTls`]
//! what the server chose and, since TLS ≤ 1.2 sends it in cleartext, the
//! chain it presented. The handshake is then dropped: the chain is
//! recorded, not proven (no key exchange, no Finished).

use std::io;

use rustls::pki_types::CertificateDer;
use rustls::{AlertDescription, PeerMisbehaved};
use serde::Serialize;

use super::legacy_hello::{self, Answer, FlightError, Suite, TLS12, alert_name};
use crate::pki::facts;

/// The smallest RSA modulus rustls (through ring) verifies signatures
/// with.
pub const RUSTLS_MIN_RSA_BITS: usize = 2048;

/// What the server answered to the legacy ClientHello (JSON: the session's
/// `probe.legacy_tls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum LegacyTls {
    /// A ServerHello: OpenSSL- and Go-based senders get this far.
    Accepted(LegacyHandshake),
    /// An alert or a close: the server refuses this hello too.
    Refused {
        /// The alert, in RFC 8446 §6 spelling, when one came.
        alert: Option<String>,
        /// What happened, for people.
        detail: String,
    },
    /// The second session did not reach the hello, or the answer was not
    /// TLS: nothing learnt.
    Failed {
        /// What went wrong, for people.
        detail: String,
    },
}

/// What the server chose for the legacy ClientHello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyHandshake {
    /// `TLSv1.2`, or older.
    pub version: String,
    /// The suite's IANA name.
    pub cipher: String,
    /// Whether rustls implements that suite (then rustls failed on
    /// something else the legacy hello offers: SHA-1 signatures, P-521, or
    /// the key).
    pub rustls_suite: bool,
    /// The leaf's key (`RSA 1024`, `ECDSA P-256`), when a chain came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The leaf's RSA modulus length, for RSA keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_bits: Option<usize>,
    /// Whether the Certificate message came (TLS ≤ 1.2 sends it in
    /// cleartext right after the ServerHello).
    pub chain_presented: bool,
    /// How many certificates it held.
    pub chain_len: usize,
    #[serde(skip)]
    version_code: u16,
    #[serde(skip)]
    cipher_code: u16,
    #[serde(skip)]
    chain: Vec<CertificateDer<'static>>,
}

impl LegacyTls {
    /// The handshake, when the server accepted the legacy hello.
    pub fn accepted(&self) -> Option<&LegacyHandshake> {
        match self {
            LegacyTls::Accepted(h) => Some(h),
            _ => None,
        }
    }
}

impl LegacyHandshake {
    /// The chain presented, leaf first; empty when none came.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// Whether the server chose a version below TLS 1.2 (RFC 8996
    /// deprecates them; RFC 8461 §7.2 makes 1.2 the floor).
    pub fn below_tls12(&self) -> bool {
        self.version_code < TLS12
    }

    /// What we know of the chosen suite, when it is one we offered.
    pub fn suite(&self) -> Option<&'static Suite> {
        legacy_hello::offered_suite(self.cipher_code)
    }

    /// Whether the leaf's RSA key is too short for rustls.
    pub fn rsa_key_too_short(&self) -> bool {
        self.key_bits.is_some_and(|b| b < RUSTLS_MIN_RSA_BITS)
    }

    fn new(version: u16, cipher: u16, chain: Vec<CertificateDer<'static>>) -> LegacyHandshake {
        let leaf = chain.first().map(|c| c.as_ref());
        LegacyHandshake {
            version: legacy_hello::version_name(version),
            cipher: legacy_hello::suite_name(cipher),
            rustls_suite: legacy_hello::offered_suite(cipher).is_some_and(|s| s.rustls),
            key: leaf.and_then(|der| facts::facts(der).ok()).map(|f| f.key),
            key_bits: leaf.and_then(facts::rsa_modulus_bits),
            chain_presented: !chain.is_empty(),
            chain_len: chain.len(),
            version_code: version,
            cipher_code: cipher,
            chain,
        }
    }
}

/// Whether a failed rustls handshake may be one that OpenSSL- or Go-based
/// senders get through: the server refused right after our ClientHello
/// (`handshake_failure`, `insufficient_security`, a close or reset before
/// any certificate), chose a suite we did not offer, or presented an RSA
/// key under 2048 bits that rustls will not verify with.
pub fn worth_asking(error: &io::Error, chain: &[CertificateDer<'_>]) -> bool {
    if chain
        .first()
        .and_then(|leaf| facts::rsa_modulus_bits(leaf.as_ref()))
        .is_some_and(|bits| bits < RUSTLS_MIN_RSA_BITS)
    {
        return true;
    }
    if !chain.is_empty() {
        return false;
    }
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match tls {
        Some(rustls::Error::AlertReceived(
            AlertDescription::HandshakeFailure | AlertDescription::InsufficientSecurity,
        ))
        | Some(rustls::Error::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedCipherSuite)) => true,
        Some(_) => false,
        None => matches!(
            error.kind(),
            io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
        ),
    }
}

impl LegacyTls {
    /// The evidence for what the flight reader made of the answer.
    pub fn from_answer(answer: Result<Answer, FlightError>) -> LegacyTls {
        evidence(answer)
    }
}

fn evidence(answer: Result<Answer, FlightError>) -> LegacyTls {
    match answer {
        Ok(Answer::Hello(hello)) => LegacyTls::Accepted(LegacyHandshake::new(
            hello.version,
            hello.cipher,
            hello.chain,
        )),
        Ok(Answer::Alert { description, .. }) => {
            let name = alert_name(AlertDescription::from(description));
            LegacyTls::Refused {
                detail: format!(
                    "the server refused the legacy ClientHello too, with the TLS alert {name}"
                ),
                alert: Some(name),
            }
        }
        Err(FlightError::Closed) => LegacyTls::Refused {
            alert: None,
            detail: "the server closed the connection without answering the legacy ClientHello"
                .to_string(),
        },
        Err(e) => LegacyTls::Failed {
            detail: format!("the answer to the legacy ClientHello is unreadable: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use rustls::PeerIncompatible;
    use serde_json::json;

    use super::*;
    use crate::pki::test_pki::{Pki, leaf_spec};
    use crate::smtp::legacy_hello::ServerHello;

    fn wrap(e: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn only_refusals_right_after_the_hello_are_worth_a_second_look() {
        let pki = Pki::new();
        let ecdsa = pki.chain(&leaf_spec(&["mx.example"]));
        let rows: Vec<(&str, io::Error, &[CertificateDer<'_>], bool)> = vec![
            (
                "handshake_failure before any certificate",
                wrap(rustls::Error::AlertReceived(
                    AlertDescription::HandshakeFailure,
                )),
                &[],
                true,
            ),
            (
                "insufficient_security before any certificate",
                wrap(rustls::Error::AlertReceived(
                    AlertDescription::InsufficientSecurity,
                )),
                &[],
                true,
            ),
            (
                "a suite rustls did not offer",
                wrap(rustls::Error::PeerMisbehaved(
                    PeerMisbehaved::SelectedUnofferedCipherSuite,
                )),
                &[],
                true,
            ),
            (
                "a close right after the hello",
                io::Error::new(io::ErrorKind::UnexpectedEof, "eof"),
                &[],
                true,
            ),
            (
                "a reset right after the hello",
                io::Error::new(io::ErrorKind::ConnectionReset, "reset"),
                &[],
                true,
            ),
            (
                "protocol_version is the version check's business",
                wrap(rustls::Error::AlertReceived(
                    AlertDescription::ProtocolVersion,
                )),
                &[],
                false,
            ),
            (
                "TLS below 1.2 is too",
                wrap(rustls::Error::PeerIncompatible(
                    PeerIncompatible::ServerDoesNotSupportTls12Or13,
                )),
                &[],
                false,
            ),
            (
                "handshake_failure after a certificate is about something else",
                wrap(rustls::Error::AlertReceived(
                    AlertDescription::HandshakeFailure,
                )),
                &ecdsa,
                false,
            ),
            (
                "a close after an ECDSA certificate",
                io::Error::new(io::ErrorKind::UnexpectedEof, "eof"),
                &ecdsa,
                false,
            ),
            (
                "garbage in place of TLS",
                wrap(rustls::Error::InvalidMessage(
                    rustls::InvalidMessage::InvalidContentType,
                )),
                &[],
                false,
            ),
            (
                "a timeout is not a refusal",
                io::Error::new(io::ErrorKind::TimedOut, "slow"),
                &[],
                false,
            ),
        ];
        for (rule, error, chain, want) in rows {
            assert_eq!(worth_asking(&error, chain), want, "{rule}");
        }
    }

    #[test]
    fn answers_become_evidence() {
        let pki = Pki::new();
        let chain = pki.chain(&leaf_spec(&["mx.example"]));
        let hello = |version, cipher, chain: Vec<CertificateDer<'static>>| {
            Ok(Answer::Hello(ServerHello {
                version,
                cipher,
                chain,
            }))
        };
        let rows = [
            (
                "a CBC suite with the chain",
                hello(TLS12, 0xc009, chain.clone()),
                json!({"status": "accepted", "version": "TLSv1.2",
                       "cipher": "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "rustls_suite": false,
                       "key": "ECDSA P-256", "chain_presented": true, "chain_len": chain.len()}),
            ),
            (
                "static RSA without a chain",
                hello(TLS12, 0x002f, vec![]),
                json!({"status": "accepted", "version": "TLSv1.2",
                       "cipher": "TLS_RSA_WITH_AES_128_CBC_SHA", "rustls_suite": false,
                       "chain_presented": false, "chain_len": 0}),
            ),
            (
                "a suite rustls has",
                hello(TLS12, 0xc02f, vec![]),
                json!({"status": "accepted", "version": "TLSv1.2",
                       "cipher": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                       "rustls_suite": true, "chain_presented": false, "chain_len": 0}),
            ),
            (
                "TLS 1.0",
                hello(0x0301, 0x002f, vec![]),
                json!({"status": "accepted", "version": "TLSv1.0",
                       "cipher": "TLS_RSA_WITH_AES_128_CBC_SHA", "rustls_suite": false,
                       "chain_presented": false, "chain_len": 0}),
            ),
            (
                "refused with an alert",
                Ok(Answer::Alert {
                    level: 2,
                    description: 40,
                }),
                json!({"status": "refused", "alert": "handshake_failure",
                       "detail": "the server refused the legacy ClientHello too, with the TLS alert handshake_failure"}),
            ),
            (
                "a close",
                Err(FlightError::Closed),
                json!({"status": "refused", "alert": null,
                       "detail": "the server closed the connection without answering the legacy ClientHello"}),
            ),
            (
                "not TLS",
                Err(FlightError::NotTls { first: b'5' }),
                json!({"status": "failed",
                       "detail": "the answer to the legacy ClientHello is unreadable: the server answered with bytes that are not TLS (first byte 0x35)"}),
            ),
        ];
        for (rule, answer, want) in rows {
            let got = serde_json::to_value(evidence(answer)).expect("serialises");
            assert_eq!(got, want, "{rule}");
        }
        let LegacyTls::Accepted(h) = evidence(hello(0x0302, 0xc013, chain.clone())) else {
            panic!("a hello is accepted");
        };
        assert!(h.below_tls12());
        assert_eq!(h.chain(), &chain[..]);
        assert!(!h.rsa_key_too_short(), "ECDSA has no RSA bits");
        assert_eq!(
            h.suite().map(|s| s.name),
            Some("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")
        );
    }

    #[test]
    fn an_rsa_key_under_2048_bits_is_measured_and_worth_a_second_look() {
        let pki = Pki::new();
        let weak = vec![pki.weak_rsa_leaf(&leaf_spec(&["mx.example"]))];
        let LegacyTls::Accepted(h) = evidence(Ok(Answer::Hello(ServerHello {
            version: TLS12,
            cipher: 0x002f,
            chain: weak.clone(),
        }))) else {
            panic!("a hello is accepted");
        };
        assert_eq!(h.key.as_deref(), Some("RSA 1024"));
        assert_eq!(h.key_bits, Some(1024));
        assert!(h.rsa_key_too_short());
        // rustls got the certificate, then refused to verify the key's
        // signature: worth asking whatever the error says.
        let bad_signature = wrap(rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadSignature,
        ));
        assert!(worth_asking(&bad_signature, &weak));
    }
}
