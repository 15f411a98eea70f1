/// The error type of Berth's libraries: a stable code tests and callers can match on,
/// a one-line message that names the file, unit or field and the fix, and the cause.
public struct BerthError: Error, Sendable, CustomStringConvertible {
    /// An extensible set of error codes (new codes do not break callers that switch on known ones).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let invalidState = Code("invalid-state")
        public static let notFound = Code("not-found")
        public static let io = Code("io")
        public static let symlinkRefused = Code("symlink-refused")
        public static let unitNotFound = Code("unit-not-found")
        public static let unitUnparsable = Code("unit-unparsable")
        public static let commandFailed = Code("command-failed")
        public static let certificate = Code("certificate")
        public static let policy = Code("policy")
        public static let privateKeyInRepository = Code("private-key-in-repository")
        public static let conflict = Code("conflict")
        public static let locked = Code("locked")
        public static let usage = Code("usage")
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}
