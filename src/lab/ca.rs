//! The lab's certificate authority: real X.509 certificates made at start-up.
//!
//! Every TLS server of the lab (the MTA-STS policy host, the SMTP servers)
//! presents certificates issued here, so the scanner's WebPKI and DANE
//! checks run against real chains: a root CA (ECDSA P-256, made fresh for
//! each lab), optionally an intermediate CA, and leaves with the names,
//! validity dates and defects each scenario needs — good, expired, not yet
//! valid, wrong name, CN without subjectAltName, issued by a CA nobody
//! trusts. The scanner trusts the lab by being given [`LabCa::root_pem`]
//! (`--ca-file`) or [`LabCa::root_store`].
//!
//! Left out: revocation (no CRL, no OCSP), RSA keys (but for one fixed
//! 1024-bit public key, [`LabCa::issue_weak_rsa`]), name constraints.
//! Keys live in memory only and die with the lab.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// How long a good leaf stays valid, counted from now.
const GOOD_LEAF_DAYS: i64 = 30;
/// How long ago an expired leaf stopped being valid.
const EXPIRED_DAYS_AGO: i64 = 10;
/// Name given to leaves issued for the wrong host: under `.invalid`
/// (RFC 2606 §2), so it can never be a real name.
const WRONG_NAME: &str = "wrong-name.invalid";

/// Why the lab could not make a certificate.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CaError {
    /// A key pair could not be generated.
    #[error("cannot generate a key for {subject}: {source}")]
    Key {
        /// Whose key it was meant to be.
        subject: String,
        /// What rcgen said.
        #[source]
        source: rcgen::Error,
    },
    /// A name given for the certificate is not a usable subjectAltName.
    #[error("cannot use {name:?} as a certificate name: {source}")]
    Name {
        /// The name as given.
        name: String,
        /// What rcgen said.
        #[source]
        source: rcgen::Error,
    },
    /// Signing the certificate failed.
    #[error("cannot sign the certificate for {subject}: {source}")]
    Sign {
        /// The subject being signed.
        subject: String,
        /// What rcgen said.
        #[source]
        source: rcgen::Error,
    },
    /// The root certificate was refused by the trust store.
    #[error("cannot add the lab root {subject} to a trust store: {source}")]
    Trust {
        /// The root's subject.
        subject: String,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
}

/// What to put in a leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueSpec {
    /// subjectAltName entries: DNS names (wildcards such as `*.example.test`
    /// allowed) or IP addresses. Empty means no subjectAltName extension.
    pub names: Vec<String>,
    /// Subject common name; `None` uses the first of `names`, or a fixed
    /// label when there is none.
    pub common_name: Option<String>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Issue through an intermediate CA (root → intermediate → leaf); the
    /// chain then carries the intermediate after the leaf.
    pub via_intermediate: bool,
}

impl IssueSpec {
    /// A leaf for `name`, valid from a day ago for 30 days.
    pub fn good(name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        IssueSpec {
            names: vec![name.to_string()],
            common_name: None,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(GOOD_LEAF_DAYS),
            via_intermediate: false,
        }
    }

    /// A leaf for `name` whose validity ended ten days ago.
    pub fn expired(name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        IssueSpec {
            not_before: now - Duration::days(EXPIRED_DAYS_AGO + GOOD_LEAF_DAYS),
            not_after: now - Duration::days(EXPIRED_DAYS_AGO),
            ..IssueSpec::good(name)
        }
    }

    /// A leaf for `name` whose validity starts in ten days.
    pub fn not_yet_valid(name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        IssueSpec {
            not_before: now + Duration::days(EXPIRED_DAYS_AGO),
            not_after: now + Duration::days(EXPIRED_DAYS_AGO + GOOD_LEAF_DAYS),
            ..IssueSpec::good(name)
        }
    }

    /// A good leaf that names `wrong-name.invalid` instead of the host the
    /// server plays.
    pub fn wrong_name() -> Self {
        IssueSpec::good(WRONG_NAME)
    }

    /// A good leaf with `name` as subject CN and no subjectAltName: RFC 6125
    /// §6.4.4 and RFC 8461 §3.3 ("matching is performed only against the
    /// DNS-ID identifiers") make it invalid for the name.
    pub fn cn_only(name: &str) -> Self {
        IssueSpec {
            names: Vec::new(),
            common_name: Some(name.to_string()),
            ..IssueSpec::good(name)
        }
    }

    /// The same leaf, issued through the intermediate CA.
    pub fn through_intermediate(self) -> Self {
        IssueSpec {
            via_intermediate: true,
            ..self
        }
    }
}

