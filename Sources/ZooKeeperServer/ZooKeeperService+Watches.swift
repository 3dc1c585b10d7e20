import ZooKeeperData
import ZooKeeperWire

/// One-shot watches, as ZooKeeper keeps them: per connection on the member the client is attached
/// to; a data watch (getData, or exists) fires on create, delete and setData of its path, a child
/// watch on changes of its children and on the delete of its node. An event is sent when the
/// change applies, before any reply that reflects it.
extension ZooKeeperService {
    func fireWatches(_ triggers: [ZooKeeperDataTree.Trigger]) {
        guard !triggers.isEmpty else { return }
        let zxid = tree.lastZxid
        for connection in connections.values where connection.session != nil && connection.watchCount > 0 {
            for trigger in triggers {
                switch trigger.kind {
                case .created:
                    if connection.dataWatches.remove(trigger.path) != nil { send(.nodeCreated, trigger.path, to: connection, zxid: zxid) }
                case .dataChanged:
                    if connection.dataWatches.remove(trigger.path) != nil { send(.nodeDataChanged, trigger.path, to: connection, zxid: zxid) }
                case .deleted:
                    let data = connection.dataWatches.remove(trigger.path) != nil
                    let child = connection.childWatches.remove(trigger.path) != nil
                    if data || child { send(.nodeDeleted, trigger.path, to: connection, zxid: zxid) }
                case .childrenChanged:
                    if connection.childWatches.remove(trigger.path) != nil { send(.nodeChildrenChanged, trigger.path, to: connection, zxid: zxid) }
                }
            }
        }
    }

    func send(_ type: ZooKeeperWatcherEvent.EventType, _ path: String, to connection: ZooKeeperConnection, zxid: Int64) {
        connection.sink.send(ZooKeeperConnection.event(ZooKeeperWatcherEvent(type: type, path: path), zxid: zxid))
    }

    /// SetWatches after a reconnect: each watch fires at once if what it watches changed after
    /// `relativeZxid` (the last zxid the client saw), and is re-armed otherwise.
    func restoreWatches(_ watches: ZooKeeperRequest.SetWatches, on connection: ZooKeeperConnection) {
        let zxid = tree.lastZxid
        for path in watches.data {
            guard let node = tree.node(at: path) else { send(.nodeDeleted, path, to: connection, zxid: zxid); continue }
            if node.mzxid > watches.relativeZxid { send(.nodeDataChanged, path, to: connection, zxid: zxid) } else if watchPermitted(connection) { connection.dataWatches.insert(path) }
        }
        for path in watches.exist {
            if tree.node(at: path) != nil { send(.nodeCreated, path, to: connection, zxid: zxid) } else if watchPermitted(connection) { connection.dataWatches.insert(path) }
        }
        for path in watches.child {
            guard let node = tree.node(at: path) else { send(.nodeDeleted, path, to: connection, zxid: zxid); continue }
            if node.pzxid > watches.relativeZxid { send(.nodeChildrenChanged, path, to: connection, zxid: zxid) } else if watchPermitted(connection) { connection.childWatches.insert(path) }
        }
    }
}
