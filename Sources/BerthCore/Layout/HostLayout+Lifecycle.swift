/// The files of a host's lifecycle beyond reconciling: retirement and report history.
extension HostLayout {
    /// Written once a retirement passed verification: from then on the agent only reports.
    /// Holds the revision and time; removed if the host is taken back into service.
    public static let retiredMarker = "\(stateDir)/retired.json"
    /// The history key of the last report (``ReconcileReport/historyKey``), to tell a pass worth a
    /// history entry from a repeat.
    public static let reportHistoryState = "\(stateDir)/report-history.json"
    /// This host's chain of report commits (`refs/berth/status/HOST`): its entries and what was
    /// last pushed where, so each push can be a compare-and-swap on the value the host last saw.
    public static let statusChainState = "\(stateDir)/status-chain.json"
    /// Serializes the pushes of one host (a timer pass, `run`, `publish` by hand).
    public static let publishLock = "/run/berth/publish.lock"

    /// Whether a file name in ``tlsDir`` is one Berth wrote: the content-addressed files, the CA
    /// copy, and the fixed names agents before 0.2 used. A retired host loses exactly these;
    /// anything else in the directory is not Berth's and stays.
    public static func isBerthTLSFile(_ name: String) -> Bool {
        isContentAddressed(name) || ["ca.pem", "server.pem", "server-key.pem", "clients.pem"].contains(name)
    }

    /// Files under ``stateDir`` a retired host no longer needs: the key copy kept with the
    /// last-known-good set, the pending-restart ledger, a quarantine, a staged key and its CSR, the
    /// probe identity. The host key stays: it signs the `retired` reports `berthctl host rm` checks.
    public static let retiredStateFiles = [lastKnownGood, restartLedger, quarantine, stagedKey, csr, probeCertificate, probeKey, joinToken]
}
