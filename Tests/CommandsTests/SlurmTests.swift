// `leopard sweep slurm` on a real Slurm cluster (scripts/slurm-cluster.sh starts a single-node one; CI does): a
// job array of three shards plus the merge job, submitted with sbatch and followed with squeue, must produce the
// same store as running the manifest in one process. Skips with a visible line when no cluster answers.

import Basics
import Commands
import Foundation
import Storage
import Testing

@Suite("Slurm scale-out", .serialized) struct SlurmTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let manifest = """
    {"schemaVersion": 1, "name": "slurmtoy", "seeds": [0, 1],
     "experiments": [{"model": "toy", "task": "toy/easy"}, {"model": "toy", "task": "toy/hard"}],
     "training": {"steps": 300}, "lambdas": [0.1, 0.5], "trace": {"examples": 2, "bits": 8},
     "hardware": {"qkUnits": [8, 16], "dpuWidth": 16}, "hardwareModels": ["analytic", "cycle"], "budget": 2, "jobs": 1}
    """

    /// Whether a Slurm controller answers with a usable node (sinfo with a timeout: without a controller it retries
    /// for minutes).
    static func clusterAnswers() -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        p.arguments = ["10", "sinfo", "-h", "-o", "%t"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        guard (try? p.run()) != nil else { return false }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return p.terminationStatus == 0 && text.split(whereSeparator: \.isNewline).contains { ["idle", "mix", "alloc"].contains(String($0)) }
    }

    static func snapshot(_ path: String) throws -> [String: String] {
        let store = try ResultStore(path: path, access: .readOnly)
        var out: [String: String] = [:]
        for job in try store.jobs() {
            let metrics = try store.metrics(key: job.key)
            let text = metrics.keys.sorted().map { "\($0)=\(metrics[$0]!)" }.joined(separator: ";")
            let artifacts = try store.artifactInfos(key: job.key).map { "\($0.kind):\($0.sha256)" }.joined(separator: ",")
            out[job.key] = "\(job.kind) \(job.state.rawValue) \(text) [\(artifacts)]"
        }
        return out
    }

    @Test func jobArrayAndMergeEqualOneProcess() throws {
        let binary = Self.root.appendingPathComponent(".build/debug/leopard").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("SKIP: SlurmTests: no debug leopard binary at \(binary) (build it with swift build)")
            return
        }
        guard Self.clusterAnswers() else {
            print("SKIP: SlurmTests: no Slurm cluster answers sinfo (start one with scripts/slurm-cluster.sh start and export SLURM_CONF)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-slurm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = dir + "/slurmtoy.json"
        try Self.manifest.write(toFile: manifest, atomically: true, encoding: .utf8)

        // Scripts only: nothing submitted, the sbatch lines printed.
        let dry = runLeopard(["sweep", "slurm", manifest, "--store", dir + "/dry.sqlite", "--shards", "3", "--leopard", binary])
        #expect(dry.exitCode == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("52 jobs in 4 DAG subtree(s) → 3 array task(s)"), "\(dry.stdout)")
        #expect(dry.stdout.contains("sbatch --dependency=afterany:"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/dry.sqlite"))

        let run = runLeopard(["sweep", "slurm", manifest, "--store", dir + "/slurm.sqlite", "--shards", "3", "--submit", "--wait",
                              "--wait-timeout", "600", "--leopard", binary, "--json"])
        #expect(run.exitCode == 0, "\(run.stdout)\n\(run.stderr)")
        let report = try JSONParser.parse(run.stdout)
        #expect(report["done"] == .integer(52) && report["failed"] == .integer(0), "\(run.stdout)")
        for shard in 0..<3 {
            #expect(FileManager.default.fileExists(atPath: dir + "/slurm.slurm/shard-\(shard).sqlite"))
        }

        let local = runLeopard(["sweep", "run", manifest, "--store", dir + "/local.sqlite"])
        #expect(local.exitCode == 0, "\(local.stderr)")
        let merged = try Self.snapshot(dir + "/slurm.sqlite"), single = try Self.snapshot(dir + "/local.sqlite")
        #expect(merged.count == 52)
        #expect(merged == single)

        // Resubmitting finds every job done: the shards run nothing new and the merge adds nothing.
        let again = runLeopard(["sweep", "slurm", manifest, "--store", dir + "/slurm.sqlite", "--shards", "3", "--submit", "--wait",
                                "--wait-timeout", "600", "--leopard", binary])
        #expect(again.exitCode == 0, "\(again.stderr)")
        #expect(try Self.snapshot(dir + "/slurm.sqlite") == single)
        let log = try String(contentsOfFile: dir + "/slurm.slurm/logs/shard-0.log", encoding: .utf8)
        #expect(log.contains("this run: 0 new job(s), 0 done"), "\(log)")
    }

    @Test(arguments: [
        (["sweep", "slurm", "m.json", "--wait"], "--wait needs --submit"),
        (["sweep", "slurm", "m.json", "--shards", "0"], "--shards = 0"),
        (["sweep", "run", "m.json", "--shard", "2/2"], "--shard = 2/2; expected I/N with 0 ≤ I < N"),
        (["sweep", "resume", "--store", "s.sqlite", "--shard", "0/2"], "--shard needs the manifest"),
    ])
    func usageErrors(argv: [String], message: String) {
        let r = runLeopard(argv)
        #expect(r.exitCode == 64, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }
}
