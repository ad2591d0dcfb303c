// Damaged and foreign files: a flipped bit in an artifact blob, a truncated database, files that are not Leopard
// stores, and a store from a newer Leopard. Each gives one clear error naming the file (and the artifact or the
// missing page), never a crash, and leaves the rest of the store readable.

import Basics
import Foundation
import Testing
@testable import Storage

/// A closed store with three done jobs, each with a checkpoint artifact and two metrics.
private func populatedStore(at path: String) throws {
    let store = try ResultStore(path: path, access: .write())
    try store.registerSweep(name: "s", manifest: [:])
    for index in 0..<3 {
        let key = "job\(index)"
        try store.insertJobsIfAbsent(sweep: "s", [JobSpec(key: key, kind: "dense-train", parentKey: nil, parameters: [:])])
        try store.claim(key: key)
        try store.complete(key: key, metrics: [("accuracy", 0.5 + Double(index) / 10), ("loss", 1)],
                           artifacts: [ArtifactInput(kind: "checkpoint", bytes: CrashWorkload.artifact(key: key))])
    }
}

@Suite struct CorruptionTests {
    @Test(arguments: [0.1, 0.5, 0.9])
    func aFlippedBitInAnArtifactIsNamedAndOtherRowsStillRead(_ where_: Double) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("flip.sqlite")
        try populatedStore(at: path)
        // Flip one bit inside job1's blob with plain SQL, as a disk or a careless tool would.
        do {
            let db = try Database(path: path)
            guard case .blob(var blob)? = try db.scalar("SELECT data FROM artifacts WHERE job_key = 'job1'") else {
                Issue.record("no blob"); return
            }
            let position = Int(Double(blob.count) * where_)
            blob[position] ^= 0x10
            try db.run("UPDATE artifacts SET data = ? WHERE job_key = 'job1'", [.blob(blob)])
        }
        let store = try ResultStore(path: path, access: .readOnly)
        let error = #expect(throws: StoreError.self) { try store.artifact(key: "job1", kind: "checkpoint") }
        guard case .corruptArtifact(let file, let key, let kind, _)? = error else {
            Issue.record("expected corruptArtifact, got \(String(describing: error))"); return
        }
        #expect(file == path && key == "job1" && kind == "checkpoint")
        #expect(error?.message.hasPrefix("\(path): artifact 'checkpoint' of job job1 is corrupt") == true)
        // Everything else is intact.
        #expect(try store.artifact(key: "job0", kind: "checkpoint") == CrashWorkload.artifact(key: "job0"))
        #expect(try store.artifact(key: "job2", kind: "checkpoint") == CrashWorkload.artifact(key: "job2"))
        #expect(try store.metrics(key: "job1") == ["accuracy": 0.6, "loss": 1])
        #expect(try store.integrityCheck() == ["ok"])  // SQLite's structure is fine; only our checksum sees it
    }

    @Test func aWrongRecordedChecksumIsCaughtEvenWhenTheFrameIsValid() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("sha.sqlite")
        try populatedStore(at: path)
        try Database(path: path).run("UPDATE artifacts SET sha256 = ? WHERE job_key = 'job2'", [.text(String(repeating: "0", count: 64))])
        let store = try ResultStore(path: path, access: .readOnly)
        let error = #expect(throws: StoreError.self) { try store.artifact(key: "job2", kind: "checkpoint") }
        #expect(error?.message.contains("SHA-256") == true)
        #expect(error?.message.contains("job2") == true)
    }

    @Test(arguments: [0.95, 0.6, 0.3])
    func aTruncatedStoreIsAClearErrorNamingTheFileAndPage(_ keptFraction: Double) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("truncated.sqlite")
        try populatedStore(at: path)
        let size = ResultStore.fileSize(path)!
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.truncate(atOffset: UInt64(Double(size) * keptFraction))
        try handle.close()

        for access in [ResultStore.Access.readOnly, .write()] {
            let error = #expect(throws: StoreError.self) {
                let store = try ResultStore(path: path, access: access)
                _ = try store.summary()
                for job in try store.jobs() { _ = try store.artifact(key: job.key, kind: "checkpoint") }
            }
            guard case .corrupt(let file, let detail)? = error else {
                Issue.record("expected .corrupt, got \(String(describing: error))"); continue
            }
            #expect(file == path)
            #expect(detail.contains("truncated") && detail.contains("page"), "detail: \(detail)")
        }
    }

    @Test(arguments: [
        ("text file", Array("name,value\nspeedup,2.5\n".utf8)),
        ("shorter than the SQLite header", Array("SQLite format 3\u{0}abc".utf8)),
        ("random bytes", sampleBytes(count: 8192, seed: 3)),
    ])
    func foreignFilesAreRejectedByName(_ name: String, _ content: [UInt8]) throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("foreign.bin")
        try Data(content).write(to: URL(fileURLWithPath: path))
        for access in [ResultStore.Access.readOnly, .write()] {
            let error = #expect(throws: StoreError.self, "\(name)") { try ResultStore(path: path, access: access) }
            #expect(error?.message.hasPrefix(path) == true, "\(name): \(String(describing: error))")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(content), "the foreign file was modified")
    }

    @Test func anotherSQLiteDatabaseIsNotAStore() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("other.sqlite")
        try Database(path: path).execute("CREATE TABLE people (name TEXT)")
        let error = #expect(throws: StoreError.self) { try ResultStore(path: path, access: .write()) }
        #expect(error == .notAStore(file: path, detail: "a SQLite database with 1 schema objects and no Leopard application_id"))
    }

    @Test func aStoreFromANewerLeopardIsRefused() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("newer.sqlite")
        try populatedStore(at: path)
        try Database(path: path).setUserVersion(ResultStore.schemaVersion + 1)
        for access in [ResultStore.Access.readOnly, .write()] {
            let error = #expect(throws: NewerSchemaError.self) { try ResultStore(path: path, access: access) }
            #expect(error?.message.hasPrefix("\(path): schema version 2 is newer") == true)
        }
    }

    @Test func openingAMissingStoreReadOnlyDoesNotCreateIt() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("absent.sqlite")
        #expect(throws: StoreError.self) { try ResultStore(path: path, access: .readOnly) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
