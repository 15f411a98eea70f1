import BerthHost
import Foundation
import Testing
import TestSupport

@Suite("git, as a pass uses it")
struct GitTests {
    @Test("revision reads the checkout without taking index.lock or rewriting the index; +dirty for a tracked change")
    func revisionIsReadOnly() async throws {
        let dir = try TemporaryDirectory("berth-git")
        try dir.write("fleet.yaml", "fleet: a\n")
        let head = try await CLI.gitCommitAll(dir.path, "one")
        // Same content, new mtime: the index's stat data is stale, which `git status` would
        // normally refresh by writing the index back under index.lock.
        try await Task.sleep(nanoseconds: 1_100_000_000)
        try dir.write("fleet.yaml", "fleet: a\n")
        let index = dir.file(".git/index")
        let before = try FileManager.default.attributesOfItem(atPath: index)
        let git = Git()
        #expect(await git.revision(of: dir.path) == head)
        let after = try FileManager.default.attributesOfItem(atPath: index)
        #expect(after[.modificationDate] as? Date == before[.modificationDate] as? Date, "the index was rewritten")
        #expect(after[.systemFileNumber] as? Int == before[.systemFileNumber] as? Int, "the index was replaced")

        try dir.write("fleet.yaml", "fleet: b\n")
        #expect(await git.revision(of: dir.path) == head + "+dirty")
    }
}
