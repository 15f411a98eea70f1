import BerthCore
import Foundation

/// Finds drop-ins of `docker.service` other than ours that set `ExecStart=` after ours.
///
/// systemd applies drop-ins in file-name order across all drop-in directories; a later one that
/// sets `ExecStart=` silently replaces Berth's command line — one of Docker Machine's classic failures.
public enum DropInScanner {
    public static let directories = [
        "/etc/systemd/system/docker.service.d",
        "/run/systemd/system/docker.service.d",
        "/usr/lib/systemd/system/docker.service.d",
        "/lib/systemd/system/docker.service.d",
    ]

    /// Host paths of overriding drop-ins, looked up under `root` (and in `reported`, systemd's DropInPaths).
    public static func overriding(root: String, reported: [String] = []) -> [String] {
        var candidates = Set(reported)
        for dir in directories {
            let full = HostLayout.path(dir, under: root)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? [] where name.hasSuffix(".conf") {
                candidates.insert("\(dir)/\(name)")
            }
        }
        let ours = HostLayout.dropInName
        return candidates.filter { path in
            let name = (path as NSString).lastPathComponent
            guard name > ours, path != HostLayout.dropIn else { return false }
            guard let data = FileManager.default.contents(atPath: HostLayout.path(path, under: root)) else { return false }
            return setsExecStart(String(decoding: data, as: UTF8.self))
        }.sorted()
    }

    static func setsExecStart(_ text: String) -> Bool {
        var section = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") { section = line; continue }
            if section == "[Service]" && line.hasPrefix("ExecStart=") { return true }
        }
        return false
    }
}
