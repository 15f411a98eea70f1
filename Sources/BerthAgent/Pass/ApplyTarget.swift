import BerthCore
import BerthHost
import Foundation

/// What ``ApplyStage`` moves the host to, as far as verifying and rolling back need to know: the
/// revision, the content hash a failure is quarantined under, what dockerd must serve afterwards,
/// and the identity that probes it. A rendered managed set is one target; a retirement (nothing
/// of Berth's, dockerd on its packaged configuration) is another.
struct ApplyTarget: Sendable {
    var revision: String
    var contentHash: String
    var expectation: HealthExpectation
    var probe: ProbeIdentity?

    init(revision: String, contentHash: String, expectation: HealthExpectation, probe: ProbeIdentity?) {
        self.revision = revision
        self.contentHash = contentHash
        self.expectation = expectation
        self.probe = probe
    }

    /// The rendered managed set of a pass.
    init(_ desired: DesiredStage.Desired) {
        self.init(revision: desired.revision, contentHash: ManagedFile.contentHash(of: desired.files),
                  expectation: desired.expectation, probe: desired.probe)
    }
}
