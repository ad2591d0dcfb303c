// Results: metrics (named numbers) and artifacts (zstd-compressed blobs: checkpoints, traces). Completing a job
// writes its state, metrics and artifacts in ONE transaction, so a job is either done with all of its results or
// not done with none of them. Artifacts are compressed and hashed before the transaction starts (the write lock is
// held only for the inserts) and verified on every read: decompressed size and SHA-256 of the raw bytes.

import Basics
import Foundation

/// An artifact to store with a job.
public struct ArtifactInput: Sendable {
    /// What it is: "checkpoint", "trace", "planes", ... Unique per job.
    public let kind: String
    public let bytes: [UInt8]
    /// Width of the numbers the bytes hold (4 for float32 tensors, 2 for int16 traces, 1 for text or mixed
    /// content); 2 and 4 select a byte-shuffled codec that compresses such arrays better.
    public let elementBytes: Int

    public init(kind: String, bytes: [UInt8], elementBytes: Int = 1) {
        precondition([1, 2, 4].contains(elementBytes), "elementBytes must be 1, 2 or 4")
        self.kind = kind
        self.bytes = bytes
        self.elementBytes = elementBytes
    }
}

/// What the store knows about an artifact without reading its blob.
public struct ArtifactInfo: Sendable, Equatable {
    public let jobKey: String
    public let kind: String
    public let codec: String
    public let rawBytes: Int
    public let storedBytes: Int
    public let sha256: String
}

/// An artifact compressed and hashed, ready to insert.
struct PreparedArtifact {
    let kind: String
    let codec: ArtifactCodec
    let rawBytes: Int
    let sha256: String
    let frame: [UInt8]

    init(_ input: ArtifactInput, level: Int) throws {
        kind = input.kind
        codec = ArtifactCodec.forElements(ofBytes: input.elementBytes, count: input.bytes.count)
        rawBytes = input.bytes.count
        sha256 = SHA256.hexDigest(input.bytes)
        frame = try codec.encode(input.bytes, level: level)
    }
}

extension ResultStore {
    /// zstd level for artifacts: 3 is zstd's default balance of speed and ratio.
    public static let artifactCompressionLevel = Zstd.defaultLevel

    // MARK: Completing

    /// Running → done with `metrics` and `artifacts`, in one transaction. Only the process that claimed the job
    /// may complete it. Metrics replace earlier values of the
    /// same name; an artifact replaces an earlier one of the same kind.
    public func complete(key: String, metrics: [(name: String, value: Double)] = [], artifacts: [ArtifactInput] = []) throws {
        let prepared = try artifacts.map { try PreparedArtifact($0, level: Self.artifactCompressionLevel) }
        try write {
            try database.transaction {
                let time = now()
                let changed = try database.run("""
                    UPDATE jobs SET state = 'done', error = NULL, finished_at = ?, elapsed_seconds = ? - started_at,
                        heartbeat_at = ?
                    WHERE key = ? AND \(Self.ownedByThisProcess)
                    """, [.real(time), .real(time), .real(time), .text(key)] + Self.ownerBindings)
                guard changed == 1 else { throw try transitionError(key: key, to: .done) }
                try insertMetrics(key: key, metrics)
                try insertArtifacts(key: key, prepared, time: time)
            }
        }
    }

    // MARK: Metrics

    /// Writes metrics for one job in one transaction (the batched path: one prepared statement, one commit).
    public func recordMetrics(key: String, _ metrics: [(name: String, value: Double)]) throws {
        try write { try database.transaction { try insertMetrics(key: key, metrics) } }
    }

    /// Writes metrics for many jobs in one transaction.
    public func recordMetrics(_ rows: [(key: String, name: String, value: Double)]) throws {
        try write {
            try database.transaction {
                let upsert = try database.prepare(Self.metricUpsert)
                for row in rows { try upsert.run([.text(row.key), .text(row.name), Self.metricValue(row.value)]) }
            }
        }
    }

    private static let metricUpsert = """
        INSERT INTO metrics (job_key, name, value) VALUES (?, ?, ?)
        ON CONFLICT (job_key, name) DO UPDATE SET value = excluded.value
        """

    /// SQLite stores NaN as NULL; it reads back as NaN.
    private static func metricValue(_ value: Double) -> SQLValue { value.isNaN ? .null : .real(value) }

    private func insertMetrics(key: String, _ metrics: [(name: String, value: Double)]) throws {
        guard !metrics.isEmpty else { return }
        let upsert = try database.prepare(Self.metricUpsert)
        for metric in metrics { try upsert.run([.text(key), .text(metric.name), Self.metricValue(metric.value)]) }
    }

    /// A job's metrics by name.
    public func metrics(key: String) throws -> [String: Double] {
        try read {
            var result: [String: Double] = [:]
            for (name, value) in try database.query("SELECT name, value FROM metrics WHERE job_key = ?", [.text(key)], row: {
                ($0.string(at: 0) ?? "", $0.optionalDouble(at: 1) ?? .nan)
            }) { result[name] = value }
            return result
        }
    }

