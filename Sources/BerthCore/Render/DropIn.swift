/// The systemd drop-in `50-berth.conf` that makes `docker.service` listen where the fleet says.
///
/// It clears `ExecStart` and sets it again: the packaged binary and its own arguments, then one
/// `-H` per listener, then the TLS flags, then labels. The output is a pure function of its
/// inputs, so `berthctl render` and the agent produce the same bytes.
public struct DropIn: Sendable, Equatable {
    public var host: ResolvedHost
    public var revision: String
    public var unit: DockerUnit
    /// Whether the host has a server certificate; until it has, TCP listeners stay out (awaiting-certificate).
    public var hasServerCertificate: Bool

    public init(host: ResolvedHost, revision: String, unit: DockerUnit, hasServerCertificate: Bool) {
        self.host = host
        self.revision = revision
        self.unit = unit
        self.hasServerCertificate = hasServerCertificate
    }

    static let revisionPrefix = "# revision: "

    /// The listeners dockerd is given now: all of them, less TCP while a certificate is awaited.
    public var effectiveListeners: [Listener] {
        host.listeners.filter { !$0.isTCP || host.insecure || hasServerCertificate }
    }

    /// `dockerd`'s full argument vector, binary first, as systemd will run it.
    public var arguments: [String] {
        var args = [unit.binary] + unit.keptArguments
        for listener in effectiveListeners { args += ["-H", listener.description] }
        if effectiveListeners.contains(where: \.isTCP) && !host.insecure {
            args += [
                "--tlsverify",
                "--tlscacert=\(HostLayout.clients)",
                "--tlscert=\(HostLayout.serverCert)",
                "--tlskey=\(HostLayout.serverKey)",
            ]
        }
        for label in host.labels { args += ["--label", label] }
        return args
    }

    public func render() -> String {
        var lines = [
            "# Managed by Berth: do not edit. berth-agent rewrites this file on its next pass;",
            "# change the fleet repository instead.",
            "# fleet: \(host.fleet)  host: \(host.name)",
            "\(Self.revisionPrefix)\(revision)",
            "# base: \(unit.path)",
        ]
        if host.insecure && effectiveListeners.contains(where: \.isTCP) {
            lines.append("# WARNING: insecure: true, tcp:// listeners are served without TLS")
        }
        if !hasServerCertificate && host.needsServerCertificate {
            lines.append("# awaiting-certificate: tcp:// listeners are left out until certs/\(host.name).pem is signed")
        }
        lines += ["[Service]", "ExecStart="]
        // One flag (with its value) per line, so a diff shows exactly which flag changed.
        var groups: [[String]] = []
        var args = arguments[...]
        groups.append([args.removeFirst()])
        while let word = args.first {
            args.removeFirst()
            if (word == "-H" || word == "--label"), let value = args.first {
                args.removeFirst()
                groups.append([word, value])
            } else {
                groups.append([word])
            }
        }
        let rendered = groups.map { $0.map(Self.quote).joined(separator: " ") }
        lines.append("ExecStart=" + rendered.joined(separator: " \\\n    "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// Quotes a word for a unit file when it holds spaces or quotes; `$VAR` stays bare so systemd expands it.
    static func quote(_ word: String) -> String {
        guard word.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" || $0 == "\\" }) else { return word }
        return "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The file with its revision line removed. Two drop-ins that differ only there configure
    /// dockerd identically, so a new commit that changes nothing for this host rewrites nothing
    /// and restarts nothing; the header keeps naming the revision that last changed the host.
    public static func comparableContents(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix(revisionPrefix) }
            .joined(separator: "\n")
    }

    /// The revision named in a drop-in's header, if any.
    public static func revision(in text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(revisionPrefix) }.map { String($0.dropFirst(revisionPrefix.count)) }
    }
}
