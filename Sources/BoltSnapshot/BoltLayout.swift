/// The on-disk layout of a bbolt database file (format version 2, as etcd 3.4 uses through
/// bbolt 1.3.x). Every struct is stored little-endian and unpadded:
///
///     page header       0 u64 page id, 8 u16 flags, 10 u16 element count, 12 u32 overflow pages
///     meta (at 16)      0 u32 magic, 4 u32 version, 8 u32 page size, 12 u32 flags,
///                       16 u64 root bucket's root page, 24 u64 root bucket's sequence,
///                       32 u64 freelist page, 40 u64 high-water page id, 48 u64 txid,
///                       56 u64 FNV-64a checksum of bytes 0..<56
///     branch element    0 u32 pos, 4 u32 key size, 8 u64 child page id
///     leaf element      0 u32 flags, 4 u32 pos, 8 u32 key size, 12 u32 value size
///     bucket header     0 u64 root page id (0 for an inline bucket), 8 u64 sequence
///
/// An element's `pos` counts from the element's own first byte to its key; a leaf's value follows
/// its key. A page with `overflow` n spans n + 1 consecutive page-size blocks and only the first
/// has a header. Pages 0 and 1 hold the two meta copies; the one with the higher txid that passes
/// validation is current. An inline bucket keeps its single leaf page inside its parent's value,
/// right after the bucket header.
public enum BoltLayout {
    /// The page size Synod writes: the Linux page size, which is what bbolt picks by default.
    public static let pageSize = 4096
    public static let magic: UInt32 = 0xED0C_DAED
    public static let version: UInt32 = 2

    package static let pageHeaderBytes = 16
    package static let branchElementBytes = 16
    package static let leafElementBytes = 16
    package static let bucketHeaderBytes = 16
    package static let metaBytes = 64
    /// The meta checksum covers the struct up to, not including, the checksum field.
    package static let metaChecksummedBytes = 56

    package static let branchPageFlag: UInt16 = 0x01
    package static let leafPageFlag: UInt16 = 0x02
    package static let metaPageFlag: UInt16 = 0x04
    package static let freelistPageFlag: UInt16 = 0x10

    /// Set in a leaf element's flags when its value is a bucket header rather than user data.
    package static let bucketLeafFlag: UInt32 = 0x01

    /// The freelist page id bbolt writes when it keeps no freelist on disk.
    package static let noFreelistPageID: UInt64 = 0xFFFF_FFFF_FFFF_FFFF

    /// bbolt's own limits on a key and a value; larger ones are refused on write.
    public static let keyBytesMax = 32768
    public static let valueBytesMax = (1 << 31) - 2

    /// Page sizes a reader accepts. bbolt takes the OS page size, so real files use one of these.
    package static let acceptedPageSizes: [Int] = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]
}
