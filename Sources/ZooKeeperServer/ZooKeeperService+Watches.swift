import ZooKeeperData
import ZooKeeperWire

/// One-shot watches, as ZooKeeper keeps them: per connection on the member the client is attached
/// to; a data watch (getData, or exists) fires on create, delete and setData of its path, a child
/// watch on changes of its children and on the delete of its node. An event is sent when the
/// change applies, before any reply that reflects it.
extension ZooKeeperService {
    func fireWatches(_ triggers: [ZooKeeperDataTree.Trigger]) {
        guard !triggers.isEmpty else { return }
        for connection in connections.values where connection.session != nil && connection.watchCount > 0 {
            for trigger in triggers {
                // One event per change, however many of the connection's watches it matches, and
                // only to a client that may read what changed: a one-shot watch it may not is
                // used up in silence, as ZooKeeper does since CVE-2024-23944.
                let permitted = ZooKeeperDataTree.permits(trigger.acl, ZooKeeperACL.Permission.read, auth: connection.authIDs)
                let persistent = connection.persistentWatches.contains(trigger.path)
                switch trigger.kind {
                case .created:
                    if connection.dataWatches.remove(trigger.path) != nil || persistent || connection.isWatchedRecursively(trigger.path) {
                        send(.nodeCreated, trigger.path, to: connection, if: permitted)
                    }
                case .dataChanged:
                    if connection.dataWatches.remove(trigger.path) != nil || persistent || connection.isWatchedRecursively(trigger.path) {
                        send(.nodeDataChanged, trigger.path, to: connection, if: permitted)
                    }
                case .deleted:
                    let data = connection.dataWatches.remove(trigger.path) != nil
                    let child = connection.childWatches.remove(trigger.path) != nil
                    if data || child || persistent || connection.isWatchedRecursively(trigger.path) {
                        send(.nodeDeleted, trigger.path, to: connection, if: permitted)
                    }
                case .childrenChanged:
                    // A recursive watch never fires ChildrenChanged: it sees the child's own event.
                    if connection.childWatches.remove(trigger.path) != nil || persistent {
                        send(.nodeChildrenChanged, trigger.path, to: connection, if: permitted)
                    }
                }
            }
        }
    }

    func send(_ type: ZooKeeperWatcherEvent.EventType, _ path: String, to connection: ZooKeeperConnection, if permitted: Bool = true) {
        guard permitted else { return }
        connection.send(ZooKeeperConnection.event(ZooKeeperWatcherEvent(type: type, path: path)))
    }

    /// SetWatches after a reconnect (persistent watches are re-armed with no catch-up): each watch fires at once if what it watches changed after
    /// `relativeZxid` (the last zxid the client saw), and is re-armed otherwise.
    func restoreWatches(_ watches: ZooKeeperRequest.SetWatches, on connection: ZooKeeperConnection) {
        for path in watches.data {
            guard let node = tree.node(at: path) else { send(.nodeDeleted, path, to: connection); continue }
            if node.mzxid > watches.relativeZxid { send(.nodeDataChanged, path, to: connection) } else if watchPermitted(connection) { connection.dataWatches.insert(path) }
        }
        for path in watches.exist {
            if tree.node(at: path) != nil { send(.nodeCreated, path, to: connection) } else if watchPermitted(connection) { connection.dataWatches.insert(path) }
        }
        for path in watches.child {
            guard let node = tree.node(at: path) else { send(.nodeDeleted, path, to: connection); continue }
            if node.pzxid > watches.relativeZxid { send(.nodeChildrenChanged, path, to: connection) } else if watchPermitted(connection) { connection.childWatches.insert(path) }
        }
        for path in watches.persistent ?? [] where watchPermitted(connection) { connection.persistentWatches.insert(path) }
        for path in watches.persistentRecursive ?? [] where watchPermitted(connection) { connection.recursiveWatches.insert(path) }
    }
}

/// `WatcherType` as removeWatches and checkWatches name it.
enum ZooKeeperWatcherType: Int32 {
    case children = 1, data = 2, any = 3, persistent = 4, persistentRecursive = 5
}

extension ZooKeeperConnection {
    /// Whether a recursive watch covers `path`: its own path or an ancestor's.
    func isWatchedRecursively(_ path: String) -> Bool {
        guard !recursiveWatches.isEmpty else { return false }
        var current = path
        while true {
            if recursiveWatches.contains(current) { return true }
            if current == ZooKeeperPath.root { return false }
            current = ZooKeeperPath.parent(of: current)
        }
    }

    func hasWatch(on path: String, type: Int32) -> Bool {
        switch ZooKeeperWatcherType(rawValue: type) {
        case .children: return childWatches.contains(path)
        case .data: return dataWatches.contains(path)
        case .persistent: return persistentWatches.contains(path)
        case .persistentRecursive: return recursiveWatches.contains(path)
        case .any: return childWatches.contains(path) || dataWatches.contains(path) || persistentWatches.contains(path) || recursiveWatches.contains(path)
        case nil: return false
        }
    }

    /// Removes the watches of `type` on `path`; false when there were none.
    func removeWatches(on path: String, type: Int32) -> Bool {
        guard hasWatch(on: path, type: type) else { return false }
        let kind = ZooKeeperWatcherType(rawValue: type)
        if kind == .children || kind == .any { childWatches.remove(path) }
        if kind == .data || kind == .any { dataWatches.remove(path) }
        if kind == .persistent || kind == .any { persistentWatches.remove(path) }
        if kind == .persistentRecursive || kind == .any { recursiveWatches.remove(path) }
        return true
    }
}
