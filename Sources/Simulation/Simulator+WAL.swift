import ConsensusCore
import Storage

/// Runs with `SimulatedDisk.wal`: each node's persists also go to the write-ahead log and snapshot
/// files a real node writes (`WALDisk`), and a crash is a power cut of that disk followed by the
/// node's own recovery, whose result becomes the model the checkers read.
extension Simulator {
    /// A wiped disk for `node`, its faults seeded from the run's seed and the node's slot and
    /// identity (a replacement gets a disk of its own).
    func makeWALDisk(node: Int) -> WALDisk<Engine.HardState>? {
        let seed = options.seed ^ (UInt64(node + 1) << 56) ^ nodeIDs[node].rawValue &* 0x9E37_79B9_7F4A_7C15
        do {
            let disk = try WALDisk(seed: seed, initial: Engine.emptyHardState)
            disk.directory.ignoresFileSyncs = options.disksIgnoreSyncs
            return disk
        } catch {
            checker.fail("wal: n\(node + 1) could not open an empty disk: \(error)")
            return nil
        }
    }

    func writeToWAL(node: Int, _ request: PersistRequest<Engine.HardState>) {
        guard let wal = nodes[node].wal else { return }
        do { try wal.write(request) } catch { checker.fail("wal: n\(node + 1) write failed: \(error)") }
    }

    func syncWAL(node: Int) {
        guard let wal = nodes[node].wal else { return }
        do { try wal.sync() } catch { checker.fail("wal: n\(node + 1) sync failed: \(error)") }
    }

    /// The power cut and the next process's recovery: what was synced must all be there, and
    /// nothing may appear that was never written.
    func recoverWAL(node: Int) {
        guard let wal = nodes[node].wal else { return }
        let synced = nodes[node].storage.durableState
        let unsynced = nodes[node].storage.unsyncedRequests
        let recovered: DurableState<Engine.HardState>
        do {
            recovered = try wal.crashAndRecover()
        } catch {
            checker.fail("wal: n\(node + 1) did not recover after a crash: \(error)")
            return
        }
        if let loss = WALDisk<Engine.HardState>.lossAfterCrash(synced: synced, unsynced: unsynced, recovered: recovered) {
            checker.fail("wal: n\(node + 1) \(loss)")
            return
        }
        let digest = recovered.snapshot.flatMap { checker.committedPrefixDigest(at: $0.metadata.index) } ?? 0
        let isCorrupted = nodes[node].storage.isCorrupted
        nodes[node].storage = SimulatedStorage(restoring: recovered, snapshotPrefixDigest: digest)
        nodes[node].storage.isCorrupted = isCorrupted
        report.counters["wal_recoveries", default: 0] += 1
        if let torn = wal.storage.tornTail { note("wal: n\(node + 1) recovery cut a torn record at \(torn.file):\(torn.offset)") }
    }
}
