// The plot kinds Leopard draws: scatter (Pareto fronts, coloured by a continuous value), lines (λ curves), and
// grouped bars (thresholds per layer, histograms of bit planes). Each renders to a complete SVG document.

/// The plotting area and its two axes: maps data coordinates to pixels and draws frame, grid, ticks and labels.
struct PlotFrame {
    let height = 480.0
    let left = 80.0, top = 50.0, bottom = 64.0
    /// The right margin holds the legend: 190 px, widened for long labels (≈ 6.5 px per character at 11 px).
    let right: Double
    let x: Axis, y: Axis
    var width: Double { 530 + right }

    init(x: Axis, y: Axis, legendLabels: [String] = []) {
        self.x = x
        self.y = y
        let longest = Double(legendLabels.map(\.count).max() ?? 0)
        self.right = max(190, 16 + 18 + 6.5 * longest + 10)
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    func px(_ v: Double) -> Double { left + x.fraction(v) * plotWidth }
    func py(_ v: Double) -> Double { top + (1 - y.fraction(v)) * plotHeight }

    func draw(into svg: inout SVGDocument, title: String, xTicks: [(value: Double, label: String)]? = nil) {
        svg.text(title, x: left + plotWidth / 2, y: 28, size: 16, anchor: .middle, bold: true)
        for t in y.ticks() where y.fraction(t.value) >= -1e-9 && y.fraction(t.value) <= 1 + 1e-9 {
            svg.line(left, py(t.value), left + plotWidth, py(t.value), stroke: "#e5e5e5")
            svg.text(t.label, x: left - 8, y: py(t.value) + 4, size: 11, anchor: .end)
        }
        for t in xTicks ?? x.ticks() where x.fraction(t.value) >= -1e-9 && x.fraction(t.value) <= 1 + 1e-9 {
            svg.line(px(t.value), top, px(t.value), top + plotHeight, stroke: "#e5e5e5")
            svg.text(t.label, x: px(t.value), y: top + plotHeight + 18, size: 11, anchor: .middle)
        }
        svg.rect(left, top, plotWidth, plotHeight, fill: "none", stroke: "#333")
        svg.text(x.label, x: left + plotWidth / 2, y: height - 18, size: 13, anchor: .middle)
        svg.text(y.label, x: 22, y: top + plotHeight / 2, size: 13, anchor: .middle, rotate: -90)
    }

    /// Legend entries stacked in the right margin.
    func legend(into svg: inout SVGDocument, heading: String?, entries: [(name: String, color: String)]) {
        var yy = top + 6
        let xx = left + plotWidth + 16
        if let heading { svg.text(heading, x: xx, y: yy + 4, size: 12, bold: true); yy += 20 }
        for e in entries {
            svg.rect(xx, yy - 9, 12, 12, fill: e.color)
            svg.text(e.name, x: xx + 18, y: yy + 1, size: 11)
            yy += 18
        }
    }
}

public struct ScatterPoint: Sendable {
    public let x: Double
    public let y: Double
    /// Continuous value for the colour scale (e.g. metric loss); nil uses the series colour.
    public let colorValue: Double?
    public let label: String
    public let highlighted: Bool

    public init(x: Double, y: Double, colorValue: Double? = nil, label: String = "", highlighted: Bool = false) {
        self.x = x
        self.y = y
        self.colorValue = colorValue
        self.label = label
        self.highlighted = highlighted
    }
}

public struct ScatterChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var points: [ScatterPoint]
    /// Name of the colour-scale quantity, shown above the colour bar.
    public var colorLabel: String
    /// Indices of points joined by a line (e.g. the Pareto front), sorted by x when drawn.
    public var frontIndices: [Int]

    public init(title: String, xLabel: String, yLabel: String, points: [ScatterPoint], colorLabel: String = "", frontIndices: [Int] = []) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
        self.colorLabel = colorLabel
        self.frontIndices = frontIndices
    }

    public func render() -> String {
        let frame = PlotFrame(x: Axis(label: xLabel, values: points.map(\.x)), y: Axis(label: yLabel, values: points.map(\.y)),
                              legendLabels: [colorLabel])
        var svg = SVGDocument(width: frame.width, height: frame.height)
        frame.draw(into: &svg, title: title)
        let colorValues = points.compactMap(\.colorValue).filter(\.isFinite)
        let lo = colorValues.min() ?? 0, hi = colorValues.max() ?? 1
        func color(_ p: ScatterPoint) -> String {
            guard let v = p.colorValue, v.isFinite else { return Palette.seriesColor(0) }
            return Palette.sequential(hi > lo ? (v - lo) / (hi - lo) : 0.5)
        }
        let front = frontIndices.map { points[$0] }.sorted { $0.x < $1.x }
        svg.polyline(front.map { (frame.px($0.x), frame.py($0.y)) }, stroke: "#555", width: 1.2, dash: "5,3")
        for p in points {
            let label = p.label.isEmpty ? "" : p.label
            svg.circle(frame.px(p.x), frame.py(p.y), r: p.highlighted ? 7 : 4.5, fill: color(p), stroke: p.highlighted ? "#d00" : "#222", title: label.isEmpty ? nil : label)
        }
        if !colorValues.isEmpty {
            // Colour bar: five swatches from the lowest to the highest value.
            let xx = frame.left + frame.plotWidth + 16
            svg.text(colorLabel, x: xx, y: frame.top + 10, size: 12, bold: true)
            for k in 0..<5 {
                let t = Double(k) / 4
                let yy = frame.top + 24 + Double(k) * 20
                svg.rect(xx, yy, 14, 14, fill: Palette.sequential(t))
                svg.text(formatFixed(lo + (hi - lo) * t, decimals: 3), x: xx + 20, y: yy + 11, size: 11)
            }
        }
        return svg.render()
    }
}

