// Reliability: the real `leopard sweep run` process is killed with SIGKILL at ≥ 10 random moments and resumed
// after each; the final store must hold exactly the keys, states, metrics and artifacts of an uninterrupted run of
// the same manifest — no duplicates, nothing partial — and pass SQLite's integrity check.

import Basics
import Foundation
import Storage
import Testing
@testable import Sweep

@Suite struct KillResumeTests {
    static let manifest = """
    {"schemaVersion": 1, "name": "kill", "seeds": [0],
     "experiments": [{"model": "toy", "task": "toy/easy"}, {"model": "toy", "task": "toy/hard"}],
     "training": {"steps": 150000},
     "lambdas": [0.1, 0.5, 0.9],
     "trace": {"examples": 2, "bits": 8},
     "hardware": {"qkUnits": [4, 8, 16], "dpuWidth": 16},
     "hardwareModels": ["analytic", "cycle"], "jobs": 2}
    """

    @Test func killNineAtRandomMomentsThenResumeGivesTheUninterruptedResult() throws {
        let binary = productsDirectory().appendingPathComponent("leopard").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("leopard not found at \(binary); build it first (swift build --build-tests builds every product)")
            return
        }
        let dir = try TemporaryDirectory()
        let manifestPath = dir.file("kill.json")
        try Self.manifest.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let plan = try toyPlan(Self.manifest, file: manifestPath)
        _ = try runPlan(plan, store: dir.file("reference.sqlite"), jobs: 2)

        let store = dir.file("killed.sqlite")
        var rng = SeededGenerator(seed: 4242)
        var kills = 0, launches = 0
        var finished = false
        while kills < 12 && !finished {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["sweep", launches == 0 ? "run" : "resume", manifestPath, "--store", store, "--jobs", "2"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            launches += 1
            // A random moment: 50 to 600 ms into the run (startup, claims, computations, commits).
            Thread.sleep(forTimeInterval: 0.05 + 0.55 * rng.nextUnit())
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                if process.terminationReason == .uncaughtSignal { kills += 1 } else { finished = true }
            } else {
                process.waitUntilExit()
                finished = true
            }
            // After every kill the store opens and is sound.
            #expect(try ResultStore(path: store, access: .readOnly).integrityCheck() == ["ok"])
        }
        #expect(kills >= 10, "only \(kills) kills landed before the sweep finished (\(launches) launches)")

        // Resume to completion with the real binary.
        let final = Process()
        final.executableURL = URL(fileURLWithPath: binary)
        final.arguments = ["sweep", "resume", "--store", store, "--jobs", "2"]
        final.standardOutput = FileHandle.nullDevice
        final.standardError = FileHandle.nullDevice
        try final.run()
        final.waitUntilExit()
        #expect(final.terminationStatus == 0)

        let reference = try snapshot(dir.file("reference.sqlite"))
        let resumed = try snapshot(store)
        #expect(resumed.count == plan.jobs.count)
        #expect(resumed == reference)
        let opened = try ResultStore(path: store, access: .readOnly)
        #expect(try opened.integrityCheck() == ["ok"])
        #expect(try opened.verify().isSound)
        // No duplicates: one metrics row per (job, name), as many as the reference.
        let count = { (s: ResultStore) throws -> [[SQLValue]] in try s.rows("SELECT COUNT(*), COUNT(DISTINCT job_key || '/' || name) FROM metrics") }
        let ref = try ResultStore(path: dir.file("reference.sqlite"), access: .readOnly)
        #expect(try count(opened) == count(ref))
        // Attempts show the kills: some job was claimed more than once.
        #expect(try opened.jobs().contains { $0.attempts > 1 })
    }
}

/// The build products directory (where the test bundle and `leopard` are).
func productsDirectory() -> URL {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
}

@Suite struct InterruptTests {
    /// SIGINT to the real process: it stops launching jobs, lets running ones finish, exits 1 with the resume line,
    /// and leaves no job `running`.
    @Test func sigintStopsLaunchingAndLeavesTheStoreConsistent() throws {
        let binary = productsDirectory().appendingPathComponent("leopard").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            Issue.record("leopard not found at \(binary)")
            return
        }
        let dir = try TemporaryDirectory()
        let manifestPath = dir.file("kill.json")
        try KillResumeTests.manifest.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["sweep", "run", manifestPath, "--store", dir.file("s.sqlite"), "--jobs", "2"]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        // Wait until the first job is done (the store exists and has a done job), then interrupt.
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            if let store = try? ResultStore(path: dir.file("s.sqlite"), access: .readOnly),
               let done = try? store.jobs(state: .done), !done.isEmpty { break }
        }
        kill(process.processIdentifier, SIGINT)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(text.contains("interrupted: no new jobs were started; the store is consistent"), "\(text)")
        let store = try ResultStore(path: dir.file("s.sqlite"), access: .readOnly)
        #expect(try store.jobs(state: .running).isEmpty)
        #expect(try !store.jobs(state: .pending).isEmpty)
        #expect(try store.integrityCheck() == ["ok"])
    }
}
