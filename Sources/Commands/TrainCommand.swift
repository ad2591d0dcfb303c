// `leopard train`: the learned-pruning protocol for one model preset on one task (issue 4): dense training, threshold
// fine-tuning per λ from the same dense checkpoint, hard-threshold evaluation, top-k / fixed-threshold / Q/K-only
// baselines, checkpoints and the attention trace. Progress lines go to stderr; figures to stdout.

import Basics
import Datasets
import Foundation
import Layers
import Tensors
import Training

public struct TrainCommand: Command {
    public static let configuration = CommandConfiguration(
        name: "train", abstract: "Train a model densely, then learn pruning thresholds per λ and evaluate them against baselines.",
        usage: "--model M --task T [--lambda X[,Y…]] [--target-prune-rate R|off] [--target-overall] [--target-gains η,κ] [--epochs N] [--training-subset N|all] [--fine-tune-epochs N] [--fine-tune-steps N] [--control] [--seed N] [--fine-tune-lr X] [--threshold-lr X] [--threshold-quantile Q] [--surrogate tanh|log-sigmoid] [--steepness S] [--pruned-magnitude C] [--distill A|off] [--distill-hidden B|off] [--dense FILE] [--init DIR] [--data-dir DIR] [--out DIR] [--threads N] [--json]",
        discussion: """
        The loss during fine-tuning is L_task + λ·mean over layers of the soft kept fraction of valid scores. With a
        prune-rate target (--target-prune-rate R, the default of bert-tiny, bert-mini and albert-tiny), λ starts at
        --lambda and a controller steers it, one λ per layer (per head with --per-head), so that every layer prunes
        R of its valid scores on the validation split (probed every 25 steps on the first 256 validation examples);
        λ may turn negative. With
        --out DIR: DIR/dense.safetensors, DIR/pruned.safetensors and the attention trace DIR/trace/layer-NN/
        (with several λ values: DIR/lambda-X/pruned.safetensors and DIR/lambda-X/trace/). --json prints one object
        (dense_metric, pruned_metric, prune_rate, metric_name, higher_is_better, thresholds, layer_prune_rates,
        baselines, timings), or an array of them for several λ values. metric_loss_paired gives the loss a standard
        error over the test examples (the dense and pruned models answer the same ones): exact for accuracy, a paired
        bootstrap of 1,000 resamples for Matthews correlation, F1, Pearson and perplexity (docs/pruning.md).
        """,
        arguments: [
            ArgumentHelp("--model M", "model preset: " + Presets.names.joined(separator: ", ")),
            ArgumentHelp("--task T", "task, e.g. glue/sst2 (see `leopard data`)"),
            ArgumentHelp("--lambda X[,Y…]", "regulariser strength(s) (default: the preset's recommended λ)"),
            ArgumentHelp("--target-prune-rate R|off", "steer λ, one per threshold (per layer; per head with --per-head), so that each prunes R of its validation scores, starting from --lambda, which must then be > 0 (default: the preset's target, if it has one; off: λ stays fixed)"),
            ArgumentHelp("--target-gains η,κ", "with a target: integral and proportional gains of the λ controller, in units of the starting λ (default: 2,50)"),
            ArgumentHelp("--target-overall", "with a target: steer one λ for the overall prune rate instead of one λ per layer toward R"),
            ArgumentHelp("--epochs N", "dense training epochs (default: the preset's)"),
            ArgumentHelp("--training-subset N|all", "GLUE encoder presets: train (dense and fine-tune) on the first N examples of a seeded shuffle of the training split, or on all of it (default: the preset's, 16,000 for bert-tiny, bert-mini and albert-tiny)"),
            ArgumentHelp("--fine-tune-epochs N", "threshold fine-tuning epochs per λ (default: the preset's)"),
            ArgumentHelp("--fine-tune-steps N", "stop each fine-tune after N steps (default: the preset's cap, if any)"),
            ArgumentHelp("--control", "also fine-tune the dense weights WITHOUT thresholds for the same steps (control metric)"),
            ArgumentHelp("--seed N", "seed of initialisation, data order and dropout (default 1)"),
            ArgumentHelp("--fine-tune-lr X", "peak learning rate of the weights during fine-tuning (default: the preset's; 0 freezes the weights and learns the thresholds alone)"),
            ArgumentHelp("--threshold-lr X", "learning rate of the thresholds (default: the preset's)"),
            ArgumentHelp("--threshold-quantile Q", "thresholds start at the Q-quantile of the dense validation scores (default: the preset's)"),
            ArgumentHelp("--surrogate F", "training surrogate of the hard rule: tanh (x·tanh(s(x − Th)) / c·tanh(s(x − Th))) or log-sigmoid (x + log σ(s(x − Th))) (default: the preset's, tanh unless stated)"),
            ArgumentHelp("--steepness S", "s of the training surrogate x·tanh(s(x − Th)) / c·tanh(s(x − Th)) and of the regulariser's σ(s(x − Th)) (default 10)"),
            ArgumentHelp("--pruned-magnitude C", "c of the surrogate's pruned branch (default 1000)"),
            ArgumentHelp("--distill A|off", "GLUE encoders: fine-tune (and --control) against (1 − A)·label + A·(the dense model's softmax output on the same example), 0 < A ≤ 1 (default: the preset's; off: labels alone)"),
            ArgumentHelp("--distill-hidden B|off", "with --distill (or a preset that distils): also match every layer's output to the dense model's, adding B·(mean squared difference over valid tokens and channels, averaged over layers) to the loss, B > 0 (default: the preset's)"),
            ArgumentHelp("--dense FILE", "skip dense training: start from this dense.safetensors of an earlier run (same model, task, seed)"),
            ArgumentHelp("--init DIR", "pretrained presets (bert-minilm): Hugging Face BERT folder with config.json, model.safetensors, vocab.txt"),
            ArgumentHelp("--per-head", "one threshold per head instead of per layer"),
            ArgumentHelp("--bits B", "Q/K bits for the quantised baseline and the trace (default 12)"),
            ArgumentHelp("--data-dir DIR", "data directory (default $LEOPARD_DATA, else ./data)"),
            ArgumentHelp("--out DIR", "write checkpoints and the attention trace here"),
            ArgumentHelp("--threads N", "BLAS and Dispatch threads (default 2)"),
            ArgumentHelp("--json", "print the report as JSON"),
        ])

