// store-crash-writer — a child process for StorageTests (not part of Leopard's user interface).
//
//   store-crash-writer write <store> <run>            writes jobs forever, each completed in one transaction with
//                                                     CrashWorkload.metricCount metrics and one artifact, until killed
//   store-crash-writer hold-lock <store> [seconds]    opens the store for writing, prints "locked", keeps writing
//                                                     small jobs for `seconds` (default: until killed), then exits
//
// The content of job i is a pure function of its key (CrashWorkload), so the test can check every committed job
// after a SIGKILL without talking to this process. Imports Storage and Basics only.

import Basics
import Foundation
import Storage

func fail(_ text: String) -> Never {
    FileHandle.standardError.write(Data((text + "\n").utf8))
    exit(1)
}

func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: store-crash-writer write <store> <run> | hold-lock <store> [seconds]") }
let mode = arguments[1], path = arguments[2]

do {
    switch mode {
    case "write":
        guard arguments.count == 4, let run = Int(arguments[3]) else { fail("write needs <store> <run>") }
        let store = try ResultStore(path: path, access: .write(lockTimeoutSeconds: 10))
        try store.registerSweep(name: "crash", manifest: ["test": "crash-safety"])
        say("ready")
        var previous: String? = nil
        for index in 0..<1_000_000 {
            let key = CrashWorkload.key(run: run, index: index)
            try store.insertJobsIfAbsent(sweep: "crash", [JobSpec(key: key, kind: "hw-eval", parentKey: previous,
                                                                  parameters: ["run": JSONValue(run), "index": JSONValue(index)])])
            try store.claim(key: key)
            try store.complete(key: key, metrics: CrashWorkload.metrics(key: key),
                               artifacts: [ArtifactInput(kind: "trace", bytes: CrashWorkload.artifact(key: key), elementBytes: 2)])
            previous = key
        }
    case "hold-lock":
        let seconds = arguments.count > 3 ? Double(arguments[3]) ?? 0 : Double.infinity
        let store = try ResultStore(path: path, access: .write())
        try store.registerSweep(name: "lock", manifest: [:])
        say("locked")
        let deadline = Date().addingTimeInterval(seconds)
        var index = 0
        while Date() < deadline {
            let key = "lock-\(getpid())-\(index)"
            try store.insertJobsIfAbsent(sweep: "lock", [JobSpec(key: key, kind: "k", parentKey: nil, parameters: [:])])
            try store.claim(key: key)
            try store.complete(key: key, metrics: [("i", Double(index))])
            index += 1
            usleep(5_000)
        }
    default:
        fail("unknown mode \(mode)")
    }
} catch {
    fail(describeError(error))
}
