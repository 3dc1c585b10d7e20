import Glibc

/// A plain blocking TCP connection for `synod fuzz peer-live`: the fuzzer writes whatever bytes it
/// likes, including frames no Synod node would ever send, so it does not go through the node's own
/// transport.
final class PeerSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var descriptor: Int32

    /// Connects to an IPv4 `host:port`, with `timeoutSeconds` for each later receive.
    init(host: String, port: Int, timeoutSeconds: Int = 2) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close()
            throw Failure(description: "\(host) is not an IPv4 address")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close()
            throw Failure(description: "connect to \(host):\(port): errno \(code)")
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close() }

    /// Writes every byte; false once the node has closed or reset the connection.
    func send(_ bytes: [UInt8]) -> Bool {
        guard descriptor >= 0 else { return false }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Whether the node closed the connection: waits up to the receive timeout for end of file or a
    /// reset, discarding anything it sends.
    func closedByPeer() -> Bool {
        guard descriptor >= 0 else { return true }
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Bounded: each read either fails, sees end of file, or times out; a node that keeps talking
        // for 64 reads has not closed the connection.
        for _ in 0..<64 {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET || errno == EPIPE }
        }
        return false
    }

    func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }
}
