//! End-to-end: the MTA-STS policy fetch against the lab's HTTPS server, on
//! 127.0.0.1, with real certificates from the lab CA and only the lab CA
//! trusted.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mxtls::lab::ca::{IssueSpec, Issued, LabCa};
use mxtls::lab::https::{Behaviour, LabHttps, Site};
use mxtls::mta_sts::fetch::{
    CertProblem, FetchConfig, FetchErrorReason, FetchOutcome, MAX_POLICY_BYTES, fetch,
};
use mxtls::mta_sts::sender_timeouts::slow_fetch_finding;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// The fetch timeout of these tests; hanging scenarios must end within it
/// plus a second.
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// No test may take longer than this, whatever goes wrong.
const TEST_BOUND: Duration = Duration::from_secs(30);

const GOOD_POLICY: &[u8] =
    b"version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 86400\r\n";

/// What a row expects.
#[derive(Debug)]
enum Want {
    Fetched {
        media_type_ok: bool,
        body: &'static [u8],
    },
    WebPki(CertProblem),
    Error(FetchErrorReason, &'static [&'static str]),
    /// Either reason is acceptable (a server dripping headers may end as a
    /// timeout or as a clear HTTP error, depending on the client's limits).
    ErrorEither(FetchErrorReason, FetchErrorReason),
}

fn policy(status: u16, content_type: &str, body: &[u8]) -> Behaviour {
    Behaviour::Policy {
        status,
        content_type: Some(content_type.to_string()),
        body: body.to_vec(),
    }
}

fn config(roots: &LabCa, port: u16) -> FetchConfig {
    FetchConfig {
        port,
        timeout: FETCH_TIMEOUT,
        roots: Arc::new(roots.root_store().expect("lab root store")),
        at: None,
        verdicts: Default::default(),
    }
}

fn check(rule: &str, outcome: &FetchOutcome, want: &Want) {
    match (want, outcome) {
        (
            Want::Fetched {
                media_type_ok,
                body,
            },
            FetchOutcome::Fetched {
                media_type_ok: got_ok,
                body: got_body,
                bytes,
                chain,
                ..
            },
        ) => {
            assert_eq!(got_ok, media_type_ok, "{rule}: {outcome:?}");
            assert_eq!(got_body.as_slice(), *body, "{rule}: {outcome:?}");
            assert_eq!(*bytes, body.len(), "{rule}: {outcome:?}");
            assert!(!chain.is_empty(), "{rule}: the chain is recorded");
        }
        (Want::WebPki(problem), FetchOutcome::WebPkiInvalid { reason, chain, .. }) => {
            assert_eq!(reason, problem, "{rule}: {outcome:?}");
            assert!(!chain.is_empty(), "{rule}: the chain is recorded");
        }
        (
            Want::Error(reason, needles),
            FetchOutcome::FetchError {
                reason_code,
                detail,
                ..
            },
        ) => {
            assert_eq!(reason_code, reason, "{rule}: {outcome:?}");
            for needle in *needles {
                assert!(
                    detail.contains(needle),
                    "{rule}: detail should name {needle:?}: {detail}"
                );
            }
        }
        (Want::ErrorEither(a, b), FetchOutcome::FetchError { reason_code, .. }) => {
            assert!(
                reason_code == a || reason_code == b,
                "{rule}: want {a:?} or {b:?}: {outcome:?}"
            );
        }
        _ => panic!("{rule}: want {want:?}, got {outcome:?}"),
    }
}

/// One row: the rule it shows, the scenario (the site is
/// `mta-sts.<scenario>.test`), what the site serves, what fetch must say.
struct Row {
    rule: &'static str,
    scenario: &'static str,
    cert: Issued,
    behaviour: Behaviour,
    want: Want,
}

