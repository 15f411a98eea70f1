import BerthCore
import FleetFixture
import Foundation
import Testing
import TestSupport

/// `berthctl status --html`, opened in a real browser: Debian's Chromium, headless
/// (`--dump-dom` for the DOM after the page's script ran, `--screenshot` for pixels).
@Suite("status page in headless Chromium: rows, diffs, a hostile report shown as text and not run", .serialized)
struct StatusPageTests {
    static let chromium = "/usr/bin/chromium"

    /// Runs headless Chromium on `url` with its own profile directory; `--no-sandbox` because
    /// tests run as root, where Chromium's sandbox refuses to start.
    static func chromium(_ arguments: [String], url: String, in work: TemporaryDirectory) async throws -> CLI.Result {
        #expect(FileManager.default.isExecutableFile(atPath: chromium), "Chromium is missing: run scripts/deps.sh")
        return try await CLI.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                                            "--user-data-dir=\(work.file("chromium-profile"))"] + arguments + [url],
                                 environment: ["HOME": work.path], timeout: .seconds(180))
    }

    static func dom(_ file: String, fragment: String = "", in work: TemporaryDirectory) async throws -> String {
        let result = try await chromium(["--dump-dom"], url: "file://\(file)\(fragment)", in: work)
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        return result.stdout
    }

    /// The host rows of the page's table, as Chromium serialized them, each with the detail row
    /// under it (drift, diffs, journal...) when it has one.
    static func rows(_ dom: String) -> [(row: String, more: String?)] {
        guard let body = dom.components(separatedBy: "<tbody>").dropFirst().first?.components(separatedBy: "</tbody>").first else { return [] }
        var rows: [(row: String, more: String?)] = []
        for piece in body.components(separatedBy: "<tr").dropFirst() {
            if piece.hasPrefix(" class=\"more\">"), !rows.isEmpty {
                rows[rows.count - 1].more = piece
            } else {
                rows.append((piece, nil))
            }
        }
        return rows
    }

    /// A copy of `page` without its CSP (which admits only the page's own script) and with
    /// `script` appended, whose result it puts in `<body data-probe="...">`: for what only a
    /// running page can tell (computed styles, a click).
    static func probe(_ page: String, _ script: String, in work: TemporaryDirectory) async throws -> String {
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let lines = html.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("http-equiv=\"Content-Security-Policy\"") }
        let probed = lines.joined(separator: "\n").replacingOccurrences(of: "</body>", with: "<script>\(script)</script>\n</body>")
        let copy = try work.write("probe.html", probed)
        let dom = try await dom(copy, in: work)
        return dom.components(separatedBy: "data-probe=\"").dropFirst().first?.components(separatedBy: "\"").first ?? "no probe result: \(dom.suffix(500))"
    }

    @Test("a mixed fleet with a hostile host: one row per host, the rollback's diff, the injected script shown as text and never run",
          .timeLimit(.minutes(5)))
    func hostilePageInChromium() async throws {
        let work = try TemporaryDirectory("berth-page")
        let fleet = ShowcaseFleet(count: 40, directory: work.path, hostile: true)
        let revision = try await fleet.generate()
        let page = work.file("public/index.html")
        let run = try await CLI.run("berthctl", ["status", "--html", page, "--repo", fleet.fleetDirectory, "--reports", fleet.reportDirectory])
        #expect(run.status == 1, "a fleet with failed hosts is not in sync: \(run)")
        #expect(run.stdout.hasPrefix("wrote \(page): 40 hosts, "), "\(run)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        var info = stat()
        #expect(lstat(page, &info) == 0 && info.st_mode & 0o777 == 0o644)

        let dom = try await Self.dom(page, in: work)
        // The page's own script ran (the CSP let it, by its hash): it shows the filter box.
        #expect(dom.contains("<p id=\"tools\">"), "the page's script did not run")
        #expect(dom.contains("<title>prod · Berth fleet status</title>"), "the title changed: a host's script ran")
        #expect(!dom.contains("<img"), "a host's <img> became an element")
        #expect(!dom.contains("id=\"injected\""))
        #expect(dom.components(separatedBy: "<script").count == 2, "a script element besides the page's own")
        // ...and the hostile message is there, as text.
        #expect(dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x id=injected onerror=\"document.title='pwned'\"&gt;"))

        let rows = Self.rows(dom)
        #expect(rows.count == 40)
        let shown = Dictionary(grouping: rows, by: { row in HostState.allCases.first { row.row.contains("\">\($0.rawValue)</b>") } })
            .mapValues(\.count)
        #expect(shown.count == fleet.expectedStates().count)
        for (state, count) in fleet.expectedStates() { #expect(shown[state] == count, "\(state)") }

        let rolledBack = try #require(rows.first { $0.row.contains("<summary>\(fleet.rolledBackHost)</summary>") }, "\(rows.prefix(3))")
        #expect(rolledBack.row.contains(">rolled-back</b>"))
        #expect(rolledBack.row.contains("<td class=\"drift\">file-content×1</td>"))
        #expect(rolledBack.row.contains("<small>quarantined</small>\(revision.prefix(12))"))
        let diff = try #require(rolledBack.more, "the rolled-back host has no detail row")
        #expect(diff.contains("<span class=\"f\">+++ desired</span>"))
        #expect(diff.contains("<span class=\"a\">+ExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376"))
        #expect(diff.contains("journalctl -u docker"))
        // Most in-sync hosts have nothing to open: one row each, no details.
        #expect(rows.filter { $0.row.contains(">in-sync</b>") && $0.more == nil && !$0.row.contains("<details>") }.count >= 20)

        // The filter, driven by the URL's fragment as a reload keeps it: only rolled-back rows stay.
        let filtered = Self.rows(try await Self.dom(page, fragment: "#rolled", in: work)).map(\.row)
        let hidden = filtered.filter { $0.prefix { $0 != ">" }.contains("hidden") }
        #expect(filtered.count - hidden.count == fleet.expectedStates()[.rolledBack])
        #expect(hidden.allSatisfy { !$0.contains(">rolled-back</b>") })

        // Detail rows are not displayed until their host is opened (CSS alone), and a click
        // anywhere on a host's row opens it (the page's script).
        let probe = try await Self.probe(page, """
            var row=document.querySelector('#hosts tbody tr'),more=row.nextElementSibling,d=row.querySelector('details'),r=[];
            r.push(more.className,getComputedStyle(more).display,d.open);
            row.cells[3].click();
            r.push(getComputedStyle(more).display,d.open);
            row.cells[3].click();
            r.push(getComputedStyle(more).display,d.open);
            document.body.setAttribute('data-probe',r.join(' '));
            """, in: work)
        #expect(probe == "more none false table-row true none false", "\(probe)")

        let png = work.file("page.png")
        let shot = try await Self.chromium(["--screenshot=\(png)", "--window-size=1280,800", "--hide-scrollbars"], url: "file://\(page)", in: work)
        #expect(shot.status == 0, "\(shot.stderr.suffix(2000))")
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(bytes.prefix(8) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "not a PNG")
        #expect(bytes.count > 20_000, "a near-empty screenshot: \(bytes.count) bytes")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280)
    }

    @Test("the browser checks can fail: the same payload placed unescaped runs and adds its element")
    func detectorWorks() async throws {
        let work = try TemporaryDirectory("berth-page")
        let page = try work.write("raw.html", "<!DOCTYPE html><html><head><title>prod · Berth fleet status</title></head><body><p>\(ShowcaseFleet.payload)</p></body></html>")
        let dom = try await Self.dom(page, in: work)
        #expect(dom.contains("<title>pwned</title>"))
        #expect(dom.contains("id=\"injected\""))
    }

    @Test("--html refuses a symlink, a host argument, --json; --interval needs --watch")
    func refusals() async throws {
        let work = try TemporaryDirectory("berth-page")
        let fleet = ShowcaseFleet(count: 16, directory: work.path)
        try await fleet.generate()
        let common = ["--repo", fleet.fleetDirectory, "--reports", fleet.reportDirectory]
        let target = try work.write("elsewhere.txt", "keep me\n")
        #expect(symlink(target, work.file("link.html")) == 0)
        let link = try await CLI.run("berthctl", ["status", "--html", work.file("link.html")] + common)
        #expect(link.status == 1 && link.stderr.contains("symbolic link"), "\(link)")
        #expect(try work.read("elsewhere.txt") == "keep me\n")

        for (arguments, fragment) in [(["web-01", "--html", "x.html"], "drop web-01"), (["--html", "x.html", "--json"], "choose one"),
                                      (["--interval", "5s"], "add --watch"), (["--watch", "--interval", "soon"], "not a duration")] {
            let result = try await CLI.run("berthctl", ["status"] + arguments + common, cwd: work.path)
            #expect(result.status == 64 && result.stderr.contains(fragment), "\(arguments): \(result)")
        }
        #expect(!work.exists("x.html"))
    }
}
