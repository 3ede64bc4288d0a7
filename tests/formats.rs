//! The output formats for pipelines and CI, each read back with an
//! independent reader: CSV with the `csv` crate, SARIF against the
//! official OASIS SARIF 2.1.0 JSON schema, JUnit with an XML parser
//! (quick-xml); the one-line summary and the batch tally; and every
//! record's `scanned_at` and `mxtls_version`. The real binary scans the
//! lab, including `hostile-text.test`, whose TLSRPT record carries HTML
//! and a formula.

mod common;

use std::collections::BTreeMap;
use std::process::Output;

use common::{Via, lab_args, mxtls};
use serde_json::Value;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A batch with one domain of each status, and the hostile one.
const BATCH: &[&str] = &[
    "secure.test",
    "nxdomain.test",
    "hostile-text.test",
    "mx-all-refused.test",
    "tlsrpt-missing.test",
];

fn run(extra: &[&str]) -> Output {
    let mut args = lab_args(Via::Validate);
    args.extend(["--timeout".to_string(), "3".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    mxtls(&argv)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `--format FORMAT` over the batch: stdout, stderr, exit status.
fn batch(format: &str, extra: &[&str]) -> (String, String, Option<i32>) {
    let mut args = vec!["--format", format];
    args.extend_from_slice(extra);
    args.extend_from_slice(BATCH);
    let out = run(&args);
    (text(&out.stdout), text(&out.stderr), out.status.code())
}

/// The JSON findings of the batch, by domain: (severity, code, subject,
/// message) in document order.
fn json_findings(extra: &[&str]) -> BTreeMap<String, Vec<[String; 4]>> {
    let (stdout, stderr, _) = batch("json", extra);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    common::assert_valid(&doc);
    let mut out = BTreeMap::new();
    for r in doc.as_array().expect("an array for several domains") {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let findings = r["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                [
                    s(&f["severity"]),
                    s(&f["code"]),
                    s(&f["subject"]),
                    s(&f["message"]),
                ]
            })
            .collect();
        out.insert(s(&r["domain"]), findings);
    }
    out
}

fn is_rfc3339_utc(t: &str) -> bool {
    mxtls::datetime::parse_rfc3339_utc(t).is_some()
}

#[test]
fn every_json_record_carries_scanned_at_and_the_version() {
    for format in ["json", "jsonl"] {
        let (stdout, _, _) = batch(format, &[]);
        let records: Vec<Value> = if format == "json" {
            serde_json::from_str::<Value>(&stdout)
                .expect("JSON")
                .as_array()
                .expect("array")
                .clone()
        } else {
            stdout
                .lines()
                .map(|l| serde_json::from_str(l).expect("a JSON line"))
                .collect()
        };
        assert_eq!(records.len(), BATCH.len(), "{format}");
        for r in &records {
            common::assert_valid(r);
            let at = r["scanned_at"].as_str().expect("scanned_at");
            assert!(is_rfc3339_utc(at), "{format}: scanned_at {at:?}");
            assert_eq!(r["mxtls_version"], VERSION, "{format}");
        }
    }
}

#[test]
fn csv_is_one_row_per_finding_that_a_csv_reader_reads_back() {
    let (stdout, stderr, _) = batch("csv", &[]);
    assert!(stdout.contains("\r\n"), "RFC 4180 line ends");
    let mut reader = csv::ReaderBuilder::new().from_reader(stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(
        header,
        [
            "domain",
            "severity",
            "code",
            "subject",
            "message",
            "advice",
            "ignored",
            "scanned_at",
            "mxtls_version"
        ]
    );
    let mut by_domain: BTreeMap<String, Vec<[String; 4]>> = BTreeMap::new();
    for row in reader.records() {
        let row = row.unwrap_or_else(|e| panic!("{e}\n{stdout}\n{stderr}"));
        assert_eq!(row.len(), header.len());
        assert!(is_rfc3339_utc(&row[7]), "{row:?}");
        assert_eq!(&row[8], VERSION);
        assert_eq!(&row[6], "false");
        by_domain.entry(row[0].to_string()).or_default().push([
            row[1].to_string(),
            row[2].to_string(),
            row[3].to_string(),
            row[4].to_string(),
        ]);
    }
    // The same findings as the JSON, field for field: nothing was lost to
    // quoting (the hostile record has commas, quotes and markup).
    let mut json = json_findings(&[]);
    json.retain(|_, f| !f.is_empty());
    assert_eq!(by_domain, json);
    let hostile = &by_domain["hostile-text.test"];
    assert!(
        hostile
            .iter()
            .any(|f| f[3].contains("<script>alert(1)</script>,=HYPERLINK(1)")),
        "{hostile:?}"
    );
}

#[test]
fn csv_domains_is_one_row_per_domain_with_its_status() {
    let (stdout, _, _) = batch("csv-domains", &["--ignore", "tlsrpt-missing"]);
    let mut reader = csv::ReaderBuilder::new().from_reader(stdout.as_bytes());
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    assert_eq!(rows.len(), BATCH.len());
    let status: BTreeMap<&str, &str> = rows
        .iter()
        .map(|r| (&r[col("domain")], &r[col("status")]))
        .collect();
    assert_eq!(status["secure.test"], "clean");
    assert_eq!(status["nxdomain.test"], "errors");
    assert_eq!(status["hostile-text.test"], "errors");
    assert_eq!(status["mx-all-refused.test"], "untested");
    // Its only finding is ignored: clean, with the ignored one counted apart.
    assert_eq!(status["tlsrpt-missing.test"], "clean");
    let missing = rows
        .iter()
        .find(|r| &r[col("domain")] == "tlsrpt-missing.test")
        .expect("row");
    assert_eq!(&missing[col("ignored")], "1");
    assert_eq!(&missing[col("info")], "0");
    for r in &rows {
        assert!(is_rfc3339_utc(&r[col("scanned_at")]));
        assert_eq!(&r[col("mxtls_version")], VERSION);
    }
}

#[test]
fn summary_is_one_line_per_domain_and_the_tally_goes_to_stderr() {
    let (stdout, stderr, code) = batch("summary", &[]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), BATCH.len(), "{stdout}");
    let status_of = |domain: &str| {
        let line = lines
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(&format!("{domain}:")))
            .unwrap_or_else(|| panic!("{domain} in\n{stdout}"));
        line.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(status_of("secure.test"), "clean");
    assert_eq!(status_of("nxdomain.test"), "errors");
    assert_eq!(status_of("mx-all-refused.test"), "untested");
    assert_eq!(status_of("tlsrpt-missing.test"), "clean");
    let nx = lines
        .iter()
        .find(|l| l.contains("nxdomain.test:"))
        .expect("line");
    assert!(
        nx.contains("1 error") && nx.contains("domain-nxdomain"),
        "{nx}"
    );
    assert!(
        stderr.contains(
            "5 domains: 2 with errors, 0 with warnings, 1 untested (no MX address could be probed), 2 clean"
        ),
        "{stderr}"
    );
    assert_eq!(code, Some(1), "errors decide before untested");
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/schema/sarif-schema-2.1.0.json"
        ))
        .expect("the vendored SARIF schema"),
    )
    .expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

