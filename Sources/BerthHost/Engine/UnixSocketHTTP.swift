import BerthCore
import Foundation

/// One HTTP/1.1 GET over a unix socket, with plain POSIX calls: what the agent asks dockerd's
/// socket (`/_ping`, `/info`). A pass makes two such requests; an HTTP client library with its
/// event loops and connection pools costs a pass more than the requests themselves.
///
/// The whole exchange is bounded by `timeout`, and a response is at most `limit` bytes.
enum UnixSocketHTTP {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    static func get(socket path: String, path request: String, timeout: Duration, limit: Int = 4 << 20) throws -> Response {
        let socket = try StreamSocket.connect(unixPath: path, timeout: timeout)
        try socket.send(message(request))
        var received: [UInt8] = []
        while case let chunk = try socket.receive(), !chunk.isEmpty {
            received += chunk
            guard received.count <= limit else { throw BerthError(.io, "GET \(request) on \(path) answered more than \(ByteCount.format(limit))") }
        }
        return try parse(received, request: request, socket: path)
    }

    /// HTTP/1.1 wants a Host header (dockerd answers 400 without one) and the connection closed
    /// after the answer, so the end of the response is the end of the stream.
    static func message(_ request: String) -> [UInt8] {
        Array("GET \(request) HTTP/1.1\r\nHost: docker\r\nUser-Agent: berth-agent\r\nConnection: close\r\n\r\n".utf8)
    }

    /// The status line, the headers (for chunked transfer encoding) and the body.
    static func parse(_ bytes: [UInt8], request: String, socket: String) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.dropLast(3).first(where: { bytes[$0..<($0 + 4)].elementsEqual(separator) }) else {
            throw BerthError(.io, "GET \(request) on \(socket): not an HTTP response")
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = head.first, statusLine.hasPrefix("HTTP/1."), let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw BerthError(.io, "GET \(request) on \(socket): not an HTTP response")
        }
        var body = Array(bytes[(end + 4)...])
        let chunked = head.dropFirst().contains { $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked") }
        if chunked { body = try dechunk(body, request: request, socket: socket) }
        return Response(status: status, body: body)
    }

    static func dechunk(_ bytes: [UInt8], request: String, socket: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = bytes[index...].firstIndex(of: 13), lineEnd + 1 < bytes.count,
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) else {
                throw BerthError(.io, "GET \(request) on \(socket): a malformed chunked body")
            }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { throw BerthError(.io, "GET \(request) on \(socket): a truncated chunked body") }
            out += bytes[start..<(start + size)]
            index = start + size + 2
        }
        return out
    }
}
