import BerthCore
import BerthPKI
import Foundation
import NIOCore
import NIOEmbedded
import NIOSSL

/// The real Engine API client: plain HTTP/1.1 over the unix socket (``UnixSocketHTTP``), and
/// one mutual-TLS connection per TCP listener (``TLSProbe``).
public struct DockerEngineClient: EngineClient {
    private let timeout: Duration

    public init(timeout: Duration = .seconds(5)) {
        self.timeout = timeout
    }

    public func shutdown() async {}

    private func get(socket: String, path: String) throws -> [UInt8] {
        let response = try UnixSocketHTTP.get(socket: socket, path: path, timeout: timeout)
        guard response.status == 200 else {
            throw BerthError(.io, "GET \(path) on \(socket) answered \(response.status)")
        }
        return response.body
    }

    public func ping(socket: String) async throws {
        guard String(decoding: try get(socket: socket, path: "/_ping"), as: UTF8.self) == "OK" else {
            throw BerthError(.io, "GET /_ping on \(socket) did not answer OK")
        }
    }

    public func info(socket: String) async throws -> EngineState {
        let body = try get(socket: socket, path: "/info")
        guard let info = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw BerthError(.io, "GET /info on \(socket) did not answer a JSON object")
        }
        return EngineState(version: info["ServerVersion"] as? String ?? "?", containersRunning: info["ContainersRunning"] as? Int ?? 0,
                           liveRestore: info["LiveRestoreEnabled"] as? Bool ?? false)
    }

    public func probeTLS(host: String, port: Int, identity: ProbeIdentity, caPEM: String, expectedFingerprint: String?) async -> ProbeOutcome {
        let target = host == "0.0.0.0" ? "127.0.0.1" : (host == "::" ? "::1" : host)
        do {
            return try TLSProbe.ping(host: target, port: port, identity: identity, expectedFingerprint: expectedFingerprint, timeout: timeout)
        } catch {
            let urlHost = target.contains(":") ? "[\(target)]" : target
            return .failed(reason: "mTLS /_ping on \(urlHost):\(port) failed: \(error)")
        }
    }
}

/// `GET /_ping` over mutual TLS on one connection, presenting the agent's probe identity and
/// checking, during the handshake, that the listener presents exactly the certificate installed.
///
/// One handshake for both questions (which certificate, and does it answer): the installed
/// certificate was verified against the fleet CA when the pass chose it, so a byte-for-byte match
/// is the whole chain check, and a listener that presents anything else fails the handshake.
///
/// The TLS is swift-nio-ssl's handler in an `EmbeddedChannel`, fed from a ``StreamSocket`` on
/// this thread: one connection needs no event loop threads, no bootstrap and no selector.
enum TLSProbe {
    static func ping(host: String, port: Int, identity: ProbeIdentity, expectedFingerprint: String?, timeout: Duration) throws -> ProbeOutcome {
        guard let expectedFingerprint else {
            return .failed(reason: "no installed certificate to compare the listener's with")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        // The listener is reached by whichever address the probe uses (127.0.0.1 for 0.0.0.0);
        // its identity is the byte-for-byte comparison below, not a host name.
        tls.certificateVerification = .noHostnameVerification
        // The callback below is the whole check: no system trust store to load (parsing
        // ca-certificates.crt was a sixth of a no-op pass's instructions).
        tls.trustRoots = .certificates([])
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem))
        let context = try NIOSSLContext(configuration: tls)

        let socket = try StreamSocket.connect(host: host, port: port, timeout: timeout)
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        let collector = ResponseCollector()
        var presented: String?
        let handler = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, verification in
            let leaf = certificates.first.flatMap { try? $0.toDERBytes() }.map { Fingerprint.sha256($0) }
            presented = leaf
            verification.succeed(leaf == expectedFingerprint ? .certificateVerified : .failed)
        }
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.pipeline.syncOperations.addHandler(collector)
        // Makes the channel active: the handler starts the handshake; the request waits in it.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: port)).wait()
        channel.writeAndFlush(channel.allocator.buffer(bytes: UnixSocketHTTP.message("/_ping")), promise: nil)
        do {
            while collector.error == nil && !collector.closed {
                while let out = try channel.readOutbound(as: ByteBuffer.self) {
                    try socket.send(Array(out.readableBytesView))
                }
                let bytes = try socket.receive()
                if bytes.isEmpty {
                    channel.pipeline.fireChannelInactive()
                    break
                }
                try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
                channel.embeddedEventLoop.run()
            }
            if let error = collector.error { throw error }
        } catch {
            if let presented, presented != expectedFingerprint {
                return .failed(reason: "tcp://\(socket.name) presents another certificate (sha256 \(presented.prefix(23))…) than the one the drop-in names")
            }
            throw error
        }
        let response = try UnixSocketHTTP.parse(collector.received, request: "/_ping", socket: socket.name)
        guard response.status == 200, response.body == Array("OK".utf8) else {
            return .failed(reason: "https://\(socket.name)/_ping answered \(response.status)")
        }
        return .passed
    }

    /// Collects everything the server sends until the connection ends.
    final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var received: [UInt8] = []
        var closed = false
        var error: (any Error)?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytesView
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed = true
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A TLS close without close_notify still ends a complete Connection: close answer.
            if let error = error as? NIOSSLError, case .uncleanShutdown = error { return }
            if self.error == nil { self.error = error }
        }
    }
}
