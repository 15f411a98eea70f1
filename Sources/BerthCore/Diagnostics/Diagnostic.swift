/// Where in a source file a problem was found. Lines and columns start at 1.
public struct SourceLocation: Sendable, Hashable, Codable {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
}

/// One finding of validation: what is wrong, where, and what would be valid.
///
/// Rendered as `fleet.yaml:14:7: hosts.web-1.listeners[1]: "tcp://0.0.0.0" has no port; write tcp://0.0.0.0:2376`
/// so that editors and CI logs can jump to the spot.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Codable {
        case error
        case warning
    }

    public var severity: Severity
    public var location: SourceLocation?
    /// Dotted path of the field, e.g. `hosts.web-1.listeners[1]`; empty for the whole file.
    public var field: String
    public var message: String

    public init(_ severity: Severity = .error, at location: SourceLocation?, field: String, _ message: String) {
        self.severity = severity
        self.location = location
        self.field = field
        self.message = message
    }

    public var description: String {
        var out = ""
        if let location {
            out += "\(location.file):\(location.line):\(location.column): "
        }
        if severity == .warning { out += "warning: " }
        if !field.isEmpty { out += "\(field): " }
        out += message
        return out
    }
}

/// Thrown when desired state fails validation; carries every finding, not just the first.
public struct FleetValidationError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
