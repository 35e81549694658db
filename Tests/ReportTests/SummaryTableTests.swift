import Testing

@testable import Report

@Suite("The report's table")
struct SummaryTableTests {
    @Test func sortsByCountDescendingThenURLAndAlignsColumns() {
        let table = SummaryTable.render([
            "http://localhost:3000/add": 12, "http://localhost:3000/": 120, "http://localhost:3000/audit": 12,
            "http://x/": 1,
        ])
        #expect(
            table == """
                url                          count
                ----------------------------------
                http://localhost:3000/         120
                http://localhost:3000/add       12
                http://localhost:3000/audit     12
                http://x/                        1
                """
        )
    }

    @Test func emptySummarySaysSo() {
        #expect(SummaryTable.render([:]) == "url  count\n----------\n(no events recorded)")
    }

    @Test func requestMessageIsTheSeedsFormatWithAnEscapedPath() throws {
        let request = SummaryRequest(returnPath: #"report:"quoted""#, timeout: .seconds(1))
        #expect(request.message(deadline: 17) == #"{"action":"summary","returnPath":"report:\"quoted\"","deadline":17}"#)
        #expect(SummaryRequest(timeout: .seconds(1)).returnPath != SummaryRequest(timeout: .seconds(1)).returnPath)
    }

    @Test func answersThatAreNotCountsAreRejected() throws {
        #expect(throws: ReportFailure.badAnswer("[1]")) { try SummaryRequest.counts(from: "[1]") }
        #expect(try SummaryRequest.counts(from: #"{"http://a/":3}"#) == ["http://a/": 3])
    }

    @Test func failureMessagesAreOneLine() {
        let failure = ReportFailure.redisUnreachable("first line\nsecond line")
        #expect(failure.description == "cannot reach Redis: first line second line")
        #expect(ReportFailure.noAnswer(timeout: .milliseconds(1500)).description.contains("1.500 s"))
        #expect(ReportFailure.noAnswer(timeout: .microseconds(100)).description.contains("0.000100 s"))
    }
}
