// Helpers for the Datasets tests: the real data directory (LEOPARD_DATA, skipped visibly when a data set is
// genuinely absent), temporary directories for malformed fixtures, and a Python runner for reference checks.

import Basics
import Foundation
import Testing
@testable import Datasets

enum TestData {
    /// The data directory of the run (`LEOPARD_DATA`, else `./data`).
    static var directory: DataDirectory { DataDirectory.resolve(explicit: nil) }

    /// Runs `body` unless the data set is missing, in which case it prints a visible SKIP line.
    static func withDataSet(_ label: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let missing as MissingDataError {
            print("SKIP: \(label): \(missing.message)")
        }
    }

    /// The Python interpreter to ask (`LEOPARD_PYTHON`, else `python3`).
    static var python: String {
        let value = ProcessInfo.processInfo.environment["LEOPARD_PYTHON"] ?? ""
        return value.isEmpty ? "python3" : value
    }

    /// Runs a Python script; returns (exit status, stdout, stderr), or nil when Python cannot be started.
    static func runPython(_ script: String, arguments: [String] = []) -> (status: Int32, output: String, errors: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { return nil }
        // Read stderr on another thread so that neither pipe can fill up and block the child.
        nonisolated(unsafe) var errorData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errorData = errors.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "leopard-datasets-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` to `relative` (creating folders) and returns the full path.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ relative: String, bytes: [UInt8]) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    var dataDirectory: DataDirectory { DataDirectory(path: path) }
}

/// The message of the `InputError` that `body` throws (fails the test if it throws nothing or something else).
func inputErrorMessage(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        try body()
        Issue.record("expected an InputError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as InputError {
        return error.message
    } catch {
        Issue.record("expected an InputError, got \(error)", sourceLocation: sourceLocation)
    }
    return ""
}
