import Foundation

/// Where `now` falls in a certificate's validity period.
///
/// Every time decision in BerthPKI goes through this one type so the boundary rules
/// (notBefore and notAfter are both inclusive, RFC 5280 §4.1.2.5) are written once.
public enum CertificateExpiry: Sendable, Hashable {
    /// `now` is before notBefore: a clock problem on one side, or a certificate from the future.
    case notYetValid(notBefore: Date)
    case valid(notAfter: Date)
    case expired(notAfter: Date)

    public init(notBefore: Date, notAfter: Date, now: Date) {
        if now < notBefore { self = .notYetValid(notBefore: notBefore) }
        else if now > notAfter { self = .expired(notAfter: notAfter) }
        else { self = .valid(notAfter: notAfter) }
    }

    /// True when the certificate is valid at `now` but expires within `window` of it.
    public func isInside(renewWindow seconds: Int, now: Date) -> Bool {
        guard case .valid(let notAfter) = self else { return false }
        return notAfter.timeIntervalSince(now) <= TimeInterval(seconds)
    }
}