#[tokio::test]
async fn each_policy_host_behaviour_gets_its_outcome() {
    tokio::time::timeout(TEST_BOUND, async {
        let ca = LabCa::new("mxtls lab CA").expect("lab CA");
        let host = |scenario: &str| format!("mta-sts.{scenario}.test");
        let good = |scenario: &str| ca.good_leaf(&host(scenario)).expect("good leaf");
        let long_location = format!("https://elsewhere.test/\t{}", "a".repeat(300));
        let rows = vec![
            Row {
                rule: "a 200 text/plain policy with CRLF lines is fetched as served",
                scenario: "good",
                cert: good("good"),
                behaviour: policy(200, "text/plain; charset=utf-8", GOOD_POLICY),
                want: Want::Fetched {
                    media_type_ok: true,
                    body: GOOD_POLICY,
                },
            },
            Row {
                rule: "a chain through an intermediate is accepted",
                scenario: "intermediate",
                cert: ca
                    .issue(&IssueSpec::good(&host("intermediate")).through_intermediate())
                    .expect("leaf"),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
                want: Want::Fetched {
                    media_type_ok: true,
                    body: GOOD_POLICY,
                },
            },
            Row {
                rule: "a wrong media type is fetched but flagged",
                scenario: "html",
                cert: good("html"),
                behaviour: policy(200, "text/html", GOOD_POLICY),
                want: Want::Fetched {
                    media_type_ok: false,
                    body: GOOD_POLICY,
                },
            },
            Row {
                rule: "a body of exactly the cap is fetched",
                scenario: "atcap",
                cert: good("atcap"),
                behaviour: policy(200, "text/plain", &[b'#'; MAX_POLICY_BYTES]),
                want: Want::Fetched {
                    media_type_ok: true,
                    body: &[b'#'; MAX_POLICY_BYTES],
                },
            },
            Row {
                rule: "404 is a fetch error naming the status",
                scenario: "notfound",
                cert: good("notfound"),
                behaviour: policy(404, "text/plain", b"not here\n"),
                want: Want::Error(FetchErrorReason::HttpStatus, &["404", "127.0.0.1"]),
            },
            Row {
                rule: "a 2xx other than 200 is not a policy",
                scenario: "accepted",
                cert: good("accepted"),
                behaviour: policy(202, "text/plain", GOOD_POLICY),
                want: Want::Error(FetchErrorReason::HttpStatus, &["202"]),
            },
            Row {
                rule: "a redirect is not followed and names its Location",
                scenario: "redirect",
                cert: good("redirect"),
                behaviour: Behaviour::Redirect {
                    location: "https://elsewhere.test/policy.txt".into(),
                },
                want: Want::Error(
                    FetchErrorReason::Redirect,
                    &["301", "https://elsewhere.test/policy.txt"],
                ),
            },
            Row {
                rule: "a Location with control characters is escaped and cut",
                scenario: "hostile-redirect",
                cert: good("hostile-redirect"),
                behaviour: Behaviour::Redirect {
                    location: long_location,
                },
                want: Want::Error(
                    FetchErrorReason::Redirect,
                    &["elsewhere.test/\\x09aaa", "…[cut]"],
                ),
            },
            Row {
                rule: "a certificate from an untrusted CA is webpki-invalid: untrusted",
                scenario: "untrusted",
                cert: LabCa::untrusted_leaf(&host("untrusted")).expect("leaf"),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
                want: Want::WebPki(CertProblem::Untrusted),
            },
            Row {
                rule: "an expired certificate is webpki-invalid: expired",
                scenario: "expired",
                cert: ca.expired_leaf(&host("expired")).expect("leaf"),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
                want: Want::WebPki(CertProblem::Expired),
            },
            Row {
                rule: "a certificate not yet valid is webpki-invalid: not-yet-valid",
                scenario: "future",
                cert: ca
                    .issue(&IssueSpec::not_yet_valid(&host("future")))
                    .expect("leaf"),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
                want: Want::WebPki(CertProblem::NotYetValid),
            },
            Row {
                rule: "a certificate for another name is webpki-invalid: name-mismatch",
                scenario: "wrongname",
                cert: ca.wrong_name_leaf().expect("leaf"),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
                want: Want::WebPki(CertProblem::NameMismatch),
            },
            Row {
                rule: "a CN without subjectAltName is webpki-invalid: name-mismatch",
                scenario: "cnonly",
                cert: ca.cn_only_leaf(&host("cnonly")).expect("leaf"),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
                want: Want::WebPki(CertProblem::NameMismatch),
            },
            Row {
                rule: "a body over the cap is a fetch error: too-large",
                scenario: "oversized",
                cert: good("oversized"),
                behaviour: Behaviour::Oversized,
                want: Want::Error(FetchErrorReason::TooLarge, &["65536"]),
            },
            Row {
                rule: "a server that never answers ends as a timeout",
                scenario: "hang",
                cert: good("hang"),
                behaviour: Behaviour::Hang,
                want: Want::Error(FetchErrorReason::Timeout, &["127.0.0.1"]),
            },
            Row {
                rule: "a server that sends headers forever ends within the bound",
                scenario: "headers",
                cert: good("headers"),
                behaviour: Behaviour::HeadersForever,
                want: Want::ErrorEither(FetchErrorReason::Timeout, FetchErrorReason::NetworkError),
            },
        ];

        let mut sites = Vec::new();
        let mut expectations = Vec::new();
        for row in rows {
            sites.push(Site {
                host: host(row.scenario),
                cert: row.cert,
                behaviour: row.behaviour,
            });
            expectations.push((row.rule, row.scenario, row.want));
        }
        let server = LabHttps::start(LOOPBACK, 0, sites)
            .await
            .expect("lab HTTPS");
        let cfg = config(&ca, server.addr().port());

        for (rule, scenario, want) in expectations {
            let domain = format!("{scenario}.test");
            let started = Instant::now();
            let outcome = fetch(&domain, &[LOOPBACK], &cfg).await;
            let took = started.elapsed();
            assert!(
                took <= FETCH_TIMEOUT + Duration::from_secs(1),
                "{rule}: took {took:?}: {outcome:?}"
            );
            check(rule, &outcome, &want);
            if scenario == "good" {
                println!("good fetch on loopback took {took:?}");
            }
            if let FetchOutcome::FetchError {
                reason_code: FetchErrorReason::TooLarge,
                bytes_read,
                ..
            } = &outcome
            {
                println!("oversized: reading stopped at {bytes_read} bytes");
                // One read of hyper's buffer beyond the cap, at most. Its
                // buffer grows up to about 400 KiB; far below the 1 MiB sent.
                assert!(
                    *bytes_read > MAX_POLICY_BYTES && *bytes_read < MAX_POLICY_BYTES + 420 * 1024,
                    "{rule}: read {bytes_read} bytes"
                );
            }
        }
    })
    .await
    .expect("the test finishes within its bound");
}

