import BerthCore
import BerthPKI
import Foundation

/// `berthctl status --html FILE`: the fleet view as one self-contained HTML page, for a person at
/// 3 a.m. and for publishing from CI.
///
/// The page needs nothing but itself: inline CSS and one small inline script (the filter box and
/// expand/collapse), no fonts, images or requests, so any static server or CI artifact store can
/// serve it. A Content-Security-Policy names that style and script by their SHA-256 and allows
/// nothing else, so even text that slipped through escaping could neither run nor load anything.
/// Everything a host wrote (message, revisions, drift, diffs, journal, actions...) goes through
/// ``HTMLText``; reports come from hosts and a host may be hostile.
///
/// The table is rendered on the controller, not built by the script: the page reads the same
/// without JavaScript, a test can read the DOM, and 10,000 rows stay a few megabytes of plain
/// markup (figures in docs/status-page.md). Rows come problems first (failed, rolled back,
/// unverified ... in sync), in fleet.yaml order within a state.
public enum StatusPage {
    /// What the page shows besides the hosts' rows.
    public struct Context: Sendable {
        public var fleet: String
        /// When the page was made: "last seen" and certificate expiry are counted from it.
        public var generated: Date
        public var staleAfter: TimeInterval
        /// Each host's `renewBefore` in seconds (defaults merged); a certificate expiring inside it
        /// is highlighted. A host not listed uses the fleet default of 30 days.
        public var renewBefore: [String: TimeInterval]
        /// Problems to show above the table: an invalid fleet.yaml, refs that could not be fetched.
        public var notes: [String]

        public init(fleet: String, generated: Date, staleAfter: TimeInterval = FleetStatus.defaultStaleAfter,
                    renewBefore: [String: TimeInterval] = [:], notes: [String] = []) {
            self.fleet = fleet
            self.generated = generated
            self.staleAfter = staleAfter
            self.renewBefore = renewBefore
            self.notes = notes
        }
    }

