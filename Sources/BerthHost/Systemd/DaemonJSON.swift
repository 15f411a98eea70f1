import BerthCore
import Foundation

/// Checks `/etc/docker/daemon.json` against the flags Berth sets.
///
/// dockerd refuses to start when a setting is given both as a flag and in daemon.json
/// ("the following directives are specified both as a flag and in the configuration file"),
/// so a `hosts` or `tls*` key there would crash-loop it after our restart.
public enum DaemonJSON {
    public static func conflicts(root: String, usesTLS: Bool) -> [String] {
        let path = HostLayout.path(HostLayout.daemonJSON, under: root)
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }) { return [] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return ["is not a valid JSON object, so dockerd would not start; fix or remove it"]
        }
        var out: [String] = []
        if object["hosts"] != nil {
            out.append("sets \"hosts\", which clashes with the -H flags of \(HostLayout.dropInName): dockerd would refuse to start; remove the key and let fleet.yaml's listeners say it")
        }
        for key in ["tls", "tlsverify", "tlscacert", "tlscert", "tlskey"] where object[key] != nil && usesTLS {
            out.append("sets \"\(key)\", which clashes with Berth's --\(key) flag: dockerd would refuse to start; remove the key")
        }
        return out
    }
}
