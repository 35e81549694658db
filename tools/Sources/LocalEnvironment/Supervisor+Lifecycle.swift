import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    /// A process ended. The current one, while the launcher was not stopping it: report it and
    /// restart it with backoff, as Fuge's monitor would. False when the launcher gives up on it.
    ///
    /// Giving up: a component that exits `maxStartFailures` times in a row without ever becoming
    /// ready will not come up by retrying (a bad configuration, a missing library, a port taken
    /// meanwhile), and a half-started system only confuses; so the launcher says why, with the
    /// component's last output, stops everything and exits non-zero — except for monitoring,
    /// which the system does not need: that one is left stopped. A component that crashes
    /// after it was ready is restarted however often it happens — that is the developer's bug to
    /// see in the log, and the rest of the system stays up meanwhile.
    func handleExit(_ name: String, generation: Int, _ status: ExitStatus) -> Bool {
        guard let component = component(name), let instance = component.instance(generation) else { return true }
        instance.probe?.cancel()
        if component.successor === instance {
            component.successor = nil
            say("the new \(name) exited before it was ready (\(status)); pid \(component.current?.child.pid ?? 0) keeps serving")
            return true
        }
        if let index = component.retiring.firstIndex(where: { $0 === instance }) {
            component.retiring.remove(at: index)
            say("the previous \(name) (pid \(instance.child.pid)) ended: \(status)")
            return true
        }
        component.current = nil
        component.forward(to: nil)
        if component.held || component.startWhenStopped {
            say("\(name) (pid \(instance.child.pid)) stopped: \(status)")
            if component.startWhenStopped {
                component.startWhenStopped = false
                component.held = false
                return start(component)
            }
            return true
        }
        return handleCrash(component, instance: instance, status: status)
    }

    private func handleCrash(_ component: Supervised, instance: Instance, status: ExitStatus) -> Bool {
        let name = component.spec.name
        let ranFor = ContinuousClock.now - instance.startedAt
        if instance.ready {
            component.startFailures = 0
            say("\(name) crashed: \(status) after \(Announcement.seconds(ranFor))")
        } else {
            component.startFailures += 1
            say("\(name) exited before it was ready: \(status) (\(component.startFailures) of \(options.maxStartFailures) tries)")
        }
        if component.startFailures >= options.maxStartFailures {
            giveUp(on: component, status: status, lastLines: instance.child.lastLines)
            // Without monitoring the system still works: it keeps running, the rest of it watched by nobody.
            guard component.spec.role == .monitoring else { return false }
            component.held = true
            say("the rest keeps running without \(name); `localenv start \(name)` tries again")
            return true
        }
        component.quickExits = ranFor < .seconds(10) ? component.quickExits + 1 : 1
        let delay = restartDelay(quickExits: component.quickExits)
        say("restarting \(name) in \(Announcement.seconds(delay))")
        let continuation = continuation
        Task {
            try? await Task.sleep(for: delay)
            continuation.yield(.restart(name))
        }
        return true
    }

    /// 0.25 s, 0.5 s, 1 s, … at most 5 s: quick when a crash is a one-off, gentle when it repeats.
    func restartDelay(quickExits: Int) -> Duration {
        let factor = 1 << min(max(quickExits - 1, 0), 5)
        return min(.milliseconds(250) * factor, .seconds(5))
    }

    private func giveUp(on component: Supervised, status: ExitStatus, lastLines: [String]) {
        var message = [
            "giving up on \(component.spec.name): it exited \(component.startFailures) times in a row before becoming ready (last: \(status)).",
            "  command: " + ([component.spec.executable] + component.spec.arguments).joined(separator: " "),
        ]
        message.append(lastLines.isEmpty ? "  it printed nothing." : "  its last output:")
        message += lastLines.suffix(10).map { "    " + $0 }
        say(message.joined(separator: "\n"))
    }

    func handleReady(_ name: String, generation: Int) {
        guard let component = component(name), let instance = component.instance(generation) else { return }
        if component.successor === instance {
            takeOver(component, by: instance)
            return
        }
        guard component.current === instance else { return }
        instance.ready = true
        component.startFailures = 0
        if announced, generation > 1 {
            say("\(name) is ready again")
            return
        }
        say("\(name) ready (\(Announcement.seconds(elapsed)))")
        // The services' readiness gates the announcement; monitoring starts after it.
        if !announced, components.filter({ $0.spec.role != .monitoring }).allSatisfy({ $0.ready || $0.held }) {
            announced = true
            let lines = Announcement.lines(
                plan: plan, elapsed: elapsed, currentDirectory: FileManager.default.currentDirectoryPath
            )
            say(lines.joined(separator: "\n"))
            startMonitoring()
        }
    }

    /// A rolling restart's new process is ready: new connections go to it, and the old one gets
    /// SIGTERM (it answers what it has, with `Connection: close`, then exits).
    private func takeOver(_ component: Supervised, by instance: Instance) {
        instance.ready = true
        component.successor = nil
        component.startFailures = 0
        component.forward(to: instance)
        let previous = component.current
        component.current = instance
        let took = Announcement.seconds(ContinuousClock.now - instance.startedAt)
        guard let previous else {
            say("\(component.name) (pid \(instance.child.pid)) is ready, \(took) after its start")
            return
        }
        say("\(component.name): pid \(instance.child.pid) ready \(took) after its start, serves now; pid \(previous.child.pid) drains")
        previous.probe?.cancel()
        component.retiring.append(previous)
        terminate(previous.child)
    }

    /// SIGTERM now, SIGKILL if it is still there after the services' drain limit and the grace.
    func terminate(_ child: SupervisedChild) {
        child.signal(SIGTERM)
        let limit = Self.drainLimit + options.stopGrace
        Task {
            try? await Task.sleep(for: limit)
            if child.isRunning { child.signal(SIGKILL) }
        }
    }

    /// How long a service may take to finish its requests after SIGTERM (ServiceRuntime's limit).
    static let drainLimit: Duration = .seconds(10)

    func reportNotReady() {
        guard !announced else { return }
        startMonitoring()
        let waiting = components.filter { !$0.ready && !$0.held }
        guard !waiting.isEmpty else { return }
        var lines = ["still not ready after \(Announcement.seconds(options.readyTimeout)) (the system keeps running):"]
        lines += waiting.map { "  \($0.spec.name): \($0.current?.lastProbe ?? "not running")" }
        say(lines.joined(separator: "\n"))
    }

    /// Monitoring first (it would only see the rest go), then the services (they drain while
    /// their databases and DNS are still there), then the databases, then DNS: SIGTERM to each
    /// process group, SIGKILL after the grace period.
    func stopAll() async {
        stopping = true
        for component in components {
            for instance in [component.current, component.successor].compactMap({ $0 }) + component.retiring {
                instance.probe?.cancel()
            }
        }
        for role in [ComponentSpec.Role.monitoring, .service, .database, .dns] {
            let running = components.filter { $0.spec.role == role }.flatMap(\.processes).filter(\.isRunning)
            guard !running.isEmpty else { continue }
            for child in running { child.signal(SIGTERM) }
            await waitForExit(running, upTo: options.stopGrace)
            let stubborn = running.filter(\.isRunning)
            for child in stubborn {
                say("pid \(child.pid) did not stop within \(Announcement.seconds(options.stopGrace)): SIGKILL")
                child.signal(SIGKILL)
            }
            await waitForExit(stubborn, upTo: .seconds(2))
        }
        for component in components {
            for forwarder in component.forwarders { await forwarder.close() }
        }
        let held = PortCheck.taken(plan.portUses)
        if held.isEmpty {
            say("stopped everything; every port is free")
        } else {
            say("stopped everything, but these ports are still in use: \(held.map(\.description).joined(separator: ", "))")
        }
    }

    private func waitForExit(_ children: [SupervisedChild], upTo limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while children.contains(where: \.isRunning), ContinuousClock.now < deadline, !hurry.withLock({ $0 }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
