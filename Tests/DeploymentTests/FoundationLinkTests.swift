import Discovery
import TestSupport
import Testing

/// Every Swift product is built on FoundationEssentials alone: full Foundation brings ICU and its
/// data (tens of MB) into the image and its start-up. Checked on the debug binaries these tests
/// run next to, through the shared libraries each one needs (a debug build links Foundation
/// dynamically; scripts/test-images checks the release binaries' symbols).
@Suite("No product links full Foundation")
struct FoundationLinkTests {
    /// Full Foundation and what only it pulls in; libFoundationEssentials.so is fine.
    static let fullFoundation: Set = ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so"]

    @Test("links no full Foundation", arguments: ShippingConsistencyTests.builtServices)
    func linksNoFullFoundation(service: MicroService) async throws {
        let needed = try await Self.neededLibraries(of: TestPaths.builtExecutable(service.name))
        #expect(needed.contains { $0.hasPrefix("libswiftCore.so") }, "not a dynamically linked Swift binary: \(needed)")
        let full = needed.filter { Self.fullFoundation.contains($0) }
        #expect(full.isEmpty, "\(service.name) needs \(full.sorted()): something imports Foundation, not FoundationEssentials")
    }

    /// The `NEEDED` entries of an ELF file's dynamic section, as `readelf -d` prints them.
    static func neededLibraries(of path: String) async throws -> [String] {
        let result = try await CommandResult.execute(try TestPaths.tool("readelf"), ["--dynamic", "--wide", path])
        guard result.status == 0 else { throw TestSupportError("readelf -d \(path) failed: \(result.standardError)") }
        // `0x0000000000000001 (NEEDED)  Shared library: [libFoundationEssentials.so]`
        return result.standardOutput.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line in
            guard let open = line.lastIndex(of: "["), let close = line.lastIndex(of: "]"), open < close else { return nil }
            return String(line[line.index(after: open)..<close])
        }
    }
}
