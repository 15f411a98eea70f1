import AsyncHTTPClient
import BerthCore
import BerthPKI
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The real Engine API client: async-http-client over the unix socket and over mutual TLS.
public final class DockerEngineClient: EngineClient, @unchecked Sendable {
    private let client: HTTPClient
    private let timeout: TimeAmount

    public init(timeout: TimeAmount = .seconds(5)) {
        self.timeout = timeout
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: timeout, read: timeout)
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    private func get(socket: String, path: String) async throws -> [UInt8] {
        guard let url = URL(httpURLWithSocketPath: socket, uri: path) else {
            throw BerthError(.io, "cannot build a URL for the socket \(socket)")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        // HTTP/1.1 needs a Host header and dockerd (Go's net/http) answers 400 without one; the
        // client derives none from a socket URL, so name one (dockerd ignores its value).
        request.headers.replaceOrAdd(name: "Host", value: "docker")
        let response = try await client.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status == .ok else {
            throw BerthError(.io, "GET \(path) on \(socket) answered \(response.status.code)")
        }
        return Array(buffer: body)
    }

    public func ping(socket: String) async throws {
        let body = try await get(socket: socket, path: "/_ping")
        guard String(decoding: body, as: UTF8.self) == "OK" else {
            throw BerthError(.io, "GET /_ping on \(socket) did not answer OK")
        }
    }

    public func info(socket: String) async throws -> EngineState {
        struct Info: Decodable {
            var ServerVersion: String?
            var ContainersRunning: Int?
            var LiveRestoreEnabled: Bool?
        }
        let info = try JSONDecoder().decode(Info.self, from: Data(try await get(socket: socket, path: "/info")))
        return EngineState(version: info.ServerVersion ?? "?", containersRunning: info.ContainersRunning ?? 0, liveRestore: info.LiveRestoreEnabled ?? false)
    }

    public func probeTLS(host: String, port: Int, identity: ProbeIdentity, caPEM: String, expectedFingerprint: String?) async -> ProbeOutcome {
        let target = host == "0.0.0.0" ? "127.0.0.1" : (host == "::" ? "::1" : host)
        let urlHost = target.contains(":") ? "[\(target)]" : target
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem))
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
            // Hosts are reached by whichever address the probe uses (127.0.0.1 for 0.0.0.0); the
            // certificate's identity is checked below by comparing it with the one installed.
            tls.certificateVerification = .noHostnameVerification
            if let expected = expectedFingerprint {
                let presented = try await TLSPeerCertificate.fetch(host: target, port: port, configuration: tls, timeout: timeout)
                guard Fingerprint.sha256(presented) == expected else {
                    return .failed(reason: "tcp://\(urlHost):\(port) presents a different certificate than the one the drop-in names")
                }
            }
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            configuration.timeout = .init(connect: timeout, read: timeout)
            let tlsClient = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            defer { _ = tlsClient.shutdown() as EventLoopFuture<Void> }
            let response = try await tlsClient.execute(HTTPClientRequest(url: "https://\(urlHost):\(port)/_ping"), timeout: timeout)
            let body = try await response.body.collect(upTo: 1024)
            guard response.status == .ok, String(buffer: body) == "OK" else {
                return .failed(reason: "https://\(urlHost):\(port)/_ping answered \(response.status.code)")
            }
            return .passed
        } catch {
            return .failed(reason: "mTLS /_ping on \(urlHost):\(port) failed: \(error)")
        }
    }
}

/// Reads the leaf certificate a TLS server presents (handshake only, no application data).
enum TLSPeerCertificate {
    static func fetch(host: String, port: Int, configuration: TLSConfiguration, timeout: TimeAmount) async throws -> [UInt8] {
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: [UInt8].self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, verification in
                        if let leaf = certificates.first, let der = try? leaf.toDERBytes() {
                            promise.succeed(der)
                        }
                        // This connection only records what the server presents; the caller compares it
                        // byte for byte with the installed certificate, and the /_ping request that
                        // follows runs the full chain check against the fleet CA.
                        verification.succeed(.certificateVerified)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            promise.fail(error)
            throw error
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(BerthError(.io, "TLS handshake with \(host):\(port) timed out"))
        }
        channel.closeFuture.whenComplete { _ in
            promise.fail(BerthError(.io, "\(host):\(port) closed the connection before presenting a certificate"))
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}
