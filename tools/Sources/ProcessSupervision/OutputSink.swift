import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where every child's output and the launcher's own messages go: one line at a time, each with
/// its component's name as an aligned prefix (coloured on a terminal), so interleaved logs of
/// several processes stay readable — Fuge's `tail`.
public final class OutputSink: Sendable {
    private let width: Int
    private let colors: [String: String]
    private let lock = NSLock()
    private let descriptor: Int32

    /// - Parameters:
    ///   - names: every prefix that will be used, for the alignment and the colour of each.
    ///   - color: nil: colour when `descriptor` is a terminal.
    public init(names: [String], color: Bool? = nil, descriptor: Int32 = STDOUT_FILENO) {
        self.descriptor = descriptor
        width = names.map(\.count).max() ?? 0
        let palette = ["36", "32", "33", "35", "34", "96", "92", "93", "95", "94"]  // ANSI foreground colours
        let useColor = color ?? (isatty(descriptor) == 1)
        var colors: [String: String] = [:]
        if useColor {
            for (index, name) in names.enumerated() { colors[name] = palette[index % palette.count] }
        }
        self.colors = colors
    }

    /// Writes `text` (one or more lines) with `name`'s prefix on each line.
    public func write(_ name: String, _ text: String) {
        let prefix = prefix(for: name)
        var block = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            block += prefix + line + "\n"
        }
        lock.withLock { writeAll(descriptor, block) }
    }

    func prefix(for name: String) -> String {
        let padded = name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0)
        guard let color = colors[name] else { return padded + " | " }
        return "\u{1B}[\(color)m\(padded) |\u{1B}[0m "
    }
}
