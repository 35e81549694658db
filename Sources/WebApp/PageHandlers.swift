import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime

/// The handlers with work to do: the calculation and the audit history.
struct PageHandlers: Sendable {
    let pages: PageRenderer
    let dependencies: WebAppDependencies

    func calculate(_ request: Request) async throws -> Response {
        // The runtime has refused too large a body (413 page); a body that is not a form is the visitor's mistake.
        guard let form = AddForm(urlEncoded: String(buffer: request.body)) else {
            return pages.add(AddPage(error: "The form could not be read. Please enter two numbers."), status: .badRequest)
        }
        var page = AddPage(first: form.first ?? "", second: form.second ?? "")
        let first = Operand.parse(page.first)
        let second = Operand.parse(page.second)
        guard case .success(let a) = first, case .success(let b) = second else {
            page.error = Self.operandMessage(first, second)
            return pages.add(page, status: .badRequest)
        }
        do {
            switch try await dependencies.adder.add(a, b) {
            case .sum(let sum):
                // Every result shown is durable in the history first: one it cannot take is not shown as done.
                switch await dependencies.auditRecorder.record(calc: "\(a)+\(b)", result: sum, traceparent: request.traceparent) {
                case .recorded:
                    break
                case .historyFull:
                    page.error = "The calculation history is not taking new entries right now. Please try again in a moment."
                    return pages.add(page, status: .serviceUnavailable)
                case .unavailable:
                    page.error =
                        "The calculation could not be recorded in the history right now, so it was not done. "
                        + "Please try again in a moment."
                    return pages.add(page, status: .serviceUnavailable)
                }
                page.result = .init(first: String(a), second: String(b), sum: String(sum))
                return pages.add(page)
            case .rejected(let reason):
                page.error = "These numbers cannot be added: \(reason)."
                return pages.add(page, status: .badRequest)
            }
        } catch {
            request.logger.warning("adderservice unavailable", metadata: ["error": "\(error)"])
            page.error = "The calculator is unavailable right now. Please try again in a moment."
            return pages.add(page, status: .serviceUnavailable)
        }
    }

    func audit(_ request: Request) async -> Response {
        do {
            let entries = try await dependencies.audit.list(limit: WebAppRoutes.auditLimit)
            return pages.audit(AuditPage(entries: entries.map(AuditRow.init)))
        } catch {
            request.logger.warning("auditservice unavailable", metadata: ["error": "\(error)"])
            return pages.audit(AuditPage(unavailable: true), status: .serviceUnavailable)
        }
    }

    private static func operandMessage(
        _ first: Result<Int64, Operand.ProblemError>, _ second: Result<Int64, Operand.ProblemError>
    ) -> String {
        var messages: [String] = []
        if case .failure(let problem) = first { messages.append(problem.message(field: "first")) }
        if case .failure(let problem) = second { messages.append(problem.message(field: "second")) }
        return messages.joined(separator: " ")
    }
}
