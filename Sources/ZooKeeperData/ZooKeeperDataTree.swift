import ZooKeeperWire

/// The ZooKeeper data tree that every replica applies the same transactions to: znodes by path,
/// sessions and their ephemeral nodes, and the last zxid. Pure: the front end serves reads from it
/// and proposes writes; `ZooKeeperStateMachine` feeds it the log.
///
/// zxids are totally ordered and consumed by every transaction, failed writes included: the tree
/// starts at epoch 1 (`1 << 32`), and each transaction takes the next.
public struct ZooKeeperDataTree: Equatable, Sendable {
    public package(set) var nodes: [String: ZooKeeperNode]
    public package(set) var sessions: [Int64: Session]
    public internal(set) var lastZxid: Int64
    /// Containers and TTL nodes: what the leader's sweep looks at, so it never walks the tree.
    public internal(set) var sweptNodes: Set<String> = []

    public struct Session: Equatable, Sendable {
        public var timeoutMillis: Int32
        public var password: [UInt8]
        /// Its ephemeral nodes, kept here so closing a session never scans the tree.
        public var ephemerals: Set<String>
        /// The connection that owns it (`ZooKeeperTransaction.connection`; 0: none, after a write
        /// arrived out of order) and the number of the last write applied from it.
        public var owner: UInt64 = 0
        public var lastSequence: UInt64 = 0
    }

    /// What a transaction changed that watchers may be waiting for.
    public struct Trigger: Equatable, Sendable {
        public enum Kind: Sendable { case created, deleted, dataChanged, childrenChanged }
        public var kind: Kind
        public var path: String
        /// The ACL a watcher must be allowed to READ by to hear of it: the node's, or for a
        /// change of children the parent's (ZooKeeper 3.8 with CVE-2024-23944 fixed).
        public var acl: [ZooKeeperACL]

        public init(kind: Kind, path: String, acl: [ZooKeeperACL] = ZooKeeperACL.openUnsafe) {
            self.kind = kind
            self.path = path
            self.acl = acl
        }
    }

    /// `ephemeralOwner` of a container node.
    public static let containerOwner = Int64(bitPattern: 0x8000_0000_0000_0000)
    /// A TTL node's `ephemeralOwner` is this mask with the TTL in milliseconds in its low 40 bits
    /// (ZooKeeper's `EphemeralType.TTL`), so a client reads the TTL from the Stat as it would from
    /// ZooKeeper. Session ids are positive, so neither kind of owner is ever taken for a session.
    static let ttlOwnerMask = Int64(bitPattern: 0xFF00_0000_0000_0000)
    static let ttlOwnerReservedBits = Int64(0x00FF_FF00_0000_0000)
    /// The longest TTL: 40 bits of milliseconds, about 34 years (ZooKeeper's `TTL.maxValue()`).
    public static let ttlMillisMax = Int64(0xFF_FFFF_FFFF)

    /// Whether `owner` names a session (the node is ephemeral), rather than none, a container or a TTL.
    public static func isSessionOwner(_ owner: Int64) -> Bool { owner > 0 }

    /// The TTL of a node with this `ephemeralOwner`, nil when it is no TTL node.
    public static func ttlMillis(ofOwner owner: Int64) -> Int64? {
        owner & ttlOwnerMask == ttlOwnerMask && owner & ttlOwnerReservedBits == 0 ? owner & ttlMillisMax : nil
    }

    /// `CreateMode` values.
    enum CreateMode: Int32 {
        case persistent = 0, ephemeral = 1, persistentSequential = 2, ephemeralSequential = 3, container = 4
        case persistentWithTTL = 5, persistentSequentialWithTTL = 6
        var isSequential: Bool { self == .persistentSequential || self == .ephemeralSequential || self == .persistentSequentialWithTTL }
        var isEphemeral: Bool { self == .ephemeral || self == .ephemeralSequential }
        var isTTL: Bool { self == .persistentWithTTL || self == .persistentSequentialWithTTL }
    }

