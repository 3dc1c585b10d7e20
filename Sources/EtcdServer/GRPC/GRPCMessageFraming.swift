import NIOCore

/// gRPC's message framing over HTTP/2 DATA frames: each message is a one-byte compression flag, a
/// four-byte big-endian length, then the message. Pure: it reads and writes `ByteBuffer`s and never
/// consumes a partial message, however the bytes arrive.
package enum GRPCMessageFraming {
    package static let prefixBytes = 5

    package enum DeframingError: Error, Equatable {
        /// The client compressed a message; this server offers no compression, so it never asked.
        case compressed
        /// A message longer than the server accepts (etcd's --max-request-bytes plus gRPC slack).
        case tooLarge(length: Int, limit: Int)
    }

    /// Takes the next whole message off the front of `buffer`, or nil if it has not all arrived.
    package static func nextMessage(from buffer: inout ByteBuffer, messageBytesMax: Int) throws(DeframingError) -> ByteBuffer? {
        guard let flag = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self) else { return nil }
        guard flag == 0 else { throw .compressed }
        guard Int(length) <= messageBytesMax else { throw .tooLarge(length: Int(length), limit: messageBytesMax) }
        guard buffer.readableBytes >= prefixBytes + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: prefixBytes)
        return buffer.readSlice(length: Int(length))
    }

    /// Frames `message` for a DATA frame.
    package static func frame(_ message: [UInt8], allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: prefixBytes + message.count)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
        return buffer
    }

    /// The grpc-message trailer is percent-encoded: printable ASCII other than '%' passes, every
    /// other byte of the UTF-8 becomes %XX (gRPC's PROTOCOL-HTTP2 spec).
    package static func percentEncoded(_ message: String) -> String {
        var encoded = ""
        for byte in message.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                encoded += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return encoded
    }
}
