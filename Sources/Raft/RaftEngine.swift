// Placeholder replaced by the Raft engine.
