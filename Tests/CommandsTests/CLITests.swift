import Basics
import Commands
import Testing

@Suite("Command line: argv → output and exit code")
struct CLITests {
    struct Case: CustomTestStringConvertible, Sendable {
        let argv: [String]
        let exitCode: Int32
        /// Substrings that must appear on stdout / stderr.
        let stdoutHas: [String]
        let stderrHas: [String]
        var testDescription: String { argv.isEmpty ? "(no arguments)" : argv.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(argv: [], exitCode: 64, stdoutHas: [], stderrHas: ["needs a subcommand", "usage: leopard <subcommand>"]),
        Case(argv: ["--help"], exitCode: 0, stdoutHas: ["OVERVIEW:", "USAGE: leopard <subcommand>", "SUBCOMMANDS:", "version"], stderrHas: []),
        Case(argv: ["-h"], exitCode: 0, stdoutHas: ["SUBCOMMANDS:"], stderrHas: []),
        Case(argv: ["help"], exitCode: 0, stdoutHas: ["SUBCOMMANDS:"], stderrHas: []),
        Case(argv: ["help", "version"], exitCode: 0, stdoutHas: ["USAGE: leopard version", "-h, --help"], stderrHas: []),
        Case(argv: ["version", "--help"], exitCode: 0, stdoutHas: ["USAGE: leopard version"], stderrHas: []),
        Case(argv: ["help", "nonsense"], exitCode: 64, stdoutHas: [], stderrHas: ["no help for unknown command 'nonsense'"]),
        Case(argv: ["version"], exitCode: 0, stdoutHas: ["leopard \(LeopardVersion.string)"], stderrHas: []),
        Case(argv: ["--version"], exitCode: 0, stdoutHas: ["leopard \(LeopardVersion.string)"], stderrHas: []),
        Case(argv: ["version", "--bogus"], exitCode: 64, stdoutHas: [], stderrHas: ["unknown option '--bogus'", "usage: leopard version"]),
        Case(argv: ["version", "extra"], exitCode: 64, stdoutHas: [], stderrHas: ["unexpected argument 'extra'"]),
        Case(argv: ["frobnicate"], exitCode: 64, stdoutHas: [], stderrHas: ["unknown subcommand 'frobnicate'"]),
    ]

    @Test(arguments: cases)
    func argvToOutput(_ c: Case) {
        let r = runLeopard(c.argv)
        #expect(r.exitCode == c.exitCode, "stderr: \(r.stderr)")
        for s in c.stdoutHas { #expect(r.stdout.contains(s), "stdout lacks \(s): \(r.stdout)") }
        for s in c.stderrHas { #expect(r.stderr.contains(s), "stderr lacks \(s): \(r.stderr)") }
        if c.exitCode == 64 { #expect(r.stdout.isEmpty, "usage errors print nothing on stdout") }
    }

    @Test("every command's help lists its options and renders without error")
    func helpForEveryCommand() {
        func walk(_ path: [String], _ type: any Command.Type) {
            let r = runLeopard(path + ["--help"])
            #expect(r.exitCode == 0, "\(path)")
            #expect(r.stdout.contains("USAGE: leopard"), "\(path)")
            for a in type.configuration.arguments {
                #expect(r.stdout.contains(a.names), "help of \(path) lacks \(a.names)")
            }
            for sub in type.configuration.subcommands { walk(path + [sub.configuration.name], sub) }
        }
        walk([], Leopard.self)
    }
}

@Suite("Argument parsing")
struct ArgumentsTests {
    @Test("options take `--name value` and `--name=value`; flags and positionals are pulled in any order")
    func spellings() throws {
        var a = Arguments(["inspect", "--json", "--jobs=2", "path.sqlite", "--store", "x.sqlite"])
        #expect(try a.flag("--json"))
        #expect(try a.intOption("--jobs", range: 1...64) == 2)
        #expect(try a.option("--store") == "x.sqlite")
        #expect(a.positional() == "inspect")
        #expect(a.positional() == "path.sqlite")
        try a.finish()
    }

    @Test("`--` ends options: what follows is positional even if it starts with dashes")
    func terminator() throws {
        var a = Arguments(["--json", "--", "--weird-name"])
        #expect(try a.flag("--json"))
        #expect(a.positional() == "--weird-name")
        try a.finish()
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        let name: String
        let argv: [String]
        let message: String
        var testDescription: String { name }
    }

    static let bad: [Bad] = [
        Bad(name: "missing value", argv: ["--jobs"], message: "--jobs needs a value"),
        Bad(name: "not an integer", argv: ["--jobs", "two"], message: "--jobs = two; expected an integer from 1 to 64"),
        Bad(name: "out of range", argv: ["--jobs=0"], message: "--jobs = 0; expected an integer from 1 to 64"),
        Bad(name: "given twice", argv: ["--jobs", "1", "--jobs", "2"], message: "--jobs given more than once"),
    ]

    @Test(arguments: bad)
    func badValues(_ b: Bad) {
        var a = Arguments(b.argv)
        #expect(throws: UsageError(b.message)) { _ = try a.intOption("--jobs", range: 1...64) }
    }
}
