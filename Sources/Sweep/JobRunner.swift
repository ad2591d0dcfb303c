// Executing one job: its parameters (as stored, so a resume needs no manifest) and its parent's artifacts in,
// metrics and artifacts out. Pure with respect to the store: the engine loads inputs and writes outputs on its
// single writer thread; this code runs on worker threads and touches no shared state except the engine-outcome
// cache below (locked).

import AcceleratorModel
import Basics
import Foundation
import Storage
import Workloads

/// What a job needs besides its own parameters.
public struct JobInputs: Sendable {
    public let record: JobRecord
    public let parameters: JSONValue
    /// The parent's artifacts by kind (only those this kind reads).
    public let parentArtifacts: [String: [UInt8]]
    /// The parent's metrics (a fine-tune copies the dense metric; a trace copies the accuracy figures).
    public let parentMetrics: [String: Double]
}

public struct JobOutput: Sendable {
    public var metrics: [(name: String, value: Double)] = []
    public var artifacts: [ArtifactInput] = []
}

/// Metric loss in points: for metrics in [0, 1] where higher is better (accuracy, F1, correlations),
/// 100 × (dense − pruned), i.e. percentage points; for lower-is-better metrics (perplexity), the relative
/// increase in percent, 100 × (pruned − dense) / dense. Positive = worse.
public func metricLossPoints(dense: Double, pruned: Double, higherIsBetter: Bool) -> Double {
    higherIsBetter ? 100 * (dense - pruned) : 100 * (pruned - dense) / max(abs(dense), 1e-12)
}

/// A standard error of a metric loss (metric units) in the points of `metricLossPoints`.
public func metricLossStandardErrorPoints(_ standardError: Double, dense: Double, higherIsBetter: Bool) -> Double {
    higherIsBetter ? 100 * standardError : 100 * standardError / max(abs(dense), 1e-12)
}

public enum JobRunner {
    /// Parent artifact kinds each job kind reads.
    static func parentArtifactKinds(for kind: JobKind, parameters: JSONValue) -> [String] {
        switch kind {
        case .denseTrain: return []
        case .fineTune, .captureTrace: return ["checkpoint"]
        case .hardwareEval: return parameters["model"]?.stringValue == PerformanceModel.cycle.rawValue ? ["statistics", "trace"] : ["statistics"]
        }
    }

    public static func run(_ inputs: JobInputs, environment: JobEnvironment) throws -> JobOutput {
        guard let kind = JobKind(rawValue: inputs.record.kind) else { throw RuntimeError("unknown job kind \"\(inputs.record.kind)\"") }
        let p = JSONReader(inputs.parameters, file: "job \(inputs.record.key.prefix(12)) parameters")
        let o = try p.object()
        switch kind {
        case .hardwareEval:
            return try HardwareJob.run(inputs, parameters: o, environment: environment)
        case .denseTrain, .fineTune, .captureTrace:
            let model = try o.required("model").string()
            let task = try o.required("task").string()
            guard let backend = ModelBackends.backend(for: model) else { throw RuntimeError("unknown model \"\(model)\"") }
            switch kind {
            case .denseTrain:
                let training = try TrainingOverrides(reader: o.required("training"))
                let dense = try backend.denseTrain(model: model, task: task, training: training, environment: environment)
                guard dense.metric.isFinite else { throw RuntimeError("dense training produced a non-finite metric (\(dense.metric))") }
                var out = JobOutput()
                out.metrics = [("metric", dense.metric), ("dense_metric", dense.metric),
                               ("higher_is_better", dense.higherIsBetter ? 1 : 0)] + dense.extraMetrics
                out.artifacts = [ArtifactInput(kind: "checkpoint", bytes: dense.checkpoint), report([
                    "metricName": .string(dense.metricName), "higherIsBetter": .bool(dense.higherIsBetter),
                    "family": .string(backend.family(model: model)),
                ])]
                return out
            case .fineTune:
                let lambda = try o.required("lambda").double()
                let training = try TrainingOverrides(reader: o.required("training"))
                let initialisation = try ThresholdInit(reader: o.required("thresholdInit"))
                let baselines = try o.required("baselines").bool()
                let denseMetric = inputs.parentMetrics["dense_metric"] ?? .nan
                let higher = (inputs.parentMetrics["higher_is_better"] ?? 1) != 0
                let result = try backend.fineTune(model: model, task: task, dense: try artifact(inputs, "checkpoint"), lambda: lambda,
                                                  thresholdInit: initialisation, training: training, baselines: baselines,
                                                  environment: environment)
                guard result.metric.isFinite, result.pruneRate.isFinite else {
                    throw RuntimeError("fine-tuning produced a non-finite metric or prune rate")
                }
                var out = JobOutput()
                out.metrics = [("lambda", lambda), ("metric", result.metric), ("dense_metric", denseMetric),
                               ("higher_is_better", higher ? 1 : 0),
                               ("metric_loss", metricLossPoints(dense: denseMetric, pruned: result.metric, higherIsBetter: higher)),
                               ("prune_rate", result.pruneRate)]
                for (l, rate) in result.layerPruneRates.enumerated() { out.metrics.append((String(format: "layer_prune_rate_%02d", l), rate)) }
                for (l, th) in result.thresholds.enumerated() { out.metrics.append((String(format: "threshold_%02d", l), th)) }
                if let m = result.topKMetric {
                    out.metrics += [("topk_metric", m), ("topk_metric_loss", metricLossPoints(dense: denseMetric, pruned: m, higherIsBetter: higher))]
                }
                if let m = result.fixedThresholdMetric {
                    out.metrics += [("fixed_metric", m), ("fixed_metric_loss", metricLossPoints(dense: denseMetric, pruned: m, higherIsBetter: higher))]
                }
                // Paired standard errors of the losses, in the same points (absent where the backend gives none).
                for (name, se) in [("metric_loss_se", result.standardError), ("topk_metric_loss_se", result.topKStandardError),
                                   ("fixed_metric_loss_se", result.fixedThresholdStandardError)] {
                    if let se, se.isFinite { out.metrics.append((name, metricLossStandardErrorPoints(se, dense: denseMetric, higherIsBetter: higher))) }
                }
                out.artifacts = [ArtifactInput(kind: "checkpoint", bytes: result.checkpoint)]
                return out
            default:
                let settingsReader = try o.required("trace").object()
                var settings = TraceSettings()
                settings.examples = try settingsReader.required("examples").int(min: 1)
                settings.bits = try settingsReader.required("bits").int(min: 2, max: 16)
                let trace = try backend.captureTrace(model: model, task: task, checkpoint: try artifact(inputs, "checkpoint"),
                                                     trace: settings, initDirectory: try o.optional("init")?.string(),
                                                     environment: environment)
                return try TraceJob.output(trace: trace, parentMetrics: inputs.parentMetrics, parallel: !environment.sharedMachine)
            }
        }
    }

