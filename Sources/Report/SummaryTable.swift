/// The report's table: url and count, most counted first, then by url.
enum SummaryTable {
    static func rows(_ counts: [String: Int]) -> [(url: String, count: Int)] {
        counts.map { (url: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.url < $1.url }
    }

    static func render(_ counts: [String: Int]) -> String {
        let rows = rows(counts)
        let urlWidth = max(3, rows.map(\.url.count).max() ?? 0)
        let countWidth = max(5, rows.map { String($0.count).count }.max() ?? 0)
        func line(_ url: String, _ count: String) -> String {
            url.padding(toLength: urlWidth) + "  " + String(repeating: " ", count: countWidth - count.count) + count
        }
        var lines = [line("url", "count"), String(repeating: "-", count: urlWidth + 2 + countWidth)]
        lines += rows.map { line($0.url, String($0.count)) }
        if rows.isEmpty { lines.append("(no events recorded)") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        self + String(repeating: " ", count: Swift.max(0, length - count))
    }
}
