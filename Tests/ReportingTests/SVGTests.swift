import Foundation
import Reporting
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses `svg` as XML; returns the parse error, if any, and the element names seen.
private func parseXML(_ svg: String) -> (error: String?, elements: [String], texts: [String]) {
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [String] = []
        var texts: [String] = []
        var inText = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append(name)
            if name == "text" { inText = true; texts.append("") }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { inText = false }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inText { texts[texts.count - 1] += string }
        }
    }
    let parser = XMLParser(data: Data(svg.utf8))
    let collector = Collector()
    parser.delegate = collector
    let ok = parser.parse()
    return (ok ? nil : String(describing: parser.parserError), collector.elements, collector.texts)
}

@Suite("SVG plots")
struct SVGTests {
    static let scatter = ScatterChart(
        title: "Pareto front <bert & vit>", xLabel: "speedup (×)", yLabel: "energy reduction (×)",
        points: [
            ScatterPoint(x: 1.2, y: 2.0, colorValue: 0.1, label: "λ=0.01 \"a\""),
            ScatterPoint(x: 1.9, y: 3.9, colorValue: 0.4, label: "λ=0.1", highlighted: true),
            ScatterPoint(x: 1.5, y: 1.0, colorValue: 0.0, label: "top-k"),
        ],
        colorLabel: "metric loss (points)", frontIndices: [0, 1])

    @Test("every chart kind is well-formed XML with escaped text and readable labels")
    func wellFormed() {
        let charts: [String] = [
            Self.scatter.render(),
            LineChart(title: "λ vs prune rate", xLabel: "λ", yLabel: "prune rate", xScale: .log10,
                      series: [LineSeries(name: "glue/sst2", points: [(0.001, 0.2), (0.01, 0.5), (0.1, 0.8)]),
                               LineSeries(name: "babi/qa1", points: [(0.001, 0.4), (0.1, 0.9)])]).render(),
            BarChart(title: "planes processed", xLabel: "planes", yLabel: "fraction of scores",
                     categories: (1...12).map(String.init), series: [BarSeries(name: "layer 0", values: (1...12).map { 1 / Double($0) })]).render(),
        ]
        for svg in charts {
            let parsed = parseXML(svg)
            #expect(parsed.error == nil, "\(parsed.error ?? "")")
            #expect(parsed.elements.first == "svg")
        }
        let texts = parseXML(charts[0]).texts
        #expect(texts.contains("Pareto front <bert & vit>"), "title round-trips through escaping")
        #expect(texts.contains("speedup (×)"))
        #expect(texts.contains("metric loss (points)"))
        let lineTexts = parseXML(charts[1]).texts
        #expect(lineTexts.contains("0.001") && lineTexts.contains("0.1"), "log axis has decade ticks: \(lineTexts)")
    }

    @Test("line charts draw ±error bars centred on their points, and the axis spans them")
    func errorBars() throws {
        let points: [(x: Double, y: Double)] = [(1, 1.0), (2, 2.0), (3, 0.5)]
        let plain = LineChart(title: "loss", xLabel: "λ", yLabel: "loss", series: [LineSeries(name: "a", points: points)]).render()
        let barred = LineChart(title: "loss", xLabel: "λ", yLabel: "loss",
                               series: [LineSeries(name: "a", points: points, errors: [0.5, .nan, 0])]).render()
        #expect(parseXML(barred).error == nil)
        func lines(_ svg: String) -> [[Double]] {
            let pattern = try! NSRegularExpression(pattern: #"<line x1="([-0-9.]+)" y1="([-0-9.]+)" x2="([-0-9.]+)" y2="([-0-9.]+)""#)
            return pattern.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).map { m in
                (1...4).map { Double(svg[Range(m.range(at: $0), in: svg)!])! }
            }
        }
        // Only the first point has a positive finite error: one bar and its two caps.
        let added = lines(barred).count - lines(plain).count
        #expect(added == 3, "added \(added) lines")
        let circles = try NSRegularExpression(pattern: #"<circle cx="([-0-9.]+)" cy="([-0-9.]+)""#)
        let centres = circles.matches(in: barred, range: NSRange(barred.startIndex..., in: barred)).map { m in
            (Double(barred[Range(m.range(at: 1), in: barred)!])!, Double(barred[Range(m.range(at: 2), in: barred)!])!)
        }
        let first = try #require(centres.first)  // x = 1 sorts first
        let new = lines(barred).filter { !lines(plain).contains($0) }
        let bar = try #require(new.first { $0[0] == first.0 && $0[2] == first.0 && $0[1] != $0[3] })
        #expect(abs((bar[1] + bar[3]) / 2 - first.1) < 0.02, "the bar is centred on its point")
        // 1 ± 0.5 spans as much as 0.5 → 1.0 (the third point's y is 0.5 and the second's 2.0, 1.5 below it).
        let third = try #require(centres.first { $0.0 > first.0 && $0.1 != centres[1].1 && $0.0 > centres[1].0 })
        #expect(abs(abs(bar[3] - bar[1]) - abs(third.1 - first.1) * 2) < 0.05, "bar height is 2e in plot units")
        #expect(barred.contains("a at 1.0000: 1.000 ± 0.500"), "the tooltip gives value and error")
        #expect(!plain.contains("<title>"), "a chart without errors renders as before")
    }

    @Test("rendering is deterministic and matches the golden file")
    func golden() throws {
        let svg = Self.scatter.render()
        #expect(svg == Self.scatter.render())
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/scatter.svg")
        if ProcessInfo.processInfo.environment["LEOPARD_UPDATE_GOLDEN"] == "1" {
            try svg.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(svg == golden, "regenerate with LEOPARD_UPDATE_GOLDEN=1 after an intended change")
    }

    @Test("linear ticks are nice numbers within the axis")
    func ticks() {
        let axis = Axis(label: "x", values: [0.13, 0.91])
        let values = axis.ticks().map(\.value)
        #expect(values.count >= 3 && values.count <= 10)
        #expect(values.allSatisfy { $0 >= axis.lower - 1e-9 && $0 <= axis.upper + 1e-9 })
        #expect(axis.ticks().map(\.label) == ["0.2", "0.4", "0.6", "0.8"])
    }
}
