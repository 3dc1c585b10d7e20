import Foundation

/// A one-line progress bar on standard error, drawn only when it is a terminal so logs stay clean.
final class ProgressBar {
    private let total: Int
    private var done = 0
    private var failures = 0
    private let enabled = isatty(STDERR_FILENO) != 0
    private let width = 30

    init(total: Int) { self.total = max(total, 1) }

    func advance(label: String, failed: Bool) {
        done += 1
        if failed { failures += 1 }
        guard enabled, done == total || done % max(1, total / 200) == 0 else { return }
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write("\r[\(bar)] \(done)/\(total) failures=\(failures) \(label)   ".data(using: .utf8)!)
    }

    func finish() {
        if enabled { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }
}
