// Every module that speaks ConsensusCore writes and reads bytes with the one codec in `Bytes`.
@_exported import Bytes
