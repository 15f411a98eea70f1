import BerthCore
import Foundation

/// A connected, non-blocking stream socket (unix or TCP) with plain POSIX calls, every wait
/// bounded by a deadline: the transport under ``UnixSocketHTTP`` and ``TLSProbe``.
final class StreamSocket {
    let fd: Int32
    /// What the messages name: the socket path, or host:port.
    let name: String
    let deadline: ContinuousClock.Instant

    private init(fd: Int32, name: String, deadline: ContinuousClock.Instant) {
        self.fd = fd
        self.name = name
        self.deadline = deadline
    }

    /// Connects to the unix socket at `path`.
    static func connect(unixPath path: String, timeout: Duration) throws -> StreamSocket {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw BerthError(.invalidInput, "the socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let socket = StreamSocket(fd: try open(AF_UNIX, path), name: path, deadline: .now + timeout)
        try withUnsafePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try socket.connect($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return socket
    }

    /// Connects to `host` (an address or a name) on TCP `port`, trying each address it resolves to.
    static func connect(host: String, port: Int, timeout: Duration) throws -> StreamSocket {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let name = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw BerthError(.io, "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let deadline = ContinuousClock.now + timeout
        var lastError: any Error = BerthError(.io, "cannot connect to \(name): no address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            do {
                let socket = StreamSocket(fd: try open(info.pointee.ai_family, name), name: name, deadline: deadline)
                try socket.connect(info.pointee.ai_addr, info.pointee.ai_addrlen)
                return socket
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    deinit { close(fd) }

    private static func open(_ family: Int32, _ name: String) throws -> Int32 {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw failure("open a socket for", name) }
        return fd
    }

    private func connect(_ address: UnsafePointer<sockaddr>, _ length: socklen_t) throws {
        guard Glibc.connect(fd, address, length) != 0 else { return }
        guard errno == EINPROGRESS || errno == EAGAIN else { throw Self.failure("connect to", name) }
        try wait(for: Int16(POLLOUT))
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
        guard error == 0 else { errno = error; throw Self.failure("connect to", name) }
    }

    /// Sends all of `bytes`.
    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                guard errno == EAGAIN || errno == EINTR else { throw Self.failure("write to", name) }
                try wait(for: Int16(POLLOUT))
                continue
            }
            sent += n
        }
    }

    /// The next bytes the peer sends, waiting for them; empty at the end of the stream.
    func receive(upTo count: Int = 16384) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: count)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return Array(chunk[0..<n]) }
            guard errno == EAGAIN || errno == EINTR else { throw Self.failure("read from", name) }
            try wait(for: Int16(POLLIN))
        }
    }

    private func wait(for events: Int16) throws {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            let milliseconds = Int32(max(0, min(Int64(Int32.max), Int64(left.seconds * 1000))))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return }
            if ready == 0 { throw BerthError(.io, "\(name) did not answer in time") }
            if errno != EINTR { throw Self.failure("wait for", name) }
        }
    }

    static func failure(_ action: String, _ name: String) -> BerthError {
        BerthError(.io, "cannot \(action) \(name): \(String(cString: strerror(errno)))")
    }
}
