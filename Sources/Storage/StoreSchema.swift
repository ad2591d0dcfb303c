// The result store's schema, as migrations. README.md (section "The result store") documents the same tables for people; keep them in step.
// Times are REAL seconds since the Unix epoch (UTC); views render them with datetime(x, 'unixepoch').

import Basics

enum StoreSchema {
    /// "LEOP": `PRAGMA application_id` marks a SQLite file as a Leopard store.
    static let applicationID: Int32 = 0x4C45_4F50

    static let migrations: [Migration] = [
        Migration(version: 1, summary: "sweeps, jobs, artifacts, metrics; views job_summary, metric_columns, hardware_points") { db in
            try db.execute(version1)
            try db.execute("PRAGMA application_id = \(applicationID)")
        },
    ]

    static var latestVersion: Int { migrations.count }

    static let tables = ["sweeps", "jobs", "artifacts", "metrics"]

    /// Metric names pivoted into columns by `metric_columns` / `hardware_points` (NULL where a job has no such metric).
    static let pivotedMetrics = [
        "accuracy", "metric", "dense_metric", "metric_loss", "prune_rate", "speedup", "energy_reduction",
        "cycles", "baseline_cycles", "mean_planes", "analytic_gap",
    ]

    private static var metricColumnsView: String {
        let columns = pivotedMetrics.map { "    MAX(CASE WHEN m.name = '\($0)' THEN m.value END) AS \($0)" }
        return """
        CREATE VIEW metric_columns AS
        SELECT j.key AS job_key,
        \(columns.joined(separator: ",\n"))
        FROM jobs j LEFT JOIN metrics m ON m.job_key = j.key
        GROUP BY j.key;
        """
    }

    private static var hardwarePointsView: String {
        // A hardware point's own metric wins; accuracy-like metrics usually live on its trace's fine-tune job
        // (parent = capture-trace, grandparent = finetune), so fall back to the parent, then the grandparent.
        let columns = pivotedMetrics.map { "    COALESCE(mj.\($0), mp.\($0), mg.\($0)) AS \($0)" }
        return """
        CREATE VIEW hardware_points AS
        SELECT j.key AS job_key, j.sweep, j.state, j.params_json,
               p.key AS trace_key, g.key AS finetune_key,
        \(columns.joined(separator: ",\n"))
        FROM jobs j
        LEFT JOIN metric_columns mj ON mj.job_key = j.key
        LEFT JOIN jobs p ON p.key = j.parent_key
        LEFT JOIN metric_columns mp ON mp.job_key = p.key
        LEFT JOIN jobs g ON g.key = p.parent_key
        LEFT JOIN metric_columns mg ON mg.job_key = g.key
        WHERE j.kind = 'hw-eval';
        """
    }

    private static var version1: String {
        """
        CREATE TABLE sweeps (
            name            TEXT PRIMARY KEY NOT NULL,
            manifest_json   TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            created_at      REAL NOT NULL,
            updated_at      REAL NOT NULL
        );

        CREATE TABLE jobs (
            key             TEXT PRIMARY KEY NOT NULL,
            sweep           TEXT NOT NULL REFERENCES sweeps(name),
            kind            TEXT NOT NULL,
            parent_key      TEXT REFERENCES jobs(key),
            params_json     TEXT NOT NULL,
            state           TEXT NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'running', 'done', 'failed')),
            attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            error           TEXT,
            owner_pid       INTEGER,
            owner_host      TEXT,
            heartbeat_at    REAL,
            created_at      REAL NOT NULL,
            started_at      REAL,
            finished_at     REAL,
            elapsed_seconds REAL
        );
        CREATE INDEX jobs_by_state ON jobs(state, sweep);
        CREATE INDEX jobs_by_parent ON jobs(parent_key);

        CREATE TABLE artifacts (
            job_key    TEXT NOT NULL REFERENCES jobs(key) ON DELETE CASCADE,
            kind       TEXT NOT NULL,
            codec      TEXT NOT NULL CHECK (codec IN ('zstd', 'zstd+shuffle2', 'zstd+shuffle4')),
            raw_bytes  INTEGER NOT NULL CHECK (raw_bytes >= 0),
            sha256     TEXT NOT NULL,
            data       BLOB NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (job_key, kind)
        );

        CREATE TABLE metrics (
            job_key TEXT NOT NULL REFERENCES jobs(key) ON DELETE CASCADE,
            name    TEXT NOT NULL,
            value   REAL,
            PRIMARY KEY (job_key, name)
        ) WITHOUT ROWID;

        CREATE VIEW job_summary AS
        SELECT sweep, kind, state,
               COUNT(*) AS jobs,
               SUM(attempts) AS attempts,
               ROUND(SUM(elapsed_seconds), 3) AS elapsed_seconds,
               ROUND(AVG(elapsed_seconds), 3) AS mean_elapsed_seconds,
               datetime(MAX(finished_at), 'unixepoch') AS last_finished
        FROM jobs GROUP BY sweep, kind, state;

        \(metricColumnsView)

        \(hardwarePointsView)
        """
    }
}
