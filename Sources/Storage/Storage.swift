// Storage — owns SQLite (CSQLite) and zstd (CZstd). No other module imports those C libraries.
