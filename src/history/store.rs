//! The history file: SQLite through rusqlite (the library bundled), in WAL
//! mode with a busy timeout so that concurrent runs on one file wait for
//! each other instead of failing, one transaction per stored scan.
//!
//! The schema is plain SQL in `migrations/`, numbered; the version applied
//! is kept in the `mxtls_schema` table (not SQLite's `user_version`), so
//! the same rows load into PostgreSQL (docs/HISTORY.md). A file written by
//! a newer mxtls, a corrupt file, a read-only or locked one is refused
//! before anything is scanned.

use std::path::Path;
use std::time::Duration;

use rusqlite::{
    Connection, ErrorCode, MAIN_DB, OpenFlags, OptionalExtension, TransactionBehavior, params,
};

use crate::document::DomainReport;
use crate::finding::Severity;

/// The schema migrations, in order: (version, SQL).
const MIGRATIONS: &[(u32, &str)] = &[(1, include_str!("migrations/0001_initial.sql"))];

/// The newest schema this build knows.
pub const SCHEMA_VERSION: u32 = 1;

/// How long a run waits for another run's write before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest stored document read back (a domain's JSON is tens of kB).
const MAX_DOCUMENT_BYTES: usize = 16 << 20;

/// Why the history file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    #[error("--db {path}: cannot open the history file: {detail}")]
    Open { path: String, detail: String },
    #[error(
        "--db {path}: the file is not an mxtls history database or is corrupt ({detail}); move it aside, or give another --db file"
    )]
    Corrupt { path: String, detail: String },
    #[error(
        "--db {path}: the history file is read-only; give a file this user can write, or fix its permissions"
    )]
    ReadOnly { path: String },
    #[error(
        "--db {path}: the history file stayed locked by another program for {} s; try again when it has finished",
        BUSY_TIMEOUT.as_secs()
    )]
    Locked { path: String },
    #[error(
        "--db {path}: the history file has schema version {found}, newer than the {known} this mxtls knows; use a newer mxtls, or another --db file"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: u32,
    },
    #[error("--db {path}: no history file there; create it with `mxtls check --db {path} DOMAIN`")]
    Missing { path: String },
    #[error("--db {path}: {detail}")]
    Sql { path: String, detail: String },
}

/// One stored scan, without its document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScanRow {
    pub id: i64,
    pub domain: String,
    pub scanned_at: String,
    pub outcome: String,
    pub errors: i64,
    pub warnings: i64,
    pub infos: i64,
}

/// One stored scan with its JSON document.
#[derive(Debug, Clone)]
pub struct StoredScan {
    pub row: ScanRow,
    pub document: serde_json::Value,
}

/// An open history file.
pub struct History {
    conn: Connection,
    path: String,
}