/// A certificate chain and its private key, ready for a TLS server.
#[derive(Debug)]
pub struct Issued {
    /// Leaf first, then the intermediate when there is one. The root is not
    /// included: servers do not send it.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Issued {
    fn clone(&self) -> Self {
        Issued {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// A root CA and an intermediate under it, both made fresh in memory.
pub struct LabCa {
    name: String,
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for LabCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabCa").field("name", &self.name).finish()
    }
}

impl LabCa {
    /// Makes a root CA named `name` (the subject CN) with an intermediate
    /// CA under it. Both are valid from a year ago for ten years.
    pub fn new(name: &str) -> Result<LabCa, CaError> {
        let now = OffsetDateTime::now_utc();
        let mut params = ca_params(name, now);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let root = CertifiedIssuer::self_signed(params, new_key(name)?).map_err(|source| {
            CaError::Sign {
                subject: name.to_string(),
                source,
            }
        })?;

        let intermediate_name = format!("{name} intermediate");
        let mut params = ca_params(&intermediate_name, now);
        // Path length 0: the intermediate signs leaves only.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let intermediate = CertifiedIssuer::signed_by(params, new_key(&intermediate_name)?, &root)
            .map_err(|source| CaError::Sign {
                subject: intermediate_name.clone(),
                source,
            })?;
        Ok(LabCa {
            name: name.to_string(),
            root,
            intermediate,
        })
    }

    /// The root's subject CN, as given to [`LabCa::new`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The root certificate, DER.
    pub fn root_der(&self) -> CertificateDer<'static> {
        self.root.der().clone()
    }

    /// The root certificate, PEM (what `--ca-file` reads).
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// The intermediate CA certificate, DER (a DANE-TA(2) record can
    /// point at it).
    pub fn intermediate_der(&self) -> CertificateDer<'static> {
        self.intermediate.der().clone()
    }

    /// A trust store holding this root only.
    pub fn root_store(&self) -> Result<RootCertStore, CaError> {
        let mut store = RootCertStore::empty();
        store
            .add(self.root_der())
            .map_err(|source| CaError::Trust {
                subject: self.name.clone(),
                source,
            })?;
        Ok(store)
    }

    /// Issues a leaf as `spec` says: a fresh P-256 key, serverAuth, signed
    /// by the root or by the intermediate.
    pub fn issue(&self, spec: &IssueSpec) -> Result<Issued, CaError> {
        let key = new_key(&subject_of(spec))?;
        let chain = self.sign_leaf(spec, &key)?;
        Ok(Issued {
            chain,
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }

    /// A leaf as `spec` says for the fixed 1024-bit RSA key of
    /// `pki::weak_rsa`, which rustls and OpenSSL at security level 2
    /// refuse. Only that key's public half exists, so `key` is an unrelated
    /// P-256 key: no handshake can be finished with this leaf (the
    /// legacy-TLS-only server never gets that far).
    pub fn issue_weak_rsa(&self, spec: &IssueSpec) -> Result<Issued, CaError> {
        let subject = subject_of(spec);
        let weak = crate::pki::weak_rsa::WeakRsaKey::load().ok_or_else(|| CaError::Key {
            subject: subject.clone(),
            source: rcgen::Error::CouldNotParseKeyPair,
        })?;
        let chain = self.sign_leaf(spec, &weak)?;
        Ok(Issued {
            chain,
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(new_key(&subject)?.serialize_der())),
        })
    }

    /// The leaf for `public` as `spec` says, then the intermediate when it
    /// signed.
    fn sign_leaf(
        &self,
        spec: &IssueSpec,
        public: &impl rcgen::PublicKeyData,
    ) -> Result<Vec<CertificateDer<'static>>, CaError> {
        let subject = subject_of(spec);
        let mut params = CertificateParams::default();
        params.subject_alt_names = spec
            .names
            .iter()
            .map(|name| san(name))
            .collect::<Result<_, _>>()?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, subject.as_str());
        params.distinguished_name = dn;
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;

        let issuer = if spec.via_intermediate {
            &self.intermediate
        } else {
            &self.root
        };
        let leaf = params
            .signed_by(public, issuer)
            .map_err(|source| CaError::Sign {
                subject: subject.clone(),
                source,
            })?;
        let mut chain = vec![leaf.der().clone()];
        if spec.via_intermediate {
            chain.push(self.intermediate_der());
        }
        Ok(chain)
    }

    /// A leaf for `name`, valid now for 30 days.
    pub fn good_leaf(&self, name: &str) -> Result<Issued, CaError> {
        self.issue(&IssueSpec::good(name))
    }

    /// A leaf for `name` whose validity ended ten days ago.
    pub fn expired_leaf(&self, name: &str) -> Result<Issued, CaError> {
        self.issue(&IssueSpec::expired(name))
    }

    /// A valid leaf for `wrong-name.invalid`, to be served as another host.
    pub fn wrong_name_leaf(&self) -> Result<Issued, CaError> {
        self.issue(&IssueSpec::wrong_name())
    }

    /// A leaf with `name` as CN only, no subjectAltName.
    pub fn cn_only_leaf(&self, name: &str) -> Result<Issued, CaError> {
        self.issue(&IssueSpec::cn_only(name))
    }

    /// A self-signed leaf for `name`: no CA vouches for it.
    pub fn self_signed_leaf(name: &str) -> Result<Issued, CaError> {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![san(name)?];
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(30);
        params.is_ca = IsCa::ExplicitNoCa;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = new_key(name)?;
        let cert = params.self_signed(&key).map_err(|source| CaError::Sign {
            subject: name.to_string(),
            source,
        })?;
        Ok(Issued {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }

    /// A good leaf for `name`, issued by a second, throw-away CA that no
    /// test trusts: a WebPKI check must say "unknown issuer".
    pub fn untrusted_leaf(name: &str) -> Result<Issued, CaError> {
        LabCa::new("mxtls lab untrusted CA")?.good_leaf(name)
    }
}

/// Parameters shared by the root and the intermediate.
fn ca_params(name: &str, now: OffsetDateTime) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "mxtls lab");
    params.distinguished_name = dn;
    params.not_before = now - Duration::days(365);
    params.not_after = now + Duration::days(3650);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// The subject CN of a leaf: the one asked for, else the first name.
