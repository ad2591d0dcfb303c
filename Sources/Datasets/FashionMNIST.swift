// Fashion-MNIST (Xiao et al. 2017) in the IDX format of MNIST, gzip-compressed, as Debian's
// `dataset-fashion-mnist` installs it in /usr/share/datasets/fashion-mnist/ (a `fashion-mnist/` folder in the
// data directory takes precedence). IDX: big-endian; magic = 0x00 0x00, element type 0x08 (unsigned byte), number
// of dimensions; then one UInt32 size per dimension; then the elements in C order. Images are [count, 28, 28],
// labels [count] with classes 0–9. Every field is checked, and the data must be exactly as long as the sizes say.

import Basics

/// Images as bytes, row-major `[count × rows × columns]`, with their labels.
public struct ImageSet: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let pixels: [UInt8]
    public let labels: [UInt8]

    public init(rows: Int, columns: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(pixels.count == labels.count * rows * columns, "pixel count must equal count × rows × columns")
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
        self.labels = labels
    }

    public var count: Int { labels.count }
    public var pixelsPerImage: Int { rows * columns }

    /// Pixels scaled to [0, 1] (value / 255).
    public func pixelsAsUnitFloats() -> [Float] { pixels.map { Float($0) * (1 / 255) } }

    /// The images at the given indices, in that order.
    public func selecting(_ indices: [Int]) -> ImageSet {
        var selectedPixels: [UInt8] = []
        selectedPixels.reserveCapacity(indices.count * pixelsPerImage)
        for index in indices { selectedPixels.append(contentsOf: pixels[(index * pixelsPerImage)..<((index + 1) * pixelsPerImage)]) }
        return ImageSet(rows: rows, columns: columns, pixels: selectedPixels, labels: indices.map { labels[$0] })
    }
}

public enum FashionMNISTFile: String, Sendable {
    case train, test

    var imagesName: String { self == .train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz" }
    var labelsName: String { self == .train ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz" }
}

public enum FashionMNIST {
    public static let systemFolder = "/usr/share/datasets/fashion-mnist"
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    static let howToGet = "Install Debian's package with `apt-get install dataset-fashion-mnist` (it fills /usr/share/datasets/fashion-mnist/) or put the four IDX .gz files in <data>/fashion-mnist/; see Sources/Datasets/DATA.md."

    /// `<data>/fashion-mnist/` when it exists, else Debian's folder.
    public static func folder(in directory: DataDirectory) -> String {
        let local = directory.filePath("fashion-mnist")
        return FileSystem.isDirectory(local) ? local : systemFolder
    }

    public static func load(_ file: FashionMNISTFile, from directory: DataDirectory) throws -> ImageSet {
        let base = folder(in: directory)
        let imagesPath = base + "/" + file.imagesName
        let labelsPath = base + "/" + file.labelsName
        for path in [imagesPath, labelsPath] where !FileSystem.isRegularFile(path) {
            throw MissingDataError(dataSet: "Fashion-MNIST \(file.rawValue)", path: path, howToGet: howToGet, directory: directory)
        }
        return try load(imagesPath: imagesPath, labelsPath: labelsPath)
    }

    /// Reads a pair of gzip IDX files and checks that they agree.
    public static func load(imagesPath: String, labelsPath: String) throws -> ImageSet {
        let images = try IDX.parse(Gzip.readFile(imagesPath), file: imagesPath, expectedDimensions: 3)
        let labels = try IDX.parse(Gzip.readFile(labelsPath), file: labelsPath, expectedDimensions: 1)
        guard images.sizes[1] == 28 && images.sizes[2] == 28 else {
            throw InputError(file: imagesPath, place: "byte offset 8", problem: "images are \(images.sizes[1])×\(images.sizes[2]); expected 28×28")
        }
        guard images.sizes[0] == labels.sizes[0] else {
            throw InputError(file: labelsPath, place: "byte offset 4",
                             problem: "\(labels.sizes[0]) labels for \(images.sizes[0]) images in \(imagesPath); expected equal counts")
        }
        if let bad = labels.data.firstIndex(where: { $0 > 9 }) {
            throw InputError(file: labelsPath, place: "byte offset \(labels.dataOffset + bad) (decompressed)",
                             problem: "label \(labels.data[bad]); expected a class from 0 to 9")
        }
        return ImageSet(rows: images.sizes[1], columns: images.sizes[2], pixels: images.data, labels: labels.data)
    }
}

/// The IDX container (LeCun's MNIST format), unsigned-byte elements only.
enum IDX {
    struct Array {
        let sizes: [Int]
        let dataOffset: Int
        let data: [UInt8]
    }

    static func parse(_ bytes: [UInt8], file: String, expectedDimensions: Int) throws -> Array {
        func fail(_ offset: Int, _ problem: String) -> InputError {
            InputError(file: file, place: "byte offset \(offset) (decompressed)", problem: problem)
        }
        guard bytes.count >= 4 else { throw fail(0, "file has \(bytes.count) bytes; expected an IDX header of at least 4 bytes") }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw fail(0, "magic number starts 0x\(hex(bytes[0]))\(hex(bytes[1])); expected 0x0000 (IDX)")
        }
        guard bytes[2] == 0x08 else { throw fail(2, "element type 0x\(hex(bytes[2])); expected 0x08 (unsigned byte)") }
        guard Int(bytes[3]) == expectedDimensions else {
            throw fail(3, "\(bytes[3]) dimensions; expected \(expectedDimensions)")
        }
        let dataOffset = 4 + 4 * expectedDimensions
        guard bytes.count >= dataOffset else {
            throw fail(bytes.count, "header ends after \(bytes.count) bytes; expected \(dataOffset) bytes of header")
        }
        var sizes: [Int] = []
        var expectedCount = 1
        for dimension in 0..<expectedDimensions {
            let at = 4 + 4 * dimension
            let size = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            guard size >= 1 else { throw fail(at, "dimension \(dimension) has size 0; expected at least 1") }
            sizes.append(size)
            expectedCount *= size
        }
        let available = bytes.count - dataOffset
        guard available == expectedCount else {
            let what = available < expectedCount ? "truncated" : "has trailing bytes"
            throw fail(bytes.count, "data \(what): \(available) bytes after the header; expected \(expectedCount) (sizes \(sizes.map(String.init).joined(separator: "×")))")
        }
        return Array(sizes: sizes, dataOffset: dataOffset, data: Swift.Array(bytes[dataOffset...]))
    }

    static func hex(_ byte: UInt8) -> String {
        let text = String(byte, radix: 16)
        return text.count == 1 ? "0" + text : text
    }
}
