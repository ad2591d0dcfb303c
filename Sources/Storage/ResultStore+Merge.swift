// Merging shard stores (DESIGN.md §3 scale-out: each Slurm array task writes its own shard, merged afterwards),
// plus the per-kind timing statistics `sweep plan` uses to estimate cost.
//
// Merge rule, per job key: a job absent here is copied with its metrics and artifacts; a job present here but not
// done is replaced by the shard's copy when the shard's is done (with the shard's metrics and artifacts); a job done
// here is never touched. So merging is idempotent and the order of shards does not matter for done work.
// A sweep is copied when absent; when both stores have it with different manifests, the later registration's
// manifest wins (`updated_at`), so the merged store of a resubmitted, edited manifest holds the manifest its shards
// ran — what `pareto`, `plot` and `status` plan to tell current jobs from superseded ones.
// Artifact blobs are copied as stored (no recompression) and verified when read, as always.

import Basics
import Foundation

public struct MergeReport: Sendable, Equatable {
    public let shard: String
    public let sweepsAdded: Int
    public let jobsAdded: Int
    /// Jobs that were pending/running/failed here and done in the shard.
    public let jobsCompletedFromShard: Int
    public let metricsCopied: Int
    public let artifactsCopied: Int
    /// Sweeps whose manifest this store took from the shard (registered there later, and different): it decides
    /// which of the sweep's jobs are current.
    public var manifestsReplaced: Int = 0
}

public struct KindTiming: Sendable, Equatable {
    public let kind: String
    public let doneJobs: Int
    public let meanElapsedSeconds: Double
}

extension ResultStore {
    /// Copies what `shardPath` has and this store lacks (see the rule above), in one transaction.
    public func merge(shardAt shardPath: String) throws -> MergeReport {
        // Validate the shard as a store first: a foreign, newer or damaged file gets its own clear error.
        do { _ = try ResultStore(path: shardPath, access: .readOnly).summary() }
        return try write {
            try database.run("ATTACH DATABASE ? AS shard", [.text(shardPath)])
            defer { _ = try? database.execute("DETACH DATABASE shard") }
            return try Self.translatingCorruption(path: shardPath) {
                try database.transaction {
                    try database.execute("PRAGMA defer_foreign_keys = ON")
                    let sweeps = try database.run("INSERT INTO main.sweeps SELECT * FROM shard.sweeps WHERE name NOT IN (SELECT name FROM main.sweeps)")
                    // Correlated subqueries rather than UPDATE … FROM, which needs SQLite 3.33 (clusters still run 3.26).
                    let replaced = try database.run("""
                        UPDATE main.sweeps SET
                            manifest_json = (SELECT s.manifest_json FROM shard.sweeps s WHERE s.name = main.sweeps.name),
                            manifest_sha256 = (SELECT s.manifest_sha256 FROM shard.sweeps s WHERE s.name = main.sweeps.name),
                            updated_at = (SELECT s.updated_at FROM shard.sweeps s WHERE s.name = main.sweeps.name)
                        WHERE EXISTS (SELECT 1 FROM shard.sweeps s WHERE s.name = main.sweeps.name
                                      AND s.manifest_sha256 <> main.sweeps.manifest_sha256 AND s.updated_at > main.sweeps.updated_at)
                        """)
                    // Keys to take from the shard: absent here, or not done here but done there.
                    try database.execute("""
                        CREATE TEMP TABLE merge_keys AS
                        SELECT s.key, (m.key IS NULL) AS absent FROM shard.jobs s LEFT JOIN main.jobs m ON m.key = s.key
                        WHERE m.key IS NULL OR (m.state <> 'done' AND s.state = 'done')
                        """)
                    defer { _ = try? database.execute("DROP TABLE temp.merge_keys") }
                    let completed = try database.run("""
                        DELETE FROM main.jobs WHERE key IN (SELECT key FROM temp.merge_keys WHERE NOT absent)
                        """)
                    // Deleting a job cascades to its metrics and artifacts; children keep pointing at the key,
                    // which is re-inserted below within the same transaction (foreign keys are deferred).
                    let jobs = try database.run("INSERT INTO main.jobs SELECT * FROM shard.jobs WHERE key IN (SELECT key FROM temp.merge_keys)")
                    let metrics = try database.run("INSERT INTO main.metrics SELECT * FROM shard.metrics WHERE job_key IN (SELECT key FROM temp.merge_keys)")
                    let artifacts = try database.run("INSERT INTO main.artifacts SELECT * FROM shard.artifacts WHERE job_key IN (SELECT key FROM temp.merge_keys)")
                    return MergeReport(shard: shardPath, sweepsAdded: sweeps, jobsAdded: jobs - completed,
                                       jobsCompletedFromShard: completed, metricsCopied: metrics, artifactsCopied: artifacts,
                                       manifestsReplaced: replaced)
                }
            }
        }
    }

    /// Done jobs and their mean elapsed time per kind (for cost estimates), sorted by kind.
    public func timingsByKind(sweep: String? = nil) throws -> [KindTiming] {
        let filter = sweep == nil ? "" : " AND sweep = ?"
        return try read {
            try database.query("""
                SELECT kind, COUNT(*), AVG(elapsed_seconds) FROM jobs
                WHERE state = 'done' AND elapsed_seconds IS NOT NULL\(filter) GROUP BY kind ORDER BY kind
                """, sweep.map { [.text($0)] } ?? []) {
                KindTiming(kind: $0.string(at: 0) ?? "", doneJobs: $0.int(at: 1), meanElapsedSeconds: $0.double(at: 2))
            }
        }
    }

    /// Jobs per state (every state present, zero included), optionally within one sweep and a key scope.
    public func stateCounts(sweep: String? = nil, within scope: JobKeyScope? = nil) throws -> [JobState: Int] {
        let conditions = (sweep == nil ? [] : ["sweep = ?"]) + (scope.map { [scopeCondition($0, column: "key")] } ?? [])
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try read {
            var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
            for (state, count) in try database.query("SELECT state, COUNT(*) FROM jobs\(filter) GROUP BY state",
                                                     sweep.map { [.text($0)] } ?? [], row: { ($0.string(at: 0) ?? "", $0.int(at: 1)) }) {
                if let s = JobState(rawValue: state) { counts[s] = count }
            }
            return counts
        }
    }
}
