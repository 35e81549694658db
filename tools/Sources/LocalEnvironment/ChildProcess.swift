import Foundation
import ProcessSupervision

/// Starts one component as a `SupervisedChild`.
///
/// Process groups: each child leads its own group, so a Ctrl-C in the terminal reaches only the
/// launcher, which then stops the children in order; signalling the group also reaches anything
/// a child started.
///
/// Orphans: a child gets SIGTERM when the launcher dies, even by SIGKILL, through the kernel's
/// parent-death signal (see `ParentDeathSignal`).
enum ChildProcess {
    /// Starts `spec`; its output goes to `log` line by line. `onExit` runs once, on another
    /// thread, after the process ended and its output was read to the end.
    static func start(
        _ spec: ComponentSpec, environment: [String: String], log: ComponentLog,
        onExit: @escaping @Sendable (ExitStatus) -> Void
    ) throws(LauncherError) -> SupervisedChild {
        let arguments = ParentDeathSignal.wrap([spec.executable] + spec.arguments, signal: SIGTERM)
        let environment = environment.filter { !spec.removedEnvironment.contains($0.key) }.merging(spec.environment) { $1 }
        do {
            return try SupervisedChild.start(
                arguments, environment: environment, workingDirectory: spec.workingDirectory, name: spec.name,
                output: .lines { log.write($0) }, onExit: onExit
            )
        } catch {
            throw LauncherError(error.description)
        }
    }
}
