import ConsensusCore
import Dispatch
import Synchronization

/// Time, background work and randomness as a front end sees them. On a node they are the real
/// clock, Dispatch's pool and the system's generator; in the simulator, virtual time, work done
/// at once on the simulator's thread, and a generator seeded from the run's seed, so a seed
/// replays the service exactly.
public struct ReplicaEnvironment: Sendable {
    /// Now.
    public var now: @Sendable () -> ContinuousClock.Instant
    /// Runs `work` away from the replica's thread (a range over a million keys, say).
    public var runInBackground: @Sendable (@escaping @Sendable () -> Void) -> Void
    /// A random number (request ids, lease ids).
    public var random: @Sendable () -> UInt64

    public init(
        now: @escaping @Sendable () -> ContinuousClock.Instant,
        runInBackground: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void,
        random: @escaping @Sendable () -> UInt64
    ) {
        self.now = now
        self.runInBackground = runInBackground
        self.random = random
    }

    /// The real world.
    public static let live = ReplicaEnvironment(
        now: { ContinuousClock.now },
        runInBackground: { work in backgroundQueue.async(execute: work) },
        random: {
            var generator = SystemRandomNumberGenerator()
            return generator.next()
        }
    )

    /// Where background work runs on a node: a concurrent queue on Dispatch's shared pool.
    private static let backgroundQueue = DispatchQueue(label: "synod.reads", qos: .userInitiated, attributes: .concurrent)

    /// A deterministic world: `clock` gives the virtual time, background work runs at once, and
    /// numbers come from `seed`.
    public static func simulated(seed: UInt64, clock: @escaping @Sendable () -> ContinuousClock.Instant) -> ReplicaEnvironment {
        let generator = Mutex(SeededRandom(seed: seed))
        return ReplicaEnvironment(
            now: clock,
            runInBackground: { work in work() },
            random: { generator.withLock { $0.next() } }
        )
    }
}
