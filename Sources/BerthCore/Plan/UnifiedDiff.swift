/// A unified diff of two texts (`diff -u` format, 3 lines of context), for reports and `plan`.
///
/// Managed files are small (a drop-in, a few PEM blocks), so a plain LCS table is fast enough
/// and keeps this dependency-free.
public enum UnifiedDiff {
    public static func make(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
        let a = lines(old), b = lines(new)
        let ops = editScript(a, b)
        guard ops.contains(where: { $0.kind != .same }) else { return "" }
        var out = "--- \(oldName)\n+++ \(newName)\n"
        // Group edits into hunks with `context` lines around them.
        var i = 0
        while i < ops.count {
            guard ops[i].kind != .same else { i += 1; continue }
            var start = i
            var back = 0
            while start > 0 && back < context && ops[start - 1].kind == .same { start -= 1; back += 1 }
            var end = i
            var j = i
            while j < ops.count {
                if ops[j].kind != .same { end = j; j += 1; continue }
                var run = 0
                while j + run < ops.count && ops[j + run].kind == .same { run += 1 }
                if j + run >= ops.count || run > 2 * context { break }
                j += run
            }
            let stop = min(ops.count, end + 1 + context)
            let hunk = ops[start..<stop]
            let oldStart = (hunk.first { $0.kind != .insert }?.oldIndex ?? hunk.first!.oldIndex) + 1
            let newStart = (hunk.first { $0.kind != .delete }?.newIndex ?? hunk.first!.newIndex) + 1
            let oldCount = hunk.filter { $0.kind != .insert }.count
            let newCount = hunk.filter { $0.kind != .delete }.count
            out += "@@ -\(oldCount == 0 ? oldStart - 1 : oldStart),\(oldCount) +\(newCount == 0 ? newStart - 1 : newStart),\(newCount) @@\n"
            for op in hunk {
                switch op.kind {
                case .same: out += " \(a[op.oldIndex])\n"
                case .delete: out += "-\(a[op.oldIndex])\n"
                case .insert: out += "+\(b[op.newIndex])\n"
                }
            }
            i = stop
        }
        return out
    }

    static func lines(_ text: String) -> [String] {
        var result = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if result.last == "" { result.removeLast() }
        return result
    }

    struct Op {
        enum Kind { case same, delete, insert }
        var kind: Kind
        var oldIndex: Int
        var newIndex: Int
    }

    static func editScript(_ a: [String], _ b: [String]) -> [Op] {
        let n = a.count, m = b.count
        var table = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var ops: [Op] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n && j < m && a[i] == b[j] {
                ops.append(Op(kind: .same, oldIndex: i, newIndex: j)); i += 1; j += 1
            } else if j < m && (i == n || table[i][j + 1] > table[i + 1][j]) {
                ops.append(Op(kind: .insert, oldIndex: i, newIndex: j)); j += 1
            } else {
                ops.append(Op(kind: .delete, oldIndex: i, newIndex: j)); i += 1
            }
        }
        return ops
    }
}
