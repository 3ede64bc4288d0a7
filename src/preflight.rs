//! Pre-flight: judging a planned change before it is published.
//!
//! `--sts-policy FILE` judges a planned MTA-STS policy as if it were
//! served, `--tlsa RR` a planned TLSA set as if published and signed for
//! every MX host, `--mx HOST` a planned MX set — each against what the MX
//! hosts serve today. Everything judged from planned data says so
//! (`planned` in the JSON, a note in the summary, `preflight` in the
//! report-id).

use std::path::{Path, PathBuf};

use hickory_proto::rr::Name;
use serde::Serialize;

use crate::dane::tlsa::TlsaRecord;
use crate::dns::Dnssec;
use crate::evidence::{MxHost, Tlsa, TlsaStatus};
use crate::mta_sts::policy::{self, StsPolicy};

/// The planned data, parsed and checked before any scan.
#[derive(Debug, Clone, Default)]
pub struct Preflight {
    pub mx: Vec<Name>,
    pub tlsa: Vec<TlsaRecord>,
    pub sts_policy: Option<(PathBuf, StsPolicy)>,
}

/// Which parts of a report come from planned data (`planned` in the JSON).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Planned {
    pub mx: bool,
    pub tlsa: bool,
    pub sts_policy: bool,
}

impl Planned {
    pub fn any(&self) -> bool {
        self.mx || self.tlsa || self.sts_policy
    }

    pub fn is_none(&self) -> bool {
        !self.any()
    }
}

/// Why planned data cannot be used: the run stops before scanning.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("cannot read --sts-policy {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--sts-policy {path}: {reason}; fix the file (see RFC 8461 §3.2) and run again")]
    Policy { path: PathBuf, reason: String },
    #[error(
        "--tlsa {value:?} is not a TLSA record: {reason} (expected e.g. \"3 1 1 <64 hex digits>\")"
    )]
    Tlsa { value: String, reason: String },
    #[error("--mx {value:?} is not a host name: {reason}")]
    Mx { value: String, reason: String },
}

impl Preflight {
    /// Parses what the user planned. A policy that does not parse names the
    /// file and the line.
    pub fn parse(
        mx: &[String],
        tlsa: &[String],
        sts_policy: Option<&Path>,
    ) -> Result<Preflight, PreflightError> {
        let mut out = Preflight::default();
        for value in mx {
            let text = value.trim().trim_end_matches('.');
            let name = Name::from_utf8(format!("{text}.")).map_err(|e| PreflightError::Mx {
                value: value.clone(),
                reason: e.to_string(),
            })?;
            if text.is_empty() || text.parse::<std::net::IpAddr>().is_ok() {
                return Err(PreflightError::Mx {
                    value: value.clone(),
                    reason: "an MX names a host, not an address".into(),
                });
            }
            out.mx.push(name);
        }
        for value in tlsa {
            let rr = TlsaRecord::parse_presentation(value).map_err(|e| PreflightError::Tlsa {
                value: value.clone(),
                reason: e.to_string(),
            })?;
            out.tlsa.push(rr);
        }
        if let Some(path) = sts_policy {
            let body = std::fs::read(path).map_err(|source| PreflightError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let parsed = policy::parse(&body).map_err(|e| PreflightError::Policy {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            out.sts_policy = Some((path.to_path_buf(), parsed));
        }
        Ok(out)
    }

    pub fn planned(&self) -> Planned {
        Planned {
            mx: !self.mx.is_empty(),
            tlsa: !self.tlsa.is_empty(),
            sts_policy: self.sts_policy.is_some(),
        }
    }

    /// The planned TLSA set for `host`, as if published and signed.
    pub fn tlsa_for(&self, host: &MxHost) -> Tlsa {
        Tlsa {
            status: TlsaStatus::Found,
            name: Some(format!("_25._tcp.{}", host.host)),
            base_domain: Some(host.cname.clone().unwrap_or_else(|| host.host.clone())),
            dnssec: Dnssec::Secure,
            records: self.tlsa.iter().map(TlsaRecord::to_presentation).collect(),
            usable: self.tlsa.iter().filter(|t| t.is_usable()).count(),
            applies: true,
            reason: "planned TLSA records (--tlsa), judged as if published and signed".into(),
            parsed: self.tlsa.clone(),
            planned: true,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_planned_data_is_refused_with_its_value() {
        let err = Preflight::parse(&[], &["3 1 1 zz".into()], None).expect_err("bad hex");
        assert!(err.to_string().contains("--tlsa \"3 1 1 zz\""), "{err}");
        let err = Preflight::parse(&["192.0.2.1".into()], &[], None).expect_err("address");
        assert!(err.to_string().contains("not an address"), "{err}");
        let dir = std::env::temp_dir().join(format!("mxtls-preflight-{}", std::process::id()));
        std::fs::write(&dir, "version: STSv1\nmode: enforce\nmax_age: 86400\n").expect("write");
        let err = Preflight::parse(&[], &[], Some(&dir)).expect_err("no mx line");
        assert!(err.to_string().contains("--sts-policy"), "{err}");
        let _ = std::fs::remove_file(&dir);
    }

    #[test]
    fn good_planned_data_parses() {
        let p = Preflight::parse(
            &["mx2.example.com.".into()],
            &[format!("3 1 1 {}", "ab".repeat(32))],
            None,
        )
        .expect("valid");
        assert_eq!(p.mx.len(), 1);
        assert!(p.planned().mx && p.planned().tlsa && !p.planned().sts_policy);
    }
}
