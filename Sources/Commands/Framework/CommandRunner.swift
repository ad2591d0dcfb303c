// The single place that walks argv to a command, runs it, and maps the outcome to an exit code:
// 0 success; 64 usage error (message and usage on stderr); 1 any other failure (one clear message on stderr).

import Basics

public enum ExitCode {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let usage: Int32 = 64
}

/// Thrown by a command that has already reported its failures (e.g. a sweep with failed jobs) and wants exit 1
/// without a second message.
public struct ReportedFailure: LeopardError {
    public let message: String
    public init(_ message: String) { self.message = message }
}

public enum CommandRunner {
    /// Runs `argv` (without the program name) against the command tree rooted at `root`.
    public static func run(_ argv: [String], root: any Command.Type = Leopard.self, io: CommandIO) -> Int32 {
        var path: [any Command.Type] = [root]
        var arguments = Arguments(argv)

        // `leopard help [command...]` is help for that command.
        if arguments.peek() == "help" {
            _ = arguments.popFirst()
            var helpPath: [any Command.Type] = [root]
            while let name = arguments.popFirst() {
                guard let sub = helpPath.last!.configuration.subcommands.first(where: { $0.configuration.name == name }) else {
                    return usageError(UsageError("no help for unknown command '\(name)'"), path: helpPath, io: io)
                }
                helpPath.append(sub)
            }
            io.print(Help.text(for: helpPath))
            return ExitCode.success
        }

        // Walk subcommand names.
        while !path.last!.configuration.subcommands.isEmpty, let next = arguments.peek(),
              let sub = path.last!.configuration.subcommands.first(where: { $0.configuration.name == next }) {
            _ = arguments.popFirst()
            path.append(sub)
        }

        if (try? arguments.flag("--help")) == true || (try? arguments.flag("-h")) == true {
            io.print(Help.text(for: path))
            return ExitCode.success
        }
        if path.count == 1, (try? arguments.flag("--version")) == true {
            io.print(VersionCommand.versionLine)
            return ExitCode.success
        }

        let command: any Command
        do {
            command = try path.last!.init(arguments: &arguments)
            try arguments.finish()
        } catch let error as UsageError {
            return usageError(error, path: path, io: io)
        } catch {
            io.printError("error: \(describeError(error))")
            return ExitCode.failure
        }

        do {
            try command.run(io)
            return ExitCode.success
        } catch let error as UsageError {
            return usageError(error, path: path, io: io)
        } catch let error as ReportedFailure {
            if !error.message.isEmpty { io.printError(error.message) }
            return ExitCode.failure
        } catch {
            io.printError("error: \(describeError(error))")
            return ExitCode.failure
        }
    }

    static func usageError(_ error: UsageError, path: [any Command.Type], io: CommandIO) -> Int32 {
        io.printError("error: \(error.message)")
        io.printError("usage: \(Help.usageLine(path))")
        io.printError("  see '\(Help.commandLine(path)) --help'")
        return ExitCode.usage
    }
}
