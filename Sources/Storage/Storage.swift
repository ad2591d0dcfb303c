// Storage — owns SQLite (CSQLite) and zstd (CZstd). No other module imports those C libraries.
//
// Owns: the SQLite wrapper (`Database`, `Statement`, `SQLiteError`, closure transactions, `user_version`
// migrations), the zstd codec (`Zstd`, `CompressionError`) and artifact codecs (`ArtifactCodec`: zstd with an
// optional byte shuffle), the result store (`ResultStore`: schema v1 documented in README.md, job life cycle,
// metrics, verified artifacts, key scopes restricting claims to a plan, the advisory writer lock, shard merging,
// summary) and the store benchmark (`StoreBenchmark`). `CrashWorkload` is the shared definition of the crash-safety
// test's workload.
// Imports Basics only. Must not import any other Leopard module; never prints, never exits.
