// Helpers: a fresh temporary directory per test, removed afterwards, and the path of the child-process binary.

import Foundation
import Testing

final class TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The build products directory: where the test bundle (and `store-crash-writer`) are.
func productsDirectory() -> URL {
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return executable.deletingLastPathComponent()
}

/// `store-crash-writer` next to the tests; nil (with a recorded issue) when it was not built.
func crashWriterBinary(sourceLocation: SourceLocation = #_sourceLocation) -> URL? {
    let url = productsDirectory().appendingPathComponent("store-crash-writer")
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        Issue.record("store-crash-writer not found at \(url.path); build it first (swift build --build-tests builds every target)",
                     sourceLocation: sourceLocation)
        return nil
    }
    return url
}

/// Runs a command line tool and returns (exit status, stdout bytes).
@discardableResult
func runTool(_ executable: String, _ arguments: [String], stdin: [UInt8]? = nil) throws -> (status: Int32, stdout: [UInt8]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let outPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = FileHandle.nullDevice
    let inPipe = Pipe()
    if stdin != nil { process.standardInput = inPipe }
    try process.run()
    if let stdin {
        // Write on another thread so a large input cannot deadlock against a full stdout pipe.
        let writer = inPipe.fileHandleForWriting
        let data = Data(stdin)
        let thread = Thread { writer.write(data); try? writer.close() }
        thread.start()
    }
    let output = outPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, [UInt8](output))
}

func which(_ tool: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let candidate = "\(directory)/\(tool)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Deterministic pseudo-random bytes (xorshift), compressible when `alphabet` is small.
func sampleBytes(count: Int, seed: UInt64, alphabet: Int = 256) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: Int(state % UInt64(alphabet)))
    }
}

extension FileHandle {
    /// Reads bytes until a newline or end of file (nil when nothing came before the end).
    func availableLine() -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = readData(ofLength: 1)
            if chunk.isEmpty { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if chunk[0] == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(chunk[0])
        }
    }
}
