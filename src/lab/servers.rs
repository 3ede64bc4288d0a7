//! The whole lab, started from the catalogue: DNS, the HTTPS policy hosts
//! (and, as they arrive, the SMTP servers), one CA for all of them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::LabError;
use super::bulk::BulkSet;
use super::ca::LabCa;
use super::catalogue::{Catalogue, CertKind, DEFAULT_SLOW_MS, Serve};
use super::dns::LabDns;
use super::https::{Behaviour, LabHttps, Site};
use super::prepare::Prepared;
use super::smtp::{LabSmtp, SmtpBehaviour, SmtpServer};
use super::switch::Switch;

/// Address every lab policy host resolves to; the server picks the site by SNI.
pub const HTTPS_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The running lab.
pub struct Lab {
    /// Switches to a scenario's second state, by policy host domain
    /// (`changed_body`) and by SMTP server address (`next_key`).
    pub policy_switches: std::collections::BTreeMap<String, Switch>,
    pub key_switches: std::collections::BTreeMap<IpAddr, Switch>,
    pub catalogue: Catalogue,
    pub dns: LabDns,
    pub https: LabHttps,
    /// The SMTP servers, when the catalogue has `[[smtp]]` entries.
    pub smtp: Option<LabSmtp>,
    pub ca: LabCa,
    /// The bulk set, when started with one.
    pub bulk: Option<BulkSet>,
}

impl Lab {
    /// Starts every server the catalogue needs, on loopback only.
    pub async fn start(prepared: Prepared) -> Result<Lab, LabError> {
        Self::start_full(prepared, 0, Duration::ZERO).await
    }

    /// [`Lab::start`] behind a slow link: every reply of the lab's DNS,
    /// SMTP and HTTPS servers reaches the client `delay` after it was sent
    /// (the model: [`super::link`]).
    pub async fn start_delayed(prepared: Prepared, delay: Duration) -> Result<Lab, LabError> {
        Self::start_full(prepared, 0, delay).await
    }

    /// Like [`Lab::start`], plus `bulk` domains of the bulk set (see
    /// `lab::bulk`); 0 means none.
    pub async fn start_with_bulk(prepared: Prepared, bulk: usize) -> Result<Lab, LabError> {
        Self::start_full(prepared, bulk, Duration::ZERO).await
    }

