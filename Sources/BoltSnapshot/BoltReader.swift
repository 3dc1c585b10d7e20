/// Reads a bbolt file into its buckets. The reader is total: any input, however damaged, ends in
/// either a `BoltDatabase` or a `BoltFormatError`, never a trap or an endless loop. It checks what
/// bbolt itself assumes (and `bbolt check` verifies): every element lies inside its page, every
/// page lies below the high-water mark and inside the file, no page is reached twice, keys rise.
public enum BoltReader {
    /// Buckets nested deeper than this are refused.
    public static let bucketDepthMax = 16
    /// A bound on branch levels. bbolt merges pages with fewer than two keys, so a real tree of
    /// depth d spans at least 2^(d-1) pages; 64 levels is far beyond any file that can exist.
    public static let treeDepthMax = 64

    public static func decode(_ file: [UInt8]) throws(BoltFormatError) -> BoltDatabase {
        let pageSize = try findPageSize(file)
        let meta = try currentMeta(file, pageSize: pageSize)
        var walker = try BoltTreeWalker(file: file, pageSize: pageSize, meta: meta)
        let rootEntries = try walker.bucketEntries(root: .page(meta.rootPageID), place: "root bucket")
        var buckets: [BoltBucket] = []
        buckets.reserveCapacity(rootEntries.count)
        for entry in rootEntries {
            guard let header = entry.bucketHeader else {
                throw BoltFormatError("root bucket: key \(describeBytes(entry.key)) holds a value, but the root bucket may hold only buckets")
            }
            buckets.append(try walker.bucket(named: entry.key, header: header, depth: 1, place: "bucket \(describeBytes(entry.key))"))
        }
        return BoltDatabase(buckets: buckets, pageSize: pageSize, transactionID: meta.transactionID)
    }

    /// bbolt takes the page size from meta page 0; if that page is damaged, meta page 1 sits one
    /// page further on, so each accepted page size is tried for it.
    package static func findPageSize(_ file: [UInt8]) throws(BoltFormatError) -> Int {
        let firstError: BoltFormatError
        do {
            let meta = try BoltMeta.decode(file, at: BoltLayout.pageHeaderBytes, pageDescription: "meta page 0")
            if BoltLayout.acceptedPageSizes.contains(Int(meta.pageSize)) {
                return Int(meta.pageSize)
            }
            firstError = BoltFormatError("meta page 0: page size \(meta.pageSize) is not a power of two between 512 and 65536")
        } catch {
            firstError = error
        }
        for candidate in BoltLayout.acceptedPageSizes {
            if let meta = try? BoltMeta.decode(file, at: candidate + BoltLayout.pageHeaderBytes, pageDescription: "meta page 1"),
               Int(meta.pageSize) == candidate {
                return candidate
            }
        }
        throw BoltFormatError("\(firstError.message); and no valid meta page 1 was found")
    }

    /// The meta with the higher txid if it validates, else the other one, as bbolt chooses; then
    /// checks that what it points at lies inside the file.
    package static func currentMeta(_ file: [UInt8], pageSize: Int) throws(BoltFormatError) -> BoltMeta {
        var candidates: [BoltMeta] = []
        var errors: [String] = []
        for pageID in 0..<2 {
            do {
                let meta = try BoltMeta.decode(file, at: pageID * pageSize + BoltLayout.pageHeaderBytes, pageDescription: "meta page \(pageID)")
                if Int(meta.pageSize) == pageSize {
                    candidates.append(meta)
                } else {
                    errors.append("meta page \(pageID): page size \(meta.pageSize) differs from \(pageSize)")
                }
            } catch {
                errors.append(error.message)
            }
        }
        guard let meta = candidates.max(by: { $0.transactionID < $1.transactionID }) else {
            throw BoltFormatError("no valid meta page: " + errors.joined(separator: "; "))
        }
        let availablePages = UInt64(file.count / pageSize)
        guard meta.highWaterPageID <= availablePages else {
            throw BoltFormatError("the file is truncated: meta (txid \(meta.transactionID)) says it holds \(meta.highWaterPageID) pages of \(pageSize) bytes, but it has \(file.count) bytes (\(availablePages) whole pages)")
        }
        guard meta.rootPageID >= 2, meta.rootPageID < meta.highWaterPageID else {
            throw BoltFormatError("meta (txid \(meta.transactionID)): root page \(meta.rootPageID) is outside pages 2..<\(meta.highWaterPageID)")
        }
        guard meta.freelistPageID == BoltLayout.noFreelistPageID || (meta.freelistPageID >= 2 && meta.freelistPageID < meta.highWaterPageID) else {
            throw BoltFormatError("meta (txid \(meta.transactionID)): freelist page \(meta.freelistPageID) is outside pages 2..<\(meta.highWaterPageID)")
        }
        return meta
    }
}
