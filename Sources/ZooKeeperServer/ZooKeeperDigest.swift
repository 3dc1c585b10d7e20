import Crypto
import Foundation
import ZooKeeperWire

/// ZooKeeper's digest authentication scheme: a client proves "user:password", and ACLs name it
/// as digest:user:base64(sha1("user:password")), which is what `DigestAuthenticationProvider`
/// computes (and kazoo's `make_digest_acl`).
public enum ZooKeeperDigest {
    /// The identity `credential` ("user:password") proves, or nil when it has no user part.
    public static func identity(_ credential: [UInt8]) -> ZooKeeperID? {
        guard let colon = credential.firstIndex(of: UInt8(ascii: ":")), colon > 0,
              let user = String(validating: credential[..<colon], as: UTF8.self) else { return nil }
        let hash = Data(Insecure.SHA1.hash(data: credential)).base64EncodedString()
        return ZooKeeperID(scheme: "digest", id: "\(user):\(hash)")
    }
}
