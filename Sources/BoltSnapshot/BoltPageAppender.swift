import Bytes

/// A leaf element about to be written: user data, or (when `isBucket`) a sub-bucket's header.
package struct BoltLeafEntry {
    package var key: [UInt8]
    package var value: [UInt8]
    package var isBucket: Bool

    package init(key: [UInt8], value: [UInt8], isBucket: Bool) {
        self.key = key
        self.value = value
        self.isBucket = isBucket
    }

    /// The bytes this element takes on its page: the element struct, its key and its value.
    package var elementBytes: Int { BoltLayout.leafElementBytes + key.count + value.count }
}

/// A branch element about to be written: the first key of a child page, and that page.
package struct BoltBranchEntry {
    package var key: [UInt8]
    package var childPageID: UInt64

    package var elementBytes: Int { BoltLayout.branchElementBytes + key.count }
}

/// Lays pages out one after another, handing out page ids in file order. It checks the arithmetic
/// that sizes come from: a page's overflow count must fit its 32-bit field and the file must stay
/// within `fileBytesMax`.
package struct BoltPageAppender {
    /// A bound on the file the writer builds in memory; etcd's default quota is 2 GiB and its
    /// largest allowed quota 8 GiB, so this is far above any real backend.
    package static let fileBytesMax = 1 << 40

    package let pageSize: Int
    package private(set) var bytes: [UInt8] = []

    package init(pageSize: Int) {
        self.pageSize = pageSize
    }

    package var nextPageID: UInt64 { UInt64(bytes.count / pageSize) }

    /// Hands over the bytes without copying them (the appender is left empty).
    package mutating func takeBytes() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    /// Appends zeroed pages, to be filled in later.
    package mutating func reserve(pageCount: Int) throws(BoltWriteError) {
        _ = try startPages(coveringBytes: pageCount * pageSize)
        bytes.append(contentsOf: repeatElement(0, count: pageCount * pageSize))
    }

    package mutating func appendLeafPage(_ entries: ArraySlice<BoltLeafEntry>) throws(BoltWriteError) -> UInt64 {
        let contentBytes = entries.reduce(BoltLayout.pageHeaderBytes) { $0 + $1.elementBytes }
        let (pageID, overflow) = try startPages(coveringBytes: contentBytes)
        let start = bytes.count
        appendHeader(pageID: pageID, flags: BoltLayout.leafPageFlag, count: entries.count, overflow: overflow)
        var dataOffset = BoltLayout.pageHeaderBytes + entries.count * BoltLayout.leafElementBytes
        for (index, entry) in entries.enumerated() {
            let elementOffset = BoltLayout.pageHeaderBytes + index * BoltLayout.leafElementBytes
            bytes.appendLittleEndian(entry.isBucket ? BoltLayout.bucketLeafFlag : 0)
            bytes.appendLittleEndian(UInt32(dataOffset - elementOffset))
            bytes.appendLittleEndian(UInt32(entry.key.count))
            bytes.appendLittleEndian(UInt32(entry.value.count))
            dataOffset += entry.key.count + entry.value.count
        }
        for entry in entries {
            bytes.append(contentsOf: entry.key)
            bytes.append(contentsOf: entry.value)
        }
        padToPageEnd(pageStart: start)
        return pageID
    }

    package mutating func appendBranchPage(_ entries: ArraySlice<BoltBranchEntry>) throws(BoltWriteError) -> UInt64 {
        let contentBytes = entries.reduce(BoltLayout.pageHeaderBytes) { $0 + $1.elementBytes }
        let (pageID, overflow) = try startPages(coveringBytes: contentBytes)
        let start = bytes.count
        appendHeader(pageID: pageID, flags: BoltLayout.branchPageFlag, count: entries.count, overflow: overflow)
        var dataOffset = BoltLayout.pageHeaderBytes + entries.count * BoltLayout.branchElementBytes
        for (index, entry) in entries.enumerated() {
            let elementOffset = BoltLayout.pageHeaderBytes + index * BoltLayout.branchElementBytes
            bytes.appendLittleEndian(UInt32(dataOffset - elementOffset))
            bytes.appendLittleEndian(UInt32(entry.key.count))
            bytes.appendLittleEndian(entry.childPageID)
            dataOffset += entry.key.count
        }
        for entry in entries {
            bytes.append(contentsOf: entry.key)
        }
        padToPageEnd(pageStart: start)
        return pageID
    }

    /// Checks that `contentBytes` fit the file and a page's overflow field, and returns the id
    /// the page will get and its overflow count.
    private mutating func startPages(coveringBytes contentBytes: Int) throws(BoltWriteError) -> (pageID: UInt64, overflow: UInt32) {
        let pageCount = max(1, (contentBytes + pageSize - 1) / pageSize)
        guard let overflow = UInt32(exactly: pageCount - 1) else {
            throw BoltWriteError("a page of \(contentBytes) bytes needs \(pageCount) pages, more than a page header can count")
        }
        let (spanBytes, spanOverflowed) = pageCount.multipliedReportingOverflow(by: pageSize)
        let (endBytes, endOverflowed) = bytes.count.addingReportingOverflow(spanBytes)
        guard !spanOverflowed, !endOverflowed, endBytes <= Self.fileBytesMax else {
            throw BoltWriteError("the file would grow past \(Self.fileBytesMax) bytes")
        }
        bytes.reserveCapacity(endBytes)
        return (nextPageID, overflow)
    }

    private mutating func appendHeader(pageID: UInt64, flags: UInt16, count: Int, overflow: UInt32) {
        bytes.appendLittleEndian(pageID)
        bytes.appendLittleEndian(flags)
        // packIntoPages never puts more than UInt16.max elements on a page.
        bytes.appendLittleEndian(UInt16(clamping: count))
        bytes.appendLittleEndian(overflow)
    }

    private mutating func padToPageEnd(pageStart: Int) {
        let used = bytes.count - pageStart
        let spanBytes = max(1, (used + pageSize - 1) / pageSize) * pageSize
        bytes.append(contentsOf: repeatElement(0, count: spanBytes - used))
    }
}
