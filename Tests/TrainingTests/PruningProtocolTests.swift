// The learned-pruning protocol end to end at toy size, on a synthetic SST-2-format fixture (a sentiment word among
// filler words decides the label): it must prune > 0 of the valid scores and keep the metric, be deterministic for
// a seed, and write an attention trace that numpy reads back with the right shapes, dtypes and meta, whose
// integer-domain prune rate matches the model's hard-rule rate.
import Basics
import Datasets
import Foundation
import Tensors
import Testing
import Training

@Suite(.serialized) struct PruningProtocolTests {
    /// `glue/SST-2/{train,dev}.tsv` with `count` / 120 rows under a fresh temporary directory.
    static func fixture(trainRows: Int = 480) throws -> String {
        let root = NSTemporaryDirectory() + "leopard-pruning-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/glue/SST-2", withIntermediateDirectories: true)
        let filler = ["the", "a", "movie", "film", "plot", "actor", "scene", "story", "was", "is", "and", "very", "quite", "this"]
        let positive = ["good", "great", "superb"], negative = ["bad", "awful", "dull"]
        var rng = SeededGenerator(seed: 42)
        func rows(_ n: Int) -> String {
            var text = "sentence\tlabel\n"
            for _ in 0..<n {
                var words = (0..<(4 + rng.nextInt(below: 7))).map { _ in filler[rng.nextInt(below: filler.count)] }
                let label = rng.nextInt(below: 2)
                let cue = label == 1 ? positive[rng.nextInt(below: 3)] : negative[rng.nextInt(below: 3)]
                words.insert(cue, at: rng.nextInt(below: words.count + 1))
                text += words.joined(separator: " ") + "\t\(label)\n"
            }
            return text
        }
        try rows(trainRows).write(toFile: root + "/glue/SST-2/train.tsv", atomically: true, encoding: .utf8)
        try rows(120).write(toFile: root + "/glue/SST-2/dev.tsv", atomically: true, encoding: .utf8)
        return root
    }

    static let toyPreset = Preset(
        name: "bert-toy", defaultLambda: 2, epochs: 6, fineTuneEpochs: 3, batchSize: 16, learningRate: 3e-3,
        thresholdLearningRate: 0.05, thresholdInitialisation: .denseQuantile(0.1), tasks: ["glue/sst2"],
        factory: { task, directory, seed in
            try GlueEncoderTask(presetName: "bert-toy",
                                shape: EncoderPresetShape(channels: 16, heads: 2, layers: 2, ffHidden: 32, singleLength: 16, dropout: 0),
                                taskName: task, dataDirectory: directory, seed: seed, batchSize: 16)
        })

    static func settings(_ root: String, out: String? = nil) -> PruningSettings {
        var s = PruningSettings(preset: toyPreset, taskName: "glue/sst2", dataDirectory: DataDirectory(path: root), seed: 3,
                                outputDirectory: out)
        s.traceExamples = 24
        s.calibrationExamples = 48
        return s
    }

    @Test func toyRunPrunesKeepsTheMetricAndWritesATraceNumpyReads() throws {
        let root = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = root + "/run"
        let reports = try PruningProtocol.run(Self.settings(root, out: out))
        let r = try #require(reports.first)
        print("toy protocol report: \(CanonicalJSON.encode(r.json(includeTiming: false)))")
        #expect(r.denseMetric >= 0.9, "dense accuracy \(r.denseMetric)")
        #expect(r.pruneRate > 0.2, "prune rate \(r.pruneRate)")
        #expect(r.metricLoss <= 0.05, "dense \(r.denseMetric) → pruned \(r.prunedMetric)")
        #expect(r.layerPruneRates.count == 2 && r.thresholds.count == 2)
        #expect(abs(r.topK.pruneRate - r.pruneRate) < 0.1 && abs(r.fixedThreshold.pruneRate - r.pruneRate) < 0.15)
        #expect(r.quantizedMetric != nil)
        for file in ["dense.safetensors", "pruned.safetensors", "trace/layer-00/meta.json", "trace/layer-01/q.npy"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
        }
        let trace = try #require(r.trace)
        #expect(abs(trace.integerPruneRate - trace.modelPruneRate) < 0.02,
                "integer-domain \(trace.integerPruneRate) vs model \(trace.modelPruneRate)")
        try checkTraceWithNumpy(out + "/trace", heads: 2, d: 8, examples: 24, expectedRate: trace.modelPruneRate)
    }

    @Test func sameSeedGivesTheSameReport() throws {
        let root = try Self.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = Self.settings(root)
        s.epochs = 2; s.fineTuneEpochs = 1; s.lambdas = [0.5, 4]
        let first = try PruningProtocol.run(s).map { CanonicalJSON.encode($0.json(includeTiming: false)) }
        let second = try PruningProtocol.run(s).map { CanonicalJSON.encode($0.json(includeTiming: false)) }
        #expect(first == second)
        #expect(first.count == 2)
    }

    /// Fine-tune weight rate 0 (`--fine-tune-lr 0`): the fine-tuned weights are bit for bit the dense ones, and the
    /// thresholds still learn — λ lifts them from the 10%-quantile start far past 10% pruned.
    @Test func zeroWeightRateFreezesTheWeightsAndStillLearnsThresholds() throws {
        let root = try Self.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = Self.settings(root, out: root + "/run")
        s.epochs = 2; s.fineTuneEpochs = 2; s.lambdas = [4]
        s.preset.fineTuneLearningRate = 0
        let r = try #require(try PruningProtocol.run(s).first)
        let dense = try SafetensorsFile.read(path: root + "/run/dense.safetensors")
        let pruned = try SafetensorsFile.read(path: root + "/run/pruned.safetensors")
        #expect(dense.entries.map(\.name) == pruned.entries.map(\.name) && !dense.entries.isEmpty)
        for entry in dense.entries {
            #expect(try dense.floats(entry.name) == pruned.floats(entry.name), "\(entry.name) changed with a zero weight rate")
        }
        #expect(r.pruneRate > 0.3, "prune rate \(r.pruneRate): the thresholds did not learn")
    }

    func checkTraceWithNumpy(_ directory: String, heads: Int, d: Int, examples: Int, expectedRate: Double) throws {
        let script = """
        import json, sys
        try:
            import numpy as np
        except ImportError:
            print("NO-NUMPY"); sys.exit(0)
        root, heads, d, examples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        valid = pruned = 0
        for layer in ("layer-00", "layer-01"):
            meta = json.load(open(f"{root}/{layer}/meta.json"))
            q = np.load(f"{root}/{layer}/q.npy"); k = np.load(f"{root}/{layer}/k.npy"); n = np.load(f"{root}/{layer}/lengths.npy")
            assert meta["format"] == "leopard-trace" and meta["bits"] == 12 and meta["heads"] == heads and meta["d"] == d, meta
            assert meta["mask"] == "none", meta
            assert q.dtype in (np.int16, np.int32) and k.dtype == q.dtype and n.dtype == np.int32, (q.dtype, n.dtype)
            assert q.shape[0] == examples and q.shape[1] == heads and q.shape[3] == d and k.shape == q.shape, q.shape
            assert np.abs(q).max() <= 2047 and np.abs(k).max() <= 2047
            s = np.einsum("bhid,bhjd->bhij", q.astype(np.int64), k.astype(np.int64))
            t = meta["threshold"]
            for b in range(examples):
                L = int(n[b]); block = s[b, :, :L, :L]
                valid += block.size; pruned += int((block < t).sum())
        print(pruned / valid)
        """
        let python = ProcessInfo.processInfo.environment["LEOPARD_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script, directory, String(heads), String(d), String(examples)]
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        do { try process.run() } catch { print("SKIP: trace read-back: cannot start \(python)"); return }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if output.contains("NO-NUMPY") { print("SKIP: trace read-back: numpy is not installed for \(python)"); return }
        #expect(process.terminationStatus == 0, "numpy check failed: \(errorText)")
        let rate = try #require(Double(output.trimmingCharacters(in: .whitespacesAndNewlines)), "python printed \(output)")
        #expect(abs(rate - expectedRate) < 0.02, "numpy integer-domain rate \(rate) vs model \(expectedRate)")
    }
}
