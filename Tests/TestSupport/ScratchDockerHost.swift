import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Docker host on a scratch `--root` for running the real `berth-agent` binary without
/// systemd or dockerd: `systemctl` and `journalctl` are scripts first in `PATH` (faults come from
/// outside the agent), and the Engine API is ``EngineSocketStub`` on a unix socket the agent's
/// `dockerSocket:` names. The booted hosts of the end-to-end suite are the real thing.
///
/// The fake `systemctl` keeps its state in files: what systemd has loaded is the last
/// `ExecStart=` of Berth's drop-in (else of the packaged unit) as of the last `daemon-reload`;
/// `restart` starts it, and fails (the unit `failed`) when it contains `breakMarker`.
public final class ScratchDockerHost: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public let engine: EngineSocketStub
    public static let breakMarker = "tier=broken"

    public var root: String { directory.file("root") }
    public var socket: String { directory.file("docker.sock") }
    public var bin: String { directory.file("bin") }

    public init() throws {
        directory = try TemporaryDirectory("berth-scratch-host")
        try directory.write("root/lib/systemd/system/docker.service",
                            "[Service]\nExecStart=/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n")
        try directory.write("bin/systemctl", Self.systemctl, mode: 0o755)
        try directory.write("bin/journalctl", "#!/bin/sh\necho 'dockerd[7]: failed to start daemon: the fake says so'\n", mode: 0o755)
        engine = try EngineSocketStub(path: directory.file("docker.sock"))
    }

    /// What the agent's environment needs: the fake tools first in `PATH`, where they keep state.
    public var environment: [String: String] {
        ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
         "BERTH_FAKE_ROOT": root, "BERTH_FAKE_STATE": directory.file("systemd"), "BERTH_FAKE_BREAK": Self.breakMarker]
    }

    /// The `systemctl` subcommands the agent ran, in order.
    public var systemctlCalls: [String] {
        ((try? directory.read("systemd/calls")) ?? "").split(separator: "\n").map(String.init)
    }

    public var restarts: Int { systemctlCalls.filter { $0.hasPrefix("restart") }.count }

    static let systemctl = #"""
        #!/bin/bash
        set -u
        root=$BERTH_FAKE_ROOT st=$BERTH_FAKE_STATE
        dropin=/etc/systemd/system/docker.service.d/50-berth.conf
        mkdir -p "$st"
        execstart() {
            local f=$root/lib/systemd/system/docker.service
            [ -f "$root$dropin" ] && f=$root$dropin
            sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$f" | sed -n 's/^ExecStart=\(..*\)$/\1/p' | tail -n 1 | tr -s ' \t' '  ' | sed 's/^ //; s/ $//'
        }
        [ -f "$st/loaded" ] || execstart >"$st/loaded"
        [ -f "$st/active" ] || echo active >"$st/active"
        [ -f "$st/pid" ] || echo 5000000 >"$st/pid"
        echo "$*" >>"$st/calls"
        case "${1:-}" in
        show)
            loaded=$(cat "$st/loaded"); active=$(cat "$st/active")
            need=no; [ "$(execstart)" = "$loaded" ] || need=yes
            dropins=; [ -f "$root$dropin" ] && dropins=$dropin
            pid=0; [ "$active" = active ] && pid=$(cat "$st/pid")
            printf 'LoadState=loaded\nActiveState=%s\nMainPID=%s\nExecStart={ path=%s ; argv[]=%s ; ignore_errors=no }\nDropInPaths=%s\nNeedDaemonReload=%s\n' \
                "$active" "$pid" "${loaded%% *}" "$loaded" "$dropins" "$need" ;;
        daemon-reload) execstart >"$st/loaded" ;;
        restart)
            echo $(( $(cat "$st/pid") + 1 )) >"$st/pid"
            if grep -q -- "$BERTH_FAKE_BREAK" "$st/loaded"; then
                echo failed >"$st/active"
                echo "Job for docker.service failed because the control process exited with error code." >&2
                exit 1
            fi
            echo active >"$st/active" ;;
        is-active) cat "$st/active"; [ "$(cat "$st/active")" = active ] ;;
        esac
        exit 0

        """#
}

/// dockerd's Engine API as far as the agent asks it (`/_ping`, `/info`), on a unix socket, from
/// a thread of the test process: HTTP/1.1, one request per connection.
public final class EngineSocketStub: @unchecked Sendable {
    public let path: String
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false

    public init(path: String, info: String = #"{"ServerVersion":"20.10.24","ContainersRunning":0,"LiveRestoreEnabled":false}"#) throws {
        self.path = path
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long: \(path)")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard listener >= 0, bound == 0, listen(listener, 16) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let fd = listener
        let thread = Thread { Self.serve(fd, info: info) }
        thread.start()
    }

    static func serve(_ listener: Int32, info: String) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return  // shut down
            }
            var request: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while request.count < 65536 {
                let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                request += chunk[0..<n]
                if String(decoding: request, as: UTF8.self).contains("\r\n\r\n") { break }
            }
            let target = String(decoding: request, as: UTF8.self).split(separator: " ").dropFirst().first.map(String.init) ?? ""
            let (status, body): (String, String) = switch target {
            case "/_ping": ("200 OK", "OK")
            case "/info": ("200 OK", info)
            default: ("404 Not Found", "{\"message\":\"page not found\"}")
            }
            let response = Array("HTTP/1.1 \(status)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
            var sent = 0
            while sent < response.count {
                let n = response.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
            close(client)
        }
    }

    public func stop() {
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
            unlink(path)
        }
    }

    deinit { stop() }
}
