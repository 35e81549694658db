import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// Watches a source tree with inotify (every folder, new ones as they appear) and reports the
/// changed paths in batches: a burst of saves (an editor writing a file and its backup, a
/// `git checkout`) becomes one batch once `quiet` has passed without a change, or after `longest`.
///
/// One thread owns the inotify descriptor and the folder table; `stop()` wakes it through a pipe.
final class SourceWatcher: Sendable {
    private let wakeWriteEnd: Int32

    static let mask =
        UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_MOVED_FROM) | UInt32(IN_CREATE)
        | UInt32(IN_DELETE) | UInt32(IN_ATTRIB)

    /// - Parameters:
    ///   - excludes: fnmatch(3) patterns (fuge.yml's `monitor_excludes`) matched against paths
    ///     relative to `root`; `*` also matches `/`, so `**/.build/**` excludes any `.build`.
    static func start(
        folder: String, root: String, excludes: [String], quiet: Duration = .milliseconds(200),
        longest: Duration = .seconds(2), onChange: @escaping @Sendable ([String]) -> Void
    ) throws(LauncherError) -> SourceWatcher {
        let inotify = inotify_init1(Int32(IN_CLOEXEC))
        guard inotify >= 0 else { throw LauncherError("inotify_init1: \(String(cString: strerror(errno)))") }
        let wake: (read: Int32, write: Int32)
        do {
            wake = try Spawn.pipe()
        } catch {
            close(inotify)
            throw LauncherError(error.description)
        }
        let filter = PathFilter(root: root, excludes: excludes)
        // Every folder is watched before `start` returns: a change right after it is not missed.
        var watching = WatchLoop(inotify: inotify, wake: wake.read, filter: filter)
        watching.add(folder)
        let thread = Thread { [watching] in
            var loop = watching
            loop.run(quiet: quiet, longest: longest, onChange: onChange)
            close(inotify)
            close(wake.read)
        }
        thread.name = "localenv-watch"
        thread.start()
        return SourceWatcher(wakeWriteEnd: wake.write)
    }

    private init(wakeWriteEnd: Int32) { self.wakeWriteEnd = wakeWriteEnd }

    deinit { close(wakeWriteEnd) }

    func stop() {
        var byte: UInt8 = 1
        _ = write(wakeWriteEnd, &byte, 1)
    }
}

/// Which paths count: not the excluded ones, not editors' temporary files.
struct PathFilter: Sendable {
    let root: String
    let excludes: [String]

    func counts(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        if name.hasPrefix(".") || name.hasSuffix("~") || name == "4913" { return false }
        let relative = path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
        return !excludes.contains { fnmatch($0, relative, 0) == 0 || fnmatch($0, relative + "/", 0) == 0 }
    }
}

/// The watch thread's state: the inotify descriptor, watch descriptor → folder, pending paths.
private struct WatchLoop: Sendable {
    let inotify: Int32
    let wake: Int32
    let filter: PathFilter
    var folders: [Int32: String] = [:]

    init(inotify: Int32, wake: Int32, filter: PathFilter) {
        self.inotify = inotify
        self.wake = wake
        self.filter = filter
    }

    /// Watches `folder` and every folder below it that counts.
    mutating func add(_ folder: String) {
        guard filter.counts(folder) else { return }
        let descriptor = inotify_add_watch(inotify, folder, SourceWatcher.mask)
        guard descriptor >= 0 else { return }
        folders[descriptor] = folder
        let children = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for child in children {
            var isFolder: ObjCBool = false
            let path = folder + "/" + child
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue { add(path) }
        }
    }

    mutating func run(quiet: Duration, longest: Duration, onChange: @Sendable ([String]) -> Void) {
        var pending: Set<String> = []
        var since: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            let timeout =
                pending.isEmpty ? -1 : Int32(quiet.components.attoseconds / 1_000_000_000_000_000 + quiet.components.seconds * 1000)
            let ready = poll(&fds, 2, timeout)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 || fds[1].revents != 0 { return }
            if fds[0].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
                if count > 0 { pending.formUnion(changes(in: buffer[..<count])) }
                if !pending.isEmpty, since == nil { since = .now }
                if let since, ContinuousClock.now - since < longest { continue }
            }
            guard !pending.isEmpty else { continue }
            onChange(pending.sorted())
            pending = []
            since = nil
        }
    }

    /// The paths named by a read's worth of `struct inotify_event`s (new folders are watched too).
    private mutating func changes(in bytes: ArraySlice<UInt8>) -> [String] {
        var paths: [String] = []
        var offset = bytes.startIndex
        let header = 16  // wd, mask, cookie, len: four 32-bit fields, then `len` bytes of name
        while offset + header <= bytes.endIndex {
            let word = { (at: Int) in bytes[offset + at..<offset + at + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
            let descriptor = Int32(bitPattern: word(0))
            let mask = word(4)
            let length = Int(word(12))
            let nameBytes = bytes[(offset + header)..<min(offset + header + length, bytes.endIndex)].prefix { $0 != 0 }
            offset += header + length
            if mask & UInt32(IN_IGNORED) != 0 { folders[descriptor] = nil; continue }
            guard let folder = folders[descriptor] else {
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { paths.append(contentsOf: folders.values) }
                continue
            }
            let path = nameBytes.isEmpty ? folder : folder + "/" + String(decoding: nameBytes, as: UTF8.self)
            guard filter.counts(path) else { continue }
            if mask & UInt32(IN_ISDIR) != 0, mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 { add(path) }
            paths.append(path)
        }
        return paths
    }
}
