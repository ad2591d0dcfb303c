// `leopard store inspect` and `leopard bench store`, argv → output and exit code, on real stores in a temp dir.

import Basics
import Foundation
import Storage
import Testing

private func temporaryStorePath(_ name: String) throws -> (directory: URL, path: String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return (directory, directory.appendingPathComponent(name).path)
}

/// A store with a sweep, two done jobs (one with an artifact) and one pending job; closed on return.
private func writeSampleStore(at path: String) throws {
    let store = try ResultStore(path: path, access: .write())
    try store.registerSweep(name: "demo", manifest: ["name": "demo"])
    try store.insertJobsIfAbsent(sweep: "demo", [
        JobSpec(key: "a", kind: "dense-train", parentKey: nil, parameters: [:]),
        JobSpec(key: "b", kind: "hw-eval", parentKey: "a", parameters: [:]),
        JobSpec(key: "c", kind: "hw-eval", parentKey: "a", parameters: [:]),
    ])
    try store.claim(key: "a")
    try store.complete(key: "a", metrics: [("accuracy", 0.9)],
                       artifacts: [ArtifactInput(kind: "checkpoint", bytes: [UInt8](repeating: 1, count: 10_000))])
    try store.claim(key: "b")
    try store.complete(key: "b", metrics: [("speedup", 2), ("energy_reduction", 3)])
}

@Suite("store inspect and bench store")
struct StoreCommandTests {
    @Test func inspectPrintsCountsAsJSON() throws {
        let (directory, path) = try temporaryStorePath("s.sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSampleStore(at: path)
        let r = runLeopard(["store", "inspect", path, "--json"])
        #expect(r.exitCode == 0, "stderr: \(r.stderr)")
        let json = try JSONParser.parse(r.stdout)
        #expect(json["schema_version"] == 1)
        #expect(json["rows"] == ["sweeps": 1, "jobs": 3, "artifacts": 1, "metrics": 3])
        #expect(json["jobs"] == ["pending": 1, "running": 0, "done": 2, "failed": 0])
        #expect(json["artifacts"]?["raw_bytes"] == 10_000)
        #expect((json["artifacts"]?["stored_bytes"]?.intValue ?? 0) < 1_000)
    }

    @Test func inspectPrintsTextAndVerifies() throws {
        let (directory, path) = try temporaryStorePath("t.sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSampleStore(at: path)
        let r = runLeopard(["store", "inspect", "--verify", path])
        #expect(r.exitCode == 0, "stderr: \(r.stderr)")
        for line in ["schema version: 1", "jobs:           pending 1, running 0, done 2, failed 0", "10000 raw",
                     "integrity:      ok", "artifacts:      1 checked, 0 corrupt"] {
            #expect(r.stdout.contains(line), "stdout lacks \(line): \(r.stdout)")
        }
    }

    @Test func verifyReportsACorruptArtifactAndExits1() throws {
        let (directory, path) = try temporaryStorePath("c.sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSampleStore(at: path)
        let db = try Database(path: path)
        guard case .blob(var blob)? = try db.scalar("SELECT data FROM artifacts") else { Issue.record("no blob"); return }
        blob[blob.count / 2] ^= 1
        try db.run("UPDATE artifacts SET data = ?", [.blob(blob)])
        let r = runLeopard(["store", "inspect", path, "--verify"])
        #expect(r.exitCode == 1)
        #expect(r.stderr.contains("\(path): artifact 'checkpoint' of job a is corrupt"), "stderr: \(r.stderr)")
        // Without --verify the summary still reads (other rows are fine).
        #expect(runLeopard(["store", "inspect", path]).exitCode == 0)
    }

    @Test(arguments: [
        ("not a store", Array("hello\n".utf8), "not a Leopard result store"),
        ("truncated SQLite header", Array("SQLite format 3\u{0}xx".utf8), "shorter than SQLite's 100-byte header"),
    ])
    func badFilesExit1NamingTheFile(_ name: String, _ content: [UInt8], _ expected: String) throws {
        let (directory, path) = try temporaryStorePath("bad.sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(content).write(to: URL(fileURLWithPath: path))
        let r = runLeopard(["store", "inspect", path])
        #expect(r.exitCode == 1)
        #expect(r.stderr.hasPrefix("error: \(path): "), "\(name): \(r.stderr)")
        #expect(r.stderr.contains(expected), "\(name): \(r.stderr)")
    }

    @Test func aTruncatedStoreExits1NamingTheMissingPage() throws {
        let (directory, path) = try temporaryStorePath("cut.sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSampleStore(at: path)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.truncate(atOffset: UInt64(size.intValue / 2))
        try handle.close()
        let r = runLeopard(["store", "inspect", path])
        #expect(r.exitCode == 1)
        #expect(r.stderr.contains("\(path): the store is damaged"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("page"), "stderr: \(r.stderr)")
    }

    @Test(arguments: [
        (["store", "inspect"], "missing argument <path>"),
        (["store", "inspect", "a", "b"], "unexpected argument 'b'"),
        (["store", "inspect", "a", "--bogus"], "unknown option '--bogus'"),
        (["store"], "'store' needs a subcommand"),
        (["bench", "store", "--dir", "/nonexistent-dir"], "--dir /nonexistent-dir: no such directory"),
    ])
    func usageErrorsExit64(_ argv: [String], _ expected: String) {
        let r = runLeopard(argv)
        #expect(r.exitCode == 64)
        #expect(r.stderr.contains(expected), "stderr: \(r.stderr)")
    }

    @Test func mergeGathersShardsIdempotently() throws {
        let (directory, shardPath) = try temporaryStorePath("shard.sqlite")
        defer { try? FileManager.default.removeItem(at: directory) }
        try writeSampleStore(at: shardPath)
        let into = directory.appendingPathComponent("all.sqlite").path
        let first = runLeopard(["store", "merge", into, shardPath, "--json"])
        #expect(first.exitCode == 0, "stderr: \(first.stderr)")
        let report = try JSONParser.parse(first.stdout)["shards"]?.arrayValue?.first
        #expect(report?["jobs_added"] == 3 && report?["metrics_copied"] == 3 && report?["artifacts_copied"] == 1)
        let second = runLeopard(["store", "merge", into, shardPath])
        #expect(second.stdout.contains("0 jobs added, 0 completed from the shard, 0 metrics"), "\(second.stdout)")
        let inspect = try JSONParser.parse(runLeopard(["store", "inspect", into, "--json"]).stdout)
        #expect(inspect["jobs"] == ["pending": 1, "running": 0, "done": 2, "failed": 0])
        #expect(runLeopard(["store", "merge", into]).exitCode == 64)
    }

    @Test func benchStoreQuickPrintsItsFigures() throws {
        let r = runLeopard(["bench", "store", "--quick", "--json"])
        #expect(r.exitCode == 0, "stderr: \(r.stderr)")
        let json = try JSONParser.parse(r.stdout)
        #expect((json["metric_rows_per_s"]?.doubleValue ?? 0) > 0)
        #expect((json["int16_trace"]?["ratio"]?.doubleValue ?? 0) > 1)
        #expect((json["float32_checkpoint"]?["compress_mb_per_s"]?.doubleValue ?? 0) > 0)
    }
}
