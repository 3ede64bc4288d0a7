//! Turning the catalogue text into a catalogue with real certificates.
//!
//! TLSA records must hold digests of certificates the lab makes at start-up,
//! so the zone text names them by placeholder and they are filled in before
//! the zones are parsed and signed:
//!
//! - `{spki:IP}`: SHA-256 of the SPKI of the leaf the SMTP server at IP shows
//! - `{cert:IP}`: SHA-256 of that whole leaf certificate
//! - `{spki-rsa:IP}`, `{cert-rsa:IP}`: the same for the RSA leaf of a server
//!   with `also_rsa`; `{spki-ecdsa:IP}`, `{cert-ecdsa:IP}` name its first
//!   (ECDSA) leaf, like `{spki:IP}` and `{cert:IP}`
//! - `{intermediate}`: SHA-256 of the lab's intermediate CA certificate

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use super::LabError;
use super::ca::{IssueSpec, Issued, LabCa};
use super::catalogue::Catalogue;

/// Which certificate an SMTP server shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LeafKind {
    /// Issued by the lab CA (through the intermediate), naming every host.
    #[default]
    Good,
    Expired,
    /// Valid, but only for five more days.
    ExpiresSoon,
    NotYetValid,
    /// Valid, for `wrong-name.invalid`.
    WrongName,
    SelfSigned,
    /// From a CA the scanner is not told to trust.
    Untrusted,
    /// Like `Good`, for a 1024-bit RSA key with no private half: only the
    /// `legacy-tls-only` behaviour can show it.
    WeakRsa,
}

/// One `[[smtp]]` entry of the catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSpec {
    pub ip: IpAddr,
    /// How the server behaves (see `lab::smtp`), e.g. `good`, `no-starttls`.
    pub behaviour: String,
    #[serde(default)]
    pub cert: LeafKind,
    /// Names the certificate carries (the first is its CN).
    #[serde(default)]
    pub names: Vec<String>,
    /// Optional note for `mxtls-lab --list`.
    #[serde(default)]
    pub about: String,
    /// Also name `<scenario>.<tld>` and `*.<scenario>.<tld>` for every
    /// scenario: one server that is a good MX for all of them.
    #[serde(default)]
    pub every_scenario: bool,
    /// Also hold a good RSA certificate for the same names, shown to
    /// clients that offer only RSA signature schemes (the first
    /// certificate is ECDSA).
    #[serde(default)]
    pub also_rsa: bool,
    /// Also hold a good certificate with a new key, shown once the lab is
    /// told the key changed (`Lab::change_key`); `{spki-next:IP}` and
    /// `{cert-next:IP}` name it.
    #[serde(default)]
    pub next_key: bool,
}

#[derive(Deserialize)]
struct NameOnly {
    name: String,
}

#[derive(Deserialize)]
struct SmtpOnly {
    #[serde(default)]
    tld: String,
    #[serde(default)]
    smtp: Vec<SmtpSpec>,
    #[serde(default)]
    scenario: Vec<NameOnly>,
}

/// The catalogue with its certificates.
pub struct Prepared {
    pub catalogue: Catalogue,
    pub ca: LabCa,
    /// Each SMTP server's spec, the certificate it shows, and its RSA
    /// certificate when it also has one (`also_rsa`).
    pub smtp: Vec<(SmtpSpec, Issued, Option<Issued>)>,
    /// The next certificate (new key) of each server with `next_key`.
    pub next: BTreeMap<IpAddr, Issued>,
}

