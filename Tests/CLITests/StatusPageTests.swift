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

    /// The rows of the page's host table, as Chromium serialized them.
    static func rows(_ dom: String) -> [String] {
        guard let body = dom.components(separatedBy: "<tbody>").dropFirst().first?.components(separatedBy: "</tbody>").first else { return [] }
        return Array(body.components(separatedBy: "<tr").dropFirst())
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
        let shown = Dictionary(grouping: rows, by: { row in HostState.allCases.first { row.contains("\">\($0.rawValue)</b>") } })
            .mapValues(\.count)
        #expect(shown.count == fleet.expectedStates().count)
        for (state, count) in fleet.expectedStates() { #expect(shown[state] == count, "\(state)") }

        let rolledBack = try #require(rows.first { $0.contains("<td>\(fleet.rolledBackHost)</td>") })
        #expect(rolledBack.contains(">rolled-back</b>"))
        #expect(rolledBack.contains("<summary>file-content×1</summary>"))
        #expect(rolledBack.contains("<span class=\"f\">+++ desired</span>"))
        #expect(rolledBack.contains("<span class=\"a\">+ExecStart=/usr/sbin/dockerd -H fd:// -H tcp://0.0.0.0:2376"))
        #expect(rolledBack.contains("quarantined \(revision.prefix(12))"))
        #expect(rolledBack.contains("journalctl -u docker"))

        // The filter, driven by the URL's fragment as a reload keeps it: only rolled-back rows stay.
        let filtered = Self.rows(try await Self.dom(page, fragment: "#rolled", in: work))
        let hidden = filtered.filter { $0.prefix { $0 != ">" }.contains("hidden") }
        #expect(filtered.count - hidden.count == fleet.expectedStates()[.rolledBack])
        #expect(hidden.allSatisfy { !$0.contains(">rolled-back</b>") })

        let png = work.file("page.png")
        let shot = try await Self.chromium(["--screenshot=\(png)", "--window-size=1400,1000", "--hide-scrollbars"], url: "file://\(page)", in: work)
        #expect(shot.status == 0, "\(shot.stderr.suffix(2000))")
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: png)))
        #expect(bytes.prefix(8) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "not a PNG")
        #expect(bytes.count > 20_000, "a near-empty screenshot: \(bytes.count) bytes")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1400)
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
