// Help text generated from command configurations, so it can never drift from what the parser accepts
// (every option a command parses is listed in its configuration; CommandsTests checks the help of each command).

enum Help {
    /// `leopard store inspect` for the path [Leopard, Store, Inspect].
    static func commandLine(_ path: [any Command.Type]) -> String {
        (["leopard"] + path.dropFirst().map { $0.configuration.name }).joined(separator: " ")
    }

    static func usageLine(_ path: [any Command.Type]) -> String {
        let config = path.last!.configuration
        if !config.subcommands.isEmpty && config.usage.isEmpty { return "\(commandLine(path)) <subcommand>" }
        return config.usage.isEmpty ? commandLine(path) : "\(commandLine(path)) \(config.usage)"
    }

    static func text(for path: [any Command.Type]) -> String {
        let config = path.last!.configuration
        var lines: [String] = []
        lines.append("OVERVIEW: \(config.abstract)")
        lines.append("")
        lines.append("USAGE: \(usageLine(path))")
        if !config.discussion.isEmpty {
            lines.append("")
            lines.append(contentsOf: config.discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        }
        if !config.arguments.isEmpty {
            lines.append("")
            lines.append("OPTIONS:")
            lines.append(contentsOf: table(config.arguments.map { ($0.names, $0.help) } + [("-h, --help", "Show help information.")]))
        } else if config.subcommands.isEmpty {
            lines.append("")
            lines.append("OPTIONS:")
            lines.append(contentsOf: table([("-h, --help", "Show help information.")]))
        }
        if !config.subcommands.isEmpty {
            lines.append("")
            lines.append("SUBCOMMANDS:")
            lines.append(contentsOf: table(config.subcommands.map { ($0.configuration.name, $0.configuration.abstract) }))
            lines.append("")
            lines.append("  See '\(commandLine(path)) help <subcommand>' or '\(commandLine(path)) <subcommand> --help' for details.")
        }
        return lines.joined(separator: "\n")
    }

    /// Two-column layout: names padded to a common width (capped), wrapped help beside them.
    static func table(_ rows: [(String, String)]) -> [String] {
        let width = min(28, (rows.map { $0.0.count }.max() ?? 0) + 2)
        var out: [String] = []
        for (names, help) in rows {
            let lead = "  " + names
            if lead.count + 2 > width + 2 {
                out.append(lead)
                out.append(String(repeating: " ", count: width + 2) + help)
            } else {
                out.append(lead + String(repeating: " ", count: width + 2 - lead.count) + help)
            }
        }
        return out
    }
}
