// `leopard train` end to end on a tiny synthetic SST-2 fixture: the JSON report has the documented keys, the
// checkpoints and the trace are written.
import Basics
import Foundation
import Testing

@Suite("leopard train run")
struct TrainCommandRunTests {
    /// A data directory whose glue/<folder>/train.tsv and dev.tsv hold the same `rows` lines: three words chosen by
    /// the row's index, formatted by `line` (index, words) into the task's columns.
    static func glueFixture(_ folder: String, header: String, rows: Int,
                            words: [String] = ["good", "bad", "film", "plot", "fine", "dull", "the", "a"],
                            line: (Int, String) -> String) throws -> String {
        let root = NSTemporaryDirectory() + "leopard-train-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root + "/glue/" + folder, withIntermediateDirectories: true)
        var text = header
        for i in 0..<rows { text += line(i, "\(words[i % 8]) \(words[(i / 8) % 8]) \(words[(i * 3) % 8])") + "\n" }
        for file in ["train.tsv", "dev.tsv"] {
            try text.write(toFile: root + "/glue/\(folder)/\(file)", atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func trainWritesCheckpointsTraceAndTheJSONReport() throws {
        let root = try Self.glueFixture("SST-2", header: "sentence\tlabel\n", rows: 96) { i, text in "\(text)\t\(i % 2)" }
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = root + "/out"
        let r = runLeopard(["train", "--model", "bert-tiny", "--task", "glue/sst2", "--epochs", "1", "--fine-tune-epochs", "1",
                            "--lambda", "1", "--fine-tune-lr", "3e-4", "--threshold-lr", "0.03", "--threshold-quantile", "0.2",
                            "--threads", "1", "--out", out, "--json"], environment: ["LEOPARD_DATA": root])
        #expect(r.exitCode == 0, "stderr: \(r.stderr)")
        let json = try JSONParser.parse(r.stdout)
        for key in ["dense_metric", "pruned_metric", "prune_rate", "metric_name", "higher_is_better", "thresholds",
                    "layer_prune_rates", "baselines", "wall_seconds", "validation", "training_examples"] {
            #expect(json[key] != nil, "missing key \(key)")
        }
        #expect(json["metric_name"] == .string("accuracy") && json["layer_prune_rates"]?.arrayValue?.count == 2)
        #expect(r.stderr.contains("dense: epoch 1/1"))
        for file in ["dense.safetensors", "pruned.safetensors", "trace/layer-00/meta.json", "trace/layer-01/k.npy"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
        }
        // The carved validation: 96 rows minus 9 → 87 training examples.
        #expect(json["training_examples"] == JSONValue(87))
        // Fine-tuning again from the written dense checkpoint with the same fine-tuning flags reproduces the first run.
        let again = runLeopard(["train", "--model", "bert-tiny", "--task", "glue/sst2", "--dense", out + "/dense.safetensors",
                                "--fine-tune-epochs", "1", "--lambda", "1", "--fine-tune-lr", "3e-4", "--threshold-lr", "0.03",
                                "--threshold-quantile", "0.2", "--threads", "1", "--json"], environment: ["LEOPARD_DATA": root])
        #expect(again.exitCode == 0, "stderr: \(again.stderr)")
        let second = try JSONParser.parse(again.stdout)
        for key in ["dense_metric", "pruned_metric", "prune_rate", "thresholds", "validation"] {
            #expect(second[key] == json[key], "\(key): \(String(describing: second[key])) vs \(String(describing: json[key]))")
        }
        #expect(!again.stderr.contains("dense: epoch"), "no dense training with --dense")
        // bert-tiny steers each layer toward 55% by default; `off` keeps λ fixed and drops the report's block.
        #expect(json["prune_rate_target"]?["rate"] == JSONValue(0.55) && json["prune_rate_target"]?["per_layer"] == .bool(true))
        #expect(json["prune_rate_target"]?["final_lambdas"]?.arrayValue?.count == 2 && json["empty_row_rate"] != nil)
        #expect(json["surrogate"]?["form"] == .string("log-sigmoid") && json["surrogate"]?["steepness"] == JSONValue(10))
        #expect(r.stderr.contains("→ rate 0.55") && r.stderr.contains("training prune rate"))
        let fixed = runLeopard(["train", "--model", "bert-tiny", "--task", "glue/sst2", "--dense", out + "/dense.safetensors",
                                "--fine-tune-epochs", "1", "--lambda", "1", "--target-prune-rate", "off", "--threads", "1", "--json"],
                               environment: ["LEOPARD_DATA": root])
        #expect(fixed.exitCode == 0, "stderr: \(fixed.stderr)")
        #expect(try JSONParser.parse(fixed.stdout)["prune_rate_target"] == nil)
        // bert-tiny fine-tunes against its dense outputs by default (α = 1); `--distill off` trains on the labels.
        #expect(json["distillation"]?["weight"] == JSONValue(1) && r.stdout.contains("\"distillation\""))
        let labels = runLeopard(["train", "--model", "bert-tiny", "--task", "glue/sst2", "--dense", out + "/dense.safetensors",
                                 "--fine-tune-epochs", "1", "--lambda", "1", "--fine-tune-lr", "3e-4", "--threshold-lr", "0.03",
                                 "--threshold-quantile", "0.2", "--distill", "off", "--threads", "1"], environment: ["LEOPARD_DATA": root])
        #expect(labels.exitCode == 0 && labels.stdout.contains("pruned (learned)") && !labels.stdout.contains("distillation"),
                "stdout: \(labels.stdout) stderr: \(labels.stderr)")
        // Accuracy: the loss's exact paired standard error, in the text and the JSON.
        #expect(labels.stdout.contains("(paired standard error over 96 test examples;"), "stdout: \(labels.stdout)")
        #expect(json["metric_loss_paired"]?["method"] == .string("exact") && json["metric_loss_paired"]?["examples"] == JSONValue(96))
        #expect(again.stdout.contains("\"distillation\""))
        let bad = runLeopard(["train", "--model", "bert-tiny", "--task", "glue/sst2", "--threshold-quantile", "1.5"],
                             environment: ["LEOPARD_DATA": root])
        #expect(bad.exitCode == 64 && bad.stderr.contains("--threshold-quantile"))
    }

    /// A metric that is not a mean over examples (CoLA's Matthews correlation) gets a paired bootstrap standard error,
    /// in the text and the JSON.
    @Test func aMatthewsLossCarriesABootstrapStandardError() throws {
        let root = try Self.glueFixture("CoLA", header: "", rows: 120,
                                        words: ["the", "cat", "sat", "on", "mat", "ran", "a", "dog"]) { i, text in "src\t\(i % 2)\t\t\(text)." }
        defer { try? FileManager.default.removeItem(atPath: root) }
        let argv = ["train", "--model", "bert-tiny", "--task", "glue/cola", "--epochs", "1", "--fine-tune-epochs", "1",
                    "--lambda", "1", "--threads", "1"]
        let text = runLeopard(argv, environment: ["LEOPARD_DATA": root])
        #expect(text.exitCode == 0, "stderr: \(text.stderr)")
        #expect(text.stdout.contains("paired bootstrap standard error, 1000 resamples of 120 test examples; 95% interval"),
                "stdout: \(text.stdout)")
        let json = runLeopard(argv + ["--json"], environment: ["LEOPARD_DATA": root])
        let paired = try JSONParser.parse(json.stdout)["metric_loss_paired"]
        #expect(paired?["method"] == .string("bootstrap") && paired?["resamples"] == JSONValue(1000))
        #expect(paired?["examples"] == JSONValue(120) && paired?["interval_95"]?.arrayValue?.count == 2 && paired?["changed"] != nil)
    }
}
