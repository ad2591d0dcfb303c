// The figures `leopard store inspect` prints: schema version, rows per table, jobs per state, artifact bytes.

import Basics
import Foundation

public struct StoreSummary: Sendable, Equatable {
    public let path: String
    public let schemaVersion: Int
    public let fileBytes: Int
    /// Rows per table (sweeps, jobs, artifacts, metrics).
    public let rowsPerTable: [String: Int]
    /// Every state, zero included.
    public let jobsPerState: [JobState: Int]
    public let artifactCount: Int
    public let artifactRawBytes: Int
    public let artifactStoredBytes: Int

    /// raw / stored (1 when there are no artifacts).
    public var compressionRatio: Double {
        artifactStoredBytes == 0 ? 1 : Double(artifactRawBytes) / Double(artifactStoredBytes)
    }

    /// The `--json` form: snake_case keys.
    public var json: JSONValue {
        .object([
            "path": .string(path),
            "schema_version": JSONValue(schemaVersion),
            "file_bytes": JSONValue(fileBytes),
            "rows": .object(rowsPerTable.mapValues { JSONValue($0) }),
            "jobs": .object(Dictionary(uniqueKeysWithValues: jobsPerState.map { ($0.key.rawValue, JSONValue($0.value)) })),
            "artifacts": .object([
                "count": JSONValue(artifactCount),
                "raw_bytes": JSONValue(artifactRawBytes),
                "stored_bytes": JSONValue(artifactStoredBytes),
                "compression_ratio": JSONValue(compressionRatio),
            ]),
        ])
    }
}

extension ResultStore {
    public func summary() throws -> StoreSummary {
        try read {
            var rows: [String: Int] = [:]
            for table in StoreSchema.tables {
                guard case .integer(let n)? = try database.scalar("SELECT COUNT(*) FROM \(table)") else { continue }
                rows[table] = Int(n)
            }
            var states = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
            for (state, count) in try database.query("SELECT state, COUNT(*) FROM jobs GROUP BY state", row: {
                ($0.string(at: 0) ?? "", $0.int(at: 1))
            }) {
                if let s = JobState(rawValue: state) { states[s] = count }
            }
            let bytes = try database.query("SELECT COUNT(*), COALESCE(SUM(raw_bytes), 0), COALESCE(SUM(length(data)), 0) FROM artifacts") {
                ($0.int(at: 0), $0.int(at: 1), $0.int(at: 2))
            }[0]
            return StoreSummary(path: path, schemaVersion: try database.userVersion(), fileBytes: Self.fileSize(path) ?? 0,
                                rowsPerTable: rows, jobsPerState: states, artifactCount: bytes.0,
                                artifactRawBytes: bytes.1, artifactStoredBytes: bytes.2)
        }
    }
}

extension ResultStore {
    static func fileSize(_ path: String) -> Int? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return (attributes[.size] as? NSNumber)?.intValue
    }
}

/// What `store inspect --verify` found: SQLite's integrity check and every artifact read back and verified.
public struct StoreVerification: Sendable, Equatable {
    /// `["ok"]` when SQLite finds the file sound; otherwise its problems (naming pages).
    public let integrity: [String]
    public let artifactsChecked: Int
    /// One message per artifact that fails decompression or its checksum (each names the job and kind).
    public let artifactProblems: [String]

    public var isSound: Bool { integrity == ["ok"] && artifactProblems.isEmpty }
}

extension ResultStore {
    /// Runs `PRAGMA integrity_check` and reads back every artifact (one at a time, so memory stays bounded by
    /// the largest artifact).
    public func verify() throws -> StoreVerification {
        let integrity = try integrityCheck()
        let artifacts = try read {
            try database.query("SELECT job_key, kind FROM artifacts ORDER BY job_key, kind") { ($0.string(at: 0) ?? "", $0.string(at: 1) ?? "") }
        }
        var problems: [String] = []
        for (key, kind) in artifacts {
            do {
                _ = try artifact(key: key, kind: kind)
            } catch let error as StoreError {
                problems.append(error.message)
            }
        }
        return StoreVerification(integrity: integrity, artifactsChecked: artifacts.count, artifactProblems: problems)
    }
}
