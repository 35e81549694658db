import Foundation
import ProcessSupervision

/// The local environment's credentials, made at each start in `<state>/credentials` by
/// deployment/credentials.sh — the renderer every environment uses — so the local Redis runs with
/// the ACL file the project ships, as the cluster's does, and each service connects as its own
/// user (docs/design.md, "Credentials"). Passwords already there are kept. MongoDB runs without:
/// nx-27017 has no authentication.
enum LocalCredentials {
    static func directory(_ plan: LaunchPlan) -> String { plan.stateDirectory + "/credentials" }

    /// The rendered ACL file the local redis-server loads.
    static func aclFile(_ plan: LaunchPlan) -> String { directory(plan) + "/users.acl" }

    /// The password file of a Redis user: the report's is read by the command the launcher prints.
    static func passwordFile(_ plan: LaunchPlan, user: String) -> String { directory(plan) + "/redis-\(user)" }

    /// Makes the credentials, then gives every service that has a Redis user (its entry's name:
    /// webapp, eventservice) `REDIS_USERNAME` and `REDIS_PASSWORD`.
    static func prepare(_ plan: inout LaunchPlan, environment: [String: String]) async throws(LauncherError) {
        guard plan.components.contains(where: { $0.arguments.contains(aclFile(plan)) }) else { return }
        let script = plan.projectRoot + "/deployment/credentials.sh"
        guard FileManager.default.fileExists(atPath: script) else {
            throw LauncherError("\(script) is missing: the local Redis runs with the project's users, made by that script")
        }
        let run = await CommandRun.run(
            ["/bin/bash", script, directory(plan)], workingDirectory: plan.projectRoot, environment: environment)
        guard run.status == .exited(0) else {
            throw LauncherError("\(script) failed (\(run.status)): \(run.output.joined(separator: " "))")
        }
        let state = plan
        for index in plan.components.indices where plan.components[index].role == .service {
            let user = plan.components[index].name
            guard let password = try? String(contentsOfFile: passwordFile(state, user: user), encoding: .utf8) else { continue }
            plan.components[index].environment["REDIS_USERNAME"] = user
            plan.components[index].environment["REDIS_PASSWORD"] = password
        }
    }
}