    /// The page for `status`; `reports` are the hosts' readable reports (for drift diffs and
    /// details), by host name. A report the controller does not believe (`unverified`) shows
    /// only the controller's verdict, never its drift or details.
    public static func render(_ status: FleetStatus, reports: [String: ReconcileReport], context: Context) -> String {
        let now = context.generated
        let rows = status.rows.enumerated().sorted {
            let (a, b) = (severity($0.element.state), severity($1.element.state))
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)

        var counts: [HostState: Int] = [:]
        var renewing = 0, expired = 0, inSync = 0
        for row in rows {
            counts[row.state, default: 0] += 1
            if status.isInSync(row) { inSync += 1 }
            switch certificate(row, context) {
            case .renew: renewing += 1
            case .expired: expired += 1
            default: break
            }
        }
        let attention = rows.count - inSync

        var out = ""
        out.reserveCapacity(4096 + rows.count * 260)
        out += "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        out += "<meta http-equiv=\"Content-Security-Policy\" content=\"\(contentSecurityPolicy)\">\n"
        out += "<meta name=viewport content=\"width=device-width, initial-scale=1\">\n<title>"
        HTMLText.escape(context.fleet, into: &out)
        out += " · Berth fleet status</title>\n<style>\(style)</style>\n</head>\n<body>\n<header>\n<h1>Fleet "
        HTMLText.escape(context.fleet, into: &out)
        out += "</h1>\n<p class=meta>revision <code>"
        HTMLText.escape(status.revision, into: &out)
        out += "</code> · generated \(UTCTime.format(now)) · stale after \(span(context.staleAfter))</p>\n"
        for note in context.notes {
            out += "<p class=note>"
            HTMLText.escape(note, into: &out)
            out += "</p>\n"
        }
        out += "<p id=totals><strong>\(grouped(rows.count))</strong> host\(rows.count == 1 ? "" : "s")"
        out += " · <strong class=\(inSync > 0 ? "ok" : "idle")>\(grouped(inSync))</strong> in sync at this revision"
        out += " · <strong class=\(attention > 0 ? "bad" : "idle")>\(grouped(attention))</strong> need\(attention == 1 ? "s" : "") attention"
        out += " · certificates: <strong class=\(renewing > 0 ? "warn" : "idle")>\(grouped(renewing))</strong> inside renewBefore,"
        out += " <strong class=\(expired > 0 ? "bad" : "idle")>\(grouped(expired))</strong> expired</p>\n<p class=chips>"
        for state in HostState.allCases.sorted(by: { severity($0) < severity($1) }) {
            guard let count = counts[state] else { continue }
            out += "<button type=button data-q=\(state.rawValue)><b class=\(tone(state))>\(state.rawValue)</b> \(grouped(count))</button> "
        }
        if renewing > 0 { out += "<button type=button data-q=renew><b class=warn>renew</b> \(grouped(renewing))</button> " }
        if expired > 0 { out += "<button type=button data-q=expired><b class=bad>expired</b> \(grouped(expired))</button> " }
        out += "</p>\n<p id=tools hidden><input id=q type=search placeholder=\"filter by host or state\" aria-label=\"filter by host or state\" autocomplete=off> "
        out += "<button type=button id=open>expand all</button> <button type=button id=close>collapse all</button> "
        out += "<span id=shown>\(grouped(rows.count))</span> shown · click a host for its drift, diffs and details</p>\n</header>\n"
        // The table's layout is fixed (fast at 10,000 rows, and no long diff can widen it): the
        // host column is sized by a class for the longest name, since the CSP admits no style attribute.
        let longest = rows.lazy.map(\.host.count).max() ?? 0
        let hostWidth = longest <= 10 ? "h1" : longest <= 16 ? "h2" : longest <= 24 ? "h3" : "h4"
        let stateWidth = counts[.awaitingCertificate] == nil ? "" : " s2"
        out += "<table id=hosts class=\"\(hostWidth)\(stateWidth)\">\n<thead><tr><th>host<th>state<th title=\"the revision the host applied; desired: the repository's, when it differs\">applied"
        out += "<th>drift<th>cert expires<th>last seen"
        out += "<th title=\"signed: the report is signed by the host's certificate and the host applied a signed commit\">trust<th>message</thead>\n<tbody>\n"
        for row in rows {
            let believed = row.state != .unverified
            appendRow(row, report: believed ? reports[row.host] : nil, status: status, context: context, into: &out)
        }
        out += "</tbody>\n</table>\n<script>\(script)</script>\n</body>\n</html>\n"
        return out
    }

    /// One host: a row of single-line cells and, when it has more to say (drift, an error, a
    /// message too long for its cell...), a full-width row under it that its host's `<details>`
    /// opens (by CSS alone: the page reads the same without JavaScript).
    static func appendRow(_ row: FleetStatus.Row, report: ReconcileReport?, status: FleetStatus, context: Context, into out: inout String) {
        let now = context.generated
        let cert = certificate(row, context)
        var tags: [String] = []
        if case .renew = cert { tags.append("renew") }
        if case .expired = cert { tags.append("expired") }
        let more = hasMore(row, report: report)
        let rowTone = tone(row.state)
        out += "<tr"
        if rowTone == "bad" || rowTone == "warn" { out += " class=\(rowTone)" }
        if !tags.isEmpty { out += " data-t=\"\(tags.joined(separator: " "))\"" }
        out += more ? "><td><details><summary>" : "><td>"
        HTMLText.escape(row.host, into: &out)
        if more { out += "</summary></details>" }
        out += "<td><b class=\(rowTone)>\(row.state.rawValue)</b>"

        // A report the controller does not believe: none of its claims (revision, drift,
        // certificate, time) is shown, only the verdict in its message. No report: nothing to show.
        if row.state == .unverified || row.state == .unknown {
            out += "<td class=none>-<td class=none>-<td class=none>-<td class=none>\(row.state == .unknown ? "never" : "-")"
        } else {
            appendClaims(row, cert: cert, status: status, now: now, into: &out)
        }

        let (trustWord, trustTone) = trust(row)
        out += trustTone.isEmpty ? "<td>\(trustWord)" : "<td class=\(trustTone)>\(trustWord)"

        out += "<td class=msg>"
        HTMLText.escape(row.message, into: &out)
        out += "\n"
        if more {
            out += "<tr class=more><td colspan=8>"
            appendMore(row, report: report, into: &out)
            out += "\n"
        }
    }

