// Storage — owns SQLite (CSQLite) and zstd (CZstd). No other module imports those C libraries.
//
// Owns: the SQLite wrapper (`Database`, `Statement`, `SQLiteError`, closure transactions, `user_version`
// migrations), the zstd codec (`Zstd`, `CompressionError`), the result store (`ResultStore`, schema v1 documented
// in SCHEMA.md, the advisory writer lock) and the store benchmark (`StoreBenchmark`).
// Imports Basics only. Must not import any other Leopard module; never prints, never exits.
