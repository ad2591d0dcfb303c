// Scale-out: shards partition the plan along DAG subtrees (every job in exactly one shard, each shard closed under
// parents), and running the shards into separate stores and merging them gives exactly the store of one run.
// (The same through a real Slurm job array: CommandsTests.SlurmTests.)

import Foundation
import Storage
import Testing
@testable import Sweep

@Suite("Sharding a sweep for scale-out") struct ShardingTests {
    static let manifest = toyManifestJSON(lambdas: [0.1, 0.5], qkUnits: [8, 16], models: ["analytic", "cycle"])
        .replacingOccurrences(of: "\"seeds\": [0]", with: "\"seeds\": [0, 1]")

    @Test(arguments: [1, 2, 3, 4, 7])
    func shardsPartitionThePlanAlongSubtrees(count: Int) throws {
        let plan = try toyPlan(Self.manifest)
        #expect(plan.subtreeCount == 4)  // 2 tasks × 2 seeds
        var seen: [String: Int] = [:]
        for index in 0..<count {
            let shard = plan.shard(index, of: count)
            let keys = shard.keys
            for job in shard.jobs {
                seen[job.key, default: 0] += 1
                if let parent = job.parentKey { #expect(keys.contains(parent), "shard \(index) has a job without its parent") }
            }
            // Round-robin over 4 subtrees: shard i gets ceil((4 − i) / count) of them.
            #expect(shard.subtreeCount == max(0, (4 - index + count - 1) / count))
        }
        #expect(seen.count == plan.jobs.count && seen.values.allSatisfy { $0 == 1 })
    }

    @Test func mergedShardStoresEqualOneRun() throws {
        let dir = try TemporaryDirectory()
        let plan = try toyPlan(Self.manifest)
        _ = try runPlan(plan, store: dir.file("single.sqlite"))
        for index in 0..<3 { _ = try runPlan(plan.shard(index, of: 3), store: dir.file("shard-\(index).sqlite")) }
        let merged = try ResultStore(path: dir.file("merged.sqlite"), access: .write())
        for index in [2, 0, 1] { _ = try merged.merge(shardAt: dir.file("shard-\(index).sqlite")) }
        let one = try snapshot(dir.file("single.sqlite")), gathered = try snapshot(dir.file("merged.sqlite"))
        #expect(one.count == plan.jobs.count)
        #expect(gathered == one)
    }

    @Test(arguments: ["0/0", "3/3", "-1/2", "1", "a/b", "1/2/3", ""])
    func badShardSelectorsAreUsageErrors(text: String) {
        #expect(throws: (any Error).self) { try ShardSelector(parsing: text) }
    }

    @Test func shardSelectorParses() throws {
        #expect(try ShardSelector(parsing: "2/5") == ShardSelector(index: 2, count: 5))
    }

    @Test func slurmScriptsQuoteAndCarryTheShardAndMerge() throws {
        let s = SlurmSubmission(sweep: "demo", leopard: "/opt/it's/leopard", manifest: "/m/demo.json", workingDirectory: "/work",
                                dataDirectory: "/data", finalStore: "/work/results/demo.sqlite", directory: "/work/results/demo.slurm",
                                shards: 4, jobsPerShard: 2, partition: "batch", timeLimit: "2:00:00", retryFailed: true)
        try s.validate()
        #expect(s.arrayScript.contains("#SBATCH --array=0-3\n"))
        #expect(s.arrayScript.contains("#SBATCH --cpus-per-task=2\n"))
        #expect(s.arrayScript.contains("#SBATCH --partition=batch\n#SBATCH --time=2:00:00\n"))
        #expect(s.arrayScript.contains("exec '/opt/it'\\''s/leopard' sweep run '/m/demo.json' --shard \"${SLURM_ARRAY_TASK_ID}/4\""))
        #expect(s.arrayScript.contains("--jobs 2 --data-dir '/data' --retry-failed\n"))
        #expect(s.mergeScript.contains("store merge '/work/results/demo.sqlite' \"$@\""))
        #expect(s.mergeScript.contains("while [ \"$i\" -lt 4 ]"))
        var spaced = s
        spaced.workingDirectory = "/my work"
        #expect(throws: (any Error).self) { try spaced.validate() }
        var badTime = s
        badTime.timeLimit = "2h"
        #expect(throws: (any Error).self) { try badTime.validate() }
    }

    @Test func slurmScriptsRunUnderSh() throws {
        // The generated scripts are valid POSIX sh (sh -n parses without running).
        let dir = try TemporaryDirectory()
        let s = SlurmSubmission(sweep: "demo", leopard: "/bin/true", manifest: "/m.json", workingDirectory: "/tmp", dataDirectory: "/d",
                                finalStore: dir.file("s.sqlite"), directory: dir.path, shards: 2, jobsPerShard: 1)
        for text in [s.arrayScript, s.mergeScript] {
            let path = dir.file("check.sh")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-n", path]
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(text)")
        }
    }
}
