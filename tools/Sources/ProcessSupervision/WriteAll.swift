#if canImport(Glibc)
import Glibc
#endif

/// write(2) until done: a pipe or file may take the text in pieces; a closed reader (EPIPE, with
/// SIGPIPE ignored) or any other error drops the rest rather than the caller.
public func writeAll(_ descriptor: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
