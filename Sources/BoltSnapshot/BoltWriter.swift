import Bytes

/// Writes a complete bbolt file laid out as `bbolt compact` would lay it out: two meta pages, an
/// empty freelist, then every bucket's tree packed into consecutive pages with nothing free, so the
/// file is exactly as long as the pages it uses. Leaves are filled as far as a page allows; bbolt
/// splits them at its own fill factor when it next writes to them.
///
/// Every bucket is stored as a non-inline bucket (its own root page). bbolt would inline a small
/// bucket inside its parent's leaf, but a non-inline one is equally valid and keeps one layout for
/// every size; etcd and `bbolt check` read both.
public enum BoltWriter {
    /// Nesting deeper than this is refused; etcd uses a single level under the root bucket.
    public static let bucketDepthMax = 16

    /// The file bytes for `buckets`, which become the top-level buckets. Pairs and buckets are
    /// sorted bytewise here; the caller need not sort them.
    public static func encode(_ buckets: [BoltBucket]) throws(BoltWriteError) -> [UInt8] {
        var pages = BoltPageAppender(pageSize: BoltLayout.pageSize)
        // Pages 0 and 1 (meta) and 2 (freelist) are reserved now and filled in once the tree's
        // root and the high-water mark are known.
        try pages.reserve(pageCount: 3)
        let rootPageID = try writeTree(entries: try entriesOfRoot(buckets, pages: &pages, depth: 0), pages: &pages)
        return finish(&pages, rootPageID: rootPageID)
    }

    /// Fills in the reserved meta and freelist pages of `pages`, whose tree is rooted at
    /// `rootPageID`, and returns the file.
    package static func finish(_ pages: inout BoltPageAppender, rootPageID: UInt64) -> [UInt8] {
        let highWaterPageID = pages.nextPageID
        let pageSize = pages.pageSize
        var file = pages.takeBytes()
        // Meta page k holds a txid with parity k, as bbolt's own commits alternate; the copy with
        // the higher txid (page 0) is the current one, and the other is an identical fallback.
        for metaPageID in 0..<2 {
            let meta = BoltMeta(
                pageSize: UInt32(pageSize), rootPageID: rootPageID, freelistPageID: 2,
                highWaterPageID: highWaterPageID, transactionID: metaPageID == 0 ? 2 : 1)
            writePageHeader(into: &file, pageID: UInt64(metaPageID), flags: BoltLayout.metaPageFlag, pageSize: pageSize)
            let metaStart = metaPageID * pageSize + BoltLayout.pageHeaderBytes
            file.replaceSubrange(metaStart..<(metaStart + BoltLayout.metaBytes), with: meta.encoded())
        }
        writePageHeader(into: &file, pageID: 2, flags: BoltLayout.freelistPageFlag, pageSize: pageSize)
        return file
    }

    /// The root bucket's entries: one bucket header per top-level bucket, each written first.
    private static func entriesOfRoot(_ buckets: [BoltBucket], pages: inout BoltPageAppender, depth: Int) throws(BoltWriteError) -> [BoltLeafEntry] {
        let sorted = buckets.sorted { bytewiseLess($0.name, $1.name) }
        var entries: [BoltLeafEntry] = []
        entries.reserveCapacity(sorted.count)
        for bucket in sorted {
            try checkKey(bucket.name, in: "the root bucket")
            let bucketRoot = try writeBucket(bucket, pages: &pages, depth: depth + 1)
            entries.append(BoltLeafEntry(key: bucket.name, value: bucketHeader(rootPageID: bucketRoot), isBucket: true))
        }
        try checkDistinct(entries, in: "the root bucket")
        return entries
    }