#[test]
fn sarif_is_valid_against_the_sarif_2_1_0_schema_with_rules_from_the_catalogue() {
    let (stdout, stderr, _) = batch("sarif", &["--ignore", "tlsrpt-missing@tlsrpt-missing.test"]);
    let doc: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator rejects what it should: the check cannot pass by itself.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));

    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["version"], VERSION);
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), mxtls::finding::Code::ALL.len());
    let results = run["results"].as_array().expect("results");
    let json = json_findings(&[]);
    assert_eq!(results.len(), json.values().map(Vec::len).sum::<usize>());
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at its rule"
        );
        assert!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string(),
            "GitHub code scanning needs a location: {r:#}"
        );
    }
    let nx = results
        .iter()
        .find(|r| r["ruleId"] == "domain-nxdomain")
        .expect("the NXDOMAIN result");
    assert_eq!(nx["level"], "error");
    assert_eq!(nx["properties"]["domain"], "nxdomain.test");
    // Ignored on one domain only: suppressed there, not elsewhere.
    let missing: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "tlsrpt-missing")
        .collect();
    assert!(missing.len() >= 2, "{missing:#?}");
    for r in missing {
        let suppressed = r["suppressions"].is_array();
        assert_eq!(
            suppressed,
            r["properties"]["domain"] == "tlsrpt-missing.test",
            "{r:#}"
        );
    }
}

/// An element of the parsed JUnit document.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn all<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn attr(&self, name: &str) -> &str {
        self.attributes
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("<{}> has no {name}", self.name))
    }
}