fn subject_of(spec: &IssueSpec) -> String {
    spec.common_name
        .clone()
        .or_else(|| spec.names.first().cloned())
        .unwrap_or_else(|| "mxtls lab leaf".to_string())
}

fn new_key(subject: &str) -> Result<KeyPair, CaError> {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|source| CaError::Key {
        subject: subject.to_string(),
        source,
    })
}

/// An IP address becomes an iPAddress SAN, anything else a dNSName.
fn san(name: &str) -> Result<SanType, CaError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    name.to_string()
        .try_into()
        .map(SanType::DnsName)
        .map_err(|source| CaError::Name {
            name: name.to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{ServerName, UnixTime};
    use rustls::{CertificateError, Error};

    use super::*;

    /// Runs the WebPKI check a TLS client would run on `issued` for `host`.
    fn verdict(trusted: &LabCa, issued: &Issued, host: &str) -> Result<(), Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(
            trusted
                .root_store()
                .expect("a fresh lab root is a valid anchor"),
        );
        let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .expect("a store with one root builds a verifier");
        let name = ServerName::try_from(host.to_string()).expect("test host names are valid");
        verifier
            .verify_server_cert(
                &issued.chain[0],
                &issued.chain[1..],
                &name,
                &[],
                UnixTime::now(),
            )
            .map(|_| ())
    }

    #[test]
    fn each_leaf_gets_the_webpki_verdict_it_was_made_for() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let host = "mta-sts.example.test";
        type Make = fn(&LabCa, &str) -> Result<Issued, CaError>;
        let rows: [(&str, Make, Option<CertificateError>); 7] = [
            ("good leaf is accepted", |ca, h| ca.good_leaf(h), None),
            (
                "leaf through the intermediate is accepted",
                |ca, h| ca.issue(&IssueSpec::good(h).through_intermediate()),
                None,
            ),
            (
                "wildcard leaf covers one label",
                |ca, _| ca.good_leaf("*.example.test"),
                None,
            ),
            (
                "expired leaf is refused as expired",
                |ca, h| ca.expired_leaf(h),
                Some(CertificateError::Expired),
            ),
            (
                "wrong-name leaf is refused as not valid for the name",
                |ca, _| ca.wrong_name_leaf(),
                Some(CertificateError::NotValidForName),
            ),
            (
                "cn-only leaf is refused as not valid for the name",
                |ca, h| ca.cn_only_leaf(h),
                Some(CertificateError::NotValidForName),
            ),
            (
                "leaf of another CA is refused as unknown issuer",
                |_, h| LabCa::untrusted_leaf(h),
                Some(CertificateError::UnknownIssuer),
            ),
        ];
        for (rule, make, want) in rows {
            let issued = make(&ca, host).expect("issuing a lab leaf");
            let got = verdict(&ca, &issued, host);
            match (&want, &got) {
                (None, Ok(())) => {}
                (Some(want), Err(Error::InvalidCertificate(got))) => {
                    // The *Context variants carry dates and names; compare
                    // the family only.
                    let got_family = match got {
                        CertificateError::ExpiredContext { .. } => CertificateError::Expired,
                        CertificateError::NotValidForNameContext { .. } => {
                            CertificateError::NotValidForName
                        }
                        other => other.clone(),
                    };
                    assert_eq!(&got_family, want, "{rule}: got {got:?}");
                }
                _ => panic!("{rule}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn chain_is_leaf_first_and_carries_the_intermediate_only_when_asked() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let direct = ca.good_leaf("a.example.test").expect("leaf");
        let via = ca
            .issue(&IssueSpec::good("a.example.test").through_intermediate())
            .expect("leaf");
        assert_eq!(direct.chain.len(), 1, "direct leaf chain");
        assert_eq!(via.chain.len(), 2, "intermediate chain");
        assert_eq!(
            via.chain[1],
            ca.intermediate_der(),
            "second is the intermediate"
        );
        assert!(ca.root_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn bad_names_are_refused_with_the_name() {
        let ca = LabCa::new("mxtls lab test CA").expect("lab CA");
        let err = ca
            .issue(&IssueSpec::good("bad\u{e9}name.test"))
            .expect_err("a non-ASCII name is not a dNSName");
        assert!(err.to_string().contains("bad\u{e9}name.test"), "{err}");
    }
}
