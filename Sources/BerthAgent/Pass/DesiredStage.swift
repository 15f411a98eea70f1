import BerthCore
import BerthHost
import BerthPKI
import Foundation

/// The second stage of a pass: from the trusted tree to the exact files this host should have.
/// Loads and validates `fleet.yaml` (bounded, no links, no YAML aliases), resolves this host,
/// settles its key and certificate, and renders the managed set.
struct DesiredStage: Sendable {
    var settings: AgentSettings
    var environment: AgentEnvironment

    /// Everything the pass wants on the host, decided before anything is looked at there.
    struct Desired: Sendable {
        var host: ResolvedHost
        var fleet: String
        var revision: String
        var caPEM: String
        var unit: DockerUnit
        var certificate: CertificateOutcome
        var probe: ProbeIdentity?
        var rendered: RenderedHost
        var warnings: [Diagnostic]

        var files: [ManagedFile] { rendered.files }

        var expectation: HealthExpectation {
            HealthExpectation(declared: host.listeners, effective: rendered.dropIn.effectiveListeners, insecure: host.insecure,
                              caPEM: caPEM, serverCertificatePEM: rendered.dropIn.tls == nil ? nil : certificate.certificatePEM, probe: probe)
        }
    }

    enum Failure: Error {
        /// fleet.yaml is invalid for this host: nothing may change.
        case invalid(String)
        /// fleet.yaml is valid but does not declare this host: nothing may change (a host is
        /// never torn down for being missing; `retired: true` says so). Carries the known hosts.
        case notDeclared(known: [String])
        /// The host is `retired: true`: no managed set, no key or CSR; ``RetirementStage`` takes over.
        case retired(RetirementStage.Input)
        /// Something else stopped the stage (a missing unit, an unreadable key).
        case failed(String)
    }

    func load(root: String, revision: String, create: Bool) async -> Result<Desired, Failure> {
        let repository = FleetRepository(root: root)
        let loaded: LoadedFleet
        let host: ResolvedHost
        do {
            loaded = try repository.loadValid(for: settings.host)
        } catch {
            return .failure(.invalid("\(error)"))
        }
        guard let resolved = loaded.spec.resolve(host: settings.host) else {
            return .failure(.notDeclared(known: loaded.spec.hosts.map(\.name)))
        }
        host = resolved
        if host.retired {
            return .failure(.retired(RetirementStage.Input(host: host, fleet: loaded.spec.fleet, revision: revision, warnings: loaded.warnings)))
        }
        do {
            // Everything the repository and the host say is read and checked first: a bad input
            // (a huge PEM, a link) must leave the host untouched, so no key is made before.
            let caPEM = try repository.readPEM(loaded.spec.ca)
            let repoCert = try repository.readIfPresent(FleetLayout.serverCertificate(host.name), limit: BoundedFile.pemLimit)
            let unit = try DesiredFiles.findUnit(root: settings.root)
            var input = try DesiredFiles.input(fleet: loaded, host: host, revision: revision, root: settings.root, unit: unit, serverCertificate: nil)
            let keys = KeyMaterial(settings: settings, environment: environment)
            let probe = try keys.probeIdentity(create: create)
            let certificate = try await keys.assess(host: host, certificate: repoCert, caPEM: caPEM, create: create)
            // The probe identity may have been made just now: it is pinned with the clients.
            input.probeCertificatePEM = probe?.certificatePEM ?? input.probeCertificatePEM
            if host.needsServerCertificate {
                input.serverCertificatePEM = certificate.certificatePEM
                input.serverKeyPEM = certificate.keyPEM
            }
            let rendered = HostRenderer.render(input)
            return .success(Desired(host: host, fleet: loaded.spec.fleet, revision: revision, caPEM: caPEM, unit: unit, certificate: certificate,
                                    probe: probe, rendered: rendered, warnings: loaded.warnings))
        } catch let error as FleetValidationError {
            return .failure(.invalid("\(error)"))
        } catch let error as BerthError where error.code == .invalidInput || error.code == .symlinkRefused || error.code == .notFound {
            return .failure(.invalid("\(error)"))
        } catch {
            return .failure(.failed("\(error)"))
        }
    }
}
