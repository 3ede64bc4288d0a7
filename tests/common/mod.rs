//! The lab, started in this test process, and the real `mxtls` binary run
//! against it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use mxtls::lab::catalogue::Catalogue;
use mxtls::lab::servers::Lab as Servers;

pub const CATALOGUE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/lab/catalogue.toml");
pub const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/schema/mxtls-1.schema.json"
);
pub const INPUT_ERROR_SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/schema/mxtls-input-error-1.schema.json"
);

pub struct Lab {
    pub servers: Servers,
    pub catalogue: Catalogue,
    pub dir: tempfile::TempDir,
    // Keeps the lab's servers running for the life of the test process.
    _runtime: tokio::runtime::Runtime,
}

impl Lab {
    pub fn dnskey_anchor(&self) -> PathBuf {
        self.dir.path().join("root.key")
    }
    pub fn ds_anchor(&self) -> PathBuf {
        self.dir.path().join("root.ds")
    }
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
    pub fn dns(&self) -> &mxtls::lab::dns::LabDns {
        &self.servers.dns
    }
}

/// The runtime the lab's servers run on, beside the test.
fn test_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a test runtime starts")
}

/// The lab, started once per test process.
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let runtime = test_runtime();
        let prepared =
            mxtls::lab::prepare::prepare_file(Path::new(CATALOGUE)).expect("the catalogue parses");
        let catalogue = prepared.catalogue.clone();
        let servers = runtime
            .block_on(Servers::start(prepared))
            .expect("the lab starts");
        let dns = &servers.dns;
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::write(dir.path().join("root.key"), dns.trust_anchor_dnskey())
            .expect("write anchor");
        std::fs::write(dir.path().join("root.ds"), dns.trust_anchor_ds()).expect("write DS");
        std::fs::write(dir.path().join("ca.pem"), servers.ca.root_pem()).expect("write CA");
        Lab {
            servers,
            catalogue,
            dir,
            _runtime: runtime,
        }
    })
}

/// Runs `mxtls check` with the given arguments (nothing added).
pub fn mxtls(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mxtls"))
        .arg("check")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the mxtls binary runs")
}

/// How to point the scanner at the lab.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    /// Local validation against the authoritative server, DNSKEY anchor.
    Validate,
    /// Local validation, DS anchor.
    ValidateDs,
    /// Trust the AD bit of the lab's validating resolver.
    Resolver,
    /// Local validation behind the lab's validating resolver (SERVFAIL path).
    ValidateBehindResolver,
    /// No DNSSEC.
    Off,
}

pub fn lab_args(via: Via) -> Vec<String> {
    let lab = lab();
    let auth = lab.dns().authoritative().to_string();
    let resolver = lab.dns().validating_resolver().to_string();
    let s = |x: &str| x.to_string();
    let mut args = match via {
        Via::Validate => vec![
            s("--resolver"),
            auth,
            s("--trust-anchor"),
            lab.dnskey_anchor().display().to_string(),
        ],
        Via::ValidateDs => vec![
            s("--resolver"),
            auth,
            s("--trust-anchor"),
            lab.ds_anchor().display().to_string(),
        ],
        Via::Resolver => vec![s("--resolver"), resolver, s("--dnssec"), s("resolver")],
        Via::ValidateBehindResolver => vec![
            s("--resolver"),
            resolver,
            s("--trust-anchor"),
            lab.dnskey_anchor().display().to_string(),
        ],
        Via::Off => vec![s("--resolver"), auth, s("--dnssec"), s("off")],
    };
    args.extend([
        s("--ca-file"),
        lab.ca().display().to_string(),
        s("--ca-file-only"),
        s("--https-port"),
        lab.servers.https_addr().port().to_string(),
        s("--allow-private"),
        s("--smtp-port"),
        lab.servers.smtp_port().unwrap_or(25).to_string(),
    ]);
    args
}

/// Scans `domain` through the lab and returns the exit code and JSON.
pub fn scan_json(via: Via, domain: &str) -> (i32, serde_json::Value) {
    let mut args = lab_args(via);
    args.extend([
        "--timeout".to_string(),
        "6".to_string(),
        // The hanging policy hosts wait out the fetch timeout: keep it short.
        "--policy-timeout".to_string(),
        "6".to_string(),
        "--json".to_string(),
        domain.to_string(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mxtls(&argv);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "mxtls {argv:?} printed no JSON ({e}); stdout: {stdout}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_valid(&json);
    (out.status.code().unwrap_or(-1), json)
}

fn validator(path: &str) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema file"))
            .expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

/// Asserts that a document (object or array of objects) fits the mxtls/1
/// schema, or for an input that was not a domain, mxtls-input-error/1.
pub fn assert_valid(doc: &serde_json::Value) {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    static INPUT_ERROR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let items: Vec<&serde_json::Value> = match doc {
        serde_json::Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    for item in items {
        let v = if item["schema"] == "mxtls-input-error/1" {
            INPUT_ERROR.get_or_init(|| validator(INPUT_ERROR_SCHEMA))
        } else {
            VALIDATOR.get_or_init(|| validator(SCHEMA))
        };
        let errors: Vec<String> = v
            .iter_errors(item)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "schema violations: {errors:#?}\nin {item:#}"
        );
    }
}

/// Finding codes of a report.
pub fn codes(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A lab of its own with `bulk` domains of the bulk set (see
/// `mxtls::lab::bulk`), its trust anchor (`root.key`) and CA (`ca.pem`)
/// written to `dir`.
pub struct BulkLab {
    pub lab: Servers,
    pub dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

pub fn bulk_lab(bulk: usize) -> BulkLab {
    let runtime = test_runtime();
    let prepared =
        mxtls::lab::prepare::prepare_file(Path::new(CATALOGUE)).expect("the catalogue parses");
    let lab = runtime
        .block_on(Servers::start_with_bulk(prepared, bulk))
        .expect("the lab starts");
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("root.key"), lab.dns.trust_anchor_dnskey())
        .expect("write the anchor");
    std::fs::write(dir.path().join("ca.pem"), lab.ca.root_pem()).expect("write the CA");
    BulkLab {
        lab,
        dir,
        _runtime: runtime,
    }
}
