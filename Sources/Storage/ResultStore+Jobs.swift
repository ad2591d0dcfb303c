// Sweeps and the job life cycle: pending → running → done | failed, with failed → pending on retry and
// running → pending when the owner died. Every transition is one SQL statement guarded by the expected current
// state, so a transition that lost a race (or a wrong call) changes nothing and is reported.

import Basics
import Foundation

public enum JobState: String, CaseIterable, Sendable, Comparable {
    case pending, running, done, failed

    public static func < (a: JobState, b: JobState) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A job to insert: its stable key (Basics.StableKey), the sweep, its kind ("dense-train", "finetune",
/// "capture-trace", "hw-eval", ...), the parent it depends on, and its parameters.
public struct JobSpec: Sendable, Equatable {
    public let key: String
    public let kind: String
    public let parentKey: String?
    public let parameters: JSONValue

    public init(key: String, kind: String, parentKey: String?, parameters: JSONValue) {
        self.key = key
        self.kind = kind
        self.parentKey = parentKey
        self.parameters = parameters
    }
}

public struct JobRecord: Sendable, Equatable {
    public let key: String
    public let sweep: String
    public let kind: String
    public let parentKey: String?
    /// Canonical JSON text of the parameters.
    public let parametersJSON: String
    public let state: JobState
    public let attempts: Int
    public let error: String?
    public let ownerPID: Int32?
    public let ownerHost: String?
    public let heartbeatAt: Double?
    public let createdAt: Double
    public let startedAt: Double?
    public let finishedAt: Double?
    public let elapsedSeconds: Double?
}

public enum SweepRegistration: Sendable, Equatable {
    case created, unchanged, updated
}

extension ResultStore {
    static let jobColumns = """
        key, sweep, kind, parent_key, params_json, state, attempts, error, owner_pid, owner_host, heartbeat_at,
        created_at, started_at, finished_at, elapsed_seconds
        """

    static func jobRecord(_ row: Statement) -> JobRecord {
        JobRecord(
            key: row.string(at: 0) ?? "", sweep: row.string(at: 1) ?? "", kind: row.string(at: 2) ?? "",
            parentKey: row.string(at: 3), parametersJSON: row.string(at: 4) ?? "",
            state: JobState(rawValue: row.string(at: 5) ?? "") ?? .pending,  // CHECK constraint guarantees a valid state
            attempts: row.int(at: 6), error: row.string(at: 7),
            ownerPID: row.optionalInt64(at: 8).map { Int32(truncatingIfNeeded: $0) }, ownerHost: row.string(at: 9),
            heartbeatAt: row.optionalDouble(at: 10), createdAt: row.double(at: 11),
            startedAt: row.optionalDouble(at: 12), finishedAt: row.optionalDouble(at: 13),
            elapsedSeconds: row.optionalDouble(at: 14))
    }

    /// Runs a write: takes the lock, checks the store is writable, maps corruption to `StoreError.corrupt`.
    func write<T>(_ body: () throws -> T) throws -> T {
        try locked {
            try requireWritable()
            return try Self.translatingCorruption(path: path, body)
        }
    }

    func read<T>(_ body: () throws -> T) throws -> T {
        try locked { try Self.translatingCorruption(path: path, body) }
    }

    // MARK: Sweeps

    /// Records a sweep's manifest. Idempotent for the same manifest; a changed manifest replaces the stored one.
    @discardableResult
    public func registerSweep(name: String, manifest: JSONValue) throws -> SweepRegistration {
        let text = CanonicalJSON.encode(manifest)
        let hash = SHA256.hexDigest(Array(text.utf8))
        return try write {
            try database.transaction {
                let existing = try database.scalar("SELECT manifest_sha256 FROM sweeps WHERE name = ?", [.text(name)])
                let time = now()
                switch existing {
                case nil:
                    try database.run("INSERT INTO sweeps (name, manifest_json, manifest_sha256, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                                     [.text(name), .text(text), .text(hash), .real(time), .real(time)])
                    return .created
                case .text(hash)?:
                    return .unchanged
                default:
                    try database.run("UPDATE sweeps SET manifest_json = ?, manifest_sha256 = ?, updated_at = ? WHERE name = ?",
                                     [.text(text), .text(hash), .real(time), .text(name)])
                    return .updated
                }
            }
        }
    }

    /// The stored manifest of a sweep, nil when unknown.
    public func sweepManifest(name: String) throws -> JSONValue? {
        try read {
            guard case .text(let text)? = try database.scalar("SELECT manifest_json FROM sweeps WHERE name = ?", [.text(name)]) else { return nil }
            return try JSONParser.parse(text)
        }
    }

    public func sweepNames() throws -> [String] {
        try read { try database.query("SELECT name FROM sweeps ORDER BY created_at, name") { $0.string(at: 0) ?? "" } }
    }

    // MARK: Inserting

    /// Inserts the jobs whose keys are not in the store yet (in one transaction); returns how many were new.
    /// Parents must come before their children in `jobs` or be in the store already (foreign key).
    @discardableResult
    public func insertJobsIfAbsent(sweep: String, _ jobs: [JobSpec]) throws -> Int {
        try write {
            try database.transaction {
                let insert = try database.prepare("""
                    INSERT INTO jobs (key, sweep, kind, parent_key, params_json, created_at)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING
                    """)
                var inserted = 0
                let time = now()
                for job in jobs {
                    try insert.run([.text(job.key), .text(sweep), .text(job.kind), job.parentKey.map { .text($0) } ?? .null,
                                    .text(CanonicalJSON.encode(job.parameters)), .real(time)])
                    inserted += database.changes
                }
                return inserted
            }
        }
    }

    // MARK: Reading jobs

    public func job(key: String) throws -> JobRecord? {
        try read {
            try database.query("SELECT \(Self.jobColumns) FROM jobs WHERE key = ?", [.text(key)], row: Self.jobRecord).first
        }
    }

    /// Jobs filtered by state, sweep and kind (nil = any), in insertion order.
    public func jobs(state: JobState? = nil, sweep: String? = nil, kind: String? = nil) throws -> [JobRecord] {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let state { conditions.append("state = ?"); bindings.append(.text(state.rawValue)) }
        if let sweep { conditions.append("sweep = ?"); bindings.append(.text(sweep)) }
        if let kind { conditions.append("kind = ?"); bindings.append(.text(kind)) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read {
            try database.query("SELECT \(Self.jobColumns) FROM jobs \(filter) ORDER BY rowid", bindings, row: Self.jobRecord)
        }
    }

    // MARK: Transitions

    /// Claims a specific pending job for this process: running, attempts + 1, owner pid/host, heartbeat now.
    @discardableResult
    public func claim(key: String) throws -> JobRecord {
        try write {
            let time = now()
            let changed = try database.run("""
                UPDATE jobs SET state = 'running', attempts = attempts + 1, error = NULL, owner_pid = ?, owner_host = ?,
                    heartbeat_at = ?, started_at = ?, finished_at = NULL, elapsed_seconds = NULL
                WHERE key = ? AND state = 'pending'
                """, [.integer(Int64(ProcessIdentity.processID)), .text(ProcessIdentity.hostName), .real(time), .real(time), .text(key)])
            guard changed == 1 else { throw try transitionError(key: key, to: .running) }
            return try database.query("SELECT \(Self.jobColumns) FROM jobs WHERE key = ?", [.text(key)], row: Self.jobRecord)[0]
        }
    }

    /// Claims the oldest pending job whose parent is done (or that has no parent), optionally within a sweep, kinds
    /// and a key scope (the current plan's jobs); nil when none is ready.
    public func claimNextReady(sweep: String? = nil, kinds: [String]? = nil, within scope: JobKeyScope? = nil) throws -> JobRecord? {
        var conditions = ["j.state = 'pending'", "(j.parent_key IS NULL OR p.state = 'done')"]
        var bindings: [SQLValue] = []
        if let sweep { conditions.append("j.sweep = ?"); bindings.append(.text(sweep)) }
        if let scope { conditions.append(scopeCondition(scope, column: "j.key")) }
        if let kinds {
            if kinds.isEmpty { return nil }
            conditions.append("j.kind IN (\(kinds.map { _ in "?" }.joined(separator: ", ")))")
            bindings += kinds.map { .text($0) }
        }
        return try write {
            try database.transaction { () -> JobRecord? in
                guard case .text(let key)? = try database.scalar("""
                    SELECT j.key FROM jobs j LEFT JOIN jobs p ON p.key = j.parent_key
                    WHERE \(conditions.joined(separator: " AND ")) ORDER BY j.rowid LIMIT 1
                    """, bindings) else { return nil }
                return try claim(key: key)
            }
        }
    }

    /// Marks a running job as alive now. Returns false when the job is not running under this process any more
    /// (it was re-queued by a resume, for instance), which tells the worker to stop.
    @discardableResult
    public func heartbeat(key: String) throws -> Bool {
        try write {
            try database.run("UPDATE jobs SET heartbeat_at = ? WHERE key = ? AND state = 'running' AND owner_pid = ? AND owner_host = ?",
                             [.real(now()), .text(key), .integer(Int64(ProcessIdentity.processID)), .text(ProcessIdentity.hostName)]) == 1
        }
    }

    /// Marks a job this process is running as failed with `reason`.
    public func fail(key: String, reason: String) throws {
        try write {
            let time = now()
            let changed = try database.run("""
                UPDATE jobs SET state = 'failed', error = ?, finished_at = ?, elapsed_seconds = ? - started_at
                WHERE key = ? AND \(Self.ownedByThisProcess)
                """, [.text(reason), .real(time), .real(time), .text(key)] + Self.ownerBindings)
            guard changed == 1 else { throw try transitionError(key: key, to: .failed) }
        }
    }

    /// Marks every pending descendant of `key` (within `scope` when given: descendants outside it stay untouched)
    /// failed with `reason` (their ancestor failed, so they cannot run); returns their keys.
    @discardableResult
    public func failPendingDescendants(of key: String, reason: String, within scope: JobKeyScope? = nil) throws -> [String] {
        try write {
            try database.transaction {
                let inScope = scope.map { " AND " + scopeCondition($0, column: "jobs.key") } ?? ""
                let keys = try database.query("""
                    WITH RECURSIVE below(key) AS (
                        SELECT key FROM jobs WHERE parent_key = ?
                        UNION SELECT j.key FROM jobs j JOIN below b ON j.parent_key = b.key)
                    SELECT jobs.key FROM jobs JOIN below USING (key) WHERE jobs.state = 'pending'\(inScope) ORDER BY jobs.rowid
                    """, [.text(key)]) { $0.string(at: 0) ?? "" }
                let update = try database.prepare("UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE key = ? AND state = 'pending'")
                let time = now()
                for k in keys { try update.run([.text(reason), .real(time), .text(k)]) }
                return keys
            }
        }
    }

    /// Failed jobs (of `sweep`, within `scope`, when given) back to pending (`resume --retry-failed`); attempts are
    /// kept. Returns their keys.
    @discardableResult
    public func requeueFailed(sweep: String? = nil, within scope: JobKeyScope? = nil) throws -> [String] {
        try write {
            try database.transaction {
                let filter = (sweep == nil ? "" : " AND sweep = ?") + (scope.map { " AND " + scopeCondition($0, column: "key") } ?? "")
                let bindings: [SQLValue] = sweep.map { [.text($0)] } ?? []
                let keys = try database.query("SELECT key FROM jobs WHERE state = 'failed'\(filter) ORDER BY rowid", bindings) { $0.string(at: 0) ?? "" }
                try database.run("UPDATE jobs SET state = 'pending', owner_pid = NULL, owner_host = NULL, heartbeat_at = NULL WHERE state = 'failed'\(filter)", bindings)
                return keys
            }
        }
    }

    /// Running jobs whose owner is gone go back to pending; returns their keys. Owner gone means: on this host,
    /// no process has the owner pid (`kill(pid, 0)`), or it is this very process's pid but the caller says it
    /// is not running the job (`ownKeysRunning`); on another host, the heartbeat is older than
    /// `heartbeatTimeoutSeconds`.
    @discardableResult
    public func requeueStaleRunning(heartbeatTimeoutSeconds: Double, ownKeysRunning: Set<String> = [],
                                    isAlive: (Int32) -> Bool = ProcessIdentity.isAlive(pid:)) throws -> [String] {
        try write {
            try database.transaction {
                let time = now()
                let running = try database.query("SELECT \(Self.jobColumns) FROM jobs WHERE state = 'running' ORDER BY rowid", row: Self.jobRecord)
                var stale: [String] = []
                for job in running {
                    let pid = job.ownerPID ?? 0
                    let dead: Bool
                    if job.ownerHost == ProcessIdentity.hostName {
                        dead = pid == ProcessIdentity.processID ? !ownKeysRunning.contains(job.key) : !isAlive(pid)
                    } else {
                        dead = time - (job.heartbeatAt ?? 0) > heartbeatTimeoutSeconds
                    }
                    if dead { stale.append(job.key) }
                }
                let update = try database.prepare("""
                    UPDATE jobs SET state = 'pending', owner_pid = NULL, owner_host = NULL, heartbeat_at = NULL,
                        error = 'requeued: owner ' || COALESCE(owner_pid, '?') || '@' || COALESCE(owner_host, '?') || ' stopped'
                    WHERE key = ? AND state = 'running'
                    """)
                for key in stale { try update.run([.text(key)]) }
                return stale
            }
        }
    }

    func transitionError(key: String, to target: JobState) throws -> StoreError {
        let found = try database.query("SELECT state, owner_pid, owner_host FROM jobs WHERE key = ?", [.text(key)]) {
            ($0.string(at: 0) ?? "", $0.optionalInt64(at: 1), $0.string(at: 2))
        }.first
        guard let (state, pid, host) = found else { return .unknownJob(file: path, key: key) }
        if state == JobState.running.rawValue && (pid != Int64(ProcessIdentity.processID) || host != ProcessIdentity.hostName) {
            return .invalidTransition(file: path, key: key, from: "running under pid \(pid.map(String.init) ?? "?") on host \(host ?? "?")",
                                      to: "\(target.rawValue) from this process (pid \(ProcessIdentity.processID))")
        }
        return .invalidTransition(file: path, key: key, from: state, to: target.rawValue)
    }

    /// SQL condition (2 bindings: `ownerBindings`) for "running and claimed by this process".
    static let ownedByThisProcess = "state = 'running' AND owner_pid = ? AND owner_host = ?"
    static var ownerBindings: [SQLValue] { [.integer(Int64(ProcessIdentity.processID)), .text(ProcessIdentity.hostName)] }
}
