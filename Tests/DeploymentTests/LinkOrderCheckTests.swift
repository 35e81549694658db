import Foundation
import TestSupport
import Testing

/// scripts/check-link-order, which scripts/test-images runs on the release binaries: it passes on
/// an order file that names the binaries' functions, and fails, printing the command that
/// refreshes it, once more than its tolerance (2 %) of them are gone. Here on order files made
/// from the debug adderservice these tests run next to.
@Suite("Link-order check")
struct LinkOrderCheckTests {
    @Test func passesOnAFreshListAndFailsOnAStaleOneWithTheRefreshCommand() async throws {
        let binary = try TestPaths.builtExecutable("adderservice")
        let functions = Array(try await Self.definedSwiftSymbols(binary).prefix(1000))
        try #require(functions.count == 1000)
        // callgrind's recursion marks ('2) name the same function: a tenth of the list here.
        let fresh = functions + functions.prefix(100).map { $0 + "'2" }
        let fewGone = Array(functions.dropFirst(10)) + Self.madeUp(10)
        let stale = Array(functions.dropFirst(50)) + Self.madeUp(50)

        let passed = try await Self.check(fresh, binary)
        #expect(passed.status == 0 && passed.standardOutput.contains("is current"), "\(passed)")
        let tolerated = try await Self.check(fewGone, binary)
        #expect(tolerated.status == 0, "1 % gone is within the tolerance: \(tolerated)")
        let failed = try await Self.check(stale, binary)
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.standardError.contains("is stale: 50 of the 1000 functions"), "\(failed.standardError)")
        #expect(failed.standardError.contains("scripts/link-order"), "the refresh command: \(failed.standardError)")
    }

    static func check(_ lines: [String], _ binary: String) async throws -> CommandResult {
        let order = TestPaths.temporaryDirectory(prefix: "linkorder") + "/services.order"
        try (lines.joined(separator: "\n") + "\n").write(toFile: order, atomically: true, encoding: .utf8)
        return try await CommandResult.execute(
            "/bin/bash", [TestPaths.packageRoot + "/scripts/check-link-order", "--order", order, binary], timeout: .seconds(60)
        )
    }

    /// The Swift functions the binary defines, as `nm` names them.
    static func definedSwiftSymbols(_ binary: String) async throws -> [String] {
        let result = try await CommandResult.execute(try TestPaths.tool("nm"), ["--defined-only", binary])
        try #require(result.status == 0, "\(result.standardError)")
        let names = result.standardOutput.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        return Array(Set(names.filter { $0.hasPrefix("$s") })).sorted()
    }

    static func madeUp(_ count: Int) -> [String] {
        (0..<count).map { "$s5Stale9Function\($0)yyF" }
    }
}
