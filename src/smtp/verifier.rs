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
//! Left out: everything certificates are judged on (names, dates, trust).

use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};

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
    seen: Mutex<Option<Presented>>,
}

impl RecordingVerifier {
    /// A verifier that checks signatures with `provider`'s algorithms.
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        RecordingVerifier {
            provider,
            seen: Mutex::new(None),
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
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
