/// The engines Synod runs, by name. `serve`, `up`, `sim` and `bench` look engines up here; a new
/// engine adds its descriptor to `all`.
public enum EngineRegistry {
    public static let all: [EngineDescriptor] = [.raft]

    public static var names: [String] { all.map(\.name) }

    public static func named(_ name: String) -> EngineDescriptor? { all.first { $0.name == name } }

    /// The descriptor for `name`, or an error naming the engines there are.
    public static func lookup(_ name: String) throws(UnknownEngine) -> EngineDescriptor {
        guard let engine = named(name) else { throw UnknownEngine(name: name) }
        return engine
    }

    public struct UnknownEngine: Error, CustomStringConvertible {
        public let name: String
        public init(name: String) { self.name = name }
        public var description: String { "unknown engine '\(name)'; expected one of: \(EngineRegistry.names.joined(separator: ", "))" }
    }
}
