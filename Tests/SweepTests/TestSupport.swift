// Helpers: temporary directories, small toy manifests, running a plan into a fresh store, and reading a store's
// results back as comparable values.

import Basics
import Foundation
import Storage
import Testing
@testable import Sweep

final class TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("leopard-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A small toy manifest: `lambdas` × `qkUnits` hardware points, analytic model, toy/easy and toy/hard.
func toyManifestJSON(name: String = "t", tasks: [String] = ["toy/easy", "toy/hard"], lambdas: [Double] = [0.1, 0.5],
                     qkUnits: [Int] = [8, 16], models: [String] = ["analytic"], steps: Int = 500, jobs: Int = 1) -> String {
    let experiments = tasks.map { "{\"model\": \"toy\", \"task\": \"\($0)\"}" }.joined(separator: ", ")
    return """
    {"schemaVersion": 1, "name": "\(name)", "seeds": [0],
     "experiments": [\(experiments)],
     "training": {"steps": \(steps)},
     "lambdas": [\(lambdas.map { CanonicalJSON.formatNumber($0) }.joined(separator: ", "))],
     "trace": {"examples": 2, "bits": 8},
     "hardware": {"qkUnits": [\(qkUnits.map(String.init).joined(separator: ", "))], "dpuWidth": 16},
     "hardwareModels": [\(models.map { "\"\($0)\"" }.joined(separator: ", "))],
     "budget": 2, "jobs": \(jobs)}
    """
}

func toyPlan(_ json: String) throws -> SweepPlan {
    try SweepPlan.make(Manifest.parse(bytes: Array(json.utf8), file: "test.json"), dataDirectory: "data")
}

func runPlan(_ plan: SweepPlan, store path: String, jobs: Int = 1, retryFailed: Bool = false,
             configure: (inout EngineOptions) -> Void = { _ in }) throws -> SweepRunSummary {
    let store = try ResultStore(path: path, access: .write())
    var options = EngineOptions()
    options.jobs = jobs
    options.heartbeatSeconds = 0.2
    configure(&options)
    return try SweepEngine(store: store, options: options).run(plan, retryFailed: retryFailed)
}

/// key → (state, kind, metrics) for every job in a store: what "the same results" means.
func snapshot(_ path: String) throws -> [String: String] {
    let store = try ResultStore(path: path, access: .readOnly)
    var out: [String: String] = [:]
    for job in try store.jobs() {
        let metrics = try store.metrics(key: job.key)
        let text = metrics.keys.sorted().map { "\($0)=\(metrics[$0]!.isNaN ? "nan" : String(metrics[$0]!))" }.joined(separator: ";")
        let artifacts = try store.artifactInfos(key: job.key).map { "\($0.kind):\($0.sha256.prefix(16))" }.joined(separator: ",")
        out[job.key] = "\(job.kind) \(job.state.rawValue) \(text) [\(artifacts)]"
    }
    return out
}
