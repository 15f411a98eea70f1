import BerthControl
import BerthCore
import Foundation
import Testing

/// The status page (`berthctl status --html`) places every report field a host controls as text,
/// never as markup, and is self-contained. The browser test (CLITests/StatusPageTests) shows the
/// same page in Chromium; these check the renderer directly, field by field.
@Suite("status page: every report field escaped, self-contained, problems first")
struct StatusPageEscapingTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let revision = "0123456789abcdef0123456789abcdef01234567"

    /// A report with every optional part present, so every field it has can be tried.
    func fullReport(_ host: String, _ state: HostState = .rolledBack) -> ReconcileReport {
        var r = ReconcileReport(host: host, agentVersion: "0.9.0", time: now.addingTimeInterval(-30), state: state, message: "message",
                                source: SourceStatus(kind: .git, location: "https://git.example.com/fleet.git", stale: true, error: "fetch failed",
                                                     trust: .verified, signer: "ops ssh-ed25519 AAAA"),
                                intervalSeconds: 300)
        r.fleet = "prod"
        r.desiredRevision = revision
        r.appliedRevision = revision
        r.lastKnownGoodRevision = revision
        r.drift = [DriftItem(.fileContent, "/etc/x", "differs", diff: "--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n")]
        r.actions = [ActionRecord(.restart, "docker.service", reason: "changed", ok: false)]
        r.serverCertificate = CertificateInfo(subject: "CN=\(host)", sans: ["10.0.0.5"], notAfter: now.addingTimeInterval(50 * 86_400), sha256: "ab")
        r.pendingCSR = PendingCSR(pem: "pem", sha256: "cd", sans: ["10.0.0.6"], reason: "renewal", joinMAC: "mac")
        r.daemon = DaemonStatus(active: true, pid: 7, version: "20.10", containersRunning: 1, liveRestore: true,
                                listeners: [ListenerStatus(url: "tcp://0.0.0.0:2376", .failed("refused"))])
        r.quarantine = QuarantineInfo(revision: revision, contentHash: "ef", reason: "verification failed", since: now)
        r.journal = ["line one", "line two"]
        r.nextPassAt = now
        r.error = "error"
        r.warnings = ["warning"]
        return r
    }

    func page(_ reports: [String: ReconcileReport], hosts: [String]? = nil, trust: [String: ReportTrust] = [:],
              context: StatusPage.Context? = nil) throws -> (String, FleetStatus) {
        let names = hosts ?? reports.keys.sorted()
        var checked: [String: CheckedReport] = [:]
        for (host, report) in reports {
            checked[host] = CheckedReport(fetched: FetchedReport(host: host, json: try report.encoded(), signature: nil), trust: trust[host] ?? .verified)
        }
        let status = FleetStatus.compute(hosts: names, reports: checked, revision: revision, now: now)
        return (StatusPage.render(status, reports: reports, context: context ?? .init(fleet: "prod", generated: now)), status)
    }

    /// Every free-text field of a report: the JSON paths of its string values that can hold any
    /// text (found by trying: a value that no longer decodes when changed is an enum or a date).
    func freeTextPaths(of report: ReconcileReport) throws -> [[PathStep]] {
        let json = try JSONSerialization.jsonObject(with: Data(try report.encoded()))
        var paths: [[PathStep]] = []
        func walk(_ value: Any, _ path: [PathStep]) {
            if let object = value as? [String: Any] {
                for (key, child) in object { walk(child, path + [.key(key)]) }
            } else if let array = value as? [Any] {
                for (index, child) in array.enumerated() { walk(child, path + [.index(index)]) }
            } else if value is String {
                paths.append(path)
            }
        }
        walk(json, [])
        return try paths.filter { path in
            let changed = Self.setting(json, path, to: "any text <b>")
            return (try? ReconcileReport.decode(try JSONSerialization.data(withJSONObject: changed))) != nil
        }.sorted { $0.description < $1.description }
    }

    enum PathStep: CustomStringConvertible {
        case key(String), index(Int)
        var description: String {
            switch self {
            case .key(let key): return ".\(key)"
            case .index(let index): return "[\(index)]"
            }
        }
    }

    static func setting(_ value: Any, _ path: ArraySlice<PathStep>, to text: String) -> Any {
        guard let step = path.first else { return text }
        switch step {
        case .key(let key):
            var object = value as! [String: Any]
            object[key] = setting(object[key]!, path.dropFirst(), to: text)
            return object
        case .index(let index):
            var array = value as! [Any]
            array[index] = setting(array[index], path.dropFirst(), to: text)
            return array
        }
    }

    static func setting(_ value: Any, _ path: [PathStep], to text: String) -> Any { setting(value, path[...], to: text) }

    /// What a hostile host writes into field number `n`: markup, quotes, an ampersand, an escape
    /// sequence, a bell and a right-to-left override. A `+` keeps a revision from being shortened.
    static func payload(_ n: Int) -> String { "+<b id=x\(n)>\(n)<script>alert(\(n))</script> & \"q\" 'a' \u{1B}[2J\u{7}\u{202E}" }

    /// How `payload(n)` must appear in the page.
    static func escaped(_ n: Int) -> String {
        "+&lt;b id=x\(n)&gt;\(n)&lt;script&gt;alert(\(n))&lt;/script&gt; &amp; &quot;q&quot; &#39;a&#39; \\x1b[2J\\x07\\u{202e}"
    }

    @Test("every report field that reaches the page is escaped there, and the fields that reach it are the expected ones")
    func everyFieldEscaped() throws {
        let base = fullReport("web-1")
        let paths = try freeTextPaths(of: base)
        #expect(paths.count >= 25, "found only \(paths.map(\.description))")
        let names = paths.map { $0.map(\.description).joined() }
        // A report whose `host` is not the name it is filed under is not read (the page shows the
        // controller's problem with it, naming the claimed host), so that field gets a page of its
        // own and every other field is tried on one page, all at once.
        let groups = [names.indices.filter { names[$0] != ".host" }, names.indices.filter { names[$0] == ".host" }]
        #expect(groups[1].count == 1)
        var reached: [String] = []
        for group in groups {
            var json = try JSONSerialization.jsonObject(with: Data(try base.encoded()))
            for n in group { json = Self.setting(json, paths[n], to: Self.payload(n)) }
            let hostile = try ReconcileReport.decode(try JSONSerialization.data(withJSONObject: json))

            let (html, _) = try page(["web-1": hostile])
            for n in group {
                #expect(!html.contains("<b id=x\(n)>"), "\(names[n]) reaches the page as markup")
                if html.contains("&lt;b id=x\(n)&gt;") {
                    #expect(html.contains(Self.escaped(n)), "\(names[n]) is on the page, but not escaped whole")
                    reached.append(names[n])
                }
            }
            #expect(!html.contains("<script>alert"), "a host's script is on the page as a script")
            #expect(html.components(separatedBy: "<script>").count == 2, "the page has exactly one script: its own")
            #expect(!html.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" }, "a control character reached the page")
            #expect(!html.unicodeScalars.contains { (0x202a...0x202e).contains($0.value) || (0x2066...0x2069).contains($0.value) })
        }
        // Certificate subject, SANs and fingerprint, the CSR's PEM, listeners, the last-known-good
        // revision and the report's own fleet and desired revision are not on the page: the page
        // shows the certificate's expiry (a date), fleet.yaml's fleet name and the repository's
        // revision. The row's host name comes from fleet.yaml (validated); the report's own `host`
        // reaches the page only in the controller's note that it differs.
        #expect(Set(reached) == [
            ".actions[0].object", ".actions[0].reason", ".agentVersion", ".appliedRevision", ".daemon.version",
            ".drift[0].diff", ".drift[0].object", ".drift[0].reason", ".error", ".host", ".journal[0]", ".journal[1]", ".message",
            ".pendingCSR.reason", ".pendingCSR.sans[0]", ".pendingCSR.sha256", ".quarantine.reason", ".quarantine.revision",
            ".source.error", ".source.location", ".source.signer", ".warnings[0]",
        ], "fields on the page changed; give each new one a case here: \(reached.sorted())")
    }

    @Test("the host name, fleet name, notes and an unverified report's reason are escaped too", arguments: ["host", "fleet", "note", "trust"])
    func contextEscaped(field: String) throws {
        let p = Self.payload(1)
        let host = field == "host" ? p : "web-1"
        var context = StatusPage.Context(fleet: field == "fleet" ? p : "prod", generated: now, notes: field == "note" ? [p] : [])
        context.renewBefore = [:]
        let (html, _) = try page([host: fullReport(host)], trust: field == "trust" ? [host: .unverified(p)] : [:], context: context)
        #expect(html.contains(Self.escaped(1)))
        #expect(!html.contains("<b id=x1>") && !html.contains("<script>alert"))
    }

    @Test("a report that does not verify shows the controller's verdict, never its drift or details")
    func unverifiedShowsNothingOfItsOwn() throws {
        var forged = fullReport("web-1")
        forged.message = "all is well, nothing to see"
        forged.drift[0].reason = "planted-reason"
        let (html, status) = try page(["web-1": forged], trust: ["web-1": .unverified("the signature was not made by web-1's key")])
        #expect(status.rows[0].state == .unverified)
        #expect(html.contains("<b class=bad>unverified</b>"))
        #expect(html.contains("not signed by web-1&#39;s key"))
        #expect(!html.contains("planted-reason") && !html.contains("all is well"))
        // Nor its claims: revision, drift kinds, certificate, time.
        let row = try #require(Self.hostRows(html).first)
        #expect(row.row.contains("<b class=bad>unverified</b><td class=none>-<td class=none>-<td class=none>-<td class=none>-<td class=bad>unverified<td class=msg>"),
                "\(row.row)")
        #expect(!html.contains("file-content") && !html.contains("data-t="))
    }

    /// The host rows of a page's table, in order, each with the detail row under it (if any).
    static func hostRows(_ html: String) -> [(host: String, row: String, more: String?)] {
        let body = html.components(separatedBy: "<tbody>")[1].components(separatedBy: "</tbody>")[0]
        var rows: [(host: String, row: String, more: String?)] = []
        for piece in body.components(separatedBy: "<tr").dropFirst() {
            if piece.hasPrefix(" class=more>") {
                rows[rows.count - 1].more = piece
                continue
            }
            var cell = piece.components(separatedBy: "<td>")[1]
            if cell.hasPrefix("<details><summary>") { cell = String(cell.dropFirst("<details><summary>".count)) }
            rows.append((String(cell.prefix { $0 != "<" }), piece, nil))
        }
        return rows
    }

    @Test("one row per declared host, problems first; totals; cert inside the host's renewBefore highlighted; details only where there are some")
    func rowsAndTotals() throws {
        var reports: [String: ReconcileReport] = [:]
        for (host, state) in [("a", HostState.inSync), ("b", .failed), ("c", .repaired), ("d", .rolledBack), ("e", .inSync)] {
            var r = fullReport(host, state)
            r.quarantine = nil
            reports[host] = r
        }
        reports["a"]!.serverCertificate!.notAfter = now.addingTimeInterval(10 * 86_400)   // inside the default 30d
        reports["e"]!.serverCertificate!.notAfter = now.addingTimeInterval(10 * 86_400)   // outside e's own 7d
        reports["c"]!.serverCertificate!.notAfter = now.addingTimeInterval(-86_400)
        // A plain in-sync host, as most of a fleet is: one row, nothing to open.
        var plain = ReconcileReport(host: "g", agentVersion: "0.9.0", time: now.addingTimeInterval(-30), state: .inSync, message: "in sync",
                                    source: SourceStatus(kind: .git, location: "https://git.example.com/fleet.git", trust: .verified),
                                    intervalSeconds: 300)
        plain.appliedRevision = revision
        plain.serverCertificate = CertificateInfo(subject: "CN=g", sans: ["g"], notAfter: now.addingTimeInterval(60 * 86_400), sha256: "ab")
        reports["g"] = plain
        let context = StatusPage.Context(fleet: "prod", generated: now, renewBefore: ["e": 7 * 86_400])
        let (html, _) = try page(reports, hosts: ["a", "b", "c", "d", "e", "f", "g"], context: context)
        let rows = Self.hostRows(html)
        #expect(rows.map(\.host) == ["b", "d", "f", "c", "a", "e", "g"], "failed, rolled-back, unknown, repaired, in-sync")
        #expect(html.contains("<strong>7</strong> hosts · <strong class=ok>4</strong> in sync at this revision · <strong class=bad>3</strong> need attention"))
        #expect(html.contains("certificates: <strong class=warn>1</strong> inside renewBefore, <strong class=bad>1</strong> expired"))
        let row = Dictionary(uniqueKeysWithValues: rows.map { ($0.host, $0) })
        #expect(row["a"]!.row.hasPrefix(" data-t=\"renew\">") && row["a"]!.row.contains("<td class=renew title=") && row["a"]!.row.contains("in 10d · renew"))
        #expect(!row["e"]!.row.hasPrefix(" data-t") && !row["e"]!.row.contains("class=renew") && !row["e"]!.row.contains("· renew"), "\(row["e"]!.row)")
        #expect(row["c"]!.row.hasPrefix(" data-t=\"expired\">") && row["c"]!.row.contains("<td class=expired title=") && row["c"]!.row.contains("expired 24h ago"))
        #expect(row["b"]!.row.hasPrefix(" class=bad><td><details><summary>b</summary></details><td><b class=bad>failed</b>"))
        #expect(row["f"]!.row.contains("<b class=idle>unknown</b>") && row["f"]!.row.contains("never"))
        #expect(row["g"]!.row.hasPrefix("><td>g<td><b class=ok>in-sync</b><td class=rev>0123456789ab<td class=none>-<td title="), "\(row["g"]!.row)")
        #expect(row["g"]!.more == nil && !row["g"]!.row.contains("<details>"))
        // The rolled-back host's detail row: its message, its drift with the diff, its journal and actions.
        let more = try #require(row["d"]!.more)
        #expect(more.contains("<h3>drift</h3><p><b>file-content</b> <code>/etc/x</code>: differs</p><pre class=diff><span class=f>--- a</span>"))
        #expect(more.contains("<span class=r>-old</span>\n<span class=a>+new</span></pre>"))
        #expect(more.contains("<b>journalctl -u docker</b>") && more.contains("<b class=bad>failed</b> restart <code>docker.service</code>: changed"))
        #expect(more.contains("report verified · commit signed by ops ssh-ed25519 AAAA"))
    }

    @Test("self-contained: no external reference, and the CSP names the page's own style and script by their hashes")
    func selfContained() throws {
        let (html, _) = try page(["web-1": fullReport("web-1")])
        for reference in ["src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "<object"] {
            #expect(!html.contains(reference), "\(reference)")
        }
        func between(_ open: String, _ close: String) -> String {
            html.components(separatedBy: open)[1].components(separatedBy: close)[0]
        }
        let style = between("<style>", "</style>"), script = between("<script>", "</script>")
        let policy = between("http-equiv=\"Content-Security-Policy\" content=\"", "\"")
        #expect(policy.hasPrefix("default-src 'none'; "))
        #expect(policy.contains("style-src '\(Self.cspHash(style))'"))
        #expect(policy.contains("script-src '\(Self.cspHash(script))'"))
        #expect(html.contains("https://git.example.com/fleet.git"), "the stale source's location is shown, as text")
    }

    static func cspHash(_ text: String) -> String {
        // Not the renderer's own hashing: sha256sum's, turned into base64.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let hex = Array(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64))
        process.waitUntilExit()
        let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(hex[$0..<$0 + 2]), radix: 16)! }
        return "sha256-" + Data(bytes).base64EncodedString()
    }
}
