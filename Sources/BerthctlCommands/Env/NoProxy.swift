import Foundation

/// `berthctl env --no-proxy`: a host's address in the list of destinations the docker client
/// reaches without its HTTP proxy. As `docker-machine env --no-proxy` did it: `no_proxy` when it
/// is set, else `NO_PROXY`; what the list already holds is kept, and an address already in it is
/// not added again (compared entry by entry, so 10.0.0.5 is not taken for 10.0.0.50).
struct NoProxy: Equatable {
    /// The variable to set: the one the user's environment already uses.
    var variable: String
    /// Its value now (empty when unset).
    var current: String
    var address: String

    init(environment: [String: String], address: String) {
        if let lower = environment["no_proxy"], !lower.isEmpty {
            (variable, current) = ("no_proxy", lower)
        } else {
            (variable, current) = ("NO_PROXY", environment["NO_PROXY"] ?? "")
        }
        self.address = address
    }

    private var entries: [String] {
        current.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The list with the address at its end, or unchanged when it is already there.
    func adding() -> String {
        if entries.contains(address) { return current }
        if current.isEmpty { return address }
        return current.hasSuffix(",") ? current + address : current + "," + address
    }

    /// The list without the address (`--unset`); empty when nothing else was in it.
    func removing() -> String {
        entries.filter { $0 != address }.joined(separator: ",")
    }
}
