/// A cluster member as etcd 3.4 records it in the "members" bucket: the key is the ID in lowercase
/// hex, the value the JSON of membership.Member, e.g.
///
///     {"id":17227010664766480024,"peerURLs":["http://127.0.0.1:2380"],"name":"a","clientURLs":["http://127.0.0.1:2379"]}
///
/// Go writes the fields in declaration order and leaves out `isLearner` when false and `name` and
/// `clientURLs` when empty (`omitempty`); `peerURLs` is never left out, and is `null` when nil.
///
/// etcd 3.4 reads membership from its v2 store, not from this bucket, and `snapshot restore`
/// builds the new cluster from its flags: these records are informational on restore.
public struct EtcdBackendMember: Equatable, Sendable {
    public var id: UInt64
    public var name: String
    public var peerURLs: [String]
    public var clientURLs: [String]
    public var isLearner: Bool

    public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String] = [], isLearner: Bool = false) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
        self.isLearner = isLearner
    }

    /// The "members" bucket key: Go's `types.ID.String()`, lowercase hex without padding.
    package var bucketKey: [UInt8] { Array(String(id, radix: 16).utf8) }

    package func encodedJSON() -> [UInt8] {
        var json = "{\"id\":\(id),\"peerURLs\":" + Self.stringArray(peerURLs)
        if isLearner {
            json += ",\"isLearner\":true"
        }
        if !name.isEmpty {
            json += ",\"name\":" + JSONValue.encodeString(name)
        }
        if !clientURLs.isEmpty {
            json += ",\"clientURLs\":" + Self.stringArray(clientURLs)
        }
        return Array((json + "}").utf8)
    }

    private static func stringArray(_ strings: [String]) -> String {
        "[" + strings.map(JSONValue.encodeString).joined(separator: ",") + "]"
    }

    package static func decode(key: [UInt8], json: [UInt8]) throws(EtcdBackendError) -> EtcdBackendMember {
        let place = "members bucket: key \(describeBytes(key))"
        guard let keyID = UInt64(String(decoding: key, as: UTF8.self), radix: 16) else {
            throw EtcdBackendError("\(place): the key is not a hexadecimal member ID")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(json)
        } catch {
            throw EtcdBackendError("\(place): invalid JSON: \(error.message)")
        }
        guard case .object(let fields) = parsed else {
            throw EtcdBackendError("\(place): the value is not a JSON object")
        }
        var member = EtcdBackendMember(id: keyID, name: "", peerURLs: [])
        for (name, value) in fields {
            // Go matches field names case-insensitively; etcd only ever writes these spellings.
            switch name {
            case "id":
                guard case .number(let text) = value, let id = UInt64(text) else {
                    throw EtcdBackendError("\(place): \"id\" is not an unsigned integer")
                }
                member.id = id
            case "peerURLs": member.peerURLs = try strings(value, field: name, place: place)
            case "clientURLs": member.clientURLs = try strings(value, field: name, place: place)
            case "name":
                switch value {
                case .string(let text): member.name = text
                case .null: member.name = ""
                default: throw EtcdBackendError("\(place): \"name\" is not a string")
                }
            case "isLearner":
                switch value {
                case .bool(let flag): member.isLearner = flag
                case .null: member.isLearner = false
                default: throw EtcdBackendError("\(place): \"isLearner\" is not a boolean")
                }
            default:
                continue
            }
        }
        guard member.id == keyID else {
            throw EtcdBackendError("\(place): the key names member \(String(keyID, radix: 16)) but the record member \(String(member.id, radix: 16))")
        }
        return member
    }

    private static func strings(_ value: JSONValue, field: String, place: String) throws(EtcdBackendError) -> [String] {
        switch value {
        case .null:
            return []
        case .array(let elements):
            var result: [String] = []
            for element in elements {
                guard case .string(let text) = element else {
                    throw EtcdBackendError("\(place): \"\(field)\" holds something other than strings")
                }
                result.append(text)
            }
            return result
        default:
            throw EtcdBackendError("\(place): \"\(field)\" is not an array")
        }
    }
}
