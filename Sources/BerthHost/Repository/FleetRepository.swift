import BerthCore
import Foundation

/// A fleet repository on disk: `fleet.yaml`, `ca.pem`, `clients/`, `certs/`.
///
/// Loading reads the files and runs every check; editing commands go through ``FleetRepository/update(_:)``
/// so that no command ever leaves a `fleet.yaml` behind that does not validate.
public struct FleetRepository: Sendable {
    public static let specFile = FleetLayout.specFile

    public var root: String

    public init(root: String) {
        self.root = (root as NSString).standardizingPath
    }

    public var specPath: String { "\(root)/\(Self.specFile)" }

    public func path(_ relative: String) -> String { "\(root)/\(relative)" }

    /// What the repository holds, relative to its root, skipping `.git`: its regular files,
    /// and the symbolic links among them (which Berth refuses: a link in the fleet repository
    /// could point the root agent at any file of the host, `/dev/zero` included).
    public struct Listing: Sendable {
        public var files: Set<String> = []
        public var symlinks: [String] = []
    }

    public func listing() -> Listing {
        var out = Listing()
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return out }
        while let item = enumerator.nextObject() as? String {
            if item == ".git" || item.hasPrefix(".git/") {
                enumerator.skipDescendants()
                continue
            }
            var info = stat()
            guard lstat(path(item), &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG: out.files.insert(item)
            case S_IFLNK: out.symlinks.append(item)
            default: break
            }
        }
        out.symlinks.sort()
        return out
    }

    /// Every regular file in the repository, relative to its root, skipping `.git`.
    public func listFiles() -> Set<String> { listing().files }

    /// A text file of the repository, read defensively (``BoundedFile``): a regular file of at
    /// most `limit` bytes, UTF-8. Throws `.notFound` when it is missing.
    public func read(_ relative: String, limit: Int = BoundedFile.documentLimit) throws -> String {
        guard let text = try readIfPresent(relative, limit: limit) else {
            throw BerthError(.notFound, "\(path(relative)) does not exist")
        }
        return text
    }

    /// A PEM file of the repository (at most 64 KiB).
    public func readPEM(_ relative: String) throws -> String {
        try read(relative, limit: BoundedFile.pemLimit)
    }

    /// The file's text, or nil when it does not exist; throws when it is not a file Berth accepts.
    public func readIfPresent(_ relative: String, limit: Int = BoundedFile.documentLimit) throws -> String? {
        try BoundedFile.readText(path(relative), limit: limit, display: relative)
    }

    /// Parses `fleet.yaml` and runs the structural and cross-file checks.
    public func load() throws -> LoadedFleet {
        guard let text = try readIfPresent(Self.specFile) else {
            throw BerthError(.notFound, "\(specPath) does not exist; run `berthctl init \(root) --fleet NAME` or pass --repo DIR")
        }
        let listing = listing()
        var document = FleetParser.parse(text, file: Self.specFile)
        document.diagnostics += listing.symlinks.map {
            Diagnostic(.error, at: SourceLocation(file: $0, line: 1, column: 1), field: "",
                       "is a symbolic link; the fleet repository holds regular files only. Replace the link with the file itself")
        }
        let diagnostics = FleetValidator.validate(document, repositoryFiles: listing.files)
        return LoadedFleet(repository: self, text: text, document: document, diagnostics: diagnostics)
    }

    /// Loads and throws ``FleetValidationError`` when there is any error.
    public func loadValid() throws -> LoadedFleet {
        let loaded = try load()
        guard let spec = loaded.document.spec, loaded.errors.isEmpty else {
            throw FleetValidationError(loaded.diagnostics)
        }
        _ = spec
        return loaded
    }

    /// Loads for the agent of one host. Errors confined to *other* hosts' entries
    /// (`hosts.OTHER…`) do not block this host: those entries are left out and their errors
    /// come back as warnings. Any other error (defaults, the CA, YAML syntax, an entry whose
    /// name cannot be read or told apart), or one in this host's own entry, throws as
    /// ``loadValid()`` does — so one bad entry never freezes the rest of the fleet, and never
    /// reaches the host it describes.
    public func loadValid(for host: String) throws -> LoadedFleet {
        let loaded = try load()
        if loaded.errors.isEmpty, loaded.document.spec != nil { return loaded }
        guard let partial = loaded.document.partialSpec else { throw FleetValidationError(loaded.errors) }
        let names = partial.hosts.map(\.name)
        let files = listFiles()
        var document = loaded.document
        var errors = loaded.errors
        var setAside: [Diagnostic] = []
        var broken = Set<String>()
        // Cross-file checks run only once the parse is clean, so leaving entries out can bring
        // new errors to light: repeat until none is left or one is not another host's.
        while !errors.isEmpty {
            let entries = errors.map { Self.hostEntry(of: $0.field, among: names) }
            let more = Set(entries.compactMap { $0 }).subtracting(broken)
            guard !entries.contains(nil), !entries.contains(host), !more.isEmpty else { throw FleetValidationError(errors) }
            broken.formUnion(more)
            setAside += errors
            document.diagnostics.removeAll { Self.hostEntry(of: $0.field, among: names).map(broken.contains) ?? false }
            var spec = partial
            spec.hosts.removeAll { broken.contains($0.name) }
            document.spec = spec
            errors = FleetValidator.validate(document, repositoryFiles: files).filter { $0.severity == .error }
        }
        let warnings = setAside.map {
            Diagnostic(.warning, at: $0.location, field: $0.field, "\($0.message) (this entry is left out; other hosts are unaffected)")
        }
        return LoadedFleet(repository: self, text: loaded.text, document: document,
                           diagnostics: FleetValidator.validate(document, repositoryFiles: files) + warnings)
    }

    /// The host whose entry `field` lies in (`hosts.NAME`, `hosts.NAME.…`, `hosts.NAME[…`); nil
    /// when it lies in none, or could lie in more than one (names may contain dots).
    static func hostEntry(of field: String, among names: [String]) -> String? {
        let matches = names.filter { name in
            let prefix = "hosts.\(name)"
            return field == prefix || field.hasPrefix(prefix + ".") || field.hasPrefix(prefix + "[")
        }
        return matches.count == 1 ? matches[0] : nil
    }

    /// Rewrites `fleet.yaml` with `edit` applied, but only if the result validates.
    public func update(_ edit: (String) throws -> String) throws -> LoadedFleet {
        let current = try read(Self.specFile)
        let next = try edit(current)
        let document = FleetParser.parse(next, file: Self.specFile)
        let diagnostics = FleetValidator.validate(document, repositoryFiles: listFiles())
        guard document.spec != nil, !diagnostics.contains(where: { $0.severity == .error }) else {
            throw FleetValidationError(diagnostics.filter { $0.severity == .error })
        }
        try AtomicFile.write(next, to: specPath, mode: 0o644)
        return LoadedFleet(repository: self, text: next, document: document, diagnostics: diagnostics)
    }
}

/// A parsed and checked fleet repository.
public struct LoadedFleet: Sendable {
    public var repository: FleetRepository
    public var text: String
    public var document: FleetDocument
    public var diagnostics: [Diagnostic]

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }

    /// The spec; only call after checking `errors` is empty (``FleetRepository/loadValid()`` does).
    public var spec: FleetSpec { document.spec! }

    public func resolve(host name: String) throws -> ResolvedHost {
        guard let host = spec.resolve(host: name) else {
            let known = spec.hosts.map(\.name)
            throw BerthError(.notFound, "host \"\(name)\" is not in \(FleetRepository.specFile)" + (known.isEmpty ? "; add it with `berthctl host add \(name) --address IP`" : "; known hosts: \(known.joined(separator: ", "))"))
        }
        return host
    }
}