#[tokio::test]
async fn a_slow_policy_is_fetched_whole_and_warned_about_past_the_threshold() {
    tokio::time::timeout(TEST_BOUND, async {
        let ca = LabCa::new("mxtls lab CA").expect("lab CA");
        let delay = Duration::from_millis(400);
        let site = Site {
            host: "mta-sts.slow.test".into(),
            cert: ca.good_leaf("mta-sts.slow.test").expect("leaf"),
            behaviour: Behaviour::Slow {
                delay,
                then: Box::new(policy(200, "text/plain", GOOD_POLICY)),
            },
        };
        let server = LabHttps::start(LOOPBACK, 0, vec![site])
            .await
            .expect("lab HTTPS");
        let url = "https://mta-sts.slow.test/.well-known/mta-sts.txt";

        // Within --policy-timeout the policy arrives whole, and its time is
        // measured: at least the server's delay.
        let outcome = fetch("slow.test", &[LOOPBACK], &config(&ca, server.addr().port())).await;
        check(
            "a slow answer within the timeout is fetched",
            &outcome,
            &Want::Fetched {
                media_type_ok: true,
                body: GOOD_POLICY,
            },
        );
        let FetchOutcome::Fetched { elapsed_ms, .. } = &outcome else {
            unreachable!("checked above");
        };
        assert!(*elapsed_ms >= 400, "the delay is in the time: {outcome:?}");

        // Past a threshold below the delay it is a warning naming the
        // threshold and the address.
        let finding = slow_fetch_finding(url, &outcome, Duration::from_millis(200))
            .expect("slower than 200 ms is slow");
        assert_eq!(finding.code, "sts-policy-slow");
        assert!(
            finding.message.contains("more than 0.2 s") && finding.message.contains("127.0.0.1"),
            "{}",
            finding.message
        );

        // The fetch timeout bounds the wait: a shorter one ends in a timeout.
        let impatient = FetchConfig {
            timeout: Duration::from_millis(300),
            ..config(&ca, server.addr().port())
        };
        let outcome = fetch("slow.test", &[LOOPBACK], &impatient).await;
        check(
            "a delay past the fetch timeout is a timeout",
            &outcome,
            &Want::Error(FetchErrorReason::Timeout, &["127.0.0.1"]),
        );
    })
    .await
    .expect("the test finishes within its bound");
}

