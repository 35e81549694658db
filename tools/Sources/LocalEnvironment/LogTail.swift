import ControlSocket
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `localenv logs <entry> [-f] [--grep RE]`: the entry's log file (the launcher names it over
/// the control socket), optionally only the lines matching a regular expression, and with `-f`
/// what is added to it, as `tail -f` — woken by inotify, not by polling. A file emptied by a new
/// launch is read again from its start.
public enum LogTail {
    public static func run(stateDirectory: String, entry: String, follow: Bool, grep: String?) throws(LauncherError) {
        let reply = try LocalControl.send(ControlRequest(command: "log", arguments: [entry]), stateDirectory: stateDirectory)
        guard reply.ok else { throw LauncherError(reply.output) }
        let path = reply.output
        let pattern: Regex<AnyRegexOutput>?
        do {
            pattern = try grep.map { try Regex($0) }
        } catch {
            throw LauncherError("--grep \(grep ?? ""): not a regular expression: \(error)")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LauncherError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var reader = LineFilter(pattern: pattern)
        reader.drain(fd)
        guard follow else {
            reader.finish()
            return
        }
        let inotify = inotify_init1(Int32(IN_CLOEXEC))
        guard inotify >= 0, inotify_add_watch(inotify, path, UInt32(IN_MODIFY)) >= 0 else {
            throw LauncherError("cannot watch \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(inotify) }
        var events = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = events.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            if count < 0 && errno != EINTR { return }
            var status = stat()
            if fstat(fd, &status) == 0, status.st_size < lseek(fd, 0, SEEK_CUR) { lseek(fd, 0, SEEK_SET) }
            reader.drain(fd)
        }
    }
}

/// Whole lines from a descriptor to stdout, the matching ones only when there is a pattern.
private struct LineFilter {
    let pattern: Regex<AnyRegexOutput>?
    var pending: [UInt8] = []

    init(pattern: Regex<AnyRegexOutput>?) { self.pattern = pattern }

    mutating func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            pending += buffer[..<count]
        }
        guard let last = pending.lastIndex(of: UInt8(ascii: "\n")) else { return }
        emit(pending[..<last])
        pending.removeSubrange(...last)
    }

    mutating func finish() {
        if !pending.isEmpty { emit(pending[...]) }
        pending = []
    }

    private func emit(_ bytes: ArraySlice<UInt8>) {
        var text = ""
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if let pattern, (try? pattern.firstMatch(in: line)) == nil { continue }
            text += line + "\n"
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
