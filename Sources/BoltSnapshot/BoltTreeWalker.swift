import Bytes

/// Where a bucket's tree starts: a page of the file, or a leaf page stored inline in the parent's
/// value (the byte range of that page within the file).
package enum BoltBucketRoot {
    case page(UInt64)
    case inline(Range<Int>)
}

/// A leaf element as found: its key, and where its value lies in the file.
package struct BoltFoundEntry {
    package var key: [UInt8]
    package var valueRange: Range<Int>
    /// Set when the element is a sub-bucket: its header, decoded.
    package var bucketHeader: BoltBucketRoot?
}

/// Walks bucket trees through a file whose meta has been validated. It remembers every page it
/// has claimed, so a page reached twice (a cycle, or two parents) is an error rather than a loop;
/// together with the depth bounds this makes the whole walk finite and its stack shallow.
package struct BoltTreeWalker {
    package let file: [UInt8]
    package let pageSize: Int
    package let highWaterPageID: UInt64
    private var claimedPages: [Bool]

    package init(file: [UInt8], pageSize: Int, meta: BoltMeta) throws(BoltFormatError) {
        // BoltReader.currentMeta has checked this already; checking again keeps the walker safe
        // on its own, since the page bitmap below is sized by the high-water mark.
        guard pageSize > 0, meta.highWaterPageID <= UInt64(file.count / pageSize), meta.highWaterPageID >= 2 else {
            throw BoltFormatError("meta (txid \(meta.transactionID)): high-water mark \(meta.highWaterPageID) lies outside the file's \(file.count / max(pageSize, 1)) pages")
        }
        self.file = file
        self.pageSize = pageSize
        self.highWaterPageID = meta.highWaterPageID
        self.claimedPages = Array(repeating: false, count: Int(meta.highWaterPageID))
        claimedPages[0] = true
        claimedPages[1] = true
        if meta.freelistPageID != BoltLayout.noFreelistPageID {
            try claimFreelist(meta.freelistPageID)
        }
    }

    /// Decodes a whole bucket, its sub-buckets included.
    package mutating func bucket(named name: [UInt8], header: BoltBucketRoot, depth: Int, place: String) throws(BoltFormatError) -> BoltBucket {
        guard depth <= BoltReader.bucketDepthMax else {
            throw BoltFormatError("\(place): buckets are nested more than \(BoltReader.bucketDepthMax) deep")
        }
        let entries = try bucketEntries(root: header, place: place)
        var result = BoltBucket(name: name)
        for entry in entries {
            if let childHeader = entry.bucketHeader {
                let childPlace = "\(place) / bucket \(describeBytes(entry.key))"
                result.buckets.append(try bucket(named: entry.key, header: childHeader, depth: depth + 1, place: childPlace))
            } else {
                result.pairs.append(BoltPair(key: entry.key, value: Array(file[entry.valueRange])))
            }
        }
        return result
    }

    /// Every leaf element of one bucket's tree, in key order.
    package mutating func bucketEntries(root: BoltBucketRoot, place: String) throws(BoltFormatError) -> [BoltFoundEntry] {
        var entries: [BoltFoundEntry] = []
        switch root {
        case .page(let pageID):
            try walk(pageID: pageID, depth: 1, place: place, into: &entries)
        case .inline(let range):
            let where_ = "\(place) (inline page)"
            guard range.count >= BoltLayout.pageHeaderBytes,
                  let flags = file.loadLittleEndian(UInt16.self, at: range.lowerBound + 8),
                  let count = file.loadLittleEndian(UInt16.self, at: range.lowerBound + 10)
            else {
                throw BoltFormatError("\(where_): \(range.count) bytes are too few for a page header")
            }
            guard flags == BoltLayout.leafPageFlag else {
                throw BoltFormatError("\(where_): flags 0x\(String(flags, radix: 16)) are not a leaf page's; an inline bucket holds one leaf")
            }
            try readLeaf(pageStart: range.lowerBound, pageEnd: range.upperBound, count: Int(count), where_: where_, into: &entries)
        }
        return entries
    }

    private mutating func walk(pageID: UInt64, depth: Int, place: String, into entries: inout [BoltFoundEntry]) throws(BoltFormatError) {
        guard depth <= BoltReader.treeDepthMax else {
            throw BoltFormatError("\(place): page \(pageID) lies more than \(BoltReader.treeDepthMax) levels deep")
        }
        let (pageStart, pageEnd) = try claimPage(pageID, place: place)
        let flags = file.loadLittleEndian(UInt16.self, at: pageStart + 8) ?? 0
        let count = Int(file.loadLittleEndian(UInt16.self, at: pageStart + 10) ?? 0)
        let where_ = "\(place): page \(pageID)"
        switch flags {
        case BoltLayout.leafPageFlag:
            try readLeaf(pageStart: pageStart, pageEnd: pageEnd, count: count, where_: where_, into: &entries)
        case BoltLayout.branchPageFlag:
            guard count > 0 else {
                throw BoltFormatError("\(where_): a branch page with no elements")
            }
            for index in 0..<count {
                let elementStart = pageStart + BoltLayout.pageHeaderBytes + index * BoltLayout.branchElementBytes
                guard let childPageID = file.loadLittleEndian(UInt64.self, at: elementStart + 8),
                      elementStart + BoltLayout.branchElementBytes <= pageEnd
                else {
                    throw BoltFormatError("\(where_): element \(index) of \(count) runs past the page end")
                }
                try walk(pageID: childPageID, depth: depth + 1, place: place, into: &entries)
            }
        default:
            throw BoltFormatError("\(where_): flags 0x\(String(flags, radix: 16)) are neither a branch's nor a leaf's")
        }
    }

    /// Reads a leaf page's elements, checking that each lies inside the page and that keys rise
    /// strictly across the whole bucket.
    private func readLeaf(pageStart: Int, pageEnd: Int, count: Int, where_: String, into entries: inout [BoltFoundEntry]) throws(BoltFormatError) {
        for index in 0..<count {
            let elementStart = pageStart + BoltLayout.pageHeaderBytes + index * BoltLayout.leafElementBytes
            guard elementStart + BoltLayout.leafElementBytes <= pageEnd,
                  let flags = file.loadLittleEndian(UInt32.self, at: elementStart),
                  let position = file.loadLittleEndian(UInt32.self, at: elementStart + 4),
                  let keyBytes = file.loadLittleEndian(UInt32.self, at: elementStart + 8),
                  let valueBytes = file.loadLittleEndian(UInt32.self, at: elementStart + 12)
            else {
                throw BoltFormatError("\(where_): element \(index) of \(count) runs past the page end")
            }
            // Each term is below 2^32, so these sums cannot overflow a 64-bit Int.
            let keyStart = elementStart + Int(position)
            let valueStart = keyStart + Int(keyBytes)
            let valueEnd = valueStart + Int(valueBytes)
            guard valueEnd <= pageEnd else {
                throw BoltFormatError("\(where_): element \(index) runs past the page end (its data ends \(valueEnd - pageEnd) bytes beyond)")
            }
            let key = Array(file[keyStart..<valueStart])
            if let previous = entries.last?.key, !bytewiseLess(previous, key) {
                throw BoltFormatError("\(where_): element \(index) has key \(describeBytes(key)), which does not come after \(describeBytes(previous))")
            }
            var entry = BoltFoundEntry(key: key, valueRange: valueStart..<valueEnd)
            if flags & BoltLayout.bucketLeafFlag != 0 {
                entry.bucketHeader = try bucketRoot(valueStart: valueStart, valueEnd: valueEnd, where_: "\(where_): element \(index)")
            }
            entries.append(entry)
        }
    }

    private func bucketRoot(valueStart: Int, valueEnd: Int, where_: String) throws(BoltFormatError) -> BoltBucketRoot {
        guard valueEnd - valueStart >= BoltLayout.bucketHeaderBytes,
              let rootPageID = file.loadLittleEndian(UInt64.self, at: valueStart)
        else {
            throw BoltFormatError("\(where_): a bucket value of \(valueEnd - valueStart) bytes is too short for a bucket header")
        }
        if rootPageID == 0 {
            return .inline((valueStart + BoltLayout.bucketHeaderBytes)..<valueEnd)
        }
        return .page(rootPageID)
    }

    /// Marks a page and its overflow pages as reached, and returns its byte range in the file.
    private mutating func claimPage(_ pageID: UInt64, place: String) throws(BoltFormatError) -> (start: Int, end: Int) {
        guard pageID >= 2, pageID < highWaterPageID else {
            throw BoltFormatError("\(place): page \(pageID) is outside pages 2..<\(highWaterPageID)")
        }
        // Below the high-water mark, which lies inside the file, so these products fit an Int.
        let pageStart = Int(pageID) * pageSize
        guard let headerPageID = file.loadLittleEndian(UInt64.self, at: pageStart),
              let overflow = file.loadLittleEndian(UInt32.self, at: pageStart + 12)
        else {
            throw BoltFormatError("\(place): page \(pageID) lies outside the file")
        }
        guard headerPageID == pageID else {
            throw BoltFormatError("\(place): page \(pageID) says it is page \(headerPageID)")
        }
        let lastPageID = pageID + UInt64(overflow)
        guard lastPageID < highWaterPageID else {
            throw BoltFormatError("\(place): page \(pageID) overflows \(overflow) pages, past the high-water mark \(highWaterPageID)")
        }
        for claimed in Int(pageID)...Int(lastPageID) {
            guard !claimedPages[claimed] else {
                throw BoltFormatError("\(place): page \(claimed) is reached a second time (from page \(pageID))")
            }
            claimedPages[claimed] = true
        }
        return (pageStart, (Int(lastPageID) + 1) * pageSize)
    }

    /// The freelist's pages are in use too; claiming them first catches a tree that points into
    /// them. Its contents, the free page ids, are not needed to read the data.
    private mutating func claimFreelist(_ pageID: UInt64) throws(BoltFormatError) {
        let (pageStart, pageEnd) = try claimPage(pageID, place: "freelist")
        let flags = file.loadLittleEndian(UInt16.self, at: pageStart + 8) ?? 0
        guard flags == BoltLayout.freelistPageFlag else {
            throw BoltFormatError("freelist: page \(pageID) has flags 0x\(String(flags, radix: 16)), not a freelist page's")
        }
        let count = file.loadLittleEndian(UInt16.self, at: pageStart + 10) ?? 0
        // A count of 0xFFFF means the real count is the first 8-byte entry.
        var idCount = UInt64(count)
        var idsStart = pageStart + BoltLayout.pageHeaderBytes
        if count == 0xFFFF {
            idCount = file.loadLittleEndian(UInt64.self, at: idsStart) ?? UInt64.max
            idsStart += 8
        }
        let idsFit = idCount <= UInt64((pageEnd - idsStart) / 8)
        guard idsFit else {
            throw BoltFormatError("freelist: page \(pageID) lists \(idCount) free pages, more than it has room for")
        }
    }
}
