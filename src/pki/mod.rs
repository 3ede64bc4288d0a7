//! Certificates as a sending MTA sees them.
//!
//! - [`facts`]: what a presented certificate states (names, dates, keys,
//!   fingerprints), read with x509-parser.
//! - [`webpki`]: the MTA-STS certificate check (RFC 8461 §4.2): the chain
//!   leads to a trusted root, every certificate of it is current, and a
//!   subjectAltName DNS-ID matches the MX host (RFC 6125 §6.4, wildcard only
//!   as the whole left-most label, no CN fallback). Every defect is listed,
//!   each with its RFC 8460 §4.3 result type.
//!
//! Both are pure: the input is the chain recorded from a handshake, a time
//! and names. Revocation (OCSP, CRL) is out of scope, as it is for MTA-STS
//! senders.

pub mod facts;
pub mod webpki;

/// A 1024-bit RSA public key, for certificates that rustls refuses: the lab's
/// legacy-only server shows one, tests judge one. Only the public half
/// exists (`testdata/lab/rsa-1024.pub.pem`): nothing ever signs with it.
#[cfg(any(test, feature = "lab"))]
pub(crate) mod weak_rsa {
    /// The key as rcgen needs it to issue a certificate for it.
    pub(crate) struct WeakRsaKey {
        spki: Vec<u8>,
        bits: Vec<u8>,
    }

    impl WeakRsaKey {
        /// The fixed key. `None` only if the file in the source tree is
        /// broken.
        pub(crate) fn load() -> Option<WeakRsaKey> {
            let pem = include_str!("../../testdata/lab/rsa-1024.pub.pem");
            let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            let spki = data_encoding::BASE64.decode(b64.as_bytes()).ok()?;
            let (_, info) =
                <x509_parser::x509::SubjectPublicKeyInfo as x509_parser::prelude::FromDer<
                    '_,
                    x509_parser::error::X509Error,
                >>::from_der(&spki)
                .ok()?;
            let bits = info.subject_public_key.data.to_vec();
            Some(WeakRsaKey { spki, bits })
        }
    }

    impl rcgen::PublicKeyData for WeakRsaKey {
        fn subject_public_key_info(&self) -> Vec<u8> {
            self.spki.clone()
        }

        fn der_bytes(&self) -> &[u8] {
            &self.bits
        }

        fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
            &rcgen::PKCS_RSA_SHA256
        }
    }
}

