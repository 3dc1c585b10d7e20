import ConsensusCore
import Replica
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
            disk.directory.hidesBitFlips = options.disksHideBitFlips
            return disk
        } catch {
            checker.fail("wal: n\(node + 1) could not open an empty disk: \(error)")
            return nil
        }
    }

    func writeToWAL(node: Int, _ request: PersistRequest<Engine.HardState>) throws(ReplicaInterrupted) {
        guard let wal = nodes[node].wal else { return }
        do { try wal.write(request) } catch { try walFailed(node: node, error, doing: "write") }
    }

    func syncWAL(node: Int) throws(ReplicaInterrupted) {
        guard let wal = nodes[node].wal else { return }
        do { try wal.sync() } catch { try walFailed(node: node, error, doing: "sync") }
    }

    /// A full disk stops the process, as a node's loop stops when a write does not fit (its
    /// `storageGuard`): what it acknowledged was synced, so nothing acknowledged is lost. Any other
    /// failure of the simulated disk is the simulator's own defect.
    private func walFailed(node: Int, _ error: StorageError, doing operation: String) throws(ReplicaInterrupted) {
        guard case .diskFull = error else { return checker.fail("wal: n\(node + 1) \(operation) failed: \(error)") }
        throw crashNow(node: node, reason: "disk full at \(operation)")
    }

    /// Fills a disk (it takes at most a segment or two more), or frees one that filled: the node's
    /// log stops preparing segments, its services refuse writes, and a write that does not fit
    /// stops the process; recovery after that may itself lack room and wait for it.
    func fillOrFreeSomeDisk() {
        let filled = (0..<nodeCount).filter { nodes[$0].wal?.isFilled == true }
        if !filled.isEmpty && random.chance(0.5) {
            let node = filled[random.int(in: 0..<filled.count)]
            nodes[node].wal!.makeRoom()
            note("fault: the operator freed space on n\(node + 1)'s disk")
            return
        }
        let node = random.int(in: 0..<nodeCount)
        guard let wal = nodes[node].wal, !wal.isFilled else { return }
        let room = random.int(in: 0..<(2 * WALDisk<Engine.HardState>.segmentBytes))
        wal.fill(leavingRoom: room)
        report.counters["disks_filled", default: 0] += 1
        note("fault: n\(node + 1)'s disk is full but for \(room) bytes")
    }

    /// The power cut and the next process's recovery: what was synced must all be there, and
    /// nothing may appear that was never written.
    /// Returns false when the disk had no room for recovery to finish (it cuts a torn tail and
    /// prepares a segment): the node must wait for room before it can start.
    func recoverWAL(node: Int) -> Bool {
        guard let wal = nodes[node].wal else { return true }
        let synced = nodes[node].storage.durableState
        let unsynced = nodes[node].storage.unsyncedRequests
        let recovered: DurableState<Engine.HardState>
        do {
            recovered = try wal.crashAndRecover()
        } catch .diskFull {
            return false
        } catch {
            checker.fail("wal: n\(node + 1) did not recover after a crash: \(error)")
            return true
        }
        if let loss = WALDisk<Engine.HardState>.lossAfterCrash(synced: synced, unsynced: unsynced, recovered: recovered) {
            checker.fail("wal: n\(node + 1) \(loss)")
            return true
        }
        let digest = recovered.snapshot.flatMap { checker.committedPrefixDigest(at: $0.metadata.index) } ?? 0
        let isCorrupted = nodes[node].storage.isCorrupted
        nodes[node].storage = SimulatedStorage(restoring: recovered, snapshotPrefixDigest: digest)
        nodes[node].storage.isCorrupted = isCorrupted
        report.counters["wal_recoveries", default: 0] += 1
        if let torn = wal.storage.tornTail { note("wal: n\(node + 1) recovery cut a torn record at \(torn.file):\(torn.offset)") }
        return true
    }
}