public struct LineSeries: Sendable {
    public let name: String
    public let points: [(x: Double, y: Double)]
    /// Error bars, one half-width per point (y ± error; NaN or ≤ 0 draws none); nil for none at all.
    public let errors: [Double]?
    public init(name: String, points: [(x: Double, y: Double)], errors: [Double]? = nil) {
        precondition(errors.map { $0.count == points.count } ?? true, "a line series needs one error per point")
        self.name = name
        self.points = points
        self.errors = errors
    }
}

public struct LineChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var xScale: ScaleKind
    public var series: [LineSeries]

    public init(title: String, xLabel: String, yLabel: String, xScale: ScaleKind = .linear, series: [LineSeries]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.series = series
    }

    public func render() -> String {
        let xs = series.flatMap { $0.points.map(\.x) }
        // The y axis spans the error bars too.
        let ys = series.flatMap { s in
            s.points.indices.flatMap { i -> [Double] in
                let y = s.points[i].y, e = s.errors?[i] ?? .nan
                return e.isFinite && e > 0 ? [y, y - e, y + e] : [y]
            }
        }
        let frame = PlotFrame(x: Axis(label: xLabel, values: xs, kind: xScale), y: Axis(label: yLabel, values: ys),
                              legendLabels: series.map(\.name))
        var svg = SVGDocument(width: frame.width, height: frame.height)
        frame.draw(into: &svg, title: title)
        for (i, s) in series.enumerated() {
            let visible = s.points.indices
                .map { (x: s.points[$0].x, y: s.points[$0].y, e: s.errors?[$0] ?? .nan) }
                .filter { $0.x.isFinite && $0.y.isFinite && (xScale == .linear || $0.x > 0) }.sorted { $0.x < $1.x }
            let color = Palette.seriesColor(i)
            svg.polyline(visible.map { (frame.px($0.x), frame.py($0.y)) }, stroke: color, width: 2)
            for p in visible {
                guard s.errors != nil else { svg.circle(frame.px(p.x), frame.py(p.y), r: 3.5, fill: color); continue }
                // ±e as a vertical bar with caps; the point's tooltip gives both numbers.
                if p.e.isFinite && p.e > 0 {
                    let x = frame.px(p.x), top = frame.py(p.y + p.e), bottom = frame.py(p.y - p.e)
                    svg.line(x, top, x, bottom, stroke: color, width: 1.2)
                    svg.line(x - 4, top, x + 4, top, stroke: color, width: 1.2)
                    svg.line(x - 4, bottom, x + 4, bottom, stroke: color, width: 1.2)
                }
                let text = formatFixed(p.y, decimals: 3) + (p.e.isFinite ? " ± " + formatFixed(p.e, decimals: 3) : "")
                svg.circle(frame.px(p.x), frame.py(p.y), r: 3.5, fill: color, title: "\(s.name) at \(formatFixed(p.x, decimals: 4)): \(text)")
            }
        }
        frame.legend(into: &svg, heading: nil, entries: series.enumerated().map { ($0.element.name, Palette.seriesColor($0.offset)) })
        return svg.render()
    }
}

public struct BarSeries: Sendable {
    public let name: String
    public let values: [Double]
    public init(name: String, values: [Double]) {
        self.name = name
        self.values = values
    }
}

/// Grouped bars: one group per category, one bar per series.
public struct BarChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var categories: [String]
    public var series: [BarSeries]

    public init(title: String, xLabel: String, yLabel: String, categories: [String], series: [BarSeries]) {
        precondition(series.allSatisfy { $0.values.count == categories.count }, "every bar series needs one value per category")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.categories = categories
        self.series = series
    }

    public func render() -> String {
        let n = Double(max(1, categories.count))
        let values = series.flatMap(\.values)
        let frame = PlotFrame(x: Axis(label: xLabel, values: [-0.5, n - 0.5]), y: Axis(label: yLabel, values: values, includeZero: true),
                              legendLabels: series.map(\.name))
        let ticks = categories.enumerated().map { (value: Double($0.offset), label: $0.element) }
        var svg = SVGDocument(width: frame.width, height: frame.height)
        frame.draw(into: &svg, title: title, xTicks: ticks)
        let groupWidth = frame.plotWidth / n * 0.8
        let barWidth = groupWidth / Double(max(1, series.count))
        let baseline = frame.py(max(frame.y.lower, 0))
        for (s, bars) in series.enumerated() {
            for (c, v) in bars.values.enumerated() where v.isFinite {
                let x0 = frame.px(Double(c)) - groupWidth / 2 + Double(s) * barWidth
                let y = frame.py(v)
                svg.rect(x0, min(y, baseline), barWidth * 0.92, abs(baseline - y), fill: Palette.seriesColor(s),
                         title: "\(bars.name) \(categories[c]): \(formatFixed(v, decimals: 4))")
            }
        }
        if series.count > 1 || !(series.first?.name.isEmpty ?? true) {
            frame.legend(into: &svg, heading: nil, entries: series.enumerated().map { ($0.element.name, Palette.seriesColor($0.offset)) })
        }
        return svg.render()
    }
}
