import Foundation
import LocalEnvironment
import ProcessSupervision
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Each line of every child's output, with its name as an aligned prefix.
@Suite struct OutputSinkTests {
    /// Writes through a sink into a pipe and returns what came out.
    func written(color: Bool, _ body: (OutputSink) -> Void) -> String {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        body(OutputSink(names: ["localenv", "dns", "adderservice"], color: color, descriptor: fds[1]))
        close(fds[1])
        let data = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func everyLineGetsTheNamePaddedToTheLongestName() {
        let text = written(color: false) { sink in
            sink.write("dns", "started\nready")
            sink.write("adderservice", "listening on 0.0.0.0:8080")
        }
        #expect(
            text == """
                dns          | started
                dns          | ready
                adderservice | listening on 0.0.0.0:8080

                """)
    }

    @Test func namesAreColouredWhenAsked() {
        let text = written(color: true) { $0.write("dns", "started") }
        #expect(text.hasPrefix("\u{1B}[") && text.contains("dns          |\u{1B}[0m started"), "\(text.debugDescription)")
    }
}
