import Basics
import Reporting
import Testing

@Suite("Pareto fronts and knee points")
struct ParetoTests {
    let max3: [Direction] = [.maximize, .maximize, .maximize]

    @Test("hand-worked 2-D front: dominated points drop out, ties on one axis keep the better one")
    func handWorked() {
        // (speedup, energy reduction)
        let points: [[Double]] = [[1, 1], [2, 1], [1.5, 3], [2, 3], [3, 0.5], [2, 3]]
        // [1,1] < [2,1] < [2,3]; [1.5,3] < [2,3]; [3,0.5] is best in speedup; the two [2,3] are equal: both stay.
        #expect(Pareto.front(points, directions: [.maximize, .maximize]) == [3, 4, 5])
    }

    @Test("minimised objectives flip the order")
    func minimize() {
        let points: [[Double]] = [[0.1, 2], [0.5, 3], [0.05, 1]] // (metric loss ↓, speedup ↑)
        // [0.1,2] is dominated by neither [0.5,3] (worse loss) nor [0.05,1] (worse speedup): all three stay.
        #expect(Pareto.front(points, directions: [.minimize, .maximize]) == [0, 1, 2])
        #expect(Pareto.front(points + [[0.05, 3]], directions: [.minimize, .maximize]) == [3])
        #expect(Pareto.dominates([0.05, 3], [0.1, 2], directions: [.minimize, .maximize]))
        #expect(!Pareto.dominates([0.1, 2], [0.1, 2], directions: [.minimize, .maximize]))
    }

    @Test("NaN points never enter the front")
    func nan() {
        #expect(Pareto.front([[Double.nan, 9], [1, 1]], directions: [.maximize, .maximize]) == [1])
    }

    @Test("random 3-D clouds: no front point is dominated and every other point is dominated by a front point",
          arguments: [1, 2, 3, 4, 5] as [UInt64])
    func property(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let points = (0..<300).map { _ in (0..<3).map { _ in (rng.nextUnit() * 10).rounded() / 10 } }
        let front = Pareto.front(points, directions: max3)
        let inFront = Set(front)
        #expect(!front.isEmpty)
        for i in front {
            #expect(!points.indices.contains { Pareto.dominates(points[$0], points[i], directions: max3) })
        }
        for i in points.indices where !inFront.contains(i) {
            #expect(front.contains { Pareto.dominates(points[$0], points[i], directions: max3) })
        }
    }

    @Test("the knee is the front point nearest the normalised ideal")
    func knee() {
        // A convex 2-D front: the balanced point (0.8, 0.8) is nearest to (1, 1) after normalisation.
        let points: [[Double]] = [[1.0, 0.0], [0.8, 0.8], [0.0, 1.0], [0.95, 0.3]]
        let front = Pareto.front(points, directions: [.maximize, .maximize])
        #expect(front == [0, 1, 2, 3])
        #expect(Pareto.knee(points, among: front, directions: [.maximize, .maximize]) == 1)
        #expect(Pareto.knee(points, among: [], directions: [.maximize, .maximize]) == nil)
    }

    @Test("geometric mean of speedups; non-positive values are refused")
    func geomean() {
        #expect(abs(Pareto.geometricMean([1, 4, 16])! - 4) < 1e-12)
        #expect(Pareto.geometricMean([]) == nil)
        #expect(Pareto.geometricMean([2, 0]) == nil)
    }
}

@Suite("CSV")
struct CSVTests {
    @Test("fixed formats, quoting and empty cells for non-finite values")
    func render() {
        var t = CSVTable(header: ["model", "task", "lambda", "speedup", "note"])
        t.append([.text("bert-tiny"), .text("glue/sst2"), .fixed(0.001, decimals: 4), .fixed(1.23456, decimals: 3), .text("a, \"b\"")])
        t.append([.text("vit-tiny"), .text("fashion-mnist"), .fixed(-0.00004, decimals: 4), .fixed(.nan, decimals: 3), .empty])
        t.append([.text("x"), .text("y"), .integer(-3), .fixed(2.5, decimals: 0), .text("line\nbreak")])
        #expect(t.render() == """
        model,task,lambda,speedup,note
        bert-tiny,glue/sst2,0.0010,1.235,"a, ""b\"\"\"
        vit-tiny,fashion-mnist,0.0000,,
        x,y,-3,3,"line
        break"

        """)
    }

    @Test(arguments: [
        (0.0, 3, "0.000"), (1.0005, 3, "1.001"), (-1.0005, 3, "-1.001"), (123456.789, 1, "123456.8"),
        (0.125, 2, "0.13"), (1e-7, 4, "0.0000"), (-0.4, 0, "0"), (99.999, 2, "100.00"),
    ] as [(Double, Int, String)])
    func fixedFormatting(value: Double, decimals: Int, expected: String) {
        #expect(formatFixed(value, decimals: decimals) == expected)
    }
}