/// Policy hosts sharing one certificate (a provider serving many domains)
/// have their chain judged once, and each host name still on its own: a
/// host the certificate does not name fails after two that it names.
#[tokio::test]
async fn a_certificate_shared_by_policy_hosts_is_judged_once_and_each_name_apart() {
    tokio::time::timeout(TEST_BOUND, async {
        let ca = LabCa::new("mxtls lab CA").expect("lab CA");
        let host = |d: &str| format!("mta-sts.{d}.test");
        let mut spec = IssueSpec::good(&host("one"));
        spec.names.push(host("two"));
        let shared = ca.issue(&spec).expect("shared leaf");
        let sites = ["one", "two", "three"]
            .iter()
            .map(|d| Site {
                host: host(d),
                cert: shared.clone(),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
            })
            .collect();
        let server = LabHttps::start(LOOPBACK, 0, sites)
            .await
            .expect("lab HTTPS");
        let cfg = config(&ca, server.addr().port());
        let fetched = Want::Fetched {
            media_type_ok: true,
            body: GOOD_POLICY,
        };
        for (d, want) in [
            ("one", &fetched),
            ("two", &fetched),
            ("three", &Want::WebPki(CertProblem::NameMismatch)),
        ] {
            let outcome = fetch(&format!("{d}.test"), &[LOOPBACK], &cfg).await;
            check(
                &format!("{d}.test under the shared certificate"),
                &outcome,
                want,
            );
        }
        assert_eq!(cfg.verdicts.len(), 1, "one chain, judged once");
    })
    .await
    .expect("the test finishes within its bound");
}

#[tokio::test]
async fn an_unknown_sni_fails_the_handshake_as_a_tls_error() {
    tokio::time::timeout(TEST_BOUND, async {
        let ca = LabCa::new("mxtls lab CA").expect("lab CA");
        let site = Site {
            host: "mta-sts.known.test".into(),
            cert: ca.good_leaf("mta-sts.known.test").expect("leaf"),
            behaviour: policy(200, "text/plain", GOOD_POLICY),
        };
        let server = LabHttps::start(LOOPBACK, 0, vec![site])
            .await
            .expect("lab HTTPS");
        let outcome = fetch(
            "unknown.test",
            &[LOOPBACK],
            &config(&ca, server.addr().port()),
        )
        .await;
        check(
            "an unknown SNI is refused by the server",
            &outcome,
            &Want::Error(FetchErrorReason::TlsError, &["127.0.0.1"]),
        );
    })
    .await
    .expect("the test finishes within its bound");
}

#[tokio::test]
async fn a_refused_address_falls_through_to_the_next_one() {
    tokio::time::timeout(TEST_BOUND, async {
        let ca = LabCa::new("mxtls lab CA").expect("lab CA");
        let site = Site {
            host: "mta-sts.second.test".into(),
            cert: ca.good_leaf("mta-sts.second.test").expect("leaf"),
            behaviour: policy(200, "text/plain", GOOD_POLICY),
        };
        let server = LabHttps::start(LOOPBACK, 0, vec![site])
            .await
            .expect("lab HTTPS");
        // Nothing listens on 127.0.0.2 (the lab binds 127.0.0.1 only).
        let refusing = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        let outcome = fetch(
            "second.test",
            &[refusing, LOOPBACK],
            &config(&ca, server.addr().port()),
        )
        .await;
        match &outcome {
            FetchOutcome::Fetched { address, .. } => {
                assert_eq!(
                    *address,
                    server.addr(),
                    "answered by the second: {outcome:?}"
                )
            }
            _ => panic!("want fetched from the second address: {outcome:?}"),
        }
    })
    .await
    .expect("the test finishes within its bound");
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    tokio::time::timeout(TEST_BOUND, async {
        let ca = LabCa::new("mxtls lab CA").expect("lab CA");
        // Bind to learn a free port, then close it.
        let port = {
            let listener = std::net::TcpListener::bind((LOOPBACK, 0)).expect("bind");
            listener.local_addr().expect("local addr").port()
        };
        let outcome = fetch("closed.test", &[LOOPBACK], &config(&ca, port)).await;
        check(
            "nothing listening is connection-refused",
            &outcome,
            &Want::Error(FetchErrorReason::ConnectionRefused, &["127.0.0.1"]),
        );
    })
    .await
    .expect("the test finishes within its bound");
}

