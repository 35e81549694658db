import Foundation

/// The Redis users the project ships (deployment/components/credentials/redis-users.acl), with
/// fresh passwords: deployment/credentials.sh, the one renderer every environment uses, run into a
/// temporary folder. Give it to `RedisServer.start(users:)` to run Redis with that ACL file.
public struct RedisUsers: Sendable {
    /// Where the passwords (`redis-<user>`) and the rendered `users.acl` are.
    public let directory: String

    public var aclFile: String { directory + "/users.acl" }

    public static func make() async throws -> RedisUsers {
        let directory = TestPaths.temporaryDirectory(prefix: "credentials")
        let script = TestPaths.packageRoot + "/deployment/credentials.sh"
        let result = try await CommandResult.execute("/bin/bash", [script, directory], timeout: .seconds(30))
        guard result.status == 0 else { throw RedisUsersError("credentials.sh failed (\(result.status)): \(result.standardError)") }
        return RedisUsers(directory: directory)
    }

    /// The password of `user` (webapp, eventservice, report).
    public func password(_ user: String) throws -> String {
        try String(contentsOfFile: directory + "/redis-" + user, encoding: .utf8)
    }

    /// `REDIS_USERNAME` and `REDIS_PASSWORD` for a process that connects as `user`.
    public func environment(_ user: String) throws -> [String: String] {
        ["REDIS_USERNAME": user, "REDIS_PASSWORD": try password(user)]
    }
}

struct RedisUsersError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