    /// The lab with `bulk` domains of the bulk set (0: none), every reply
    /// `delay` late (zero: none).
    pub async fn start_full(
        prepared: Prepared,
        bulk: usize,
        delay: Duration,
    ) -> Result<Lab, LabError> {
        let Prepared {
            catalogue,
            ca,
            smtp: smtp_specs,
            mut next,
        } = prepared;
        let mut key_switches = std::collections::BTreeMap::new();
        let mut policy_switches = std::collections::BTreeMap::new();
        let mut servers = Vec::new();
        for (spec, cert, rsa_cert) in smtp_specs {
            let behaviour = smtp_behaviour(&spec.behaviour).ok_or_else(|| LabError::Server {
                what: format!("SMTP server {}", spec.ip),
                detail: format!(
                    "unknown behaviour {:?}; known: {}",
                    spec.behaviour,
                    BEHAVIOURS.join(", ")
                ),
            })?;
            let next_cert = next.remove(&spec.ip).map(|issued| {
                let switch = Switch::default();
                key_switches.insert(spec.ip, switch.clone());
                (issued, switch)
            });
            servers.push(SmtpServer {
                ip: spec.ip,
                cert,
                rsa_cert,
                next_cert,
                behaviour,
            });
        }
        let (bulk_set, bulk_sites) = if bulk > 0 {
            let (set, bulk_servers, sites) = super::bulk::prepare(&ca, catalogue.tld(), bulk)?;
            servers.extend(bulk_servers);
            (Some(set), sites)
        } else {
            (None, Vec::new())
        };
        let smtp = if servers.is_empty() {
            None
        } else {
            Some(
                LabSmtp::start_delayed(0, servers, delay)
                    .await
                    .map_err(|e| LabError::Server {
                        what: "SMTP servers".into(),
                        detail: e.to_string(),
                    })?,
            )
        };
        let mut sites = Vec::new();
        for s in catalogue.scenarios() {
            let Some(spec) = s.policy() else { continue };
            let host = format!("mta-sts.{}", s.domain());
            let cert = match spec.cert {
                CertKind::Good => ca.good_leaf(&host),
                CertKind::Untrusted => LabCa::untrusted_leaf(&host),
                CertKind::Expired => ca.expired_leaf(&host),
                CertKind::ExpiresSoon => ca.issue(&super::ca::IssueSpec {
                    not_after: time::OffsetDateTime::now_utc() + time::Duration::days(5),
                    ..super::ca::IssueSpec::good(&host).through_intermediate()
                }),
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
            let policy = Behaviour::Policy {
                status: spec.status,
                content_type: match spec.content_type.as_deref() {
                    None => Some("text/plain".to_string()),
                    Some("") => None,
                    Some(t) => Some(t.to_string()),
                },
                body: body.into_bytes(),
            };
            let policy = match &spec.changed_body {
                Some(changed) => {
                    let switch = Switch::default();
                    policy_switches.insert(s.domain(), switch.clone());
                    Behaviour::Changing {
                        before: Box::new(policy.clone()),
                        after: Box::new(match &policy {
                            Behaviour::Policy {
                                status,
                                content_type,
                                ..
                            } => Behaviour::Policy {
                                status: *status,
                                content_type: content_type.clone(),
                                body: changed.clone().into_bytes(),
                            },
                            other => other.clone(),
                        }),
                        changed: switch,
                    }
                }
                None => policy,
            };
            let behaviour = match spec.serve {
                Serve::Policy => policy,
                Serve::Slow => Behaviour::Slow {
                    delay: std::time::Duration::from_millis(
                        spec.delay_ms.unwrap_or(DEFAULT_SLOW_MS),
                    ),
                    then: Box::new(policy),
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
        sites.extend(bulk_sites);
        let https = LabHttps::start_delayed(HTTPS_IP, 0, sites, delay)
            .await
            .map_err(|e| LabError::Server {
                what: "HTTPS server".into(),
                detail: e.to_string(),
            })?;
        let dns = LabDns::start_full(&catalogue, bulk_set.as_ref(), delay).await?;
        Ok(Lab {
            policy_switches,
            key_switches,
            catalogue,
            bulk: bulk_set,
            dns,
            https,
            smtp,
            ca,
        })
    }

    /// The port every lab SMTP server listens on (use with `--smtp-port`).
    /// Serves the `changed_body` of `domain`'s policy from now on; false
    /// when the scenario has none.
    pub fn change_policy(&self, domain: &str) -> bool {
        self.policy_switches.get(domain).map(Switch::flip).is_some()
    }

    /// Makes the SMTP server at `ip` show its next key from now on; false
    /// when it has none (`next_key`).
    pub fn change_key(&self, ip: IpAddr) -> bool {
        self.key_switches.get(&ip).map(Switch::flip).is_some()
    }

    pub fn smtp_port(&self) -> Option<u16> {
        self.smtp.as_ref().map(LabSmtp::port)
    }

    /// Where the policy hosts listen (use its port with `--https-port`).
    pub fn https_addr(&self) -> SocketAddr {
        self.https.addr()
    }
}

/// Behaviour names the catalogue's `[[smtp]]` entries may use.
pub const BEHAVIOURS: [&str; 18] = [
    "good",
    "no-starttls",
    "starttls-454",
    "tls12-only",
    "tls11-only",
    "slow-greeting",
    "greeting-421",
    "greeting-421-twice",
    "multi-line-greeting",
    "endless-greeting",
    "huge-line",
    "many-continuations",
    "garbage-after-starttls",
    "banner-after-starttls",
    "close-mid-handshake",
    "requiretls",
    "legacy-tls-only",
    "silent-greeting",
];

fn smtp_behaviour(name: &str) -> Option<SmtpBehaviour> {
    Some(match name {
        "good" => SmtpBehaviour::Good,
        "no-starttls" => SmtpBehaviour::NoStarttls,
        "starttls-454" => SmtpBehaviour::Starttls454,
        "tls12-only" => SmtpBehaviour::Tls12Only,
        "tls11-only" => SmtpBehaviour::Tls11Only,
        // Long enough to outlast an impatient client, short enough for tests.
        "slow-greeting" => SmtpBehaviour::SlowGreeting(std::time::Duration::from_secs(3)),
        "greeting-421" => SmtpBehaviour::Greeting421,
        // As many 421s in a row as mxtls retries (politeness::RETRY_DELAYS).
        "greeting-421-twice" => SmtpBehaviour::Greeting421Cycle(2),
        "multi-line-greeting" => SmtpBehaviour::MultiLineGreeting,
        "endless-greeting" => SmtpBehaviour::EndlessGreeting,
        "huge-line" => SmtpBehaviour::HugeLine,
        "many-continuations" => SmtpBehaviour::ManyContinuations,
        "garbage-after-starttls" => SmtpBehaviour::GarbageAfterStarttls,
        "banner-after-starttls" => SmtpBehaviour::BannerAfterStarttls,
        "close-mid-handshake" => SmtpBehaviour::CloseMidHandshake,
        "requiretls" => SmtpBehaviour::Requiretls,
        "legacy-tls-only" => SmtpBehaviour::LegacyTlsOnly,
        // Accepts the connection and never greets (a postscreen or proxy
        // that is stuck): the connection closes at the lab's lifetime,
        // after any client timeout the tests use.
        "silent-greeting" => SmtpBehaviour::SlowGreeting(std::time::Duration::from_secs(3600)),
        _ => return None,
    })
}
