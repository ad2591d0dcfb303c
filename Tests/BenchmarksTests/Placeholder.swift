// Placeholder so the package resolves on branch `pruning`: Package.swift (from branch accel) declares the
// BenchmarksTests target, whose sources had not been committed on accel when it was merged here.