    let model: String
    let task: String
    let lambdas: [Double]?
    /// nil: the preset's; .some(nil): off.
    let targetPruneRate: Double??
    let targetOverall: Bool
    let targetGains: (integral: Double, proportional: Double)?
    let epochs: Int?
    /// nil: the preset's; .some(nil): the whole training split.
    let trainingSubset: Int??
    let fineTuneEpochs: Int?
    let fineTuneSteps: Int?
    let control: Bool
    let seed: UInt64
    let fineTuneLearningRate: Double?
    let thresholdLearningRate: Double?
    let thresholdQuantile: Double?
    let surrogate: ThresholdSurrogate?
    let steepness: Double?
    let prunedMagnitude: Double?
    /// nil: the preset's; .some(nil): off.
    let distillation: Double??
    /// nil: the preset's; .some(nil): off.
    let hiddenDistillation: Double??
    let denseCheckpoint: String?
    let initDirectory: String?
    let perHead: Bool
    let bits: Int
    let dataDirectory: String?
    let out: String?
    let threads: Int
    let json: Bool

    public init(arguments: inout Arguments) throws {
        guard let model = try arguments.option("--model") else {
            throw UsageError("--model is required (one of: \(Presets.names.joined(separator: ", ")))")
        }
        _ = try Presets.named(model)
        guard let task = try arguments.option("--task") else { throw UsageError("--task is required, e.g. --task glue/sst2") }
        _ = try TaskCatalog.description(of: task)
        self.model = model
        self.task = task
        if let text = try arguments.option("--lambda") {
            let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0!.isFinite && $0! >= 0 }) else {
                throw UsageError("--lambda = \(text); expected a number ≥ 0 or a comma-separated list of them")
            }
            lambdas = values.map { $0! }
        } else {
            lambdas = nil
        }
        targetPruneRate = try Self.numberOrOff("--target-prune-rate", &arguments, expected: "a number in (0, 1)") { $0 > 0 && $0 < 1 }
        targetOverall = try arguments.flag("--target-overall")
        if let text = try arguments.option("--target-gains") {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
            guard parts.count == 2, let eta = parts[0], let kappa = parts[1], eta.isFinite, kappa.isFinite, eta >= 0, kappa >= 0 else {
                throw UsageError("--target-gains = \(text); expected two numbers ≥ 0, η,κ (e.g. 2,50)")
            }
            targetGains = (eta, kappa)
        } else {
            targetGains = nil
        }
        epochs = try arguments.intOption("--epochs", range: 0...1000)
        if let text = try arguments.option("--training-subset") {
            if text == "all" {
                trainingSubset = .some(nil)
            } else {
                guard let n = Int(text), n > 0 else { throw UsageError("--training-subset = \(text); expected a positive whole number or all") }
                trainingSubset = .some(n)
            }
        } else {
            trainingSubset = nil
        }
        fineTuneEpochs = try arguments.intOption("--fine-tune-epochs", range: 0...1000)
        fineTuneSteps = try arguments.intOption("--fine-tune-steps", range: 1...10_000_000)
        control = try arguments.flag("--control")
        seed = UInt64(try arguments.intOption("--seed", range: 0...Int(Int32.max)) ?? 1)
        fineTuneLearningRate = try Self.positiveNumber("--fine-tune-lr", &arguments, allowZero: true)
        thresholdLearningRate = try Self.positiveNumber("--threshold-lr", &arguments)
        if let text = try arguments.option("--threshold-quantile") {
            guard let q = Double(text), q >= 0, q < 1 else {
                throw UsageError("--threshold-quantile = \(text); expected a number in [0, 1)")
            }
            thresholdQuantile = q
        } else {
            thresholdQuantile = nil
        }
        if let text = try arguments.option("--surrogate") {
            guard let form = ThresholdSurrogate(rawValue: text) else {
                throw UsageError("--surrogate = \(text); expected one of: \(ThresholdSurrogate.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            surrogate = form
        } else {
            surrogate = nil
        }
        steepness = try Self.positiveNumber("--steepness", &arguments)
        prunedMagnitude = try Self.positiveNumber("--pruned-magnitude", &arguments)
        distillation = try Self.numberOrOff("--distill", &arguments, expected: "a number in (0, 1]") { $0 > 0 && $0 <= 1 }
        hiddenDistillation = try Self.numberOrOff("--distill-hidden", &arguments, expected: "a positive number") { $0 > 0 && $0.isFinite }
        denseCheckpoint = try arguments.option("--dense")
        initDirectory = try arguments.option("--init")
        perHead = try arguments.flag("--per-head")
        bits = try arguments.intOption("--bits", range: 2...16) ?? 12
        dataDirectory = try arguments.option("--data-dir")
        out = try arguments.option("--out")
        threads = try arguments.intOption("--threads", range: 1...256) ?? 2
        json = try arguments.flag("--json")
        try arguments.finish()
    }

    /// The protocol's settings for these arguments: the preset with the flags applied, validated (usage errors for
    /// combinations the protocol cannot run). The sweep's PresetBackend applies a manifest's `training` overrides
    /// the same way (tests compare the two).
    func pruningSettings(environment: [String: String]) throws -> PruningSettings {
        var preset = try Presets.named(model)
        if let initDirectory { preset = try preset.initialised(from: initDirectory) }
        if let trainingSubset { preset = try preset.withTrainingSubset(trainingSubset) }
        if let fineTuneLearningRate { preset.fineTuneLearningRate = fineTuneLearningRate }
        if let thresholdLearningRate { preset.thresholdLearningRate = thresholdLearningRate }
        if let thresholdQuantile { preset.thresholdInitialisation = .denseQuantile(thresholdQuantile) }
        var settings = PruningSettings(preset: preset, taskName: task,
                                       dataDirectory: DataDirectory.resolve(explicit: dataDirectory, environment: environment),
                                       seed: seed, lambdas: lambdas, epochs: epochs, fineTuneEpochs: fineTuneEpochs,
                                       outputDirectory: out)
        settings.perHeadThresholds = perHead
        if let distillation { settings.distillation = distillation }
        if let hiddenDistillation { settings.hiddenDistillation = hiddenDistillation }
        if settings.hiddenDistillation != nil, settings.distillation == nil {
            if self.hiddenDistillation != nil {
                let why = distillation != nil ? "--distill is off" : "\(model) does not distil by default"
                throw UsageError("--distill-hidden needs distillation from the dense model: add --distill A (\(why))")
            }
            settings.hiddenDistillation = nil
        }
        if settings.distillation != nil, !task.hasPrefix("glue/") {
            throw UsageError("--distill needs a GLUE task and an encoder preset (the teacher's outputs are class probabilities or a regression value); got \(model) on \(task)")
        }
        if let surrogate { settings.surrogate = surrogate }
        if let steepness { settings.steepness = Float(steepness) }
        if let prunedMagnitude { settings.prunedMagnitude = Float(prunedMagnitude) }
        settings.denseCheckpoint = denseCheckpoint
        if let fineTuneSteps { settings.fineTuneSteps = fineTuneSteps }
        settings.control = control
        settings.quantizationBits = bits
        if let targetPruneRate { settings.pruneRateTarget = targetPruneRate.map { PruneRateTarget(rate: $0) } }
        let noTarget = targetPruneRate == .some(nil) ? "--target-prune-rate is off" : "\(model) has none by default"
        if targetOverall {
            guard settings.pruneRateTarget != nil else {
                throw UsageError("--target-overall needs a prune-rate target (--target-prune-rate R; \(noTarget))")
            }
            settings.pruneRateTarget?.perLayer = false
        }
        if let targetGains {
            guard settings.pruneRateTarget != nil else {
                throw UsageError("--target-gains needs a prune-rate target (--target-prune-rate R; \(noTarget))")
            }
            settings.pruneRateTarget?.integralGain = targetGains.integral
            settings.pruneRateTarget?.proportionalGain = targetGains.proportional
        }
        if settings.pruneRateTarget != nil, settings.lambdas.contains(0) {
            throw UsageError("a prune-rate target steers λ from its starting value, in steps proportional to it; --lambda must be > 0 (or --target-prune-rate off)")
        }
        return settings
    }

    public func run(_ io: CommandIO) throws {
        Compute.setThreads(threads)
        let settings = try pruningSettings(environment: io.environment)
        let reports = try PruningProtocol.run(settings) { event in
            var line = "\(event.stage): epoch \(event.epoch + 1)/\(event.epochs) step \(event.step)/\(event.stepsPerEpoch) loss \(Self.format(event.meanLoss, 4))"
            if let lambda = event.lambda { line += " λ \(Self.format(lambda, 4))" }
            if let rate = event.trainingPruneRate { line += " training prune rate \(Self.format(rate, 3))" }
            io.printError(line)
        }
        if json {
            io.printJSON(reports.count == 1 ? reports[0].json() : .array(reports.map { $0.json() }))
            return
        }
        for r in reports { print(r, io) }
    }

    /// A finite number > 0 (≥ 0 with `allowZero`), else a usage error naming the option.
    static func positiveNumber(_ name: String, _ arguments: inout Arguments, allowZero: Bool = false) throws -> Double? {
        guard let text = try arguments.option(name) else { return nil }
        guard let x = Double(text), x.isFinite, allowZero ? x >= 0 : x > 0 else {
            throw UsageError("\(name) = \(text); expected a number \(allowZero ? "≥ 0" : "> 0")")
        }
        return x
    }

    /// An option that takes a number or "off": nil when absent (the preset's default), .some(nil) for "off".
    static func numberOrOff(_ name: String, _ arguments: inout Arguments, expected: String,
                            valid: (Double) -> Bool) throws -> Double?? {
        guard let text = try arguments.option(name) else { return nil }
        if text == "off" { return .some(nil) }
        guard let x = Double(text), valid(x) else { throw UsageError("\(name) = \(text); expected \(expected) or \"off\"") }
        return .some(x)
    }

    static func format(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }

    func print(_ r: PruningReport, _ io: CommandIO) {
        let f = Self.format
        let lambdaText = r.pruneRateTarget.map { target in
            "λ = \(CanonicalJSON.formatNumber(r.lambda)) steered toward \(target.description), ending at "
                + (r.finalLambdas ?? []).map { f($0, 3) }.joined(separator: " ")
        } ?? "λ = \(CanonicalJSON.formatNumber(r.lambda))"
        io.print("\(r.model) on \(r.task), seed \(r.seed), \(lambdaText) (\(r.parameterCount) parameters, \(r.trainingExamples) training examples)")
        io.print("metric            \(r.metricName) (\(r.higherIsBetter ? "higher" : "lower") is better)")
        io.print("dense             \(f(r.denseMetric, 4))")
        io.print("pruned (learned)  \(f(r.prunedMetric, 4))   prune rate \(f(r.pruneRate, 4))   loss \(f(r.metricLoss, 4))")
        if let p = r.pairedLoss {
            let unit = r.metricName == "perplexity" ? "windows" : "examples"
            switch p.method {
            case .exact:
                io.print("                  loss \(f(p.loss, 4)) ± \(f(p.standardError, 4)) (paired standard error over \(p.examples) test examples; \(p.changed ?? 0) change correctness)")
            case .bootstrap:
                let interval = p.interval95.map { "; 95% interval \(f($0.lowerBound, 4)) … \(f($0.upperBound, 4))" } ?? ""
                let changed = p.changed.map { "; \($0) change their predicted class" } ?? ""
                io.print("                  loss \(f(p.loss, 4)) ± \(f(p.standardError, 4)) (paired bootstrap standard error, \(p.resamples ?? 0) resamples of \(p.examples) test \(unit)\(interval)\(changed))")
            }
        }
        io.print("validation        dense \(f(r.validation.denseMetric, 4))   pruned \(f(r.validation.prunedMetric, 4))   prune rate \(f(r.validation.pruneRate, 4))")
        if let a = r.distillation {
            io.print("distillation      α = \(CanonicalJSON.formatNumber(a)): fine-tuned against (1 − α)·label + α·dense output")
            if let b = r.hiddenDistillation {
                io.print("                  β = \(CanonicalJSON.formatNumber(b)): and every layer's output matched to the dense model's")
            }
        }
        if let c = r.controlMetric, let loss = r.controlLoss {
            io.print("control           \(f(c, 4))   (same \(r.fineTuneSteps) fine-tune steps, no thresholds)   loss vs control \(f(loss, 4))")
        }
        io.print("per-layer rates   " + r.layerPruneRates.map { f($0, 3) }.joined(separator: " ")
                 + (r.emptyRowRate.map { "   empty rows \(f($0, 4))" } ?? ""))
        io.print("thresholds        " + r.thresholds.map { $0.map { f($0, 3) }.joined(separator: "/") }.joined(separator: " "))
        io.print("top-k             \(f(r.topK.metric, 4))   prune rate \(f(r.topK.pruneRate, 4))")
        io.print("fixed threshold   \(f(r.fixedThreshold.metric, 4))   prune rate \(f(r.fixedThreshold.pruneRate, 4))")
        io.print("Q/K \(r.quantizedBits)-bit only   \(r.quantizedMetric.map { f($0, 4) } ?? "n/a")")
        if let t = r.trace {
            io.print("trace             \(t.directory) (\(t.examples) examples, integer prune rate \(f(t.integerPruneRate, 4)), model \(f(t.modelPruneRate, 4)))")
        }
        io.print("wall time         dense \(f(r.denseSeconds, 1)) s, fine-tune \(f(r.fineTuneSeconds, 1)) s, total \(f(r.wallSeconds, 1)) s")
    }
}
