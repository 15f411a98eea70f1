import BerthCore
import Foundation

/// Checks `/etc/docker/daemon.json` against the flags Berth sets.
///
/// dockerd refuses to start when a setting is given both as a flag and in daemon.json
/// ("the following directives are specified both as a flag and in the configuration file"),
/// so a `hosts` or `tls*` key there would crash-loop it after our restart.
public enum DaemonJSON {
    public static func conflicts(root: String, usesTLS: Bool) -> [Conflict] {
        let path = HostLayout.daemonJSON
        let bytes: [UInt8]
        do {
            guard let read = try BoundedFile.read(HostLayout.path(path, under: root), limit: BoundedFile.documentLimit, display: path) else { return [] }
            bytes = read
        } catch {
            return [Conflict(.daemonJSON, file: path, "\(error); dockerd reads it at start")]
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }) { return [] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            return [Conflict(.daemonJSON, file: path, "is not a valid JSON object, so dockerd would not start; fix or remove it")]
        }
        var out: [Conflict] = []
        if object["hosts"] != nil {
            out.append(Conflict(.daemonJSON, file: path, "sets \"hosts\", which clashes with the -H flags of \(HostLayout.dropInName): dockerd would refuse to start; remove the key and let fleet.yaml's listeners say it"))
        }
        for key in ["tls", "tlsverify", "tlscacert", "tlscert", "tlskey"] where object[key] != nil && usesTLS {
            out.append(Conflict(.daemonJSON, file: path, "sets \"\(key)\", which clashes with Berth's --\(key) flag: dockerd would refuse to start; remove the key"))
        }
        return out
    }
}
