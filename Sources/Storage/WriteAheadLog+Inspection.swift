/// The log's files as a fault injector sees them: which bytes hold records that recovery must
/// read, so that damage meant for an old record does not land in unused space.
extension WriteAheadLog {
    /// The segment files in `directory`, oldest first (recovery reads them in this order).
    static func segmentNames(in directory: StorageDirectory) throws(StorageError) -> [String] {
        try directory.list()
            .filter { $0.hasPrefix(Self.segmentPrefix) && $0.hasSuffix(Self.segmentSuffix) }
            .sorted()
    }

    /// Every segment but the last, each with the span of its bytes its records occupy (header
    /// included). These were synced whole before the next segment began, so recovery refuses a
    /// flipped bit anywhere in such a span: it is never taken for a torn write, which only the
    /// last segment may end with.
    package static func sealedRecordSpans(in directory: StorageDirectory) throws(StorageError) -> [(file: String, records: Range<Int>)] {
        var spans: [(file: String, records: Range<Int>)] = []
        for name in try segmentNames(in: directory).dropLast() {
            let number = UInt64(name.dropFirst(Self.segmentPrefix.count).dropLast(Self.segmentSuffix.count)) ?? 0
            let file = try directory.open(name, create: false)
            defer { file.close() }
            let bytes = try file.read(at: 0, count: try file.size())
            var offset = 0
            while case .record(_, let next, _) = WALFrame.decode(bytes, at: offset, segment: number) { offset = next }
            if offset > 0 { spans.append((name, 0..<offset)) }
        }
        return spans
    }
}
