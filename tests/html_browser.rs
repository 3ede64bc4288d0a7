//! The HTML report in a real browser: Debian's Chromium, headless, loads
//! the page written by `--html FILE` from the file system and dumps the
//! DOM it rendered (`--dump-dom`). With `--enable-logging=stderr` Chromium
//! logs every console message, including Content-Security-Policy
//! violations (the page allows no fetch, no script), as `:CONSOLE` lines:
//! the page passes when there are none and the rendered DOM shows the
//! findings, with the hostile lab record as text, not markup.
//!
//! A control page with a deliberate console error shows that the check
//! sees errors when there are some.
//!
//! Chromium is kept off the network: every host name resolves to nothing
//! (`--host-resolver-rules`), every proxied request goes to a closed
//! loopback port, and background services are off.
//!
//! Needs /usr/bin/chromium (`.ci/run` installs it: `apt-get install -y
//! --no-install-recommends chromium`). Without it the test fails saying
//! so; MXTLS_SKIP_BROWSER=1 skips it on purpose.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Via, lab_args, mxtls};

const CHROMIUM: &str = "/usr/bin/chromium";

/// What Chromium rendered and logged for a page.
struct Rendered {
    dom: String,
    console: Vec<String>,
}

/// Loads `page` in headless Chromium; the DOM after load and the console
/// lines. Bounded: a browser that hangs is killed after two minutes.
fn render(page: &Path, profile: &Path) -> Rendered {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-sync",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--window-size=390,844",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let limit = Instant::now() + Duration::from_secs(120);
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if Instant::now() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish loading {}", page.display());
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let dom = out.join().unwrap_or_default();
    let log = err.join().unwrap_or_default();
    Rendered {
        dom,
        console: log
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(String::from)
            .collect(),
    }
}

fn browser_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var_os("MXTLS_SKIP_BROWSER").is_some_and(|v| v == "1") {
        eprintln!("MXTLS_SKIP_BROWSER=1: the browser test is skipped");
        return false;
    }
    panic!(
        "{CHROMIUM} is missing: install it (apt-get install -y --no-install-recommends chromium), or set MXTLS_SKIP_BROWSER=1 to skip this test"
    );
}

#[test]
fn the_html_report_loads_without_console_errors_and_shows_the_findings() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");

    // The control: the check sees a console error when there is one.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>c</title></head><body><p>control</p><script>console.error(\"mxtls-control-error\")</script></body></html>",
    )
    .expect("write the control page");
    let seen = render(&control, &dir.path().join("profile-control"));
    assert!(
        seen.console
            .iter()
            .any(|l| l.contains("mxtls-control-error")),
        "the console check sees nothing: {:?}",
        seen.console
    );

    let page = dir.path().join("report.html");
    let mut args = lab_args(Via::Validate);
    args.extend(
        [
            "--timeout",
            "3",
            "--format",
            "summary",
            "--html",
            page.to_str().expect("a UTF-8 path"),
            "secure.test",
            "hostile-text.test",
            "nxdomain.test",
            "mx-all-refused.test",
        ]
        .map(String::from),
    );
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mxtls(&argv);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --html beside --format: stdout still has the summary.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 4);

    let html = std::fs::read_to_string(&page).expect("the page was written");
    // Addresses may appear as text (the policy URL), never as something
    // the browser would load or follow.
    for fetch in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "src=",
        "url(",
        "@import",
        "href=\"http",
    ] {
        assert!(!html.contains(fetch), "{fetch:?} in a self-contained page");
    }
    assert!(html.contains("name=\"viewport\""), "readable on a phone");

    let seen = render(&page, &dir.path().join("profile"));
    assert!(
        seen.console.is_empty(),
        "console messages: {:#?}",
        seen.console
    );
    let dom = &seen.dom;
    assert!(dom.contains("<section class=\"domain\""), "{dom}");
    for shown in [
        "secure.test",
        "domain-nxdomain",
        "tlsrpt-invalid",
        "mx-connect-failed",
        "Fix:",
        "What senders do",
        "Mail servers",
        "untested",
    ] {
        assert!(dom.contains(shown), "{shown:?} not in the rendered page");
    }
    // The hostile record is text in the page, not an element.
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the hostile record is shown as text"
    );
    assert!(!dom.contains("<script"), "no script element in the DOM");
}
