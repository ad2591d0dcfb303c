// Pareto fronts over any number of objectives, each maximised or minimised.
//
// Point a dominates b when a is at least as good as b in every objective and strictly better in one. The front is
// the set of points no other point dominates. Exact duplicates do not dominate each other, so both stay.

public enum Direction: String, Sendable {
    case maximize, minimize
}

public struct Objective: Sendable {
    public let name: String
    public let direction: Direction
    public init(_ name: String, _ direction: Direction) {
        self.name = name
        self.direction = direction
    }
}

public enum Pareto {
    /// True when `a` dominates `b` under `directions`.
    public static func dominates(_ a: [Double], _ b: [Double], directions: [Direction]) -> Bool {
        precondition(a.count == directions.count && b.count == directions.count, "objective count mismatch")
        var strictlyBetter = false
        for k in 0..<directions.count {
            let (x, y) = directions[k] == .maximize ? (a[k], b[k]) : (-a[k], -b[k])
            if x < y { return false }
            if x > y { strictlyBetter = true }
        }
        return strictlyBetter
    }

    /// Indices of the non-dominated points, in input order. Points with a NaN objective never enter the front.
    /// O(n² · k): fronts in Leopard hold thousands of points at most.
    public static func front(_ points: [[Double]], directions: [Direction]) -> [Int] {
        let valid = points.indices.filter { i in points[i].allSatisfy { !$0.isNaN } }
        return valid.filter { i in
            !valid.contains { j in j != i && dominates(points[j], points[i], directions: directions) }
        }
    }

    /// The knee of a front: after min–max normalising every objective over the front (so that 1 is best), the
    /// point closest (Euclidean) to the ideal point (1, …, 1). Returns an index into `points`, or nil when empty.
    /// Objectives that are constant over the front carry no information and are ignored.
    public static func knee(_ points: [[Double]], among indices: [Int], directions: [Direction]) -> Int? {
        guard let first = indices.first else { return nil }
        let k = directions.count
        var lo = points[first], hi = points[first]
        for i in indices {
            for d in 0..<k { lo[d] = min(lo[d], points[i][d]); hi[d] = max(hi[d], points[i][d]) }
        }
        var best = first
        var bestDistance = Double.infinity
        for i in indices {
            var distance = 0.0
            for d in 0..<k where hi[d] > lo[d] {
                var goodness = (points[i][d] - lo[d]) / (hi[d] - lo[d])
                if directions[d] == .minimize { goodness = 1 - goodness }
                distance += (1 - goodness) * (1 - goodness)
            }
            if distance < bestDistance { bestDistance = distance; best = i }
        }
        return best
    }

    /// Geometric mean of positive values (aggregating speedups and energy reductions across tasks); nil when
    /// empty or when a value is not positive.
    public static func geometricMean(_ values: [Double]) -> Double? {
        guard !values.isEmpty, values.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        var logSum = 0.0
        for v in values { logSum += log(v) }
        return exp(logSum / Double(values.count))
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
