/// A socket `dockerd` listens on, as a `-H` value.
///
/// Only three forms are accepted, because only these are served safely by Berth:
/// `fd://[NAME]` (systemd socket activation), `unix:///abs/path`, and `tcp://ADDR:PORT`
/// (always mutual TLS unless the host says `insecure: true`).
public enum Listener: Sendable, Hashable, TextCodable {
    case fd(name: String?)
    case unix(path: String)
    case tcp(host: String, port: Int)

    public var description: String {
        switch self {
        case .fd(let name): return "fd://" + (name ?? "")
        case .unix(let path): return "unix://" + path
        case .tcp(let host, let port):
            return host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        }
    }

    public var isTCP: Bool {
        if case .tcp = self { return true }
        return false
    }

    /// Parses a `-H` value, or says what is wrong and what to write instead.
    public init?(_ text: String) {
        guard case .success(let listener) = Self.parse(text) else { return nil }
        self = listener
    }

    public static func parse(_ text: String) -> Result<Listener, ValueSyntaxError> {
        let valid = "listeners are fd://[NAME], unix:///abs/path or tcp://ADDR:PORT"
        if text.hasPrefix("fd://") {
            let name = String(text.dropFirst(5))
            if name.isEmpty { return .success(.fd(name: nil)) }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                return .failure(.init("\"\(text)\" has a bad socket name; write fd:// or fd://NAME with letters, digits, '.', '_' or '-'"))
            }
            return .success(.fd(name: name))
        }
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst(7))
            guard path.hasPrefix("/") else {
                return .failure(.init("\"\(text)\" is not an absolute path; write unix:///var/run/NAME.sock"))
            }
            guard !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
                  !path.contains(where: { $0.isWhitespace || $0 == "$" || $0 == "\"" || $0 == "'" || $0 == "\\" }),
                  path.count > 1, !path.hasSuffix("/")
            else {
                return .failure(.init("\"\(text)\" is not a plain absolute socket path; write unix:///var/run/NAME.sock"))
            }
            return .success(.unix(path: path))
        }
        if text.hasPrefix("tcp://") {
            return parseTCP(text)
        }
        if let scheme = text.range(of: "://") {
            return .failure(.init("\"\(text)\": scheme \"\(text[..<scheme.lowerBound])\" is not supported; \(valid)"))
        }
        return .failure(.init("\"\(text)\" is not a listener URL; \(valid)"))
    }

    private static func parseTCP(_ text: String) -> Result<Listener, ValueSyntaxError> {
        var rest = Substring(text.dropFirst(6))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring
        let portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                return .failure(.init("\"\(text)\" has an unclosed IPv6 bracket; write tcp://[::]:2376"))
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.isEmpty { portText = nil }
            else if after.hasPrefix(":") { portText = after.dropFirst() }
            else { return .failure(.init("\"\(text)\" has text after the address; write tcp://[\(host)]:2376")) }
            guard IPAddress(String(host))?.isV6 == true else {
                return .failure(.init("\"\(text)\": \"\(host)\" is not an IPv6 address; write tcp://[::]:2376"))
            }
        } else {
            if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                host = rest
                portText = nil
            }
            if host.contains(":") {
                return .failure(.init("\"\(text)\": put an IPv6 address in brackets; write tcp://[\(host)]:2376"))
            }
        }
        if host.isEmpty {
            return .failure(.init("\"\(text)\" has no address; write tcp://0.0.0.0\(portText.map { ":\($0)" } ?? ":2376")"))
        }
        guard let portText, !portText.isEmpty else {
            let addr = host.contains(":") ? "[\(host)]" : String(host)
            return .failure(.init("\"\(text)\" has no port; write tcp://\(addr):2376"))
        }
        guard let port = Int(portText), (1...65535).contains(port), portText.allSatisfy(\.isNumber) else {
            return .failure(.init("\"\(text)\": port \"\(portText)\" is not a number from 1 to 65535; write tcp://\(host):2376"))
        }
        if IPAddress(String(host)) == nil && !DNSName.isValid(String(host)) {
            return .failure(.init("\"\(text)\": \"\(host)\" is neither an IP address nor a host name; write tcp://0.0.0.0:\(port)"))
        }
        return .success(.tcp(host: String(host), port: port))
    }
}

/// Why a value written in fleet.yaml (a listener URL, a restart window) was refused, phrased as the fix.
public struct ValueSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
