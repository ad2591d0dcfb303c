// Axes: a data range mapped onto pixels, linear or logarithmic, with "nice" tick values (1, 2, 2.5, 5 × 10^k)
// and fixed-decimal labels chosen from the tick step.

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

public enum ScaleKind: Sendable { case linear, log10 }

public struct Axis: Sendable {
    public let label: String
    public let kind: ScaleKind
    public let lower: Double
    public let upper: Double

    /// An axis covering `values` with a 5% margin (log axes ignore non-positive values).
    public init(label: String, values: [Double], kind: ScaleKind = .linear, includeZero: Bool = false) {
        self.label = label
        self.kind = kind
        var finite = values.filter { $0.isFinite && (kind == .linear || $0 > 0) }
        if includeZero && kind == .linear { finite.append(0) }
        var lo = finite.min() ?? (kind == .log10 ? 0.1 : 0)
        var hi = finite.max() ?? 1
        switch kind {
        case .linear:
            if lo == hi { lo -= lo == 0 ? 1 : abs(lo) * 0.1; hi += hi == 0 ? 1 : abs(hi) * 0.1 }
            let margin = (hi - lo) * 0.05
            self.lower = includeZero && lo == 0 ? 0 : lo - margin
            self.upper = hi + margin
        case .log10:
            if lo == hi { lo /= 2; hi *= 2 }
            self.lower = pow(10, floor(log10(lo)))
            self.upper = pow(10, ceil(log10(hi)))
        }
    }

    /// Position in [0, 1] along the axis.
    public func fraction(_ v: Double) -> Double {
        switch kind {
        case .linear: return (v - lower) / (upper - lower)
        case .log10: return v > 0 ? (log10(v) - log10(lower)) / (log10(upper) - log10(lower)) : 0
        }
    }

    /// Tick values and their labels.
    public func ticks(target: Int = 6) -> [(value: Double, label: String)] {
        switch kind {
        case .log10:
            var out: [(Double, String)] = []
            var e = log10(lower).rounded()
            while e <= log10(upper).rounded() + 1e-9 {
                let v = pow(10, e)
                out.append((v, e >= 0 ? formatFixed(v, decimals: 0) : formatFixed(v, decimals: Int(-e))))
                e += 1
            }
            return out
        case .linear:
            let raw = (upper - lower) / Double(max(1, target))
            let magnitude = pow(10, floor(log10(raw)))
            let step = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
            let decimals = max(0, Int(-floor(log10(step) + 1e-9)) + (step / magnitude == 2.5 ? 1 : 0))
            var out: [(Double, String)] = []
            var v = ceil(lower / step) * step
            while v <= upper + step * 1e-9 {
                out.append((v, formatFixed(abs(v) < step * 1e-9 ? 0 : v, decimals: decimals)))
                v += step
            }
            return out
        }
    }
}