    /// The cells a believed report fills: applied (and desired) revision, drift, certificate, last seen.
    static func appendClaims(_ row: FleetStatus.Row, cert: CertificateDue, status: FleetStatus, now: Date, into out: inout String) {
        let behind = row.appliedRevision != status.revision
        out += behind ? "<td class=\"rev behind\">" : "<td class=rev>"
        if let applied = row.appliedRevision { HTMLText.escape(ReportFormatter.short(applied), into: &out) } else { out += "none" }
        if behind {
            out += "<i><small>desired</small>"
            HTMLText.escape(ReportFormatter.short(status.revision), into: &out)
            out += "</i>"
        }
        if let quarantined = row.quarantinedRevision {
            out += "<i><small>quarantined</small>"
            HTMLText.escape(ReportFormatter.short(quarantined), into: &out)
            out += "</i>"
        }

        // `file-content×1,file-mode×1`: may break after each comma.
        out += row.driftSummary == "-" ? "<td class=none>-" : "<td class=drift>"
        if row.driftSummary != "-" {
            var first = true
            for part in row.driftSummary.split(separator: ",") {
                if !first { out += ",<wbr>" }
                first = false
                HTMLText.escape(String(part), into: &out)
            }
        }

        switch cert {
        case .none: out += "<td class=none>-"
        case .valid(let notAfter, let left):
            out += "<td title=\(UTCTime.format(notAfter))>in \(span(left))"
        case .renew(let notAfter, let left):
            out += "<td class=renew title=\(UTCTime.format(notAfter))>in \(span(left)) · renew"
        case .expired(let notAfter):
            out += "<td class=expired title=\(UTCTime.format(notAfter))>expired \(span(now.timeIntervalSince(notAfter))) ago"
        }

        if let seen = row.lastSeen {
            let age = now.timeIntervalSince(seen)
            out += "<td title=\(UTCTime.format(seen))>\(age >= 0 ? span(age) + " ago" : "in " + span(-age))"
        } else {
            out += "<td class=none>never"
        }
    }

    /// The one word of the trust column, worst first: the report's signature, then the commit's.
    static func trust(_ row: FleetStatus.Row) -> (String, String) {
        if row.state == .unknown { return ("none", "none") }
        switch row.trust {
        case .unverified: return ("unverified", "bad")
        case .pending: return ("pending", "warn")
        case .verified: break
        }
        switch row.commitTrust {
        case .verified?: return ("signed", "")
        case .unsigned?: return ("unsigned", "warn")
        case .untrusted?: return ("refused", "bad")
        case nil: return ("verified", "")
        }
    }

    /// Whether a row gets a detail row: most in-sync hosts do not (their message is `in sync`),
    /// which keeps 10,000 hosts a few megabytes.
    static func hasMore(_ row: FleetStatus.Row, report: ReconcileReport?) -> Bool {
        if row.message.utf8.count > 40 || row.trust != .verified { return true }
        guard let report else { return false }
        return !report.drift.isEmpty || hasDetails(report, row: row)
    }

