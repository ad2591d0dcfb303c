// Commands — the command layer of Leopard.
//
// Owns: argument parsing (hand-rolled in the spirit of swift-argument-parser: one type per subcommand with a
// static configuration, parse and validate before `run`), generated help, the single mapping from errors to exit
// codes (0 success, 1 failure, 64 usage), and all printing to stdout/stderr.
// May import every library module; no library module imports Commands. Libraries return values and throw typed
// errors; this layer formats them (text for people, one JSON object with `--json` for scripts).
