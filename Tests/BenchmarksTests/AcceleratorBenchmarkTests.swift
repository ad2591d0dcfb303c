import Testing
@testable import Benchmarks

/// The benchmark harness at a tiny size: it runs, its figures are consistent, and the layer hits its prune rate.
/// (Timings themselves are not asserted: tests are not benchmarks.)
@Suite struct AcceleratorBenchmarkTests {
    @Test func tinyRunReportsConsistentFigures() {
        let r = AcceleratorBenchmark.run(headCount: 2, sequenceLength: 64, headDim: 32, bits: 10, pruneRate: 0.6,
                                         repetitions: 1, analyticSeconds: 0.02, parallel: false)
        #expect(r.sgemmSeconds > 0 && r.engineSeconds > 0 && r.cycleSeconds > 0)
        #expect(r.simOverSgemm == (r.engineSeconds + r.cycleSeconds) / r.sgemmSeconds)
        #expect(abs(r.pruneRate - 0.6) < 0.02)
        #expect(r.analyticPointsPerSecond > 0)
        #expect(r.speedup > 1)
        #expect(r.json["sim_over_sgemm"] != nil && r.json["analytic_points_per_s"] != nil)
    }
}