    /// ZooKeeper's own subtree, present in every tree: `/zookeeper` and `/zookeeper/quota`, as a
    /// 3.8 server has them. `/zookeeper/config` is left out: Curator rewrites its connection
    /// string from it, so it is served correctly (with dynamic reconfiguration) or not at all.
    public static let systemPaths = ["/zookeeper", "/zookeeper/quota"]

    public init() {
        // The cversions a fresh 3.8 server reports (-1 on the root, -2 on /zookeeper), so a
        // client comparing Stats sees the same numbers on both.
        var root = ZooKeeperNode(data: [], acl: ZooKeeperACL.openUnsafe, zxid: 0, time: 0, ephemeralOwner: 0)
        root.children = ["zookeeper"]
        root.cversion = -1
        var system = ZooKeeperNode(data: [], acl: ZooKeeperACL.openUnsafe, zxid: 0, time: 0, ephemeralOwner: 0)
        system.children = ["quota"]
        system.cversion = -2
        nodes = [
            ZooKeeperPath.root: root,
            "/zookeeper": system,
            "/zookeeper/quota": ZooKeeperNode(data: [], acl: ZooKeeperACL.openUnsafe, zxid: 0, time: 0, ephemeralOwner: 0),
        ]
        sessions = [:]
        lastZxid = 1 << 32
    }

    // MARK: Reads

    /// What the leader's sweep deletes at `now` (milliseconds since the epoch): a container that
    /// has had children and has none now (one that never had a child stays, as in ZooKeeper: a
    /// client creates it before its first child), or a childless TTL node whose data has not
    /// changed for longer than its TTL (ZooKeeper's ContainerManager measures from mtime too).
    public static func isDueForSweep(_ node: ZooKeeperNode, now: Int64) -> Bool {
        guard node.children.isEmpty else { return false }
        if node.ephemeralOwner == containerOwner { return node.cversion > 0 }
        guard let ttl = ttlMillis(ofOwner: node.ephemeralOwner) else { return false }
        return now.subtractingReportingOverflow(node.mtime).partialValue > ttl
    }

    /// The nodes to delete now, in path order, at most `limit` (ZooKeeper's
    /// `znode.container.maxPerMinute`). The leader runs it once a check interval; it looks only at
    /// containers and TTL nodes.
    public func nodesDueForSweep(now: Int64, limit: Int) -> [String] {
        Array(sweptNodes.filter { nodes[$0].map { Self.isDueForSweep($0, now: now) } ?? false }.sorted().prefix(limit))
    }

    /// The node a read names. The empty path is the root, as ZooKeeper's tree keeps it under
    /// both "" and "/" (reads are not validated there, writes are).
    public func node(at path: String) -> ZooKeeperNode? { nodes[path.isEmpty ? ZooKeeperPath.root : path] }

    /// Children names, sorted (ZooKeeper returns them unordered; sorting makes replies equal on
    /// every member).
    public func children(of path: String) -> [String]? { node(at: path).map { $0.children.sorted() } }

