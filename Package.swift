// swift-tools-version:6.0
// Leopard — design-space exploration for learned attention pruning and the bit-serial accelerator that exploits it.
//
// This manifest draws the architecture of DESIGN.md §4. Arrows are "may import":
//
//   leopard (thin main) → Commands → Sweep → { Training, AcceleratorModel, Storage }, Reporting
//   Training → Models → Layers → Tensors → COpenBLAS          (the ML side)
//   Training → Datasets → CZlib                               (loaders, tokenisers, metrics: plain arrays)
//   Training → Workloads ← AcceleratorModel → CBitKernels     (ML and hardware meet only in Workloads)
//   Benchmarks → AcceleratorModel, COpenBLAS                  (simulation vs a dense sgemm reference)
//   Storage → CSQLite, CZstd                                  (each C library owned by exactly one module)
//   Basics: seeded RNG, canonical JSON, stable keys, errors, logging (imported by all)
//
// The ML side never imports the hardware side and vice versa; only Commands prints and decides exit codes.
import PackageDescription

let package = Package(
    name: "Leopard",
    products: [
        .executable(name: "leopard", targets: ["leopard"]),
    ],
    targets: [
        // MARK: C libraries (system-library targets; each owned by one Swift module)
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // gzip inflate for Fashion-MNIST's IDX files; owned by Datasets.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: Foundation layer
        .target(name: "Basics"),
        // Storage: SQLite wrapper, zstd codec, the result store (schema documented in README.md), its benchmark.
        .target(name: "Storage", dependencies: ["Basics", "CSQLite", "CZstd"]),

        // MARK: ML side: Tensors owns OpenBLAS; Layers → Tensors; Models → Layers; Training → Models, Datasets
        // Data sets, tokenisers and task metrics as plain Swift arrays; imports Basics only (no ML module).
        .target(name: "Datasets", dependencies: ["Basics", "CZlib"], exclude: ["DATA.md"]),
        .target(name: "Tensors", dependencies: ["Basics", "COpenBLAS"]),
        .target(name: "Layers", dependencies: ["Basics", "Tensors"]),
        .target(name: "Models", dependencies: ["Basics", "Tensors", "Layers"]),
        .target(name: "Training", dependencies: ["Basics", "Tensors", "Layers", "Models", "Datasets", "Workloads"]),

        // MARK: Reporting (pure: values in, CSV/SVG text out)
        .target(name: "Reporting", dependencies: ["Basics"]),

        // MARK: Hardware side (never imports the ML side; meets it only in Workloads)
        // Workloads: attention traces and their .npy/meta.json form, quantisation, per-layer statistics.
        .target(name: "Workloads", dependencies: ["Basics"]),
        // AcceleratorModel: bit-serial engine, cycle-level and analytic models, energy/area tables.
        // CBitKernels: the engine's 16-bit multiply-add kernels in C (matrix kernel: AVX2 / AVX-512 VNNI; row kernel:
        // portable / SSE2 / AVX2; chosen at run time) and the cycle model's fast row scheduler (AVX2), owned by
        // AcceleratorModel only.
        .target(name: "CBitKernels"),
        .target(name: "AcceleratorModel", dependencies: ["Basics", "Workloads", "CBitKernels"],
                exclude: ["HARDWARE.md", "Tables"]),
        // Benchmarks: simulation vs dense sgemm reference; the only hardware-side target that may use COpenBLAS.
        .target(name: "Benchmarks", dependencies: ["Basics", "Workloads", "AcceleratorModel", "COpenBLAS"]),

        // MARK: Pipeline: manifests → job DAG → store → Pareto/plots (DESIGN.md §3)
        // Sweep: manifest v1, planning with stable keys, the Dispatch engine with one store writer, job kinds
        // (training side through a model-backend registry, hardware side through AcceleratorModel), Pareto, plots.
        .target(name: "Sweep", dependencies: ["Basics", "Storage", "Reporting", "Training", "Models", "Layers", "Tensors", "Datasets", "Workloads",
                                            "AcceleratorModel"]),

        // MARK: Command layer
        .target(name: "Commands", dependencies: ["Basics", "Storage", "Reporting", "Datasets", "Layers", "Training",
                                               "Workloads", "AcceleratorModel", "Benchmarks", "Sweep"]),
        .executableTarget(name: "leopard", dependencies: ["Commands"]),
        // A child process for StorageTests: writes jobs/metrics/artifacts until killed (crash safety), or holds the
        // writer lock (two-process concurrency). Launched by the tests from the build products directory.
        .executableTarget(name: "store-crash-writer", dependencies: ["Storage", "Basics"]),

        // MARK: Tests (one target per library target)
        .testTarget(name: "BasicsTests", dependencies: ["Basics"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Basics"]),
        .testTarget(name: "WorkloadsTests", dependencies: ["Workloads", "Basics"]),
        .testTarget(name: "AcceleratorModelTests", dependencies: ["AcceleratorModel", "CBitKernels", "Workloads", "Basics"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "AcceleratorModel", "Workloads", "Basics"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Basics"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "Basics"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Tensors", "Basics"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Layers", "Tensors", "Basics", "Datasets"]),  // Datasets: GLUE + WordPiece for the MiniLM-vs-PyTorch check
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "Layers", "Tensors", "Datasets", "Workloads", "Basics"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"], exclude: ["Golden"]),
        .testTarget(name: "SweepTests", dependencies: ["Sweep", "Storage", "Reporting", "Workloads", "AcceleratorModel", "Basics"]),
        .testTarget(name: "CommandsTests", dependencies: ["Commands", "Storage", "Basics", "Workloads",
                                                          "Sweep", "Training", "Layers"]),  // `train` flags vs manifest overrides
    ],
    swiftLanguageModes: [.v5]
)
