//! The key types a server may hold certificates for, and how a ClientHello
//! is limited to one of them.
//!
//! A server with both an RSA and an ECDSA certificate shows one chain per
//! handshake, chosen by what the client offers. Under TLS 1.3 that is the
//! `signature_algorithms` extension (RFC 8446 §4.2.3, §4.4.2.2); under
//! TLS 1.2 also the cipher suite's authentication, ECDHE_RSA or
//! ECDHE_ECDSA (RFC 5246 §7.4.1.4.1, RFC 8422 §2). A probe that offers one
//! key type's signature schemes and TLS 1.2 suites sees the chain a sender
//! limited to that key type gets: older OpenSSL builds and some appliances
//! offer RSA only.
//!
//! Ed25519 goes with neither. It is a key type of its own: a client limited
//! to "ECDSA" that also offered it could be shown an Ed25519 certificate
//! and we would report it as the ECDSA one, and no deployed sender is
//! limited to Ed25519. So each variant offers exactly the schemes of its
//! name (RSA: `rsa_pss_*` and `rsa_pkcs1_*`; ECDSA: `ecdsa_*`).

use rustls::{SignatureScheme, SupportedCipherSuite};
use serde::Serialize;

/// One key type a ClientHello can be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Rsa,
    Ecdsa,
}

impl KeyType {
    /// Both, in the order the variants are made and shown.
    pub const BOTH: [KeyType; 2] = [KeyType::Rsa, KeyType::Ecdsa];

    /// The word in the JSON: `rsa`, `ecdsa`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ecdsa => "ecdsa",
        }
    }

    /// The name for people: `RSA`, `ECDSA`.
    pub fn label(self) -> &'static str {
        match self {
            KeyType::Rsa => "RSA",
            KeyType::Ecdsa => "ECDSA",
        }
    }

    /// The other key type.
    pub fn other(self) -> KeyType {
        match self {
            KeyType::Rsa => KeyType::Ecdsa,
            KeyType::Ecdsa => KeyType::Rsa,
        }
    }

    /// Whether a client limited to this key type offers `scheme`.
    pub fn admits(self, scheme: SignatureScheme) -> bool {
        use SignatureScheme as S;
        let of = match scheme {
            S::RSA_PKCS1_SHA1
            | S::RSA_PKCS1_SHA256
            | S::RSA_PKCS1_SHA384
            | S::RSA_PKCS1_SHA512
            | S::RSA_PSS_SHA256
            | S::RSA_PSS_SHA384
            | S::RSA_PSS_SHA512 => KeyType::Rsa,
            S::ECDSA_SHA1_Legacy
            | S::ECDSA_NISTP256_SHA256
            | S::ECDSA_NISTP384_SHA384
            | S::ECDSA_NISTP521_SHA512 => KeyType::Ecdsa,
            _ => return false,
        };
        of == self
    }

    /// Whether a client limited to this key type offers `suite`: every
    /// TLS 1.3 suite (they leave authentication to the signature schemes),
    /// and the TLS 1.2 suites authenticated by this key type.
    pub fn admits_suite(self, suite: &SupportedCipherSuite) -> bool {
        let algorithm = match self {
            KeyType::Rsa => rustls::SignatureAlgorithm::RSA,
            KeyType::Ecdsa => rustls::SignatureAlgorithm::ECDSA,
        };
        suite.usable_for_signature_algorithm(algorithm)
    }

    /// The key type of a certificate's key as `pki::facts` names it
    /// (`RSA 2048`, `ECDSA P-256`); `None` for any other (Ed25519).
    pub fn of_key_name(key: &str) -> Option<KeyType> {
        let first = key.split_whitespace().next()?;
        KeyType::BOTH
            .into_iter()
            .find(|k| first.eq_ignore_ascii_case(k.label()))
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::ring::{ALL_CIPHER_SUITES, default_provider};

    #[test]
    fn each_variant_offers_exactly_the_schemes_of_its_key_type() {
        use SignatureScheme as S;
        let rows = [
            (S::RSA_PSS_SHA256, Some(KeyType::Rsa)),
            (S::RSA_PSS_SHA512, Some(KeyType::Rsa)),
            (S::RSA_PKCS1_SHA256, Some(KeyType::Rsa)),
            (S::RSA_PKCS1_SHA1, Some(KeyType::Rsa)),
            (S::ECDSA_NISTP256_SHA256, Some(KeyType::Ecdsa)),
            (S::ECDSA_NISTP384_SHA384, Some(KeyType::Ecdsa)),
            (S::ECDSA_NISTP521_SHA512, Some(KeyType::Ecdsa)),
            (S::ED25519, None),
            (S::ED448, None),
        ];
        for (scheme, want) in rows {
            for key in KeyType::BOTH {
                assert_eq!(
                    key.admits(scheme),
                    want == Some(key),
                    "{key} and {scheme:?}"
                );
            }
        }
    }

    #[test]
    fn every_scheme_the_provider_verifies_but_ed25519_goes_to_one_variant() {
        let schemes = default_provider()
            .signature_verification_algorithms
            .supported_schemes();
        for scheme in schemes {
            let takers = KeyType::BOTH
                .into_iter()
                .filter(|k| k.admits(scheme))
                .count();
            let want = usize::from(scheme != SignatureScheme::ED25519);
            assert_eq!(takers, want, "{scheme:?}");
        }
    }

    #[test]
    fn tls12_suites_follow_their_authentication_and_tls13_suites_go_to_both() {
        for suite in ALL_CIPHER_SUITES {
            let name = suite.suite().as_str().unwrap_or_default();
            let (rsa, ecdsa) = (
                KeyType::Rsa.admits_suite(suite),
                KeyType::Ecdsa.admits_suite(suite),
            );
            match suite.tls13() {
                Some(_) => assert!(rsa && ecdsa, "{name}"),
                None => {
                    assert_eq!(rsa, name.contains("_RSA_"), "{name}");
                    assert_eq!(ecdsa, name.contains("_ECDSA_"), "{name}");
                }
            }
        }
    }

    #[test]
    fn key_names_from_certificate_facts() {
        for (name, want) in [
            ("RSA 2048", Some(KeyType::Rsa)),
            ("ECDSA P-256", Some(KeyType::Ecdsa)),
            ("Ed25519", None),
            ("", None),
        ] {
            assert_eq!(KeyType::of_key_name(name), want, "{name:?}");
        }
    }
}