    /// Jobs with all their metrics, in insertion order, filtered like `jobs(state:sweep:kind:)` (one query): what
    /// Pareto fronts and plots read.
    public func jobResults(state: JobState? = .done, sweep: String? = nil, kind: String? = nil) throws -> [(job: JobRecord, metrics: [String: Double])] {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let state { conditions.append("j.state = ?"); bindings.append(.text(state.rawValue)) }
        if let sweep { conditions.append("j.sweep = ?"); bindings.append(.text(sweep)) }
        if let kind { conditions.append("j.kind = ?"); bindings.append(.text(kind)) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let columns = Self.jobColumns.split(separator: ",").map { "j." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return try read {
            var results: [(job: JobRecord, metrics: [String: Double])] = []
            let statement = try database.prepare("""
                SELECT \(columns.joined(separator: ", ")), m.name, m.value
                FROM jobs j LEFT JOIN metrics m ON m.job_key = j.key \(filter) ORDER BY j.rowid
                """)
            try statement.bind(bindings)
            let nameColumn = columns.count
            while try statement.step() {
                let key = statement.string(at: 0) ?? ""
                if results.last?.job.key != key { results.append((Self.jobRecord(statement), [:])) }
                if let name = statement.string(at: nameColumn) {
                    results[results.count - 1].metrics[name] = statement.optionalDouble(at: nameColumn + 1) ?? .nan
                }
            }
            return results
        }
    }

    // MARK: Artifacts

    /// Stores artifacts for a job outside completion (e.g. a trace written while the job still runs).
    public func storeArtifacts(key: String, _ artifacts: [ArtifactInput]) throws {
        let prepared = try artifacts.map { try PreparedArtifact($0, level: Self.artifactCompressionLevel) }
        try write { try database.transaction { try insertArtifacts(key: key, prepared, time: now()) } }
    }

    private func insertArtifacts(key: String, _ artifacts: [PreparedArtifact], time: Double) throws {
        guard !artifacts.isEmpty else { return }
        let upsert = try database.prepare("""
            INSERT INTO artifacts (job_key, kind, codec, raw_bytes, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (job_key, kind) DO UPDATE SET codec = excluded.codec, raw_bytes = excluded.raw_bytes,
                sha256 = excluded.sha256, data = excluded.data, created_at = excluded.created_at
            """)
        for artifact in artifacts {
            try upsert.run([.text(key), .text(artifact.kind), .text(artifact.codec.rawValue), .integer(Int64(artifact.rawBytes)), .text(artifact.sha256),
                            .blob(artifact.frame), .real(time)])
        }
    }

    /// The artifacts of a job, without their data.
    public func artifactInfos(key: String) throws -> [ArtifactInfo] {
        try read {
            try database.query("SELECT job_key, kind, codec, raw_bytes, length(data), sha256 FROM artifacts WHERE job_key = ? ORDER BY kind",
                               [.text(key)]) { row in
                ArtifactInfo(jobKey: row.string(at: 0) ?? "", kind: row.string(at: 1) ?? "", codec: row.string(at: 2) ?? "",
                             rawBytes: row.int(at: 3), storedBytes: row.int(at: 4), sha256: row.string(at: 5) ?? "")
            }
        }
    }

    /// The raw bytes of an artifact, nil when the job has none of that kind. Verified: the frame must decompress to
    /// exactly the recorded size and hash to the recorded SHA-256, else `StoreError.corruptArtifact`.
    public func artifact(key: String, kind: String) throws -> [UInt8]? {
        let stored: (codec: String, rawBytes: Int, sha256: String, frame: [UInt8])? = try read {
            try database.query("SELECT codec, raw_bytes, sha256, data FROM artifacts WHERE job_key = ? AND kind = ?",
                               [.text(key), .text(kind)]) { row in
                (row.string(at: 0) ?? "", row.int(at: 1), row.string(at: 2) ?? "", row.blob(at: 3))
            }.first
        }
        guard let stored else { return nil }
        func corrupt(_ detail: String) -> StoreError { .corruptArtifact(file: path, jobKey: key, kind: kind, detail: detail) }
        guard let codec = ArtifactCodec(rawValue: stored.codec) else { throw corrupt("unknown codec '\(stored.codec)'") }
        let raw: [UInt8]
        do {
            raw = try codec.decode(stored.frame, rawBytes: stored.rawBytes)
        } catch let error as CompressionError {
            throw corrupt(error.message)
        }
        guard raw.count == stored.rawBytes else {
            throw corrupt("it decompresses to \(raw.count) bytes, the store recorded \(stored.rawBytes)")
        }
        let digest = SHA256.hexDigest(raw)
        guard digest == stored.sha256 else { throw corrupt("SHA-256 \(digest) does not match the recorded \(stored.sha256)") }
        return raw
    }
}