impl History {
    /// Opens (creating when missing) and migrates the file for writing.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        let shown = path.display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(&shown, e))?;
        let mut history = History { conn, path: shown };
        history.prepare(true)?;
        Ok(history)
    }

    /// Opens an existing file to read it (`mxtls history`, `mxtls diff`).
    pub fn open_existing(path: &Path) -> Result<History, HistoryError> {
        let shown = path.display().to_string();
        if !path.exists() {
            return Err(HistoryError::Missing { path: shown });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(&shown, e))?;
        let mut history = History { conn, path: shown };
        history.prepare(false)?;
        Ok(history)
    }

    fn err(&self, e: rusqlite::Error) -> HistoryError {
        classify(&self.path, e)
    }

    /// Settings, then the schema: checked, and migrated when `write`.
    fn prepare(&mut self, write: bool) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let err = |e| classify(&path, e);
        self.conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        if write && self.conn.is_readonly(MAIN_DB).map_err(err)? {
            return Err(HistoryError::ReadOnly { path });
        }
        // Reading the header: a file that is not SQLite fails here.
        let _: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err)?;
        self.conn
            .pragma_update(None, "foreign_keys", true)
            .map_err(err)?;
        // In WAL mode NORMAL syncs at checkpoints, not at every commit: a
        // power cut may lose the last scan but never corrupts the file
        // (SQLite's documentation of `synchronous`).
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        // An immediate transaction takes the write lock now: a locked or
        // read-only file is found before any scan, not after.
        let tx = self
            .conn
            .transaction_with_behavior(if write {
                TransactionBehavior::Immediate
            } else {
                TransactionBehavior::Deferred
            })
            .map_err(err)?;
        let version = schema_version(&tx).map_err(err)?;
        if version > i64::from(SCHEMA_VERSION) {
            return Err(HistoryError::NewerSchema {
                path,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        if version < 0 {
            return Err(HistoryError::Corrupt {
                path,
                detail: "it holds another program's tables".into(),
            });
        }
        if !write && version == 0 {
            return Err(HistoryError::Corrupt {
                path,
                detail: "it has no mxtls tables".into(),
            });
        }
        for (v, sql) in MIGRATIONS {
            if i64::from(*v) > version {
                tx.execute_batch(sql).map_err(err)?;
                tx.execute(
                    "INSERT INTO mxtls_schema (version, applied_at) VALUES (?1, ?2)",
                    params![v, now_rfc3339()],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// The newest stored scan of `domain`.
    pub fn last(&self, domain: &str) -> Result<Option<StoredScan>, HistoryError> {
        Ok(self.recent_with_documents(domain, 1)?.into_iter().next())
    }

    /// The newest `limit` scans of `domain` with their documents, newest first.
    pub fn recent_with_documents(
        &self,
        domain: &str,
        limit: usize,
    ) -> Result<Vec<StoredScan>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, domain, scanned_at, outcome, errors, warnings, infos, document
                 FROM scan WHERE domain = ?1 ORDER BY scanned_unix DESC, id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![domain, limit_param(limit)], |r| {
                Ok((row(r)?, r.get::<_, String>(7)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            let (row, text) = r.map_err(|e| self.err(e))?;
            if text.len() > MAX_DOCUMENT_BYTES {
                return Err(HistoryError::Corrupt {
                    path: self.path.clone(),
                    detail: format!("scan {} has a document of {} bytes", row.id, text.len()),
                });
            }
            let document = serde_json::from_str(&text).map_err(|e| HistoryError::Corrupt {
                path: self.path.clone(),
                detail: format!("the document of scan {} is not JSON: {e}", row.id),
            })?;
            out.push(StoredScan { row, document });
        }
        Ok(out)
    }

    /// The newest `limit` scans of `domain`, newest first, without documents.
    pub fn recent(&self, domain: &str, limit: usize) -> Result<Vec<ScanRow>, HistoryError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, domain, scanned_at, outcome, errors, warnings, infos
                 FROM scan WHERE domain = ?1 ORDER BY scanned_unix DESC, id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![domain, limit_param(limit)], row)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Stores one scan and its findings in one transaction: an interrupted
    /// run leaves no half record.
    pub fn store(&mut self, report: &DomainReport) -> Result<i64, HistoryError> {
        let path = self.path.clone();
        let err = |e| classify(&path, e);
        let document = serde_json::to_string(report).map_err(|e| HistoryError::Sql {
            path: path.clone(),
            detail: format!("cannot serialise the scan of {}: {e}", report.domain),
        })?;
        let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count() as i64;
        let (errors, warnings, infos) = (
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Info),
        );
        let outcome = if errors > 0 {
            "errors"
        } else if warnings > 0 {
            "warnings"
        } else {
            "passed"
        };
        let now = std::time::SystemTime::now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let id: i64 = tx
            .query_row(
                "INSERT INTO scan (domain, scanned_at, scanned_unix, outcome, errors, warnings, infos, mxtls_version, document)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                params![
                    report.domain,
                    crate::datetime::format_rfc3339(now),
                    crate::datetime::unix_seconds(now),
                    outcome,
                    errors,
                    warnings,
                    infos,
                    env!("CARGO_PKG_VERSION"),
                    document
                ],
                |r| r.get(0),
            )
            .map_err(err)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO finding (scan_id, position, severity, code, subject, message)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            for (i, f) in report.findings.iter().enumerate() {
                insert
                    .execute(params![
                        id,
                        i as i64,
                        f.severity.as_str(),
                        f.code.entry().code,
                        f.subject,
                        f.message
                    ])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(id)
    }
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScanRow> {
    Ok(ScanRow {
        id: r.get(0)?,
        domain: r.get(1)?,
        scanned_at: r.get(2)?,
        outcome: r.get(3)?,
        errors: r.get(4)?,
        warnings: r.get(5)?,
        infos: r.get(6)?,
    })
}

/// The schema version applied: 0 for a new (empty) file.
fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    let exists: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'mxtls_schema'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        // Another program's database: not ours to add tables to.
        return Ok(if tables > 0 { -1 } else { 0 });
    }
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM mxtls_schema",
        [],
        |r| r.get(0),
    )
}

fn now_rfc3339() -> String {
    crate::datetime::format_rfc3339(std::time::SystemTime::now())
}

/// An SQLite error as what the user can do about it.
fn classify(path: &str, e: rusqlite::Error) -> HistoryError {
    let path = path.to_string();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => HistoryError::Corrupt {
            path,
            detail: e.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => HistoryError::Locked { path },
        Some(ErrorCode::ReadOnly) => HistoryError::ReadOnly { path },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => HistoryError::Open {
            path,
            detail: e.to_string(),
        },
        _ => HistoryError::Sql {
            path,
            detail: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_gets_the_schema_and_a_second_open_keeps_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("h.db");
        let h = History::open(&path).expect("a new file opens");
        assert!(h.recent("example.com", 10).expect("query").is_empty());
        drop(h);
        let h = History::open(&path).expect("it opens again");
        let v = schema_version(&h.conn).expect("version");
        assert_eq!(v, i64::from(SCHEMA_VERSION));
    }

    #[test]
    fn bad_files_are_refused_with_their_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![0x5a_u8; 8192]).expect("write");
        let e = History::open(&garbage).err().expect("garbage is refused");
        assert!(matches!(e, HistoryError::Corrupt { .. }), "{e}");

        let newer = dir.path().join("newer.db");
        drop(History::open(&newer).expect("new"));
        let conn = Connection::open(&newer).expect("open");
        conn.execute(
            "INSERT INTO mxtls_schema (version, applied_at) VALUES (99, 'x')",
            [],
        )
        .expect("insert");
        drop(conn);
        let e = History::open(&newer)
            .err()
            .expect("a newer schema is refused");
        assert!(
            e.to_string().contains("schema version 99"),
            "the message names the version: {e}"
        );

        let foreign = dir.path().join("foreign.db");
        let conn = Connection::open(&foreign).expect("open");
        conn.execute("CREATE TABLE t (x)", []).expect("create");
        drop(conn);
        let e = History::open(&foreign).err().expect("another program's db");
        assert!(matches!(e, HistoryError::Corrupt { .. }), "{e}");

        let e = History::open_existing(&dir.path().join("none.db"))
            .err()
            .expect("a missing file is refused for reading");
        assert!(matches!(e, HistoryError::Missing { .. }), "{e}");
    }
}
