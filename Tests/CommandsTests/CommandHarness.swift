import Basics
import Commands

/// Runs argv through the real command tree in-process and captures what a terminal would show.
struct CommandResult {
    let exitCode: Int32
    let stdout: String
    let stderr: String
}

func runLeopard(_ argv: [String], environment: [String: String] = [:]) -> CommandResult {
    final class Box: @unchecked Sendable { var out = ""; var err = "" }
    let box = Box()
    let io = CommandIO(isTerminal: false, environment: environment, out: { box.out += $0 }, err: { box.err += $0 })
    let code = CommandRunner.run(argv, io: io)
    return CommandResult(exitCode: code, stdout: box.out, stderr: box.err)
}