#[tokio::test]
async fn inputs_that_allow_no_connection_are_errors_without_network() {
    let ca = LabCa::new("mxtls lab CA").expect("lab CA");
    let cfg = config(&ca, 1);
    for (rule, domain, addrs, want) in [
        (
            "no addresses is no-address",
            "none.test",
            &[][..],
            FetchErrorReason::NoAddress,
        ),
        (
            "a domain that makes no host name is invalid-domain",
            "bad/name.test",
            &[LOOPBACK][..],
            FetchErrorReason::InvalidDomain,
        ),
        (
            "an empty domain is invalid-domain",
            "",
            &[LOOPBACK][..],
            FetchErrorReason::InvalidDomain,
        ),
        (
            "a domain with an empty label is invalid-domain",
            "a..test",
            &[LOOPBACK][..],
            FetchErrorReason::InvalidDomain,
        ),
        (
            "a domain of two trailing dots is invalid-domain",
            "good.test..",
            &[LOOPBACK][..],
            FetchErrorReason::InvalidDomain,
        ),
    ] {
        let outcome = fetch(domain, addrs, &cfg).await;
        check(rule, &outcome, &Want::Error(want, &[]));
    }
}

#[tokio::test]
async fn outcomes_serialise_with_their_outcome_tag_and_snake_case_keys() {
    tokio::time::timeout(TEST_BOUND, async {
        let ca = LabCa::new("mxtls lab CA").expect("lab CA");
        let sites = vec![
            Site {
                host: "mta-sts.good.test".into(),
                cert: ca.good_leaf("mta-sts.good.test").expect("leaf"),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
            },
            Site {
                host: "mta-sts.expired.test".into(),
                cert: ca.expired_leaf("mta-sts.expired.test").expect("leaf"),
                behaviour: policy(200, "text/plain", GOOD_POLICY),
            },
        ];
        let server = LabHttps::start(LOOPBACK, 0, sites)
            .await
            .expect("lab HTTPS");
        let cfg = config(&ca, server.addr().port());
        let port = server.addr().port();
        for (domain, addrs, want) in [
            (
                "good.test",
                &[LOOPBACK][..],
                serde_json::json!({
                    "outcome": "fetched",
                    "content_type": "text/plain",
                    "media_type_ok": true,
                    "body": String::from_utf8_lossy(GOOD_POLICY),
                    "bytes": GOOD_POLICY.len(),
                    "address": format!("127.0.0.1:{port}"),
                }),
            ),
            (
                "expired.test",
                &[LOOPBACK][..],
                serde_json::json!({
                    "outcome": "webpki-invalid",
                    "reason": "expired",
                    "address": format!("127.0.0.1:{port}"),
                }),
            ),
            (
                "none.test",
                &[][..],
                serde_json::json!({
                    "outcome": "fetch-error",
                    "reason_code": "no-address",
                    "address": null,
                    "bytes_read": 0,
                }),
            ),
        ] {
            let outcome = fetch(domain, addrs, &cfg).await;
            let json = serde_json::to_value(&outcome).expect("outcomes serialise");
            let want = want.as_object().expect("literal object");
            for (key, value) in want {
                assert_eq!(json.get(key), Some(value), "{domain}: key {key}: {json}");
            }
            assert!(json.get("elapsed_ms").is_some_and(|v| v.is_u64()), "{json}");
        }
    })
    .await
    .expect("the test finishes within its bound");
}
