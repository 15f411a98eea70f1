import BerthCore
import Foundation

/// A fleet repository on disk: `fleet.yaml`, `ca.pem`, `clients/`, `certs/`.
///
/// Loading reads the files and runs every check; editing commands go through ``FleetRepository/update(_:)``
/// so that no command ever leaves a `fleet.yaml` behind that does not validate.
public struct FleetRepository: Sendable {
    public static let specFile = "fleet.yaml"

    public var root: String

    public init(root: String) {
        self.root = (root as NSString).standardizingPath
    }

    public var specPath: String { "\(root)/\(Self.specFile)" }

    public func path(_ relative: String) -> String { "\(root)/\(relative)" }

    /// Every regular file in the repository, relative to its root, skipping `.git`.
    public func listFiles() -> Set<String> {
        var out = Set<String>()
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return out }
        while let item = enumerator.nextObject() as? String {
            if item == ".git" || item.hasPrefix(".git/") {
                enumerator.skipDescendants()
                continue
            }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path(item), isDirectory: &isDirectory), !isDirectory.boolValue {
                out.insert(item)
            }
        }
        return out
    }

    public func read(_ relative: String) throws -> String {
        let full = path(relative)
        guard let data = FileManager.default.contents(atPath: full) else {
            throw BerthError(.notFound, "\(full) does not exist")
        }
        return String(decoding: data, as: UTF8.self)
    }

    public func readIfPresent(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path(relative)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Parses `fleet.yaml` and runs the structural and cross-file checks.
    public func load() throws -> LoadedFleet {
        guard let text = readIfPresent(Self.specFile) else {
            throw BerthError(.notFound, "\(specPath) does not exist; run `berthctl init \(root) --fleet NAME` or pass --repo DIR")
        }
        let document = FleetParser.parse(text, file: Self.specFile)
        let diagnostics = FleetValidator.validate(document, repositoryFiles: listFiles())
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
