/// The one error type of Berth's libraries: a code from a closed set that callers and tests
/// switch on, a one-line message that names the file, unit or field and the fix, and the cause.
///
/// The code set is closed (its storage is private), in the manner of swift-subprocess's
/// `SubprocessError.Code`: the command layer maps every code to an exit status in one place
/// (`ExitStatus` in BerthCommandSupport), so a new code is a decision, not an accident.
/// Bad command lines are not library errors: they are `ValidationError`s of the command layer.
public struct BerthError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Storage: String, Hashable, Sendable {
            case invalidInput = "invalid-input"
            case notFound = "not-found"
            case conflict
            case io
            case symlinkRefused = "symlink-refused"
            case unitNotFound = "unit-not-found"
            case unitUnparsable = "unit-unparsable"
            case commandFailed = "command-failed"
            case commandTimedOut = "command-timed-out"
            case certificate
            case invalidCSR = "invalid-csr"
            case invalidPrivateKey = "invalid-private-key"
            case keyMismatch = "key-mismatch"
            case policy
            case privateKeyFound = "private-key-found"
            case untrusted
            case locked
        }

        let storage: Storage

        /// A file or value that is not what Berth accepts: fleet.yaml, agent.yaml, a PEM, a report.
        public static let invalidInput = Code(storage: .invalidInput)
        public static let notFound = Code(storage: .notFound)
        /// The thing to create exists already.
        public static let conflict = Code(storage: .conflict)
        public static let io = Code(storage: .io)
        /// A path that is, or lies under, a symbolic link: Berth never reads or writes through one.
        public static let symlinkRefused = Code(storage: .symlinkRefused)
        public static let unitNotFound = Code(storage: .unitNotFound)
        public static let unitUnparsable = Code(storage: .unitUnparsable)
        /// A child process (systemctl, git, ssh-keygen) exited non-zero.
        public static let commandFailed = Code(storage: .commandFailed)
        /// A child process did not finish within its timeout and was killed with its process group.
        public static let commandTimedOut = Code(storage: .commandTimedOut)
        public static let certificate = Code(storage: .certificate)
        /// A CSR that does not parse or whose self-signature does not verify.
        public static let invalidCSR = Code(storage: .invalidCSR)
        public static let invalidPrivateKey = Code(storage: .invalidPrivateKey)
        /// A private key and a certificate (or CSR) that do not belong together.
        public static let keyMismatch = Code(storage: .keyMismatch)
        /// Refused by policy: a CSR's names, a signing request nobody vouched for.
        public static let policy = Code(storage: .policy)
        /// Private-key material where it must never be: the repository, a report.
        public static let privateKeyFound = Code(storage: .privateKeyFound)
        /// A commit or report whose signature does not verify.
        public static let untrusted = Code(storage: .untrusted)
        /// Another pass holds the agent's lock.
        public static let locked = Code(storage: .locked)

        public var description: String { storage.rawValue }
    }

    public let code: Code
    public let message: String
    public let underlyingError: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlyingError = underlying
    }

    public var description: String {
        if let underlyingError { return "\(message): \(underlyingError)" }
        return message
    }
}