    /// Writes a bucket's sub-buckets, then its own tree, and returns the tree's root page id.
    private static func writeBucket(_ bucket: BoltBucket, pages: inout BoltPageAppender, depth: Int) throws(BoltWriteError) -> UInt64 {
        let place = "bucket \(describeBytes(bucket.name))"
        guard depth <= bucketDepthMax else {
            throw BoltWriteError("\(place) is nested \(depth) deep, more than \(bucketDepthMax)")
        }
        var entries: [BoltLeafEntry] = []
        entries.reserveCapacity(bucket.pairs.count + bucket.buckets.count)
        for pair in bucket.pairs {
            try checkKey(pair.key, in: place)
            guard pair.value.count <= BoltLayout.valueBytesMax else {
                throw BoltWriteError("\(place): the value of key \(describeBytes(pair.key)) is \(pair.value.count) bytes, more than bbolt's \(BoltLayout.valueBytesMax)")
            }
            entries.append(BoltLeafEntry(key: pair.key, value: pair.value, isBucket: false))
        }
        for child in bucket.buckets {
            try checkKey(child.name, in: place)
            let childRoot = try writeBucket(child, pages: &pages, depth: depth + 1)
            entries.append(BoltLeafEntry(key: child.name, value: bucketHeader(rootPageID: childRoot), isBucket: true))
        }
        entries.sort { bytewiseLess($0.key, $1.key) }
        try checkDistinct(entries, in: place)
        return try writeTree(entries: entries, pages: &pages)
    }

    /// Packs sorted entries into leaf pages, then builds branch levels over them until one page
    /// remains, and returns that root's page id. An empty bucket is one empty leaf page.
    private static func writeTree(entries: [BoltLeafEntry], pages: inout BoltPageAppender) throws(BoltWriteError) -> UInt64 {
        var level: [BoltBranchEntry] = []
        for group in packIntoPages(entries.map(\.elementBytes)) {
            let slice = entries[group]
            let pageID = try pages.appendLeafPage(slice)
            level.append(BoltBranchEntry(key: slice.first?.key ?? [], childPageID: pageID))
        }
        if level.isEmpty {
            return try pages.appendLeafPage([])
        }
        // Each branch level has fewer pages than the one below (every page but an oversized
        // one holds at least two elements), so this loop ends.
        while level.count > 1 {
            var parents: [BoltBranchEntry] = []
            for group in packIntoPages(level.map(\.elementBytes)) {
                let slice = level[group]
                let pageID = try pages.appendBranchPage(slice)
                parents.append(BoltBranchEntry(key: slice.first?.key ?? [], childPageID: pageID))
            }
            level = parents
        }
        return level[0].childPageID
    }

    /// Splits elements, given by their sizes, into consecutive runs that each fit one page. An
    /// element too big for a page alone gets a page of its own, which then overflows.
    package static func packIntoPages(_ elementSizes: [Int]) -> [Range<Int>] {
        var groups: [Range<Int>] = []
        var groupStart = 0
        var groupBytes = BoltLayout.pageHeaderBytes
        for (index, size) in elementSizes.enumerated() {
            let fits = groupBytes <= BoltLayout.pageSize - size
            let groupIsFull = index - groupStart >= Int(UInt16.max)
            if index > groupStart, !fits || groupIsFull {
                groups.append(groupStart..<index)
                groupStart = index
                groupBytes = BoltLayout.pageHeaderBytes
            }
            groupBytes += size
        }
        if groupStart < elementSizes.count {
            groups.append(groupStart..<elementSizes.count)
        }
        return groups
    }

    package static func bucketHeader(rootPageID: UInt64) -> [UInt8] {
        var header: [UInt8] = []
        header.appendLittleEndian(rootPageID)
        header.appendLittleEndian(UInt64(0))  // The bucket's sequence, which etcd never uses.
        return header
    }

    private static func checkKey(_ key: [UInt8], in place: String) throws(BoltWriteError) {
        guard !key.isEmpty else {
            throw BoltWriteError("\(place): a key or bucket name is empty, which bbolt does not allow")
        }
        guard key.count <= BoltLayout.keyBytesMax else {
            throw BoltWriteError("\(place): key \(describeBytes(key)) is longer than bbolt's \(BoltLayout.keyBytesMax) bytes")
        }
    }

    private static func checkDistinct(_ sortedEntries: [BoltLeafEntry], in place: String) throws(BoltWriteError) {
        for index in sortedEntries.indices.dropFirst() where sortedEntries[index - 1].key == sortedEntries[index].key {
            throw BoltWriteError("\(place): key \(describeBytes(sortedEntries[index].key)) is given twice")
        }
    }
}

/// Writes the header of one of the reserved single pages (meta or freelist) with no elements.
private func writePageHeader(into file: inout [UInt8], pageID: UInt64, flags: UInt16, pageSize: Int) {
    let start = Int(pageID) * pageSize
    file.storeLittleEndian(pageID, at: start)
    file.storeLittleEndian(flags, at: start + 8)
}