    /// Ephemeral nodes of `session` under `prefix`, sorted.
    public func ephemerals(of session: Int64, prefix: String) -> [String] {
        (sessions[session]?.ephemerals ?? []).filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// Every node below `path` (not itself): getAllChildrenNumber.
    public func descendantCount(of path: String) -> Int? {
        // ZooKeeper keeps the root under "" and "/", and counts the keys below "" with a prefix
        // test that "/" passes too: one more than below the root.
        if path.isEmpty { return descendantCount(of: ZooKeeperPath.root).map { $0 + 1 } }
        guard nodes[path] != nil else { return nil }
        let prefix = path == ZooKeeperPath.root ? "/" : path + "/"
        return nodes.keys.reduce(0) { $0 + ($1 != path && $1.hasPrefix(prefix) ? 1 : 0) }
    }

    // MARK: Applying transactions

    /// What one applied transaction did.
    public struct Applied: Equatable, Sendable {
        public var zxid: Int64
        public var result: Result<ZooKeeperResponse, ZooKeeperErrorCode>
        public var triggers: [Trigger]
    }

    /// Applies one transaction at the next zxid.
    public mutating func apply(_ transaction: ZooKeeperTransaction) -> Applied {
        lastZxid &+= 1
        let zxid = lastZxid
        var triggers: [Trigger] = []
        let result: Result<ZooKeeperResponse, ZooKeeperErrorCode>
        switch transaction.operation {
        case .createSession(let id, let timeout, let password):
            if sessions[id] != nil || id == 0 {
                result = .failure(.badArguments)
            } else {
                sessions[id] = Session(timeoutMillis: timeout, password: password, ephemerals: [], owner: transaction.connection)
                result = .success(.empty)
            }
        case .claimSession(let id):
            if sessions[id] != nil {
                sessions[id]!.owner = transaction.connection
                sessions[id]!.lastSequence = 0
                result = .success(.empty)
            } else {
                result = .failure(.sessionExpired)
            }
        case .closeSession(let id):
            if let refusal = orderRefusal(transaction) {
                result = .failure(refusal)
            } else if let session = sessions[id] {
                var undo: [UndoStep] = []
                for path in session.ephemerals.sorted(by: >) {
                    _ = delete(path: path, version: -1, zxid: zxid, undo: &undo, triggers: &triggers)
                }
                sessions[id] = nil
                result = .success(.empty)
            } else {
                result = .failure(.sessionExpired)
            }
        case .deleteContainer(let path):
            if let node = nodes[path], Self.isDueForSweep(node, now: transaction.time) {
                var undo: [UndoStep] = []
                result = delete(path: path, version: -1, zxid: zxid, undo: &undo, triggers: &triggers).map { .empty }
            } else {
                result = .failure(.noNode)
            }
        case .write(let request):
            if sessions[transaction.session] == nil {
                result = .failure(.sessionExpired)
            } else if let refusal = orderRefusal(transaction) {
                result = .failure(refusal)
            } else if case .multi(let operations) = request {
                result = .success(multi(operations, context: WriteContext(transaction, zxid: zxid), triggers: &triggers))
            } else {
                var undo: [UndoStep] = []
                result = write(request, context: WriteContext(transaction, zxid: zxid), undo: &undo, triggers: &triggers)
            }
        }
        return Applied(zxid: zxid, result: result, triggers: triggers)
    }

    /// Whether a client's write or close may apply: it must come from the connection that owns
    /// its session (else SESSIONMOVED: the client resumed elsewhere), as the next of that
    /// connection's writes (else CONNECTIONLOSS, and the connection loses the session, so nothing
    /// it sent later applies either: a write the log lost or reordered never lets a later one
    /// through). Members' own transactions (connection 0) are not ordered.
    mutating func orderRefusal(_ transaction: ZooKeeperTransaction) -> ZooKeeperErrorCode? {
        guard transaction.connection != 0, let session = sessions[transaction.session] else { return nil }
        guard session.owner == transaction.connection else { return .sessionMoved }
        guard transaction.sequence == session.lastSequence &+ 1 else {
            sessions[transaction.session]!.owner = 0
            return .connectionLoss
        }
        sessions[transaction.session]!.lastSequence = transaction.sequence
        return nil
    }

    /// A change to undo when a later operation of the same multi fails.
    enum UndoStep {
        case node(path: String, previous: ZooKeeperNode?)
        case ephemeral(session: Int64, path: String, added: Bool)
        /// A parent gained or lost a child: undone by the inverse, and its counters put back. Kept
        /// apart from `node` so a parent is changed in place: saving the whole parent would copy
        /// its set of children on every create, quadratic in a directory's size.
        case child(parent: String, name: String, added: Bool, cversion: Int32, childCreates: Int32, pzxid: Int64)
    }

    mutating func changeChildren(of parentPath: String, adding added: String? = nil, removing removed: String? = nil, zxid: Int64, undo: inout [UndoStep]) {
        undo.append(.child(
            parent: parentPath, name: added ?? removed ?? "", added: added != nil, cversion: nodes[parentPath]!.cversion,
            childCreates: nodes[parentPath]!.childCreates, pzxid: nodes[parentPath]!.pzxid))
        if let added {
            nodes[parentPath]!.children.insert(added)
            nodes[parentPath]!.childCreates &+= 1
        }
        if let removed { nodes[parentPath]!.children.remove(removed) }
        nodes[parentPath]!.cversion &+= 1
        nodes[parentPath]!.pzxid = zxid
    }

    mutating func setNode(_ path: String, _ node: ZooKeeperNode?, undo: inout [UndoStep]) {
        undo.append(.node(path: path, previous: nodes[path]))
        store(path, node)
    }

    /// Sets or removes a node, keeping `sweptNodes` in step.
    mutating func store(_ path: String, _ node: ZooKeeperNode?) {
        nodes[path] = node
        if let owner = node?.ephemeralOwner, owner == Self.containerOwner || Self.ttlMillis(ofOwner: owner) != nil {
            sweptNodes.insert(path)
        } else {
            sweptNodes.remove(path)
        }
    }

    mutating func rollBack(_ undo: [UndoStep]) {
        for step in undo.reversed() {
            switch step {
            case .node(let path, let previous): store(path, previous)
            case .ephemeral(let session, let path, let added):
                if added { sessions[session]?.ephemerals.remove(path) } else { sessions[session]?.ephemerals.insert(path) }
            case .child(let parent, let name, let added, let cversion, let childCreates, let pzxid):
                if added { nodes[parent]?.children.remove(name) } else { nodes[parent]?.children.insert(name) }
                nodes[parent]?.cversion = cversion
                nodes[parent]?.childCreates = childCreates
                nodes[parent]?.pzxid = pzxid
            }
        }
    }

    /// What every operation of one transaction shares: who asked, what they proved, what the
    /// proposer allowed, the zxid and the proposer's clock.
    struct WriteContext {
        var session: Int64
        var auth: [ZooKeeperID]
        var extendedTypes: Bool
        var zxid: Int64
        var time: Int64

        init(_ transaction: ZooKeeperTransaction, zxid: Int64) {
            session = transaction.session
            auth = transaction.auth
            extendedTypes = transaction.extendedTypes
            self.zxid = zxid
            time = transaction.time
        }
    }

    /// All or nothing: the operations run in order; the first failure rolls back the ones before
    /// it, and the results say 0 for those, its code for it and RUNTIMEINCONSISTENCY after it.
    /// The whole multi takes one zxid, as in ZooKeeper.
    mutating func multi(_ operations: [ZooKeeperRequest], context: WriteContext, triggers: inout [Trigger]) -> ZooKeeperResponse {
        var undo: [UndoStep] = []
        var pending: [Trigger] = []
        var results: [ZooKeeperResponse.MultiResult] = []
        for (position, given) in operations.enumerated() {
            let operation = Self.asInMulti(given)
            switch write(operation, context: context, undo: &undo, triggers: &pending) {
            case .success(let response):
                results.append(Self.multiResult(of: operation.operation, response))
            case .failure(let code):
                rollBack(undo)
                let failed = (0..<operations.count).map { index -> ZooKeeperResponse.MultiResult in
                    index < position ? .error(0) : index == position ? .error(code.rawValue) : .error(ZooKeeperErrorCode.runtimeInconsistency.rawValue)
                }
                return .multi(failed)
            }
        }
        triggers += pending
        return .multi(results)
    }

    /// A multi's create as ZooKeeper 3.8 runs it: the server rebuilds each create from its mode
    /// (Op.create), so the mode picks the operation: a container mode makes a createContainer, a
    /// TTL mode a createTTL, any other a plain create, whatever type the client sent.
    static func asInMulti(_ request: ZooKeeperRequest) -> ZooKeeperRequest {
        guard case .create(var create) = request, let mode = CreateMode(rawValue: create.flags) else { return request }
        create.operation = mode.isTTL ? .createTTL : mode == .container ? .createContainer : .create
        return .create(create)
    }

    /// A successful operation's entry in a multi's results, as ZooKeeper 3.8 writes it: a
    /// create or create2 gives its path alone (type create), a container or TTL create its path
    /// and Stat (type create2), whatever the request's own type.
    static func multiResult(of operation: ZooKeeperOperation, _ response: ZooKeeperResponse) -> ZooKeeperResponse.MultiResult {
        switch (operation, response) {
        case (.create, .createdWithStat(let path, _)), (.create2, .createdWithStat(let path, _)):
            return .success(operation: .create, .created(path: path))
        case (.createContainer, _), (.createTTL, _):
            return .success(operation: .create2, response)
        default:
            return .success(operation: operation, response)
        }
    }

    mutating func write(
        _ request: ZooKeeperRequest, context: WriteContext, undo: inout [UndoStep], triggers: inout [Trigger]
    ) -> Result<ZooKeeperResponse, ZooKeeperErrorCode> {
        let (auth, zxid, time) = (context.auth, context.zxid, context.time)
        switch request {
        case .create(let create):
            return self.create(create, context: context, undo: &undo, triggers: &triggers)
        case .delete(let path, let version):
            return delete(path: path, version: version, auth: auth, zxid: zxid, undo: &undo, triggers: &triggers).map { .empty }
        case .setData(let path, let data, let version):
            guard ZooKeeperPath.isValid(path) else { return .failure(.badArguments) }
            guard var node = nodes[path] else { return .failure(.noNode) }
            guard Self.permits(node.acl, ZooKeeperACL.Permission.write, auth: auth) else { return .failure(.noAuth) }
            guard version == -1 || version == node.version else { return .failure(.badVersion) }
            node.data = data
            node.version = Self.nextVersion(after: node.version)
            node.mzxid = zxid
            node.mtime = time
            setNode(path, node, undo: &undo)
            triggers.append(Trigger(kind: .dataChanged, path: path, acl: node.acl))
            return .success(.stat(node.stat))
        case .setACL(let path, let acl, let version):
            guard ZooKeeperPath.isValid(path) else { return .failure(.badArguments) }
            guard let fixed = Self.fixedACL(acl, auth: auth) else { return .failure(.invalidACL) }
            guard var node = nodes[path] else { return .failure(.noNode) }
            guard Self.permits(node.acl, ZooKeeperACL.Permission.admin, auth: auth) else { return .failure(.noAuth) }
            guard version == -1 || version == node.aversion else { return .failure(.badVersion) }
            node.acl = fixed
            node.aversion = Self.nextVersion(after: node.aversion)
            setNode(path, node, undo: &undo)
            return .success(.stat(node.stat))
        case .check(let path, let version):
            guard ZooKeeperPath.isValid(path) else { return .failure(.badArguments) }
            guard let node = nodes[path] else { return .failure(.noNode) }
            guard Self.permits(node.acl, ZooKeeperACL.Permission.read, auth: auth) else { return .failure(.noAuth) }
            guard version == -1 || version == node.version else { return .failure(.badVersion) }
            return .success(.empty)
        default:
            return .failure(.unimplemented)
        }
    }

    mutating func create(
        _ create: ZooKeeperRequest.Create, context: WriteContext, undo: inout [UndoStep], triggers: inout [Trigger]
    ) -> Result<ZooKeeperResponse, ZooKeeperErrorCode> {
        let (session, auth, zxid, time) = (context.session, context.auth, context.zxid, context.time)
        guard let mode = CreateMode(rawValue: create.flags) else { return .failure(.badArguments) }
        // ZooKeeper's validateCreateRequest: TTL modes need extended types (off by default there
        // too), a TTL mode needs a TTL in (0, max], and any other mode refuses one.
        let ttl = create.operation == .createTTL ? create.ttl ?? -1 : -1
        if mode.isTTL {
            guard context.extendedTypes else { return .failure(.unimplemented) }
            guard ttl > 0, ttl <= Self.ttlMillisMax else { return .failure(.badArguments) }
        } else if ttl >= 0 {
            return .failure(.badArguments)
        }
        // The operation decides what kind of node is made, the mode only how it is named and, for
        // create and create2, whether it is ephemeral: ZooKeeper logs a createContainer as a
        // container whatever its flags, and a create with the container flag as a plain node.
        let owner: Int64
        switch create.operation {
        case .createContainer:
            owner = Self.containerOwner
        case .createTTL:
            // ZooKeeper's own server fails applying a createTTL whose mode has no TTL; refused here.
            guard mode.isTTL else { return .failure(.badArguments) }
            owner = Self.ttlOwnerMask | ttl
        case .create, .create2:
            owner = mode.isEphemeral ? session : 0
        default:
            return .failure(.badArguments)
        }
        // ZooKeeper's order (PrepRequestProcessor): a slash and no NUL, the ACL, the parent, the
        // parent's CREATE permission, then the whole path once named, then existence.
        guard create.path.contains("/"), !create.path.contains("\0") else { return .failure(.badArguments) }
        guard let acl = Self.fixedACL(create.acl, auth: auth) else { return .failure(.invalidACL) }
        let parentPath = ZooKeeperPath.parent(of: create.path)
        // The parent is read in place, never bound: a copy held here would make the insert below
        // copy its whole set of children.
        guard nodes[parentPath] != nil else { return .failure(.noNode) }
        guard Self.permits(nodes[parentPath]!.acl, ZooKeeperACL.Permission.create, auth: auth) else { return .failure(.noAuth) }
        let path = mode.isSequential ? create.path + ZooKeeperPath.sequenceSuffix(nodes[parentPath]!.childCreates) : create.path
        guard ZooKeeperPath.isValid(path) else { return .failure(.badArguments) }
        guard nodes[path] == nil else { return .failure(.nodeExists) }
        guard !Self.isSessionOwner(nodes[parentPath]!.ephemeralOwner) else { return .failure(.noChildrenForEphemerals) }
        let node = ZooKeeperNode(data: create.data, acl: acl, zxid: zxid, time: time, ephemeralOwner: owner)
        changeChildren(of: parentPath, adding: ZooKeeperPath.name(of: path), zxid: zxid, undo: &undo)
        setNode(path, node, undo: &undo)
        if Self.isSessionOwner(owner) {
            sessions[session]?.ephemerals.insert(path)
            undo.append(.ephemeral(session: session, path: path, added: true))
        }
        triggers.append(Trigger(kind: .created, path: path, acl: node.acl))
        triggers.append(Trigger(kind: .childrenChanged, path: parentPath, acl: nodes[parentPath]!.acl))
        return .success(create.operation == .create ? .created(path: path) : .createdWithStat(path: path, stat: node.stat))
    }

    /// A version after `version`, as ZooKeeper's checkAndIncVersion counts: past Int32.max it
    /// wraps, skipping -1, which a client could not ask for (-1 means any version).
    public static func nextVersion(after version: Int32) -> Int32 {
        let next = version &+ 1
        return next == -1 ? 0 : next
    }

    /// ZooKeeper's own nodes, which no client may delete (its isSpecialPath).
    static func isSpecialPath(_ path: String) -> Bool {
        path == ZooKeeperPath.root || path == "/zookeeper" || path == "/zookeeper/quota" || path == "/zookeeper/config"
    }

    /// Deletes a node. `auth` is the asking client's identities, checked against the parent's
    /// DELETE permission; nil for the members' own deletions (a session's ephemerals, a sweep).
    /// ZooKeeper's order: a slash, no NUL, not one of its own nodes; the parent; its permission;
    /// then the node, so a client that may not delete there learns nothing of what is there.
    mutating func delete(
        path: String, version: Int32, auth: [ZooKeeperID]? = nil, zxid: Int64, undo: inout [UndoStep], triggers: inout [Trigger]
    ) -> Result<Void, ZooKeeperErrorCode> {
        guard path.contains("/"), !path.contains("\0"), !Self.isSpecialPath(path) else { return .failure(.badArguments) }
        // The parent is read in place, never bound (a copy would make the removal below copy its
        // set of children).
        let parentPath = ZooKeeperPath.parent(of: path)
        guard nodes[parentPath] != nil else { return .failure(.noNode) }
        if let auth, !Self.permits(nodes[parentPath]!.acl, ZooKeeperACL.Permission.delete, auth: auth) { return .failure(.noAuth) }
        guard let node = nodes[path] else { return .failure(.noNode) }
        guard version == -1 || version == node.version else { return .failure(.badVersion) }
        guard node.children.isEmpty else { return .failure(.notEmpty) }
        changeChildren(of: parentPath, removing: ZooKeeperPath.name(of: path), zxid: zxid, undo: &undo)
        setNode(path, nil, undo: &undo)
        if Self.isSessionOwner(node.ephemeralOwner), sessions[node.ephemeralOwner]?.ephemerals.remove(path) != nil {
            undo.append(.ephemeral(session: node.ephemeralOwner, path: path, added: false))
        }
        triggers.append(Trigger(kind: .deleted, path: path, acl: node.acl))
        triggers.append(Trigger(kind: .childrenChanged, path: parentPath, acl: nodes[parentPath]?.acl ?? ZooKeeperACL.openUnsafe))
        return .success(())
    }
}

/// Access control, as ZooKeeper checks it: an operation needs one ACL entry that grants its
/// permission to anyone, or to an identity the session has proven.
extension ZooKeeperDataTree {
    public static func permits(_ acl: [ZooKeeperACL], _ permission: Int32, auth: [ZooKeeperID]) -> Bool {
        acl.contains { entry in entry.permissions & permission != 0 && grants(entry.id, to: auth) }
    }

