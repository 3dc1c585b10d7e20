/// A position in the store's history, etcd's `revision{main, sub}`: `main` is the store revision a
/// command wrote at, and `sub` numbers the changes that one command made, from 0.
package struct Revision: Comparable, Hashable, Sendable {
    package var main: Int64
    package var sub: Int32

    package static func < (left: Revision, right: Revision) -> Bool {
        left.main != right.main ? left.main < right.main : left.sub < right.sub
    }
}