    static func artifact(_ inputs: JobInputs, _ kind: String) throws -> [UInt8] {
        guard let bytes = inputs.parentArtifacts[kind] else {
            throw RuntimeError("the parent job \(inputs.record.parentKey?.prefix(12) ?? "?") has no \(kind) artifact")
        }
        return bytes
    }

    static func report(_ value: JSONValue) -> ArtifactInput {
        ArtifactInput(kind: "report", bytes: Array(CanonicalJSON.encodePretty(value).utf8))
    }
}

/// capture-trace: the trace bundle, and the bit-serial engine's statistics per layer (what the analytic model
/// needs for every hardware point, so most hardware evaluations never touch the trace itself).
enum TraceJob {
    static func output(trace: AttentionTrace, parentMetrics: [String: Double], parallel: Bool) throws -> JobOutput {
        let outcomes = Accelerator.outcomes(of: trace, parallel: parallel)
        var out = JobOutput()
        // Totals over layers (summed by hand: layers may differ in d or dv).
        var validPairs = 0, keptPairs = 0, totalPlanes = 0
        var histogram = [Int](repeating: 0, count: 17)
        for outcome in outcomes {
            let s = outcome.statistics
            validPairs += s.validPairs
            keptPairs += s.keptPairs
            totalPlanes += s.totalPlanes
            for (planes, count) in s.planeHistogram.enumerated() { histogram[planes] += count }
        }
        let maxBits = trace.layers.map(\.bits).max() ?? 16
        histogram = Array(histogram.prefix(maxBits + 1))
        out.metrics = [("integer_prune_rate", validPairs == 0 ? 0 : Double(validPairs - keptPairs) / Double(validPairs)),
                       ("mean_planes", validPairs == 0 ? 0 : Double(totalPlanes) / Double(validPairs)),
                       ("valid_pairs", Double(validPairs)), ("layers", Double(trace.layers.count))]
        for (planes, count) in histogram.enumerated() {
            out.metrics.append((String(format: "planes_hist_%02d", planes), Double(count)))
        }
        let statistics: JSONValue = .object(["layers": .array(zip(trace.layers, outcomes).map { layer, outcome in
            ["statistics": outcome.statistics.json, "queries": JSONValue(layer.queryCount), "keys": JSONValue(layer.keyCount)]
        })])
        out.artifacts = [ArtifactInput(kind: "trace", bytes: try TraceBundle.pack(trace)),
                         ArtifactInput(kind: "statistics", bytes: Array(CanonicalJSON.encode(statistics).utf8))]
        return out
    }
}
