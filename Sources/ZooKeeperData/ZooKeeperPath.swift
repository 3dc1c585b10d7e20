import ZooKeeperWire

/// ZooKeeper's rules for node paths (`PathUtils.validatePath`): absolute, no empty, "." or ".."
/// segment, no trailing slash but on the root, none of the characters ZooKeeper refuses. A path
/// that breaks them gets BADARGUMENTS.
public enum ZooKeeperPath {
    public static let root = "/"
    /// The longest path accepted: far past any real one, and bounded so that a client cannot make
    /// the tree's keys arbitrarily large (the packet bound caps it too).
    public static let bytesMax = 4096

    /// Whether `path` is one ZooKeeper accepts. A sequential create's path is checked with a digit
    /// appended, as ZooKeeper does, so "/a/" is a valid prefix for "/a/0000000001".
    public static func isValid(_ path: String, sequential: Bool = false) -> Bool {
        let checked = sequential ? path + "1" : path
        guard checked.utf8.count <= bytesMax, checked.first == "/" else { return false }
        if checked == root { return true }
        guard checked.last != "/" else { return false }
        for segment in checked.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment != ".", segment != ".." else { return false }
        }
        return !checked.unicodeScalars.contains { scalar in
            let value = scalar.value
            return value == 0 || (0x01...0x1F).contains(value) || (0x7F...0x9F).contains(value)
                || (0xD800...0xF8FF).contains(value) || (0xFFF0...0xFFFF).contains(value)
        }
    }

    /// The parent of a valid path other than the root.
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return root }
        return String(path[..<slash])
    }

    /// The last segment of a valid path other than the root.
    public static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// ZooKeeper's sequence suffix: ten digits, zero-padded (`%010d`); negative counters (after
    /// 2^31 creates) print as Java does, with a sign.
    public static func sequenceSuffix(_ counter: Int32) -> String {
        let digits = String(counter.magnitude)
        let width = counter < 0 ? 9 : 10
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return counter < 0 ? "-" + padded : padded
    }

    /// An IPv4 address, optionally with a /bits mask, as the "ip" ACL scheme takes it.
    public static func isAddress(_ text: String) -> Bool { addressAndMask(text) != nil }

    /// Whether a client at `client` (an IPv4 address) is matched by an "ip" ACL's `expression`
    /// ("a.b.c.d", or "a.b.c.d/bits" for a network), as ZooKeeper's IPAuthenticationProvider
    /// matches them.
    public static func address(_ client: String, matches expression: String) -> Bool {
        guard let (network, bits) = addressAndMask(expression), let (address, _) = addressAndMask(client) else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        return address & mask == network & mask
    }

    static func addressAndMask(_ text: String) -> (address: UInt32, bits: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        var bits = 32
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...32).contains(given) else { return nil }
            bits = given
        }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var address: UInt32 = 0
        for octet in octets {
            guard let value = UInt32(octet), value <= 255 else { return nil }
            address = address << 8 | value
        }
        return (address, bits)
    }
}
