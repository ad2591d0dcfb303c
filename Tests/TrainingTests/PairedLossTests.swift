// The paired standard error of a metric loss. Accuracy: d_i = dense right − pruned right per example, sd(d)/√n.
// Every other metric: a paired bootstrap over the examples, checked against the exact formula (accuracy), the delta
// method (perplexity) and the jackknife (Matthews correlation, Pearson). The report's paired loss is the metric loss
// itself (same examples, same predictions; for perplexity to rounding, as it sums per window).
import Basics
import Datasets
import Foundation
import Testing
@testable import Training

@Suite(.serialized) struct PairedLossTests {
    @Test func handComputedValues() throws {
        let p = try #require(PairedLoss(dense: [true, true, false, false, true], pruned: [true, false, false, true, true]))
        // d = 0, 1, 0, −1, 0: mean 0, sample variance 2/4, standard error √(0.5/5).
        #expect(p.examples == 5 && p.changed == 2 && p.loss == 0)
        #expect(abs(p.standardError - (0.1 as Double).squareRoot()) < 1e-12)
        let q = try #require(PairedLoss(dense: [true, true, true, true], pruned: [false, true, true, true]))
        #expect(q.loss == 0.25 && abs(q.standardError - 0.25) < 1e-12 && q.changed == 1)
        #expect(PairedLoss(dense: [true, false], pruned: [true]) == nil && PairedLoss(dense: nil, pruned: [true, true]) == nil)
    }

    @Test func theReportsPairedLossIsItsMetricLoss() throws {
        let root = try PruningProtocolTests.fixture(trainRows: 160)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var s = PruningProtocolTests.settings(root)
        s.epochs = 2; s.fineTuneEpochs = 1; s.lambdas = [4]
        let r = try PruningProtocol.run(s)[0]
        let test = try #require(r.pairedLoss), validation = try #require(r.validationPairedLoss)
        #expect(abs(test.loss - r.metricLoss) < 1e-12 && abs(validation.loss - r.validationMetricLoss) < 1e-12)
        #expect(test.examples == 120 && test.standardError >= 0)
        #expect((test.changed ?? -1) >= Int((abs(test.loss) * 120).rounded()))
        guard case .object(let o) = r.json() else { Issue.record("report is not an object"); return }
        #expect(o["metric_loss_paired"]?["examples"] == JSONValue(120))
    }

    // MARK: the bootstrap, for metrics that are not a mean over examples

    /// Two classifiers' answers on n examples: the dense one right with probability 0.8, the pruned one a copy that
    /// flips each answer with probability `flip`.
    static func classes(_ n: Int, flip: Double, seed: UInt64 = 7) -> (ExampleOutcomes, ExampleOutcomes) {
        var rng = SeededGenerator(seed: seed)
        var labels: [Int32] = [], dense: [Int32] = [], pruned: [Int32] = []
        for _ in 0..<n {
            let label = Int32(rng.nextInt(below: 2))
            let d = rng.nextUnit() < 0.8 ? label : 1 - label
            labels.append(label); dense.append(d); pruned.append(rng.nextUnit() < flip ? 1 - d : d)
        }
        return (.classes(predicted: dense, labels: labels), .classes(predicted: pruned, labels: labels))
    }

