import ControlSocket
import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// What `localenv ps|start|stop|restart|logs` ask the running launcher (one line over the
/// control socket), and its answer.
extension Supervisor {
    func control(_ request: ControlRequest) -> ControlReply {
        let command = request.command
        if command == "ps", request.arguments.isEmpty { return .success(statusTable()) }
        guard let name = request.arguments.first, request.arguments.count == 1, let component = component(name) else {
            let names = components.map(\.name).joined(separator: ", ")
            return .failure(
                request.arguments.count == 1
                    ? "no entry \(request.arguments[0]) is running here (entries: \(names))" : "usage: \(command) <entry>")
        }
        switch command {
        case "stop": return stop(component)
        case "start": return start(requested: component)
        case "restart": return restart(component)
        case "log": return .success(logs[component.name]?.path ?? "")
        default: return .failure("unknown request \(command)")
        }
    }

    private func stop(_ component: Supervised) -> ControlReply {
        guard !component.held, let current = component.current else {
            return .failure("\(component.name) is not running")
        }
        component.held = true
        component.startWhenStopped = false
        if let successor = component.successor { successor.probe?.cancel(); terminate(successor.child) }
        current.probe?.cancel()
        terminate(current.child)
        say("stopping \(component.name) (pid \(current.child.pid)), as asked")
        return .success("stopping \(component.name) (pid \(current.child.pid))")
    }

    private func start(requested component: Supervised) -> ControlReply {
        if component.held, let stopping = component.current {
            component.startWhenStopped = true
            return .success("\(component.name) starts again once pid \(stopping.child.pid) has stopped")
        }
        guard component.current == nil else {
            return .failure("\(component.name) is already running (pid \(component.current?.child.pid ?? 0))")
        }
        component.held = false
        component.startFailures = 0
        guard start(component) else { return .failure("\(component.name) could not be started (see the launcher's output)") }
        return .success("started \(component.name) (pid \(component.current?.child.pid ?? 0))")
    }

    /// A rolling restart where the launcher holds the port and the process is ready; otherwise
    /// stop, then start.
    func restart(_ component: Supervised) -> ControlReply {
        guard let current = component.current, !component.held else { return start(requested: component) }
        if !component.forwarders.isEmpty, current.ready {
            guard component.successor == nil else { return .success("a new \(component.name) is already starting") }
            guard start(component, successor: true) else { return .failure("\(component.name) could not be started") }
            return .success("starting a new \(component.name) (pid \(component.successor?.child.pid ?? 0)); it takes over when ready")
        }
        component.startWhenStopped = true
        current.probe?.cancel()
        terminate(current.child)
        return .success("restarting \(component.name): stopping pid \(current.child.pid), then starting it again")
    }

    /// `localenv ps`: one row per component.
    func statusTable() -> String {
        var rows = [["ENTRY", "STATE", "PID", "PORT", "UPTIME", "RESTARTS", "RSS", "LAST READINESS"]]
        for component in components {
            let instance = component.current
            rows.append([
                component.name, state(of: component),
                instance.map { "\($0.child.pid)" } ?? "-",
                port(of: component),
                instance.map { Self.short(ContinuousClock.now - $0.startedAt) } ?? "-",
                "\(component.restarts)",
                instance.flatMap { Self.residentSize(pid: $0.child.pid) } ?? "-",
                instance.map(readiness) ?? "-",
            ])
        }
        var lines = Self.aligned(rows)
        if let watchStatus { lines.append("watch: " + watchStatus) }
        return lines.joined(separator: "\n")
    }

    private func state(of component: Supervised) -> String {
        if component.held { return component.processes.contains(where: \.isRunning) ? "stopping" : "stopped" }
        guard let current = component.current else { return component.generation == 0 ? "waiting" : "restarting" }
        if component.successor != nil { return "replacing" }
        return current.ready ? "ready" : "starting"
    }

    /// The service's ports, and where the launcher forwards them in watch mode
    /// (`3000→41235,4000→41236`).
    private func port(of component: Supervised) -> String {
        let ports = component.spec.ports.map { "\($0.port)" }
        guard !component.forwarders.isEmpty, let current = component.current else { return ports.joined(separator: ",") }
        return zip(ports, current.ports).map { "\($0)→\($1)" }.joined(separator: ",")
    }

    private func readiness(_ instance: Instance) -> String {
        let detail = instance.lastProbe.split(separator: "\n").first.map(String.init) ?? ""
        let clipped = detail.count > 40 ? detail.prefix(39) + "…" : Substring(detail)
        guard let at = instance.lastProbeAt else { return String(clipped) }
        return "\(clipped) (\(Self.short(ContinuousClock.now - at)) ago)"
    }

    /// VmRSS of `/proc/<pid>/status`, in MB.
    static func residentSize(pid: Int32) -> String? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return nil }
        return String(format: "%.1f MB", kilobytes / 1024)
    }

    /// `4.2s`, `3m05s`, `2h07m`.
    static func short(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds)
        if whole < 3600 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
        return String(format: "%dh%02dm", whole / 3600, whole % 3600 / 60)
    }

    static func aligned(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).enumerated().map { index, cell in
                index == row.count - 1 ? cell.0 : cell.0.padding(toLength: cell.1, withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