/// Parses XML with quick-xml into elements; panics on malformed XML.
fn parse_xml(xml: &str) -> Element {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Element::default()];
    let element = |e: &quick_xml::events::BytesStart<'_>| Element {
        name: e.name().as_ref().to_string(),
        attributes: e
            .attributes()
            .map(|a| {
                let a = a.expect("a well-formed attribute");
                (
                    a.key.as_ref().to_string(),
                    a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .expect("a known entity")
                        .into_owned(),
                )
            })
            .collect(),
        ..Element::default()
    };
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("malformed XML: {e}\n{xml}"))
        {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let el = element(&e);
                stack.last_mut().expect("a parent").children.push(el);
            }
            Event::End(_) => {
                let done = stack.pop().expect("an open element");
                stack.last_mut().expect("a parent").children.push(done);
            }
            Event::Text(t) => stack
                .last_mut()
                .expect("an element")
                .text
                .push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().expect("a valid reference") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.into_inner())
                        .expect("a predefined entity")
                        .to_string(),
                };
                stack.last_mut().expect("an element").text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "every element closed");
    stack.pop().expect("the document")
}

#[test]
fn junit_parses_as_xml_with_a_suite_per_domain_and_a_case_per_finding() {
    let (stdout, stderr, _) = batch("junit", &["--ignore", "tlsrpt-missing"]);
    let doc = parse_xml(&stdout);
    let root = doc.all("testsuites");
    assert_eq!(root.len(), 1, "{stdout}\n{stderr}");
    let suites = root[0].all("testsuite");
    assert_eq!(suites.len(), BATCH.len());
    let json = json_findings(&[]);
    let mut total = 0;
    for suite in &suites {
        let domain = suite.attr("name");
        let cases = suite.all("testcase");
        // One case for the scan itself, one per finding.
        assert_eq!(cases.len(), 1 + json[domain].len(), "{domain}");
        assert_eq!(suite.attr("tests"), cases.len().to_string());
        let count = |what: &str| cases.iter().filter(|c| !c.all(what).is_empty()).count();
        assert_eq!(
            suite.attr("failures"),
            count("failure").to_string(),
            "{domain}"
        );
        assert_eq!(suite.attr("errors"), count("error").to_string(), "{domain}");
        assert_eq!(
            suite.attr("skipped"),
            count("skipped").to_string(),
            "{domain}"
        );
        let props = &suite.all("properties")[0];
        let prop = |name: &str| {
            props
                .all("property")
                .into_iter()
                .find(|p| p.attr("name") == name)
                .map(|p| p.attr("value").to_string())
                .unwrap_or_else(|| panic!("property {name}"))
        };
        assert_eq!(prop("mxtls_version"), VERSION);
        assert!(is_rfc3339_utc(&prop("scanned_at")));
        total += cases.len();
    }
    assert_eq!(root[0].attr("tests"), total.to_string());
    let suite = |d: &str| {
        *suites
            .iter()
            .find(|s| s.attr("name") == d)
            .unwrap_or_else(|| panic!("{d}"))
    };
    // An error finding fails its case; "could not tell" is a JUnit error;
    // an ignored finding is skipped.
    let nx = suite("nxdomain.test");
    let failed = nx
        .all("testcase")
        .into_iter()
        .find(|c| c.attr("name").starts_with("domain-nxdomain"))
        .expect("the NXDOMAIN case");
    assert_eq!(failed.all("failure")[0].attr("type"), "error");
    assert_eq!(suite("mx-all-refused.test").attr("errors"), "1");
    assert_eq!(suite("tlsrpt-missing.test").attr("skipped"), "1");
    assert_eq!(suite("tlsrpt-missing.test").attr("failures"), "0");
    // Markup from the network comes back as the text it was.
    let hostile = suite("hostile-text.test");
    let case = hostile
        .all("testcase")
        .into_iter()
        .find(|c| c.attr("name").starts_with("tlsrpt-invalid"))
        .expect("the hostile record's case");
    let failure = case.all("failure")[0];
    assert!(
        failure
            .attr("message")
            .contains("<script>alert(1)</script>")
    );
    assert!(
        failure.text.contains("<script>alert(1)</script>"),
        "{}",
        failure.text
    );
    assert!(!stdout.contains("<script>"), "raw markup in the XML");
}

#[test]
fn junit_failures_follow_fail_on() {
    let out = run(&[
        "--format",
        "junit",
        "--fail-on",
        "info",
        "tlsrpt-missing.test",
    ]);
    let doc = parse_xml(&text(&out.stdout));
    let suite = &doc.all("testsuites")[0].all("testsuite")[0];
    assert_eq!(
        suite.attr("failures"),
        "1",
        "an info finding fails under --fail-on info"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["--format", "junit", "tlsrpt-missing.test"]);
    let doc = parse_xml(&text(&out.stdout));
    let suite = &doc.all("testsuites")[0].all("testsuite")[0];
    assert_eq!(
        suite.attr("failures"),
        "0",
        "under the default --fail-on error"
    );
    assert_eq!(out.status.code(), Some(0));
}
