import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One event loop per CPU this process may actually run on. NIO sizes its loops by the machine's
/// cores and the cgroup's CPU quota and cpuset, but not by the process's affinity mask (taskset,
/// a CPU manager's pinning): two loops time-sharing one CPU hand each other ~4 ms scheduler
/// slices, which measured as a 5 ms p99 at 64 connections against 2 ms with one loop
/// (bench/RESULTS.md, adderservice).
enum EventLoopSizing {
    /// Once per process, before NIO's singleton loops start (ServiceMain); an explicit
    /// `NIO_SINGLETON_GROUP_LOOP_COUNT` is left to NIO.
    static func apply() {
        #if os(Linux)
        guard getenv("NIO_SINGLETON_GROUP_LOOP_COUNT") == nil, let usable = affinityCPUCount(), usable < System.coreCount else {
            return
        }
        NIOSingletons.groupLoopCountSuggestion = usable
        #endif
    }

    #if os(Linux)
    /// The CPUs in this process's affinity mask, from `Cpus_allowed` in /proc/self/status
    /// (sched_getaffinity is a GNU extension the Glibc module does not export); nil when unreadable.
    static func affinityCPUCount() -> Int? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard text.hasPrefix("Cpus_allowed:") else { continue }
            return cpuCount(mask: text.dropFirst("Cpus_allowed:".count))
        }
        return nil
    }

    /// `"ff,00000003"` (hex words, commas between them) → the number of bits set.
    static func cpuCount(mask: Substring) -> Int? {
        var count = 0
        for character in mask where !character.isWhitespace && character != "," {
            guard let digit = character.hexDigitValue else { return nil }
            count += digit.nonzeroBitCount
        }
        return count > 0 ? count : nil
    }
    #endif
}
