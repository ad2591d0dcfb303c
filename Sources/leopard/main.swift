// The `leopard` executable: hands argv to the command layer and exits with its code.
import Commands
import Foundation

exit(CommandRunner.run(Array(CommandLine.arguments.dropFirst()), io: .standard()))
