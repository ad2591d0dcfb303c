// Shared pieces of the memn2n / gpt2-tiny / vit-tiny model tests: toy-size models, a whole-model central-difference
// check, and a hand-written score transform that records which (batch, head, query, key) pairs it was shown.
import Basics
import Foundation
import Layers
import Models
import Tensors
import Testing

/// y = 2·tanh(x/2) on valid entries (smooth, saturating, ≠ identity), with the regulariser
/// R = weight · mean_valid x², so a whole-model gradient check covers both the transform and the regulariser path.
/// Records every valid pair it saw in the last forward.
final class RecordingTanhTransform: ScoreTransform {
    struct Pair: Hashable { let b, h, i, j: Int }
    let weight: Double
    private(set) var seen: Set<Pair> = []
    private(set) var regularizerLoss = 0.0
    private(set) var forwards = 0

    init(weight: Double = 0.05) { self.weight = weight }

    private func validCount(_ s: ScoreShape, _ mask: AttentionMask) -> Int {
        var n = 0
        for b in 0..<s.batch { for i in 0..<s.queries { n += mask.validKeys(batch: b, query: i, keys: s.keys) } }
        return n * s.heads
    }

    func forward(scores x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape s: ScoreShape,
                 mask: AttentionMask, training: Bool) {
        forwards += 1
        seen.removeAll()
        var sum = 0.0
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                for i in 0..<s.queries {
                    let row = ((b * s.heads + h) * s.queries + i) * s.keys
                    for j in 0..<mask.validKeys(batch: b, query: i, keys: s.keys) {
                        seen.insert(Pair(b: b, h: h, i: i, j: j))
                        y[row + j] = 2 * tanhf(x[row + j] / 2)
                        sum += Double(x[row + j]) * Double(x[row + j])
                    }
                }
            }
        }
        regularizerLoss = training ? weight * sum / Double(max(validCount(s, mask), 1)) : 0
    }

    /// dx = dy·(1 − tanh²(x/2)) + weight·2x/N.
    func backward(scores x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, gradScores dx: UnsafeMutablePointer<Float>,
                  shape s: ScoreShape, mask: AttentionMask) {
        let n = Float(max(validCount(s, mask), 1))
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                for i in 0..<s.queries {
                    let row = ((b * s.heads + h) * s.queries + i) * s.keys
                    for j in 0..<mask.validKeys(batch: b, query: i, keys: s.keys) {
                        let t = tanhf(x[row + j] / 2)
                        dx[row + j] = dy[row + j] * (1 - t * t) + Float(weight) * 2 * x[row + j] / n
                    }
                }
            }
        }
    }
}

/// Central differences of `loss()` over a sample of every parameter tensor, against the gradient that
/// `backward()` accumulates. Returns the worst relative error per tensor (error relative to max(|numeric|, floor)).
func wholeModelErrors(_ p: ParameterSet, step: Float = 1e-2, samplesPerTensor: Int = 6, floor: Double = 1e-2,
                      loss: () -> Double, backward: () -> Void) -> [String: (error: Double, place: String)] {
    p.zeroGradients()
    _ = loss()
    backward()
    var result: [String: (error: Double, place: String)] = [:]
    for e in p.entries {
        let v = p.value(e.name), g = p.grad(e.name)
        var worst = 0.0, place = "nothing checked"
        for idx in Swift.stride(from: 0, to: e.count, by: max(1, e.count / samplesPerTensor)) {
            let x = v[idx]
            v[idx] = x + step; let lp = loss()
            v[idx] = x - step; let lm = loss()
            v[idx] = x
            let h = Double(x + step) - Double(x - step)
            let numeric = (lp - lm) / h
            let err = abs(Double(g[idx]) - numeric) / max(abs(numeric), floor)
            if err >= worst { worst = err; place = "\(e.name)[\(idx)]: analytic \(g[idx]), numeric \(numeric)" }
        }
        result[e.name] = (worst, place)
    }
    return result
}

/// Expects every tensor's worst error within its tolerance (`tolerances` by name suffix, else `defaultTolerance`).
func expectGradientsMatch(_ errors: [String: (error: Double, place: String)], defaultTolerance: Double = 3e-2,
                          tolerances: [String: Double] = [:], sourceLocation: SourceLocation = #_sourceLocation) {
    for (name, (error, place)) in errors.sorted(by: { $0.key < $1.key }) {
        let tolerance = tolerances.first { name.hasSuffix($0.key) }?.value ?? defaultTolerance
        #expect(error <= tolerance, "\(name): worst relative error \(error) > \(tolerance) at \(place)", sourceLocation: sourceLocation)
    }
}

/// Re-draws every parameter N(0, std²) so every path carries a measurable gradient at toy size.
func randomise(_ p: ParameterSet, std: Float, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    for e in p.entries { Initialiser.normal(p.view(e.name), std: std, using: &rng) }
}

enum Toy {
    static let memoryConfig = MemoryNetworkConfig(vocabulary: 12, memorySlots: 5, sentenceLength: 4, embedding: 6, hops: 3,
                                                  classes: 3, answerTokens: [3, -1, 4, 5, 5, 4], answerLength: 2)
    /// Three questions with 5, 3 and 1 valid memories (unused slots hold junk words that must not matter).
    static func memoryBatch(answers: [Int32] = [0, 1, 2]) -> MemoryBatch {
        var rng = SeededGenerator(seed: 21)
        let memories = (0..<(3 * 5 * 4)).map { k -> Int32 in k % 4 == 3 ? -1 : Int32(1 + rng.nextInt(below: 11)) }
        let questions: [Int32] = [2, 7, 9, -1, 4, 4, -1, -1, 11, 1, 6, 3]
        return MemoryBatch(batch: 3, memories: memories, counts: [5, 3, 1], questions: questions, answers: answers)
    }

    static let decoderConfig = DecoderConfig(vocabulary: 11, maxTime: 6, channels: 8, heads: 2, layers: 2, ffHidden: 16)
    static func sequenceBatch() -> SequenceBatch {
        SequenceBatch(batch: 2, time: 5, inputs: [1, 4, 2, 9, 0, 3, 3, 7, 1, 10], targets: [4, 2, 9, 0, 5, 3, 7, 1, 10, 6])
    }

    static let vitConfig = ViTConfig(imageSize: 4, patch: 2, channels: 8, heads: 2, layers: 2, ffHidden: 16, classes: 3)
    static func imageBatch() -> ImageBatch {
        var rng = SeededGenerator(seed: 31)
        return ImageBatch(batch: 2, pixels: (0..<32).map { _ in Float(rng.nextGaussian()) }, labels: [2, 0])
    }
}
