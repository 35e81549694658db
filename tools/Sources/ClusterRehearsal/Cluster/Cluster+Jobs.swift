import Foundation

/// How a Job ended: its last pod, that pod's exit and output.
public struct JobResult: Sendable, Codable {
    public var succeeded: Bool
    public var pod: String
    public var exitStatus: String
    public var failedPods: Int
    public var log: String
}

extension Cluster {
    /// Runs the Job's pod to completion; a failed pod is replaced (after a back-off of 1 s doubling,
    /// shortened from Kubernetes' 10 s) until backoffLimit pods have failed.
    public func runJob(_ name: String, timeout: Duration = .seconds(120)) async throws -> JobResult {
        guard let workload = workloads[name], workload.kind == .job else { throw RehearsalError("no job \(name)") }
        let deadline = ContinuousClock.now + timeout
        var failures = 0
        while true {
            guard let pod = createPod(workload) else { throw RehearsalError("cannot create a pod for job \(name)") }
            while let current = pods[pod], !current.isFinished, ContinuousClock.now < deadline {
                // A pod whose image cannot be pulled would wait out the deadline: report it now.
                if Self.isStuck(current), let waiting = current.waiting, waiting.reason != "CrashLoopBackOff" {
                    try? await deletePod(pod)
                    throw RehearsalError("job \(name): pod \(pod): \(waiting.reason): \(waiting.message)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let finished = pods[pod]
            let log = (try? logs(pod: pod)) ?? ""
            if finished?.phase == .succeeded {
                return JobResult(succeeded: true, pod: pod, exitStatus: finished?.lastExit ?? "", failedPods: failures, log: log)
            }
            if ContinuousClock.now >= deadline {
                try? await deletePod(pod)
                throw RehearsalError("job \(name) did not finish within \(timeout)")
            }
            failures += 1
            if failures > workload.backoffLimit {
                return JobResult(
                    succeeded: false, pod: pod, exitStatus: finished?.lastExit ?? "not started", failedPods: failures, log: log)
            }
            try await Task.sleep(for: .seconds(min(10, 1 << min(failures - 1, 4))))
        }
    }
}
