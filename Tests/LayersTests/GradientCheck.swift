// Central finite differences in Double for layer backward passes (after ggml's test-backend-ops): the scalar
// probe L = Σ_i w_i·out_i with fixed random w; numeric dL/dx = (L(x+h) − L(x−h)) / 2h, accumulated in Double
// from the Float forward; compared with the analytic gradient by |a − n| / max(|n|, scale).
import Basics
import Testing

struct GradientCheck {
    /// Inputs of the layer (each a flat array); all are perturbed in turn unless listed in `constant`.
    var inputs: [[Float]]
    var forward: ([[Float]]) -> [Float]
    /// Analytic gradients of L w.r.t. each input, given dL/dout.
    var backward: ([[Float]], [Float]) -> [[Float]]
    var step: Float = 1e-2
    var tolerance: Double = 1e-2
    /// Errors are relative to max(|numeric|, scale): tiny gradients are compared absolutely.
    var scale: Double = 1e-1
    /// Indices of inputs not to check (integer-valued data etc.).
    var constant: Set<Int> = []
    /// Points to skip (non-smooth kinks): (input, index, value) → true to skip.
    var skip: (Int, Int, Float) -> Bool = { _, _, _ in false }
    /// At most this many elements per input are checked (evenly spread), to keep tests fast.
    var samplesPerInput = 48

    /// Returns the worst relative error and a description of where it occurred.
    func run(seed: UInt64 = 7) -> (worst: Double, place: String) {
        let out0 = forward(inputs)
        var rng = SeededGenerator(seed: seed)
        let weights = out0.map { _ in Float(rng.nextGaussian()) }
        func probe(_ xs: [[Float]]) -> Double {
            let out = forward(xs)
            var s = 0.0
            for i in 0..<out.count { s += Double(out[i]) * Double(weights[i]) }
            return s
        }
        let analytic = backward(inputs, weights)
        var worst = 0.0, place = "nothing checked"
        for k in 0..<inputs.count where !constant.contains(k) {
            let n = inputs[k].count
            let stride = max(1, n / samplesPerInput)
            for idx in Swift.stride(from: 0, to: n, by: stride) {
                let x = inputs[k][idx]
                if skip(k, idx, x) { continue }
                var plus = inputs, minus = inputs
                plus[k][idx] = x + step
                minus[k][idx] = x - step
                let h = Double(plus[k][idx]) - Double(minus[k][idx])
                let numeric = (probe(plus) - probe(minus)) / h
                let a = Double(analytic[k][idx])
                let err = abs(a - numeric) / max(abs(numeric), scale)
                if err > worst { worst = err; place = "input \(k)[\(idx)]: analytic \(a), numeric \(numeric)" }
            }
        }
        return (worst, place)
    }

    func expectPasses(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let (worst, place) = run()
        #expect(worst <= tolerance, "\(name): worst relative error \(worst) > \(tolerance) at \(place)", sourceLocation: sourceLocation)
    }
}

func randomArray(_ count: Int, seed: UInt64, std: Float = 1) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float(rng.nextGaussian()) * std }
}

/// Runs `body` with mutable pointers to copies of `arrays`, returning the arrays afterwards.
func withPointers(_ arrays: [[Float]], _ body: ([UnsafeMutablePointer<Float>]) -> Void) -> [[Float]] {
    var copies = arrays
    var ptrs: [UnsafeMutablePointer<Float>] = []
    for a in copies {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(a.count, 1))
        a.withUnsafeBufferPointer { if let b = $0.baseAddress { p.update(from: b, count: a.count) } }
        ptrs.append(p)
    }
    body(ptrs)
    for i in 0..<copies.count {
        copies[i] = Array(UnsafeBufferPointer(start: ptrs[i], count: copies[i].count))
        ptrs[i].deallocate()
    }
    return copies
}

func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
