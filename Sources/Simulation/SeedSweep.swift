import ConsensusCore

/// Runs one seed of the simulator with some engine: what an engine's registry entry gives the
/// simulator, so nothing here names an engine.
public typealias SimulationRunner = @Sendable (_ options: SimulationOptions, _ service: SimulatedServiceFactory?) -> SimulationReport

extension Simulator {
    /// The runner for `Engine`.
    public static var runner: SimulationRunner { { options, service in Simulator(options: options, service: service).run() } }
}

/// Runs many seeds and totals what they found.
public struct SeedSweep: Sendable {
    public struct Summary: Sendable {
        public var seeds = 0
        public var violations = 0
        public var unknown = 0
        public var events = 0
        public var faults = 0
        public var simulatedMicros: UInt64 = 0
        public var operationsCompleted = 0
        public var snapshotsRestored = 0
        public var nodesReplaced = 0
        public var configurationsCommitted = 0
        public var leadersElected = 0
        public var failures: [SimulationReport] = []
        /// The services' counters, summed.
        public var counters: [String: Int] = [:]

        public init() {}

        mutating func add(_ report: SimulationReport) {
            seeds += 1
            if !report.passed {
                violations += 1
                if failures.count < 5 { failures.append(report) }
            }
            if report.linearizabilityUnknown { unknown += 1 }
            events += report.events
            faults += report.faults
            simulatedMicros += report.simulatedMicros
            operationsCompleted += report.operationsCompleted
            snapshotsRestored += report.snapshotsRestored
            nodesReplaced += report.nodesReplaced
            configurationsCommitted += report.configurationsCommitted
            leadersElected += report.leadersElected
            counters.merge(report.counters, uniquingKeysWith: +)
        }
    }

    public var engine: SimulationRunner
    public var seeds: Range<UInt64>
    public var template: SimulationOptions
    /// The service the nodes run; the simulator's own key-value service when nil.
    public var service: SimulatedServiceFactory?

    public init(engine: @escaping SimulationRunner, seeds: Range<UInt64>, template: SimulationOptions, service: SimulatedServiceFactory? = nil) {
        self.engine = engine
        self.seeds = seeds
        self.template = template
        self.service = service
    }

    /// Runs one seed with the sweep's settings.
    public func run(seed: UInt64) -> SimulationReport {
        var options = template
        options.seed = seed
        return engine(options, service)
    }

    /// Runs the seeds in order; `progress` sees each report as it is produced and returns false to stop.
    public func run(progress: (SimulationReport) -> Bool = { _ in true }) -> Summary {
        var summary = Summary()
        for seed in seeds {
            let report = run(seed: seed)
            summary.add(report)
            guard progress(report) else { break }
        }
        return summary
    }
}