    /// The detail row: the whole message, then (for a believed report) the drift with its diffs
    /// beside everything else the report says, and a line of versions and trust.
    static func appendMore(_ row: FleetStatus.Row, report: ReconcileReport?, into out: inout String) {
        out += "<p class=msg>"
        HTMLText.escape(row.message, into: &out)
        out += "</p>"
        // Not believed (its message says why) or never reported: nothing of its own to show.
        guard let report else { return }
        // Two columns when the width allows: the drift with its diffs, and the rest.
        let details = hasDetails(report, row: row)
        if !report.drift.isEmpty || details { out += "<div class=cols>" }
        if !report.drift.isEmpty {
            out += "<section><h3>drift</h3>"
            for item in report.drift { appendDrift(item, into: &out) }
            out += "</section>"
        }
        if details {
            out += "<section><h3>report</h3>"
            appendDetails(report, row: row, into: &out)
            out += "</section>"
        }
        if !report.drift.isEmpty || details { out += "</div>" }
        out += "<p class=foot>agent "
        HTMLText.escape(report.agentVersion, into: &out)
        if let docker = report.daemon?.version {
            out += " · dockerd "
            HTMLText.escape(docker, into: &out)
        }
        out += " · report \(row.trust.word)"
        switch row.commitTrust {
        case .verified?: out += " · commit signed"
        case .unsigned?: out += " · commits not signed (no allowed signers configured)"
        case .untrusted?: out += " · commit refused"
        case nil: break
        }
        if let signer = report.source.signer {
            out += " by "
            HTMLText.escape(signer, into: &out)
        }
        out += "</p>"
    }

