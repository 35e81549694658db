/// What `rehearse up` prints once everything is ready: where the node is and what to try.
public enum Announcement {
    public static func text(cluster: Cluster, socket: String) async -> String {
        let node = await cluster.nodeAddress
        let option = socket == "/run/mr-rehearsal.sock" ? "" : " --socket \(socket)"
        guard let url = await cluster.nodeURL(service: "webapp") else {
            return """
                rehearse: the cluster is up and empty. Node address \(node). Deploy into it:
                  docker/registry.sh up && docker/build.sh --push
                  \(socket == "/run/mr-rehearsal.sock" ? "" : "REHEARSE_SOCKET=\(socket) ")deployment/deploy.sh --rehearsal local    # or: rehearse apply -f FILE\(option)
                Ctrl-C removes everything.
                """
        }
        return """
            rehearse: the cluster is ready. Node address \(node); webapp at \(url)
              curl \(url)/add                                   # the calculator (POST /add/calculate)
              rehearse get pods\(option)
              rehearse scale deployment/adderservice 3\(option)
              rehearse delete pod <name>\(option)                     # or: kill pod <name> (SIGKILL)
              rehearse rollout restart deployment/webapp\(option)
              rehearse run job/report\(option)                        # the page counts
              rehearse logs <pod>\(option)
            Ctrl-C removes everything.
            """
    }
}

extension Cluster {
    /// `rehearse down`: what a crashed run left behind.
    public static func removeLeftovers(plan: NetworkPlan = NetworkPlan()) async -> [String] {
        await NodeNetwork.removeLeftovers(plan)
    }
}
