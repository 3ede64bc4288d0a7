//! A TLS certificate verifier that records instead of judging.
//!
//! The probe must see every server's chain, good or bad, so that the
//! WebPKI, DANE (RFC 7672 §3) and MTA-STS (RFC 8461 §4.2) verdicts can be
//! made later, from the recorded chain, by pure code. This verifier
//! therefore accepts every chain and keeps a copy of it and of the stapled
//! OCSP response (RFC 6066 §8).
//!
//! It does not accept every handshake, though: the server's signature over
//! the handshake (TLS 1.2 ServerKeyExchange, TLS 1.3 CertificateVerify) is
//! still checked against the leaf's key with the provider's algorithms. A
//! server whose key does not match its certificate, or that signs badly,
//! fails the handshake here as it would with any sending MTA.
//!
//! Limited to one key type ([`RecordingVerifier::limited_to`]), it offers
//! only that type's signature schemes in the ClientHello (rustls takes them
//! from [`ServerCertVerifier::supported_verify_schemes`]) and refuses a
//! handshake signed with any other, as a client limited to that key type
//! would.
//!
//! Left out: everything certificates are judged on (names, dates, trust).

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, PeerMisbehaved, SignatureScheme};

use super::key_type::KeyType;

/// What the server presented during one handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The certificates as sent, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The stapled OCSP response, when the server sent one.
    pub ocsp: Option<Vec<u8>>,
}

/// Accepts any chain, keeps it, and checks the handshake signature. Use one
/// per connection: it records the last chain it was shown.
#[derive(Debug)]
pub struct RecordingVerifier {
    provider: Arc<CryptoProvider>,
    /// Offer and accept only this key type's signature schemes.
    only: Option<KeyType>,
    seen: Mutex<Option<Presented>>,
}

impl RecordingVerifier {
    /// A verifier that checks signatures with `provider`'s algorithms.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        RecordingVerifier {
            provider,
            only: None,
            seen: Mutex::new(None),
        }
    }

    /// The same, offering and accepting only `only`'s signature schemes
    /// (all of the provider's when `None`).
    pub fn limited_to(provider: Arc<CryptoProvider>, only: Option<KeyType>) -> Self {
        RecordingVerifier {
            only,
            ..RecordingVerifier::new(provider)
        }
    }

    /// Refuses a handshake signature in a scheme this verifier did not
    /// offer.
    fn offered(&self, scheme: SignatureScheme) -> Result<(), Error> {
        match self.only {
            Some(key) if !key.admits(scheme) => {
                Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into())
            }
            _ => Ok(()),
        }
    }

    /// The chain and staple of the last handshake, taken out.
    pub fn take(&self) -> Option<Presented> {
        // A panic elsewhere while holding the lock leaves a plain value
        // behind, still good to read.
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|cert| cert.clone().into_owned())
            .collect();
        let ocsp = (!ocsp_response.is_empty()).then(|| ocsp_response.to_vec());
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(Presented { chain, ocsp });
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.offered(dss.scheme)?;
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.offered(dss.scheme)?;
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self
            .provider
            .signature_verification_algorithms
            .supported_schemes();
        if let Some(key) = self.only {
            schemes.retain(|s| key.admits(*s));
        }
        schemes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(only: Option<KeyType>) -> RecordingVerifier {
        RecordingVerifier::limited_to(Arc::new(rustls::crypto::ring::default_provider()), only)
    }

    #[test]
    fn a_limited_verifier_offers_only_its_key_types_schemes() {
        let all = verifier(None).supported_verify_schemes();
        assert!(
            all.contains(&SignatureScheme::ED25519),
            "unlimited offers all"
        );
        for key in KeyType::BOTH {
            let offered = verifier(Some(key)).supported_verify_schemes();
            assert!(!offered.is_empty(), "{key} offers something");
            assert!(offered.iter().all(|s| key.admits(*s)), "{key}: {offered:?}");
            let missing: Vec<_> = all
                .iter()
                .filter(|s| key.admits(**s) && !offered.contains(s))
                .collect();
            assert!(missing.is_empty(), "{key} drops {missing:?}");
        }
    }

    #[test]
    fn a_limited_verifier_refuses_a_signature_it_did_not_offer() {
        let unadvertised = Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into());
        let rows = [
            (None, SignatureScheme::ED25519, Ok(())),
            (Some(KeyType::Rsa), SignatureScheme::RSA_PSS_SHA256, Ok(())),
            (
                Some(KeyType::Rsa),
                SignatureScheme::ECDSA_NISTP256_SHA256,
                unadvertised.clone(),
            ),
            (
                Some(KeyType::Ecdsa),
                SignatureScheme::ECDSA_NISTP384_SHA384,
                Ok(()),
            ),
            (
                Some(KeyType::Ecdsa),
                SignatureScheme::RSA_PKCS1_SHA256,
                unadvertised.clone(),
            ),
            (Some(KeyType::Ecdsa), SignatureScheme::ED25519, unadvertised),
        ];
        for (only, scheme, want) in rows {
            assert_eq!(verifier(only).offered(scheme), want, "{only:?} {scheme:?}");
        }
    }
}
