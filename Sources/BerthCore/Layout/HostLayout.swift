import Crypto

/// Where Berth's files live on a Docker host. Paths are absolute as the host sees them; every
/// reader and writer joins them onto a root directory (``path(_:under:)``), so tests use a
/// scratch tree. `docs/design.md` explains the layout.
///
/// The files dockerd reads are content-addressed: `server-ID.pem` with its key
/// `server-ID-key.pem` (ID from the certificate), and `clients-ID.pem` (ID from the bundle).
/// Such a file is written once and never changed, and the drop-in names the ones in force, so
/// replacing the drop-in (one `rename`) switches dockerd's whole configuration at once: a crash
/// at any instant leaves the old complete set or the new one, and a key always sits next to
/// its own certificate.
public enum HostLayout {
    public static let dropInDir = "/etc/systemd/system/docker.service.d"
    public static let dropInName = "50-berth.conf"
    public static let dropIn = "\(dropInDir)/\(dropInName)"

    public static let tlsDir = "/etc/docker/berth"
    /// The fleet CA, for the agent's own probes only (dockerd does not read it).
    public static let ca = "\(tlsDir)/ca.pem"

    public static func serverCertificate(id: String) -> String { "\(tlsDir)/server-\(id).pem" }
    public static func serverKey(id: String) -> String { "\(tlsDir)/server-\(id)-key.pem" }
    public static func clientBundle(id: String) -> String { "\(tlsDir)/clients-\(id).pem" }

    /// Whether a file name in ``tlsDir`` is one of the content-addressed files
    /// (`server-ID.pem`, `server-ID-key.pem`, `clients-ID.pem`): old ones are removed once
    /// nothing names them.
    public static func isContentAddressed(_ name: String) -> Bool {
        func isID(_ text: Substring) -> Bool { text.count == 16 && text.allSatisfy(\.isHexDigit) }
        guard name.hasSuffix(".pem") else { return false }
        let stem = name.dropLast(4)
        if stem.hasPrefix("clients-") { return isID(stem.dropFirst(8)) }
        guard stem.hasPrefix("server-") else { return false }
        let rest = stem.dropFirst(7)
        return isID(rest) || (rest.hasSuffix("-key") && isID(rest.dropLast(4)))
    }

    /// The agent's own state (0700): keys, the applied and last-known-good sets, its checkout.
    public static let stateDir = "/var/lib/berth"
    /// The host's private key: made here, never leaves the host. dockerd gets a copy beside
    /// the certificate it belongs to.
    public static let hostKey = "\(stateDir)/keys/server-key.pem"
    /// A new key waiting for its certificate during renewal; the old one serves meanwhile.
    public static let stagedKey = "\(stateDir)/keys/staged-key.pem"
    /// The pending certificate request, cached so its fingerprint stays stable until signed.
    public static let csr = "\(stateDir)/csr.pem"
    /// The agent's client identity for probing its own TCP listeners.
    public static let probeCertificate = "\(stateDir)/probe.pem"
    public static let probeKey = "\(stateDir)/probe-key.pem"
    /// The complete set of managed files that last passed verification, with its revision.
    public static let lastKnownGood = "\(stateDir)/last-known-good.json"
    /// Desired content that failed verification and was rolled back: not applied again.
    public static let quarantine = "\(stateDir)/quarantine.json"
    /// Which managed set was written when, on the boot clock: the pending-restart ledger.
    public static let restartLedger = "\(stateDir)/written.json"
    /// Commits already verified and the allowed signers adopted from the repository.
    public static let trustState = "\(stateDir)/trust.json"
    public static let lastReport = "\(stateDir)/last-report.json"
    /// The agent's own checkout with `--repo`.
    public static let checkout = "\(stateDir)/fleet"
    /// A scratch bare repository the agent builds report commits in.
    public static let statusRepository = "\(stateDir)/status-repo"

    public static let lock = "/run/berth/agent.lock"
    public static let daemonJSON = "/etc/docker/daemon.json"
    public static let agentConfig = "/etc/berth/agent.yaml"
    /// The one-time token that vouches for the host's first CSR; removed once it has a certificate.
    public static let joinToken = "/etc/berth/join-token"
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

/// The short content hash that names content-addressed files: the first 16 hex digits of
/// SHA-256 (64 bits; a collision among one host's few files is not a practical concern).
public enum ContentID {
    public static func of(_ bytes: some Sequence<UInt8>) -> String {
        String(sha256Hex(bytes).prefix(16))
    }

    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        SHA256.hash(data: Array(bytes)).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
