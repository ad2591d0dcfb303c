import Basics
import Testing

@Suite("Seeded generator")
struct SeededGeneratorTests {
    @Test("the same seed gives the same stream; different seeds differ")
    func determinism() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let sa = (0..<100).map { _ in a.next() }
        let sb = (0..<100).map { _ in b.next() }
        let sc = (0..<100).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
    }

    @Test("the stream is pinned: a change of algorithm would silently change every seeded run")
    func pinned() {
        var g = SeededGenerator(seed: 0)
        // xoshiro256** seeded by SplitMix64(0), computed independently by a Python transcription of the
        // reference C code (Blackman & Vigna) and pinned here.
        #expect((0..<3).map { _ in g.next() } == [11091344671253066420, 13793997310169335082, 1900383378846508768])
    }

    @Test("uniform and Gaussian samples have the right moments")
    func moments() {
        var g = SeededGenerator(seed: 1)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0
        for _ in 0..<n { let x = g.nextGaussian(); sum += x; sumSq += x * x }
        let mean = sum / Double(n), variance = sumSq / Double(n) - mean * mean
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.02)
        var u = 0.0
        for _ in 0..<n { let x = g.nextUnit(); #expect(x >= 0 && x < 1); u += x }
        #expect(abs(u / Double(n) - 0.5) < 0.005)
    }

    @Test("nextInt covers its range without bias and shuffle is a permutation")
    func intsAndShuffle() {
        var g = SeededGenerator(seed: 9)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[g.nextInt(below: 7)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 })
        var items = Array(0..<1000)
        g.shuffle(&items)
        #expect(items != Array(0..<1000))
        #expect(items.sorted() == Array(0..<1000))
    }
}
