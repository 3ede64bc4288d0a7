//! `mxtls explain`: the real binary explains a known code, refuses an
//! unknown one with the closest known codes, and lists every code; and
//! docs/FINDINGS.md is the catalogue as rendered now.
//!
//! To accept a change of the catalogue into the reference page:
//!
//!     MXTLS_UPDATE_FINDINGS=1 cargo nextest run --all-features --test explain

use std::path::PathBuf;
use std::process::{Command, Output};

use mxtls::finding::Code;

fn explain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .arg("explain")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the mxtls binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_known_code_is_explained_with_severity_rule_and_fix() {
    let out = explain(&["mx-certificate-expired"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let e = Code::MxCertificateExpired.entry();
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("mx-certificate-expired\n"), "{stdout}");
    for part in [
        "severity: error",
        e.title,
        e.why,
        "RFC 8460 §4.3.1",
        "Renew the certificate",
        e.example,
    ] {
        // Values are wrapped at 80 columns: compare with single spaces.
        let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(part), "missing {part:?} in:\n{stdout}");
    }
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn an_unknown_code_exits_2_and_suggests_the_closest() {
    let out = explain(&["mx-certificate-expird"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown finding code mx-certificate-expird"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean: mx-certificate-expired"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn the_list_names_every_code_with_its_severity() {
    for args in [&["--list"][..], &[][..]] {
        let out = explain(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let stdout = text(&out.stdout);
        assert_eq!(stdout.lines().count(), Code::ALL.len(), "{args:?}");
        for code in Code::ALL {
            let e = code.entry();
            let line = stdout
                .lines()
                .find(|l| l.split_whitespace().next() == Some(e.code))
                .unwrap_or_else(|| panic!("{args:?}: {} is not listed", e.code));
            assert_eq!(
                line.split_whitespace().nth(1),
                Some(e.severity.as_str()),
                "{line}"
            );
        }
    }
}

#[test]
fn the_reference_page_is_the_catalogue_as_rendered_now() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/FINDINGS.md");
    let want = mxtls::explain::findings_markdown();
    if std::env::var_os("MXTLS_UPDATE_FINDINGS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).expect("write docs/FINDINGS.md");
        return;
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "docs/FINDINGS.md differs from the catalogue in src/finding.rs; regenerate it:\n    \
         MXTLS_UPDATE_FINDINGS=1 cargo nextest run --all-features --test explain\n\
         first difference at line {}",
        got.lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(got.lines().count().min(want.lines().count()))
            + 1
    );
}