/// Certificates for tests, made with rcgen at test time: a root CA, an
/// intermediate CA, and leaves with chosen names and dates.
#[cfg(test)]
pub(crate) mod test_pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    };
    use rustls::pki_types::{CertificateDer, UnixTime};
    use std::time::Duration;

    /// Unix seconds at midnight UTC of a date (the date is a test constant).
    pub(crate) fn at(year: i32, month: u8, day: u8) -> i64 {
        rcgen::date_time_ymd(year, month, day).unix_timestamp()
    }

    /// The fixed "now" of the tests: 2026-06-01, inside the default validity.
    pub(crate) fn now() -> UnixTime {
        unix_time(at(2026, 6, 1))
    }

    /// A [`UnixTime`] from test seconds (all after 1970).
    pub(crate) fn unix_time(secs: i64) -> UnixTime {
        let secs = u64::try_from(secs).expect("test times are after 1970");
        UnixTime::since_unix_epoch(Duration::from_secs(secs))
    }

    /// What a test leaf looks like.
    #[derive(Clone)]
    pub(crate) struct LeafSpec<'a> {
        pub(crate) sans: Vec<&'a str>,
        pub(crate) cn: Option<&'a str>,
        pub(crate) not_before: (i32, u8, u8),
        pub(crate) not_after: (i32, u8, u8),
    }

    /// A leaf valid 2025-01-01 to 2035-01-01 with these DNS SANs.
    pub(crate) fn leaf_spec<'a>(sans: &[&'a str]) -> LeafSpec<'a> {
        LeafSpec {
            sans: sans.to_vec(),
            cn: None,
            not_before: (2025, 1, 1),
            not_after: (2035, 1, 1),
        }
    }

    fn params(spec: &LeafSpec<'_>) -> CertificateParams {
        let sans = spec.sans.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut params = CertificateParams::new(sans).expect("test SANs are valid");
        params.distinguished_name = DistinguishedName::new();
        if let Some(cn) = spec.cn {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        let (y, m, d) = spec.not_before;
        params.not_before = rcgen::date_time_ymd(y, m, d);
        let (y, m, d) = spec.not_after;
        params.not_after = rcgen::date_time_ymd(y, m, d);
        params
    }

    fn ca_params(cn: &str) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Mxtls Lab");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2040, 1, 1);
        params
    }

    /// A self-signed leaf (its own issuer, not a CA).
    pub(crate) fn self_signed(spec: &LeafSpec<'_>) -> CertificateDer<'static> {
        let key = KeyPair::generate().expect("ring generates P-256 keys");
        let mut params = params(spec);
        if spec.cn.is_none() {
            params
                .distinguished_name
                .push(DnType::CommonName, "self-signed");
        }
        params.self_signed(&key).expect("self-signs").der().clone()
    }

    /// Root CA → intermediate CA, both valid 2020–2040.
    pub(crate) struct Pki {
        pub(crate) root: CertificateDer<'static>,
        pub(crate) intermediate: CertificateDer<'static>,
        root_issuer: Issuer<'static, KeyPair>,
        intermediate_issuer: Issuer<'static, KeyPair>,
    }

    impl Pki {
        pub(crate) fn new() -> Self {
            let root_key = KeyPair::generate().expect("ring generates P-256 keys");
            let root_params = ca_params("Test Root");
            let root = root_params.self_signed(&root_key).expect("self-signs");
            let root_issuer = Issuer::new(root_params, root_key);

            let inter_key = KeyPair::generate().expect("ring generates P-256 keys");
            let inter_params = ca_params("Test Intermediate");
            let intermediate = inter_params
                .signed_by(&inter_key, &root_issuer)
                .expect("root signs");
            Pki {
                root: root.der().clone(),
                intermediate: intermediate.der().clone(),
                root_issuer,
                intermediate_issuer: Issuer::new(inter_params, inter_key),
            }
        }

        /// A leaf issued by the intermediate.
        pub(crate) fn leaf(&self, spec: &LeafSpec<'_>) -> CertificateDer<'static> {
            let key = KeyPair::generate().expect("ring generates P-256 keys");
            params(spec)
                .signed_by(&key, &self.intermediate_issuer)
                .expect("intermediate signs")
                .der()
                .clone()
        }

        /// A leaf for the 1024-bit RSA key of [`super::weak_rsa`], issued
        /// by the intermediate.
        pub(crate) fn weak_rsa_leaf(&self, spec: &LeafSpec<'_>) -> CertificateDer<'static> {
            let key = super::weak_rsa::WeakRsaKey::load().expect("the fixture key parses");
            params(spec)
                .signed_by(&key, &self.intermediate_issuer)
                .expect("intermediate signs")
                .der()
                .clone()
        }

        /// The intermediate again (same name and key) with other dates, as a
        /// CA renewal produces.
        pub(crate) fn intermediate_reissued(
            &self,
            not_before: (i32, u8, u8),
            not_after: (i32, u8, u8),
        ) -> CertificateDer<'static> {
            let mut params = ca_params("Test Intermediate");
            params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
            params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
            params
                .signed_by(self.intermediate_issuer.key(), &self.root_issuer)
                .expect("root signs")
                .der()
                .clone()
        }

        /// `[leaf, intermediate]`, as a server sends it.
        pub(crate) fn chain(&self, spec: &LeafSpec<'_>) -> Vec<CertificateDer<'static>> {
            vec![self.leaf(spec), self.intermediate.clone()]
        }
    }
}
