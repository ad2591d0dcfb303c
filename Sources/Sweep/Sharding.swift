// Scale-out (DESIGN.md §3): a plan splits into shards along its DAG subtrees — each dense-train job with every job
// below it (its fine-tunes, traces and hardware evaluations) goes to one shard, dealt round-robin in plan order —
// so no job runs in two shards and no shard waits for another. Each shard runs into its own store (one Slurm
// array task each); `leopard store merge` gathers them, and the merged store equals a single run's (tested).

import Basics
import Storage

extension SweepPlan {
    /// The number of DAG subtrees (dense-train jobs): the most shards that can each get work.
    public var subtreeCount: Int { jobs.filter { $0.parentKey == nil }.count }

    /// Shard `index` of `count` (0 ≤ index < count): the subtrees whose position among the roots ≡ index mod count.
    /// A shard past the number of subtrees is empty.
    public func shard(_ index: Int, of count: Int) -> SweepPlan {
        precondition(count >= 1 && (0..<count).contains(index), "shard \(index) of \(count)")
        var rootOf: [String: String] = [:]
        var rootPosition: [String: Int] = [:]
        for job in jobs {  // parents come before children
            if let parent = job.parentKey {
                rootOf[job.key] = rootOf[parent] ?? parent
            } else {
                rootOf[job.key] = job.key
                rootPosition[job.key] = rootPosition.count
            }
        }
        let kept = jobs.filter { rootPosition[rootOf[$0.key]!]! % count == index }
        return SweepPlan(manifest: manifest, dataDirectory: dataDirectory, jobs: kept)
    }
}

/// `I/N` on the command line: shard I of N.
public struct ShardSelector: Sendable, Equatable {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses "I/N" with 0 ≤ I < N ≤ 100,000.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), (1...100_000).contains(n), (0..<n).contains(i) else {
            throw UsageError("--shard = \(text); expected I/N with 0 ≤ I < N (e.g. 0/4 is the first of four shards)")
        }
        self.init(index: i, count: n)
    }
}
