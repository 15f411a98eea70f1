import BerthCore
import BerthHost

/// The checks `validate` adds on top of fleet.yaml's own: certificates and private keys.
enum RepositoryChecks {
    static func run(_ loaded: LoadedFleet) -> [Diagnostic] {
        []
    }
}