/// Makes the lab CA and every SMTP certificate, fills in the placeholders
/// and parses the catalogue.
pub fn prepare(text: &str) -> Result<Prepared, LabError> {
    let server = |what: &str, e: String| LabError::Server {
        what: what.to_string(),
        detail: e,
    };
    let specs: SmtpOnly =
        toml::from_str(text).map_err(|e| server("catalogue [[smtp]]", e.to_string()))?;
    let ca = LabCa::new("mxtls lab CA").map_err(|e| server("lab CA", e.to_string()))?;
    let mut smtp = Vec::new();
    let mut next = BTreeMap::new();
    let mut digests: BTreeMap<String, String> = BTreeMap::new();
    digests.insert(
        "{intermediate}".into(),
        sha256_hex(ca.intermediate_der().as_ref()),
    );
    for mut spec in specs.smtp {
        if spec.every_scenario {
            for sc in &specs.scenario {
                spec.names.push(format!("{}.{}", sc.name, specs.tld));
                spec.names.push(format!("*.{}.{}", sc.name, specs.tld));
            }
        }
        let first = spec
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| format!("{}.lab", spec.ip));
        let issued = match spec.cert {
            LeafKind::Good => ca.issue(&IssueSpec {
                names: spec.names.clone(),
                ..IssueSpec::good(&first).through_intermediate()
            }),
            LeafKind::Expired => ca.issue(&IssueSpec {
                names: spec.names.clone(),
                ..IssueSpec::expired(&first).through_intermediate()
            }),
            LeafKind::ExpiresSoon => ca.issue(&IssueSpec {
                names: spec.names.clone(),
                not_after: time::OffsetDateTime::now_utc() + time::Duration::days(5),
                ..IssueSpec::good(&first).through_intermediate()
            }),
            LeafKind::NotYetValid => ca.issue(&IssueSpec {
                names: spec.names.clone(),
                ..IssueSpec::not_yet_valid(&first).through_intermediate()
            }),
            LeafKind::WrongName => ca.issue(&IssueSpec::wrong_name().through_intermediate()),
            LeafKind::WeakRsa => ca.issue_weak_rsa(&IssueSpec {
                names: spec.names.clone(),
                ..IssueSpec::good(&first).through_intermediate()
            }),
            LeafKind::SelfSigned => LabCa::self_signed_leaf(&first),
            LeafKind::Untrusted => LabCa::untrusted_leaf(&first),
        }
        .map_err(|e| {
            server(
                &format!("certificate for the SMTP server {}", spec.ip),
                e.to_string(),
            )
        })?;
        let leaf = issued
            .chain
            .first()
            .map(|c| c.as_ref().to_vec())
            .unwrap_or_default();
        let mut placeholders = vec![(String::new(), leaf)];
        let rsa = if spec.also_rsa {
            let rsa = ca
                .issue_rsa(&IssueSpec {
                    names: spec.names.clone(),
                    ..IssueSpec::good(&first).through_intermediate()
                })
                .map_err(|e| {
                    server(
                        &format!("RSA certificate for the SMTP server {}", spec.ip),
                        e.to_string(),
                    )
                })?;
            let rsa_leaf = rsa.chain.first().map(|c| c.as_ref().to_vec());
            placeholders.push(("-rsa".into(), rsa_leaf.unwrap_or_default()));
            placeholders.push(("-ecdsa".into(), placeholders[0].1.clone()));
            Some(rsa)
        } else {
            None
        };
        if spec.next_key {
            let issued = ca
                .issue(&IssueSpec {
                    names: spec.names.clone(),
                    ..IssueSpec::good(&first).through_intermediate()
                })
                .map_err(|e| {
                    server(
                        &format!("next certificate for the SMTP server {}", spec.ip),
                        e.to_string(),
                    )
                })?;
            let leaf = issued.chain.first().map(|c| c.as_ref().to_vec());
            placeholders.push(("-next".into(), leaf.unwrap_or_default()));
            next.insert(spec.ip, issued);
        }
        for (suffix, leaf) in placeholders {
            let ip = spec.ip;
            digests.insert(format!("{{cert{suffix}:{ip}}}"), sha256_hex(&leaf));
            digests.insert(format!("{{spki{suffix}:{ip}}}"), sha256_hex(&spki(&leaf)));
        }
        smtp.push((spec, issued, rsa));
    }
    let mut filled = text.to_string();
    for (placeholder, hex) in &digests {
        filled = filled.replace(placeholder.as_str(), hex);
    }
    let catalogue = Catalogue::parse(&filled)?;
    Ok(Prepared {
        catalogue,
        ca,
        smtp,
        next,
    })
}

/// Reads and prepares a catalogue file.
pub fn prepare_file(path: &std::path::Path) -> Result<Prepared, LabError> {
    let text = std::fs::read_to_string(path).map_err(|source| LabError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    prepare(&text)
}

/// The DER SubjectPublicKeyInfo of a certificate (TLSA selector 1).
pub(crate) fn spki(der: &[u8]) -> Vec<u8> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.tbs_certificate.subject_pki.raw.to_vec())
        .unwrap_or_default()
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}
