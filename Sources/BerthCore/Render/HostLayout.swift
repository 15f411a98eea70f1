/// Where Berth's files live on a Docker host (SPEC §3). Paths are absolute as seen by the
/// host; every reader and writer joins them onto a root directory so tests can use a scratch tree.
public enum HostLayout {
    public static let dropInDir = "/etc/systemd/system/docker.service.d"
    public static let dropInName = "50-berth.conf"
    public static let dropIn = "\(dropInDir)/\(dropInName)"
    public static let tlsDir = "/etc/docker/berth"
    public static let serverKey = "\(tlsDir)/server-key.pem"
    public static let serverCert = "\(tlsDir)/server.pem"
    public static let clients = "\(tlsDir)/clients.pem"
    public static let ca = "\(tlsDir)/ca.pem"
    public static let stateDir = "/var/lib/berth"
    public static let lock = "/run/berth/agent.lock"
    public static let daemonJSON = "/etc/docker/daemon.json"
    public static let agentConfig = "/etc/berth/agent.yaml"
    public static let dockerSocket = "/var/run/docker.sock"

    /// Where the packaged or admin-overridden `docker.service` may be, most specific first.
    public static let unitSearchPath = [
        "/etc/systemd/system/docker.service",
        "/lib/systemd/system/docker.service",
        "/usr/lib/systemd/system/docker.service",
    ]

    /// Joins an absolute host path onto `root` (`/` leaves it unchanged).
    public static func path(_ hostPath: String, under root: String) -> String {
        if root.isEmpty || root == "/" { return hostPath }
        return (root.hasSuffix("/") ? String(root.dropLast()) : root) + hostPath
    }
}
