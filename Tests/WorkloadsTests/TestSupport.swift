import Foundation

/// A fresh temporary directory for one test.
func makeTemporaryDirectory(_ name: String = #function) -> String {
    let base = NSTemporaryDirectory() + "leopard-workloads-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    return base
}

/// Runs python3 with `script`; returns nil (after printing a visible SKIP line) when python3 or numpy is missing.
func runPythonWithNumpy(_ script: String, arguments: [String] = [], testName: String = #function) -> (status: Int32, output: String)? {
    func run(_ args: [String]) -> (Int32, String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + args
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
    guard let probe = run(["-c", "import numpy"]), probe.0 == 0 else {
        print("SKIP: \(testName): python3 with numpy is not available (pip install numpy)")
        return nil
    }
    return run(["-c", script] + arguments)
}
