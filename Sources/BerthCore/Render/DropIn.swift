/// The systemd drop-in `50-berth.conf` that makes `docker.service` listen where the fleet says.
///
/// It clears `ExecStart` and sets it again: the packaged binary and its own arguments, then one
/// `-H` per listener, then the TLS flags naming the content-addressed files in force, then
/// labels. The output is a pure function of its inputs, so `berthctl render` and the agent
/// produce the same bytes.
public struct DropIn: Sendable, Equatable {
    /// The TLS files the drop-in names; each is content-addressed (see ``HostLayout``).
    public struct TLSFiles: Sendable, Equatable {
        public var clientBundle: String
        public var certificate: String
        public var key: String

        public init(clientBundle: String, certificate: String, key: String) {
            self.clientBundle = clientBundle
            self.certificate = certificate
            self.key = key
        }
    }

    public var host: ResolvedHost
    public var revision: String
    public var unit: DockerUnit
    /// nil until the host has a server certificate: TCP listeners stay out (awaiting-certificate).
    public var tls: TLSFiles?

    public init(host: ResolvedHost, revision: String, unit: DockerUnit, tls: TLSFiles?) {
        self.host = host
        self.revision = revision
        self.unit = unit
        self.tls = tls
    }

    static let revisionPrefix = "# revision: "

    public var hasServerCertificate: Bool { tls != nil }

    /// The listeners dockerd is given now: all of them, less TCP while a certificate is awaited.
    public var effectiveListeners: [Listener] {
        host.listeners.filter { !$0.isTCP || host.insecure || hasServerCertificate }
    }

    /// `dockerd`'s full argument vector, binary first, as systemd will run it.
    public var arguments: [String] {
        var args = [unit.binary] + unit.keptArguments
        for listener in effectiveListeners { args += ["-H", listener.description] }
        if let tls, effectiveListeners.contains(where: \.isTCP), !host.insecure {
            args += ["--tlsverify", "--tlscacert=\(tls.clientBundle)", "--tlscert=\(tls.certificate)", "--tlskey=\(tls.key)"]
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
            lines.append("# awaiting-certificate: tcp:// listeners are left out until \(FleetLayout.serverCertificate(host.name)) is signed")
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
        var out = "\""
        for character in word {
            if character == "\\" || character == "\"" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
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