    /// Whether an ACL entry's identity covers a session: anyone; an "ip" entry the address the
    /// client connected from falls in; any other the very identity the session proved.
    static func grants(_ id: ZooKeeperID, to auth: [ZooKeeperID]) -> Bool {
        switch id.scheme {
        case "world": return id == .anyone
        case "ip": return auth.contains { $0.scheme == "ip" && ZooKeeperPath.address($0.id, matches: id.id) }
        default: return auth.contains(id)
        }
    }

    /// An ACL as a create or setAcl stores it (ZooKeeper's `fixupACL`): "auth" entries become the
    /// session's proven identities (its digests; an address proves nothing), schemes must be
    /// known and ids well formed, duplicates go. Nil is INVALIDACL.
    public static func fixedACL(_ acl: [ZooKeeperACL], auth: [ZooKeeperID]) -> [ZooKeeperACL]? {
        guard !acl.isEmpty else { return nil }
        // Duplicates go before "auth" entries are expanded, as ZooKeeper's fixupACL does, so an
        // expansion may repeat an entry given explicitly.
        var unique: [ZooKeeperACL] = []
        for entry in acl where !unique.contains(entry) { unique.append(entry) }
        var fixed: [ZooKeeperACL] = []
        func add(_ entry: ZooKeeperACL) { fixed.append(entry) }
        for entry in unique {
            switch entry.id.scheme {
            case "world":
                guard entry.id.id == "anyone" else { return nil }
                add(entry)
            case "auth":
                let proven = auth.filter { $0.scheme == "digest" }
                guard !proven.isEmpty else { return nil }
                for id in proven { add(ZooKeeperACL(permissions: entry.permissions, id: id)) }
            case "digest":
                // user:base64(sha1): two parts, as Java's split(":") counts them (trailing empty
                // parts dropped), which is DigestAuthenticationProvider's test.
                var parts = entry.id.id.split(separator: ":", omittingEmptySubsequences: false)
                while parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
                guard parts.count == 2 else { return nil }
                add(entry)
            case "ip":
                guard ZooKeeperPath.isAddress(entry.id.id) else { return nil }
                add(entry)
            default:
                return nil
            }
        }
        return fixed
    }
}
