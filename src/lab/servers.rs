//! The whole lab, started from the catalogue: DNS, the HTTPS policy hosts
//! (and, as they arrive, the SMTP servers), one CA for all of them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::LabError;
use super::ca::LabCa;
use super::catalogue::{Catalogue, CertKind, Serve};
use super::dns::LabDns;
use super::https::{Behaviour, LabHttps, Site};
use super::prepare::Prepared;

/// Address every lab policy host resolves to; the server picks the site by SNI.
pub const HTTPS_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The running lab.
pub struct Lab {
    pub catalogue: Catalogue,
    pub dns: LabDns,
    pub https: LabHttps,
    pub ca: LabCa,
}

impl Lab {
    /// Starts every server the catalogue needs, on loopback only.
    pub async fn start(prepared: Prepared) -> Result<Lab, LabError> {
        let Prepared { catalogue, ca, .. } = prepared;
        let mut sites = Vec::new();
        for s in catalogue.scenarios() {
            let Some(spec) = s.policy() else { continue };
            let host = format!("mta-sts.{}", s.domain());
            let cert = match spec.cert {
                CertKind::Good => ca.good_leaf(&host),
                CertKind::Untrusted => LabCa::untrusted_leaf(&host),
                CertKind::Expired => ca.expired_leaf(&host),
                CertKind::WrongName => ca.wrong_name_leaf(),
            }
            .map_err(|e| LabError::Server {
                what: format!("certificate for {host}"),
                detail: e.to_string(),
            })?;
            let body = if spec.crlf {
                spec.body.replace('\n', "\r\n")
            } else {
                spec.body.clone()
            };
            let behaviour = match spec.serve {
                Serve::Policy => Behaviour::Policy {
                    status: spec.status,
                    content_type: match spec.content_type.as_deref() {
                        None => Some("text/plain".to_string()),
                        Some("") => None,
                        Some(t) => Some(t.to_string()),
                    },
                    body: body.into_bytes(),
                },
                Serve::Redirect => Behaviour::Redirect {
                    location: spec
                        .location
                        .clone()
                        .unwrap_or_else(|| format!("https://{host}/")),
                },
                Serve::Hang => Behaviour::Hang,
                Serve::Oversized => Behaviour::Oversized,
                Serve::HeadersForever => Behaviour::HeadersForever,
            };
            sites.push(Site {
                host,
                cert,
                behaviour,
            });
        }
        let https = LabHttps::start(HTTPS_IP, 0, sites)
            .await
            .map_err(|e| LabError::Server {
                what: "HTTPS server".into(),
                detail: e.to_string(),
            })?;
        let dns = LabDns::start(&catalogue).await?;
        Ok(Lab {
            catalogue,
            dns,
            https,
            ca,
        })
    }

    /// Where the policy hosts listen (use its port with `--https-port`).
    pub fn https_addr(&self) -> SocketAddr {
        self.https.addr()
    }
}
