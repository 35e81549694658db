import Discovery
import Foundation

/// What the launcher prints once everything is ready: where to point a browser and curl, and the
/// exact command that runs the report against this environment.
enum Announcement {
    static func lines(plan: LaunchPlan, elapsed: Duration, currentDirectory: String) -> [String] {
        var lines = ["micro is up: every component ready \(seconds(elapsed)) after the command"]
        for (name, ports) in plan.entries where isStartedService(name, plan) {
            guard let port = ports.first?.number else { continue }
            let admin = ports.first { $0.name == MicroService.metricsPortName }?.number ?? port
            switch name {
            case "webapp":
                lines.append("  open   http://localhost:\(port)/add      (the calculator)")
                lines.append("  open   http://localhost:\(port)/audit    (the calculation history)")
            case "adderservice":
                lines.append("  curl   curl localhost:\(port)/add/2/3")
            default:
                lines.append("  url    http://localhost:\(admin)/metrics  (\(name); also /healthz, /readyz)")
            }
        }
        lines.append("  report \(reportCommand(plan: plan, currentDirectory: currentDirectory))")
        for spec in plan.components where spec.role == .monitoring {
            // Debian's Prometheus serves its classic pages; the upstream image's are /alerts and /targets.
            lines.append("  alerts http://localhost:\(spec.mainPort)/classic/alerts  (\(spec.name); /classic/targets: what it scrapes)")
        }
        if let service = plan.records?.services.first {
            lines.append("  dns    dig @\(plan.dnsHost) -p \(plan.dnsPort) SRV \(service.name)")
        }
        lines.append("Ctrl-C stops everything.")
        return lines
    }

    /// `REDIS_USERNAME=report REDIS_PASSWORD="$(cat .build/localenv/credentials/redis-report)"
    /// DNS_HOST=127.0.0.1 DNS_PORT=53053 .build/release/report`, paths relative when they can be.
    static func reportCommand(plan: LaunchPlan, currentDirectory: String) -> String {
        func relative(_ path: String) -> String {
            path.hasPrefix(currentDirectory + "/") ? String(path.dropFirst(currentDirectory.count + 1)) : path
        }
        let folder = plan.binDirectory ?? plan.projectRoot + "/.build/release"
        let credentials =
            plan.components.contains { $0.arguments.contains(LocalCredentials.aclFile(plan)) }
            ? "REDIS_USERNAME=report REDIS_PASSWORD=\"$(cat \(relative(LocalCredentials.passwordFile(plan, user: "report"))))\" " : ""
        return credentials + "DNS_HOST=\(plan.dnsHost) DNS_PORT=\(plan.dnsPort) \(relative(folder + "/report"))"
    }

    static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        return String(format: "%.2f s", Double(whole) + Double(attoseconds) / 1e18)
    }

    private static func isStartedService(_ name: String, _ plan: LaunchPlan) -> Bool {
        plan.components.contains { $0.name == name && $0.role == .service }
    }
}
