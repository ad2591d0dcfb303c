// Two real processes and one store: the first writer holds the advisory lock; a second writer gets a clear error
// naming the owner's pid and host (or waits up to its timeout); readers keep reading while the owner writes.

import Basics
import Foundation
import Testing
@testable import Storage

/// Starts `store-crash-writer hold-lock` and waits for its "locked" line.
private func startLockHolder(_ binary: URL, path: String, seconds: Double? = nil) throws -> Process {
    let child = Process()
    child.executableURL = binary
    child.arguments = ["hold-lock", path] + (seconds.map { [String($0)] } ?? [])
    let output = Pipe()
    child.standardOutput = output
    child.standardError = FileHandle.nullDevice
    try child.run()
    let line = output.fileHandleForReading.availableLine()
    #expect(line == "locked", "lock holder said: \(line ?? "nothing")")
    return child
}

@Suite(.serialized) struct ConcurrencyTests {
    @Test func aSecondWriterIsToldWhoOwnsTheStore() throws {
        guard let binary = crashWriterBinary() else { return }
        let dir = try TemporaryDirectory()
        let path = dir.file("shared.sqlite")
        let holder = try startLockHolder(binary, path: path)
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }

        let error = #expect(throws: StoreError.self) { try ResultStore(path: path, access: .write()) }
        let message = error?.message ?? ""
        #expect(message.hasPrefix(path))
        #expect(message.contains("pid \(holder.processIdentifier) on host \(ProcessIdentity.hostName)"))
        #expect(message.contains(path + ".lock"))

        // Waiting gives up after the timeout, with the same error.
        let start = Date()
        #expect(throws: StoreError.self) { try ResultStore(path: path, access: .write(lockTimeoutSeconds: 0.3)) }
        #expect(Date().timeIntervalSince(start) >= 0.3)

        // Readers work while the other process writes: the done count they see only grows.
        let reader = try ResultStore(path: path, access: .readOnly)
        var seen: [Int] = []
        for _ in 0..<20 {
            seen.append(try reader.summary().jobsPerState[.done] ?? 0)
            usleep(25_000)
        }
        #expect(seen == seen.sorted() && seen.last! > seen.first!, "done counts seen by the reader: \(seen)")
    }

    @Test func aWaitingWriterGetsTheStoreWhenTheOwnerExits() throws {
        guard let binary = crashWriterBinary() else { return }
        let dir = try TemporaryDirectory()
        let path = dir.file("handover.sqlite")
        let holder = try startLockHolder(binary, path: path, seconds: 0.4)
        let start = Date()
        let store = try ResultStore(path: path, access: .write(lockTimeoutSeconds: 10))
        // The lock was released only when the holder exited, ~0.4 s after it said "locked".
        #expect(Date().timeIntervalSince(start) > 0.2)
        holder.waitUntilExit()
        #expect(holder.terminationReason == .exit && holder.terminationStatus == 0)
        #expect(try store.summary().jobsPerState[.done]! > 0)
    }

    @Test func aKilledOwnerLeavesNoStaleLock() throws {
        guard let binary = crashWriterBinary() else { return }
        let dir = try TemporaryDirectory()
        let path = dir.file("killed.sqlite")
        let holder = try startLockHolder(binary, path: path)
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let store = try ResultStore(path: path, access: .write())
        #expect(try store.integrityCheck() == ["ok"])
    }

    @Test func twoWritersInOneProcessAreExcludedToo() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("same-process.sqlite")
        let first = try ResultStore(path: path, access: .write())
        #expect(throws: StoreError.self) { try ResultStore(path: path, access: .write()) }
        _ = first
    }
}
