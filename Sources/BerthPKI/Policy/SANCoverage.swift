/// Whether the names a CSR asks for are covered by what `fleet.yaml` declares for the host.
///
/// `notCovered` carries one reason per offending name (or per missing confirmation), each a
/// full sentence naming the SAN, the field and the fix, so `berthctl sign` can print them
/// all at once instead of making the operator fix one at a time.
public enum SANCoverage: Sendable, Hashable {
    case covered
    case notCovered(reasons: [String])

    public var reasons: [String] {
        if case .notCovered(let reasons) = self { return reasons }
        return []
    }
}
