// The shape of a Leopard command: a static configuration (name, one-line abstract, usage, options, discussion,
// subcommands) from which help is generated, an initialiser that parses and validates the arguments, and `run`.

import Basics

public protocol Command {
    static var configuration: CommandConfiguration { get }
    /// Parses and validates `arguments`; throws `UsageError` for anything that cannot run. Called only for leaf
    /// commands (a group dispatches to its subcommands).
    init(arguments: inout Arguments) throws
    /// Runs the command; throws for failures (exit 1). Output goes through `io`, never straight to stdout.
    func run(_ io: CommandIO) throws
}

/// A help entry for one argument or option.
public struct ArgumentHelp: Sendable {
    public let names: String
    public let help: String
    public init(_ names: String, _ help: String) {
        self.names = names
        self.help = help
    }
}

public struct CommandConfiguration {
    public let name: String
    public let abstract: String
    /// Usage after `leopard <path>`, e.g. `<path> [--json]`.
    public let usage: String
    public let discussion: String
    public let arguments: [ArgumentHelp]
    public let subcommands: [any Command.Type]

    public init(name: String, abstract: String, usage: String = "", discussion: String = "",
                arguments: [ArgumentHelp] = [], subcommands: [any Command.Type] = []) {
        self.name = name
        self.abstract = abstract
        self.usage = usage
        self.discussion = discussion
        self.arguments = arguments
        self.subcommands = subcommands
    }
}

/// A command group has subcommands and no behaviour of its own; reaching `init` means no subcommand was given.
public protocol CommandGroup: Command {}

extension CommandGroup {
    public init(arguments: inout Arguments) throws {
        let names = Self.configuration.subcommands.map { $0.configuration.name }.joined(separator: ", ")
        if let next = arguments.peek() {
            throw UsageError("unknown subcommand '\(next)' of '\(Self.configuration.name)'; expected one of: \(names)")
        }
        throw UsageError("'\(Self.configuration.name)' needs a subcommand: \(names)")
    }

    public func run(_ io: CommandIO) throws {}
}
