import Testing

@testable import ServiceRuntime

@Suite struct EventLoopSizingTests {
    @Test(arguments: [("3", 2), ("1", 1), ("ff,00000003", 10), ("80000000,00000000", 1), ("\t0f\n", 4)])
    func affinityMasksCountTheirCPUs(mask: String, cpus: Int) {
        #expect(EventLoopSizing.cpuCount(mask: Substring(mask)) == cpus)
    }

    @Test func emptyOrGarbledMasksCountNothing() {
        #expect(EventLoopSizing.cpuCount(mask: "0") == nil)
        #expect(EventLoopSizing.cpuCount(mask: "xyz") == nil)
    }

    @Test func thisProcessHasAtLeastOneCPU() throws {
        #expect(try #require(EventLoopSizing.affinityCPUCount()) >= 1)
    }
}
