/// An image reference as a kubelet reads it: `[registry/]path[:tag][@sha256:digest]`.
struct ImageReference: Sendable, Equatable {
    /// The last path component without tag or digest: `localhost:5000/webapp@sha256:…` → `webapp`.
    let name: String
    let tag: String?
    let digest: String?

    init(_ text: String) {
        let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
        digest = parts.count == 2 ? parts[1] : nil
        let last = (parts.first ?? text).split(separator: "/").last.map(String.init) ?? text
        let nameAndTag = last.split(separator: ":", maxSplits: 1).map(String.init)
        name = nameAndTag.first ?? last
        tag = nameAndTag.count == 2 ? nameAndTag[1] : nil
    }

    /// Kubernetes' default: Always for `:latest` or no tag (unless pinned by digest), else IfNotPresent.
    var defaultPullPolicy: Container.PullPolicy {
        digest == nil && (tag == nil || tag == "latest") ? .always : .ifNotPresent
    }
}
