// Drives benchmarks/torch_crosscheck.py: Leopard's bert-tiny logits, loss and every parameter gradient against
// the identical model in plain PyTorch (float64 reference). Skipped with a visible message when the Python
// interpreter ($LEOPARD_PYTHON, else python3) cannot import torch, numpy and safetensors.
import Basics
import Foundation
import Models
import Tensors
import Testing

@Suite struct TorchCrossCheckTests {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func bertTinyMatchesPyTorch() throws {
        let python = ProcessInfo.processInfo.environment["LEOPARD_PYTHON"] ?? "python3"
        guard run(python, ["-c", "import torch, numpy, safetensors"]).status == 0 else {
            print("SKIP: torch cross-check: \(python) cannot import torch, numpy, safetensors (set LEOPARD_PYTHON to a venv with them)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-crosscheck-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = BertConfig.bertTiny
        let net = BertClassifier(config: config, seed: 21)
        var batch = TokenBatch.random(batch: 4, time: config.maxTime, vocabulary: config.vocabulary, classes: config.classes, seed: 22)
        batch.lengths = [64, 40, 17, 1]
        net.parameters.zeroGradients()
        let loss = net.forward(batch, training: false)
        net.backward()

        let checkpoint = dir.appendingPathComponent("model.safetensors").path
        let grads = dir.appendingPathComponent("grads.safetensors").path
        let batchFile = dir.appendingPathComponent("batch.json").path
        try net.parameters.write(path: checkpoint, metadata: net.metadata.merging(["step": "0"]) { a, _ in a })
        try SafetensorsFile.write(path: grads, tensors: net.parameters.entries.map { ($0.name, net.parameters.gradient($0.name)) }, metadata: [:])
        let logits = net.logits
        let json: JSONValue = .object([
            "tokens": .array((0..<batch.batch).map { b in JSONValue(batch.tokens[(b * batch.time)..<((b + 1) * batch.time)].map { Int($0) }) }),
            "lengths": JSONValue(batch.lengths.map { Int($0) }), "labels": JSONValue(batch.labels.map { Int($0) }),
            "logits": .array((0..<batch.batch).map { b in JSONValue(logits[(b * config.classes)..<((b + 1) * config.classes)].map { Double($0) }) }),
            "loss": JSONValue(loss),
        ])
        try Data(CanonicalJSON.encode(json).utf8).write(to: URL(fileURLWithPath: batchFile))

        let script = Self.repositoryRoot.appendingPathComponent("benchmarks/torch_crosscheck.py").path
        let result = run(python, [script, checkpoint, batchFile, grads, "--json"])
        try #require(result.status == 0 || result.status == 1, "cross-check script failed to run: \(result.output)")
        let report = try JSONParser.parse(String(result.output.split(separator: "\n").last ?? ""))
        #expect(report["ok"] == .bool(true), "PyTorch disagrees: worst \(report["worst"].map(CanonicalJSON.encode) ?? "?") error \(report["worst_error"].map(CanonicalJSON.encode) ?? "?")")
        #expect((report["errors"]?.objectValue?.count ?? 0) == 2 + net.parameters.entries.count, "every parameter gradient compared")
    }

    func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [executable] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return (127, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
