-- mxtls history, schema version 1.
--
-- Plain SQL that SQLite and PostgreSQL both read (docs/HISTORY.md says
-- what to change for PostgreSQL: the id column's identity). One row in
-- `scan` per domain scanned; its findings in `finding`, in report order.

CREATE TABLE mxtls_schema (
    version    INTEGER NOT NULL PRIMARY KEY,
    applied_at TEXT    NOT NULL
);

CREATE TABLE scan (
    id            INTEGER NOT NULL PRIMARY KEY,
    domain        TEXT    NOT NULL,
    scanned_at    TEXT    NOT NULL,
    scanned_unix  BIGINT  NOT NULL,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('passed', 'warnings', 'errors')),
    errors        INTEGER NOT NULL,
    warnings      INTEGER NOT NULL,
    infos         INTEGER NOT NULL,
    mxtls_version TEXT    NOT NULL,
    document      TEXT    NOT NULL
);

CREATE INDEX scan_domain_time ON scan (domain, scanned_unix, id);

CREATE TABLE finding (
    scan_id  INTEGER NOT NULL REFERENCES scan (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    severity TEXT    NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    code     TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    message  TEXT    NOT NULL,
    PRIMARY KEY (scan_id, position)
);

CREATE INDEX finding_code ON finding (code);