    /// Jackknife standard error of a statistic of the examples (leave one out), the bootstrap's classical rival.
    static func jackknife(_ n: Int, _ statistic: ([Int]) -> Double) -> Double {
        let all = Array(0..<n)
        let leaveOneOut = (0..<n).map { i in statistic(all.filter { $0 != i }) }
        let mean = leaveOneOut.reduce(0, +) / Double(n)
        return (Double(n - 1) / Double(n) * leaveOneOut.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }).squareRoot()
    }

    @Test func onAccuracyTheBootstrapEstimatesTheExactStandardError() throws {
        let task = try TaskCatalog.description(of: "glue/sst2")
        let (dense, pruned) = Self.classes(800, flip: 0.08)
        let exact = try #require(PairedLoss(dense: dense, pruned: pruned, task: task))
        #expect(exact.method == .exact && exact.resamples == nil && exact.interval95 == nil)
        #expect(exact == PairedLoss(dense: dense.correctness, pruned: pruned.correctness))
        let boot = PairedLoss.bootstrap(dense: dense, pruned: pruned, task: task)
        #expect(boot.method == .bootstrap && boot.resamples == 1000 && boot.examples == 800)
        #expect(abs(boot.loss - exact.loss) < 1e-12)
        #expect(abs(boot.standardError / exact.standardError - 1) < 0.1, "bootstrap \(boot.standardError) vs exact \(exact.standardError)")
        let interval = try #require(boot.interval95)
        // ±1.96 standard errors, to the bootstrap's own sampling error.
        #expect(abs((interval.upperBound - interval.lowerBound) / (2 * 1.96 * exact.standardError) - 1) < 0.15)
        #expect(interval.contains(boot.loss))
        // The changed count of a classifier is its changed predictions; with two classes those are the changed answers.
        #expect(boot.changed == exact.changed)
    }

    @Test func matthewsAndPearsonLossesAgreeWithTheJackknife() throws {
        let cola = try TaskCatalog.description(of: "glue/cola")
        let (dense, pruned) = Self.classes(600, flip: 0.1, seed: 11)
        let mcc = try #require(PairedLoss(dense: dense, pruned: pruned, task: cola))
        #expect(mcc.method == .bootstrap && mcc.changed != nil)
        guard case .classes(let d, let labels) = dense, case .classes(let p, _) = pruned else { return }
        let full = Metrics.matthewsCorrelation(predictions: d, labels: labels) - Metrics.matthewsCorrelation(predictions: p, labels: labels)
        #expect(mcc.loss == full, "the loss is the full-sample difference")
        let mccJack = Self.jackknife(600) { idx in
            Metrics.matthewsCorrelation(predictions: idx.map { d[$0] }, labels: idx.map { labels[$0] })
                - Metrics.matthewsCorrelation(predictions: idx.map { p[$0] }, labels: idx.map { labels[$0] })
        }
        #expect(abs(mcc.standardError / mccJack - 1) < 0.15, "bootstrap \(mcc.standardError) vs jackknife \(mccJack)")

        let stsb = try TaskCatalog.description(of: "glue/stsb")
        var rng = SeededGenerator(seed: 5)
        var targets: [Float] = [], a: [Float] = [], b: [Float] = []
        for _ in 0..<400 {
            let y = Float(rng.nextUnit() * 5)
            let x = y + Float(rng.nextGaussian() * 1.5)
            targets.append(y); a.append(x); b.append(x + Float(rng.nextGaussian() * 0.7))
        }
        let pearson = try #require(PairedLoss(dense: .values(predicted: a, targets: targets),
                                              pruned: .values(predicted: b, targets: targets), task: stsb))
        #expect(pearson.method == .bootstrap && pearson.changed == nil && pearson.loss > 0)
        let pearsonJack = Self.jackknife(400) { idx in
            Metrics.pearson(predictions: idx.map { a[$0] }, targets: idx.map { targets[$0] })
                - Metrics.pearson(predictions: idx.map { b[$0] }, targets: idx.map { targets[$0] })
        }
        #expect(abs(pearson.standardError / pearsonJack - 1) < 0.15, "bootstrap \(pearson.standardError) vs jackknife \(pearsonJack)")
    }

    @Test func aPerplexityLossIsPositiveWhenThePrunedModelIsWorseAndMatchesTheDeltaMethod() throws {
        let ptb = try TaskCatalog.description(of: "ptb")
        var rng = SeededGenerator(seed: 9)
        let n = 500, tokens = 32
        var dense: [Double] = [], pruned: [Double] = []
        for _ in 0..<n {
            let d = Double(tokens) * (4 + 0.5 * rng.nextGaussian())
            dense.append(d); pruned.append(d + Double(tokens) * (0.05 + 0.05 * rng.nextGaussian()))
        }
        let count = [Int](repeating: tokens, count: n)
        let loss = try #require(PairedLoss(dense: .windows(negativeLogLikelihood: dense, tokens: count),
                                           pruned: .windows(negativeLogLikelihood: pruned, tokens: count), task: ptb))
        let denseMean = dense.reduce(0, +) / Double(n * tokens), prunedMean = pruned.reduce(0, +) / Double(n * tokens)
        #expect(abs(loss.loss - (exp(prunedMean) - exp(denseMean))) < 1e-9 && loss.loss > 0)
        #expect(loss.changed == nil && loss.method == .bootstrap)
        // Delta method: the loss is exp(mean of p/l) − exp(mean of d/l) over windows, so its variance is that of
        // exp(m_p)·p_i/l − exp(m_d)·d_i/l over windows, divided by n.
        let z = (0..<n).map { exp(prunedMean) * pruned[$0] / Double(tokens) - exp(denseMean) * dense[$0] / Double(tokens) }
        let zMean = z.reduce(0, +) / Double(n)
        let delta = (z.reduce(0) { $0 + ($1 - zMean) * ($1 - zMean) } / Double(n - 1) / Double(n)).squareRoot()
        #expect(abs(loss.standardError / delta - 1) < 0.15, "bootstrap \(loss.standardError) vs delta method \(delta)")
    }

    @Test func theBootstrapIsDeterministicAndZeroForIdenticalAnswers() throws {
        let cola = try TaskCatalog.description(of: "glue/cola")
        let (dense, pruned) = Self.classes(300, flip: 0.1)
        #expect(PairedLoss(dense: dense, pruned: pruned, task: cola) == PairedLoss(dense: dense, pruned: pruned, task: cola))
        #expect(PairedLoss(dense: dense, pruned: pruned, task: cola, seed: 1) != PairedLoss(dense: dense, pruned: pruned, task: cola))
        let same = try #require(PairedLoss(dense: dense, pruned: dense, task: cola))
        #expect(same.loss == 0 && same.standardError == 0 && same.changed == 0 && same.interval95 == 0...0)
    }

    @Test func answersOverDifferentExamplesHaveNoPairedLoss() throws {
        let cola = try TaskCatalog.description(of: "glue/cola"), stsb = try TaskCatalog.description(of: "glue/stsb")
        let a = ExampleOutcomes.classes(predicted: [0, 1, 1], labels: [0, 1, 0])
        #expect(PairedLoss(dense: a, pruned: .classes(predicted: [0, 1, 1], labels: [1, 1, 0]), task: cola) == nil)
        #expect(PairedLoss(dense: a, pruned: .classes(predicted: [0, 1], labels: [0, 1]), task: cola) == nil)
        #expect(PairedLoss(dense: a, pruned: .values(predicted: [0, 1, 1], targets: [0, 1, 0]), task: stsb) == nil)
        #expect(PairedLoss(dense: .classes(predicted: [1], labels: [1]), pruned: .classes(predicted: [1], labels: [1]), task: cola) == nil)
        #expect(PairedLoss(dense: nil, pruned: a, task: cola) == nil)
    }

    /// A language model's report carries the bootstrap: the paired loss is its perplexity loss, in the JSON with the
    /// method, the resamples and the interval, and no "changed" count (every window's loss changes).
    @Test func aLanguageModelsReportCarriesTheBootstrap() throws {
        let directory = try DataDirectory.resolve(explicit: nil)
        let preset = Preset(
            name: "gpt2-toy", defaultLambda: 2, epochs: 1, fineTuneEpochs: 1, batchSize: 4, learningRate: 3e-3,
            thresholdLearningRate: 0.05, thresholdInitialisation: .denseQuantile(0.1), tasks: ["ptb"],
            factory: { task, directory, seed in
                try makeGPT2TinyTask(task: task, dataDirectory: directory, seed: seed,
                                     settings: GPT2TinySettings(channels: 32, heads: 2, layers: 2, ffHidden: 64, sequenceLength: 16,
                                                                batchSize: 4, trainingWindows: 64))
            })
        var s = PruningSettings(preset: preset, taskName: "ptb", dataDirectory: directory, seed: 1)
        s.evaluationLimit = 60
        s.calibrationExamples = 16
        let reports: [PruningReport]
        do {
            reports = try PruningProtocol.run(s)
        } catch let missing as MissingDataError {
            print("SKIP: gpt2 report bootstrap: \(missing.message)")
            return
        }
        let r = try #require(reports.first)
        let paired = try #require(r.pairedLoss), validation = try #require(r.validationPairedLoss)
        #expect(paired.method == .bootstrap && paired.examples == 60 && paired.changed == nil)
        #expect(abs(paired.loss - r.metricLoss) <= 1e-9 * r.denseMetric, "\(paired.loss) vs \(r.metricLoss)")
        #expect(abs(validation.loss - r.validationMetricLoss) <= 1e-9 * r.validation.denseMetric)
        #expect(paired.standardError > 0 && paired.standardError.isFinite)
        guard case .object(let o) = r.json(), case .object(let p)? = o["metric_loss_paired"] else {
            Issue.record("report has no metric_loss_paired object"); return
        }
        #expect(p["method"] == .string("bootstrap") && p["resamples"] == JSONValue(1000) && p["changed"] == nil)
        guard case .array(let interval)? = p["interval_95"] else { Issue.record("no interval_95"); return }
        #expect(interval.count == 2)
    }
}