    static func appendDrift(_ item: DriftItem, into out: inout String) {
        out += "<p><b>\(item.kind.rawValue)</b> <code>"
        HTMLText.escape(item.object, into: &out)
        out += "</code>: "
        HTMLText.escape(item.reason, into: &out)
        out += "</p>"
        guard let diff = item.diff, !diff.isEmpty else { return }
        out += "<pre class=diff>"
        var first = true
        for line in diff.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty && !first { continue }
            if !first { out += "\n" }
            first = false
            let kind: String? = line.hasPrefix("+++") || line.hasPrefix("---") ? "f"
                : line.hasPrefix("@@") ? "h" : line.hasPrefix("+") ? "a" : line.hasPrefix("-") ? "r" : nil
            if let kind { out += "<span class=\(kind)>" }
            HTMLText.escape(String(line), keepingNewlines: true, into: &out)
            if kind != nil { out += "</span>" }
        }
        out += "</pre>"
    }

    /// Whether a report says more than its message and drift: an error, a journal, actions...
    static func hasDetails(_ report: ReconcileReport, row: FleetStatus.Row) -> Bool {
        report.error != nil || report.quarantine != nil || !(report.journal ?? []).isEmpty || !report.actions.isEmpty
            || report.pendingCSR != nil || report.source.stale || report.source.error != nil || !(report.warnings ?? []).isEmpty
            || row.trust == .pending
    }

    static func appendDetails(_ report: ReconcileReport, row: FleetStatus.Row, into out: inout String) {
        func field(_ label: String, _ value: String) {
            out += "<p><b>\(label)</b> "
            HTMLText.escape(value, into: &out)
            out += "</p>"
        }
        if let error = report.error { field("error", error) }
        if let quarantine = report.quarantine {
            out += "<p><b>quarantined</b> revision <code>"
            HTMLText.escape(ReportFormatter.short(quarantine.revision), into: &out)
            out += "</code> since \(UTCTime.format(quarantine.since)): "
            HTMLText.escape(quarantine.reason, into: &out)
            out += "</p>"
        }
        if let journal = report.journal, !journal.isEmpty {
            out += "<p><b>journalctl -u docker</b></p><pre>"
            for (i, line) in journal.enumerated() {
                if i > 0 { out += "\n" }
                HTMLText.escape(line, into: &out)
            }
            out += "</pre>"
        }
        if !report.actions.isEmpty {
            out += "<p><b>actions</b></p><ul>"
            for action in report.actions {
                out += "<li>\(action.ok ? "" : "<b class=bad>failed</b> ")\(action.kind.rawValue) <code>"
                HTMLText.escape(action.object, into: &out)
                out += "</code>: "
                HTMLText.escape(action.reason, into: &out)
            }
            out += "</ul>"
        }
        if let csr = report.pendingCSR {
            out += "<p><b>pending CSR</b> sha256 <code>"
            HTMLText.escape(csr.sha256, into: &out)
            out += "</code> ("
            HTMLText.escape(csr.reason, into: &out)
            out += "), SANs "
            HTMLText.escape(csr.sans.joined(separator: ", "), into: &out)
            out += "</p>"
        }
        if row.trust == .pending {
            field("report", "signed by the key of its own pending CSR: a join token or `berthctl sign --fingerprint` must vouch for it")
        }
        if report.source.stale || report.source.error != nil {
            out += "<p><b>source</b> "
            HTMLText.escape(report.source.location, into: &out)
            if report.source.stale { out += " (stale)" }
            if let error = report.source.error {
                out += ": "
                HTMLText.escape(error, into: &out)
            }
            out += "</p>"
        }
        if let warnings = report.warnings, !warnings.isEmpty {
            out += "<p><b>warnings</b></p><ul>"
            for warning in warnings {
                out += "<li>"
                HTMLText.escape(warning, into: &out)
            }
            out += "</ul>"
        }
    }

    // MARK: - Certificates

    enum CertificateDue: Equatable {
        case none
        case valid(Date, TimeInterval)
        /// Inside the host's renewBefore: the agent should be asking for a new one.
        case renew(Date, TimeInterval)
        case expired(Date)
    }

    static func certificate(_ row: FleetStatus.Row, _ context: Context) -> CertificateDue {
        guard row.state != .unverified, let notAfter = row.certificateExpires else { return .none }
        let left = notAfter.timeIntervalSince(context.generated)
        if left <= 0 { return .expired(notAfter) }
        if left <= context.renewBefore[row.host] ?? TimeInterval(ResolvedHost.defaultRenewBefore.seconds) { return .renew(notAfter, left) }
        return .valid(notAfter, left)
    }

    // MARK: - Words

    /// Problems first: the order of the rows and of the totals.
    static func severity(_ state: HostState) -> Int {
        switch state {
        case .failed: return 0
        case .rolledBack: return 1
        case .unverified: return 2
        case .untrusted: return 3
        case .invalidState: return 4
        case .stale: return 5
        case .unknown: return 6
        case .pendingRestart: return 7
        case .awaitingCertificate: return 8
        case .repaired: return 9
        case .inSync: return 10
        case .retired: return 11
        }
    }

    /// The state's colour class; the state's word is always shown beside it.
    static func tone(_ state: HostState) -> String {
        switch state {
        case .inSync, .repaired: return "ok"
        case .pendingRestart, .awaitingCertificate, .stale: return "warn"
        case .unknown, .retired: return "idle"
        case .failed, .rolledBack, .unverified, .untrusted, .invalidState: return "bad"
        }
    }

    /// `45s`, `12m`, `5h`, `89d`.
    static func span(_ seconds: TimeInterval) -> String {
        let s = Int(seconds.rounded(.down))
        if s < 120 { return "\(s)s" }
        if s < 7_200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3_600)h" }
        return "\(s / 86_400)d"
    }

    /// `10,000`.
    static func grouped(_ n: Int) -> String {
        var digits = String(n)
        var i = digits.count - 3
        while i > 0 {
            digits.insert(",", at: digits.index(digits.startIndex, offsetBy: i))
            i -= 3
        }
        return digits
    }

    // MARK: - The page's own style and script

    /// Allows exactly the page's inline style and script, by hash, and nothing else: no other
    /// script, style, image, font, frame, form target or base URL.
    public static let contentSecurityPolicy = "default-src 'none'; style-src '\(cspHash(style))'; script-src '\(cspHash(script))'; "
        + "img-src 'none'; base-uri 'none'; form-action 'none'"

    static func cspHash(_ text: String) -> String {
        let hex = ContentID.sha256Hex(Array(text.utf8))
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return "sha256-" + Data(bytes).base64EncodedString()
    }

    static let style = """
        :root{color-scheme:light dark;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--idle:#6e7781;--line:#8c959f40;--soft:#8c959f1a;--muted:#57606a}
        @media (prefers-color-scheme:dark){:root{--ok:#2da44e;--warn:#bf8700;--bad:#e5534b;--muted:#8b949e}
        td.renew{background:#4d3800!important;color:#ffd880!important}td.expired{background:#5c1a1a!important;color:#ffb3b0!important}}
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;padding:.9rem 1.2rem}
        header{margin-bottom:.5rem}header p{margin:.35rem 0}
        h1{font-size:1.3rem;margin:0;display:inline-block;margin-right:.8rem}.meta{display:inline-block;color:var(--muted)}
        code,.rev,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12px}
        .note{color:var(--bad);font-weight:600}
        #totals{font-size:1.05rem}#totals strong{font-size:1.2rem}
        strong.ok{color:var(--ok)}strong.warn{color:var(--warn)}strong.bad{color:var(--bad)}strong.idle{color:var(--muted)}
        .chips button,#tools button{font:inherit;font-size:12.5px;border:1px solid var(--line);border-radius:1rem;background:transparent;color:inherit;padding:.05rem .45rem .05rem .12rem;cursor:pointer;margin:.1rem 0}
        #tools button{padding:.15rem .7rem}
        #q{font:inherit;padding:.3rem .6rem;width:20rem;border:1px solid var(--idle);border-radius:.35rem;margin-right:.3rem}
        #tools{color:var(--muted)}
        table{border-collapse:collapse;width:100%;table-layout:fixed}
        th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        th:nth-child(1){width:7rem}.h2 th:nth-child(1){width:9.5rem}.h3 th:nth-child(1){width:13rem}.h4 th:nth-child(1){width:17.5rem}
        th:nth-child(2){width:8rem}.s2 th:nth-child(2){width:9.4rem}th:nth-child(3){width:10.5rem}th:nth-child(4){width:7.4rem}
        th:nth-child(5){width:7.4rem}th:nth-child(6){width:4.8rem}th:nth-child(7){width:5.6rem}
        summary{overflow:hidden;text-overflow:ellipsis}
        thead th{position:sticky;top:0;background:Canvas;font-weight:600;border-bottom:2px solid var(--line);z-index:1}
        tbody tr:hover>td{background:var(--soft)}
        tbody td:first-child{font-weight:600;box-shadow:inset 4px 0 transparent}
        tr.bad>td:first-child{box-shadow:inset 4px 0 var(--bad)}tr.warn>td:first-child{box-shadow:inset 4px 0 var(--warn)}
        td details summary{cursor:pointer}tr:has(details)>td{cursor:pointer}
        b.ok,b.warn,b.bad,b.idle{display:inline-block;padding:0 .5rem;border-radius:.7rem;font-size:12px;font-weight:600;color:#fff}
        b.ok{background:var(--ok)}b.warn{background:var(--warn)}b.bad{background:var(--bad)}b.idle{background:var(--idle)}
        td.warn{color:var(--warn);font-weight:600}td.bad{color:var(--bad);font-weight:600}td.none{color:var(--muted)}
        td.renew{background:#fff1c2;color:#6b4a00;font-weight:600}td.expired{background:#ffd7d5;color:#8a1020;font-weight:600}
        .rev{color:var(--muted)}.rev i{display:block;font-style:normal}.behind{color:inherit}.behind i{color:var(--warn);font-weight:600}
        .rev i small{font:600 10px system-ui,sans-serif;text-transform:uppercase;margin-right:.3em}
        td.drift{white-space:normal;font-size:13px}
        tr.more{display:none}tr:has(details[open])+tr.more{display:table-row}tr[hidden]+tr.more{display:none!important}
        @supports not selector(:has(*)){tr.more{display:table-row}}
        tr.more>td{white-space:normal;font-weight:400;padding:.1rem .6rem .6rem 1.6rem;background:var(--soft);cursor:auto}
        tr.bad+tr.more>td{box-shadow:inset 4px 0 var(--bad)}tr.warn+tr.more>td{box-shadow:inset 4px 0 var(--warn)}
        tr.more p{margin:.25rem 0}tr.more ul{margin:.1rem 0;padding-left:1.2rem}
        tr.more h3{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:.4rem 0 .1rem}
        .cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(26rem,1fr));gap:0 1.6rem}.cols>section{min-width:0}
        p.msg{font-weight:600;margin-top:.4rem}p.foot{color:var(--muted);font-size:12.5px}
        pre{margin:.3rem 0;padding:.45rem .7rem;background:Canvas;border:1px solid var(--line);border-radius:.3rem;white-space:pre-wrap;overflow-wrap:anywhere}
        .diff .a{color:var(--ok)}.diff .r{color:var(--bad)}.diff .h{color:#0969da}.diff .f{font-weight:600}
        [hidden]{display:none!important}
        """

    /// The filter (host-name substring, or the start of a state or of `renew`/`expired`; every
    /// word must match; kept in the URL's fragment so a reload keeps it), expand/collapse of the
    /// visible rows' details, and a click anywhere on a host's row opening its details (the
    /// summary alone does that without the script).
    static let script = """
        (function(){
        var q=document.getElementById('q'),body=document.getElementById('hosts').tBodies[0],all=body.rows,rows=[],keys=[],shown=document.getElementById('shown');
        for(var i=0;i<all.length;i++){var r=all[i];if(r.className==='more')continue;rows.push(r);keys.push([r.cells[0].textContent.toLowerCase(),(r.cells[1].textContent+' '+(r.getAttribute('data-t')||'')).toLowerCase().split(' ')]);}
        function matches(k,w){if(k[0].indexOf(w)>=0)return true;for(var j=0;j<k[1].length;j++)if(k[1][j].lastIndexOf(w,0)===0)return true;return false;}
        function apply(){
        var words=q.value.toLowerCase().split(/\\s+/).filter(Boolean),n=0;
        for(var i=0;i<rows.length;i++){var k=keys[i],m=true;for(var j=0;j<words.length&&m;j++)m=matches(k,words[j]);if(rows[i].hidden===m)rows[i].hidden=!m;if(m)n++;}
        shown.textContent=n.toLocaleString('en');
        try{history.replaceState(null,'',q.value?'#'+encodeURIComponent(q.value):location.pathname+location.search);}catch(e){}
        }
        function expand(open){var d=body.querySelectorAll('tr:not([hidden]) details');for(var i=0;i<d.length;i++)d[i].open=open;}
        q.addEventListener('input',apply);
        document.getElementById('open').addEventListener('click',function(){expand(true);});
        document.getElementById('close').addEventListener('click',function(){expand(false);});
        body.addEventListener('click',function(e){
        var t=e.target;if(t.closest('summary')||t.closest('tr.more')||String(window.getSelection()))return;
        var r=t.closest('tr'),d=r&&r.querySelector('details');if(d)d.open=!d.open;
        });
        var chips=document.querySelectorAll('button[data-q]');
        for(var i=0;i<chips.length;i++)chips[i].addEventListener('click',function(){q.value=this.getAttribute('data-q');apply();q.focus();});
        if(location.hash.length>1){try{q.value=decodeURIComponent(location.hash.slice(1));}catch(e){}apply();}
        document.getElementById('tools').hidden=false;
        })();
        """
}
