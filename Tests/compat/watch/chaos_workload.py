"""The clients of the watch chaos run: writers that record what they attempted and what was
acknowledged, and watches that record every response and resume on another member at their last
seen revision + 1, as clientv3 does.

Each watch has a gRPC stream of its own, so that a progress notification (etcd answers a progress
request with watch id -1, meaning every watch of the stream) belongs to exactly one watch.
"""

import queue
import threading
import time

import grpc
from etcd3.etcdrpc import rpc_pb2

import watch_checkers as checkers
import watch_wire
from chaos_cluster import CALL_TIMEOUT_SECONDS, CHANNEL_OPTIONS, MEMBER_COUNT

# python-etcd3 0.12's generated stubs predate WatchProgressRequest (WatchRequest field 3), so it
# is written here in the wire format: field 3, length-delimited, empty. Responses are decoded by
# watch_wire (the stubs lack the fragment flag, and are slow).
PROGRESS_REQUEST_BYTES = b"\x1a\x00"
# Starts the end reason of a stream whose responses could not be decoded: the run reports it.
UNDECODABLE = "undecodable "
WATCH_REQUESTS_MAX = 100000  # progress requests per stream, far above what a run sends
WATCH_CLOSE_TIMEOUT_SECONDS = 5

WRITER_KEYS = [b"w/k%02d" % number for number in range(16)]
WRITER_OPERATIONS_MAX = 200000
TXN_OPERATIONS_MAX = 128  # etcd's default --max-txn-ops
BULK_KEYS_PER_ROUND = 2000
BULK_KEYS_PER_TXN = 125
BULK_ATTEMPTS_MAX = 5


def prefix_end(prefix):
    return prefix[:-1] + bytes([prefix[-1] + 1])


def encode_request(request):
    return request if isinstance(request, bytes) else request.SerializeToString()


class LiveWatch:
    """One watch stream on one member, appending every response to its recording until it ends or
    is frozen. Freezing (under the lock) guarantees nothing is appended after the client decided
    where to resume, as a real client stops reading the old stream before it resumes."""

    def __init__(self, recording, endpoint):
        self.recording = recording
        self.lock = threading.Lock()
        self.frozen = False
        self.ended = threading.Event()
        self.end_reason = None
        self.requests = queue.Queue()
        create = rpc_pb2.WatchCreateRequest(key=recording.key, range_end=recording.range_end,
                                            start_revision=max(recording.start_revision, 0), prev_kv=recording.prev_kv)
        self.requests.put(rpc_pb2.WatchRequest(create_request=create))
        self.channel = grpc.insecure_channel(endpoint, options=CHANNEL_OPTIONS)
        watch_method = self.channel.stream_stream("/etcdserverpb.Watch/Watch", request_serializer=encode_request,
                                                  response_deserializer=watch_wire.decode_watch_response)
        self.call = watch_method(self._requests())
        self.reader = threading.Thread(target=self._read, name="watch " + recording.label, daemon=True)
        self.reader.start()

    def _requests(self):
        for _ in range(WATCH_REQUESTS_MAX):
            request = self.requests.get()
            if request is None:
                return
            yield request

    def _read(self):
        try:
            for item in self.call:
                with self.lock:
                    if self.frozen:
                        break
                    self.recording.responses.append(item)
            self.end_reason = "stream ended"
        except grpc.RpcError as error:
            # gRPC reports a deserializer's exception as INTERNAL "Exception deserializing response!".
            undecodable = error.code() == grpc.StatusCode.INTERNAL and "deserializ" in (error.details() or "")
            self.end_reason = "%s%s: %s" % (UNDECODABLE if undecodable else "", error.code().name, error.details())
        except Exception as error:  # anything else must end the watch visibly, not hang it
            self.end_reason = "%s%s: %s" % (UNDECODABLE, type(error).__name__, error)
        finally:
            self.recording.end_reason = self.end_reason
            self.requests.put(None)
            self.ended.set()

    def is_created(self):
        with self.lock:
            return self.recording.created_response() is not None

    def request_progress(self):
        self.requests.put(PROGRESS_REQUEST_BYTES)

    def freeze(self):
        with self.lock:
            self.frozen = True

    def close(self):
        self.freeze()
        self.call.cancel()
        self.requests.put(None)
        self.reader.join(WATCH_CLOSE_TIMEOUT_SECONDS)
        self.channel.close()


class WatchChain:
    """One logical watch: its recordings, each on one member, each resuming the one before."""

    def __init__(self, name, key, range_end, start_revision, prev_kv, progress, first_member, resume_times):
        self.name = name
        self.key = key
        self.range_end = range_end
        self.requested_start_revision = start_revision  # 0: from now on
        self.prev_kv = prev_kv
        self.progress = progress  # whether this watch asks for progress notifications
        self.member = first_member
        self.resume_times = sorted(resume_times)  # seconds into the run of the planned resumes
        self.recordings = []
        self.live = None
        self.planned_resumes = 0
        self.failover_resumes = 0
        self.open_attempts = 0

    def last_seen_revision(self):
        """Over the whole chain; every recording but the live one is frozen, and the live one must
        be frozen by the caller before this decides where to resume."""
        seen = [recording.last_seen_revision() for recording in self.recordings]
        seen = [revision for revision in seen if revision is not None]
        return max(seen) if seen else None

    def open(self, cluster, member_index):
        start = checkers.resume_revision(self.requested_start_revision, self.last_seen_revision())
        recording = checkers.WatchRecording(self.name, len(self.recordings), cluster.members[member_index].name,
                                            self.key, self.range_end, start, self.prev_kv)
        self.recordings.append(recording)
        self.member = member_index
        self.open_attempts += 1
        self.live = LiveWatch(recording, cluster.members[member_index].endpoint)

    def close(self):
        if self.live is not None:
            self.live.close()
            self.live = None


class WriteLog:
    """What the writers attempted and what the cluster acknowledged, shared by writer threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged = []  # (revision, [checkers.Put or checkers.Delete])
        self.attempted_puts = set()
        self.attempted_deletes = []
        self.failed_requests = 0

    def attempt(self, operations):
        with self.lock:
            for operation in operations:
                if isinstance(operation, checkers.Put):
                    self.attempted_puts.add((operation.key, operation.value))
                else:
                    self.attempted_deletes.append(operation)

    def acknowledge(self, revision, operations):
        # A request that changed nothing (deletes of absent keys) makes no revision: the header
        # then carries some other write's revision, so it says nothing about the history.
        if any(isinstance(operation, checkers.Put) or operation.deleted for operation in operations):
            with self.lock:
                self.acknowledged.append((revision, operations))

    def failed(self):
        with self.lock:
            self.failed_requests += 1


def put_operation(key, value):
    return rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=key, value=value))


def delete_operation(key, range_end=b""):
    return rpc_pb2.RequestOp(request_delete_range=rpc_pb2.DeleteRangeRequest(key=key, range_end=range_end))


def run_request(cluster, member_index, operations):
    """Runs the Put/Delete operations as one request: a Put or a DeleteRange when there is one, an
    unconditional Txn otherwise. Returns (revision, operations with the deleted counts the server
    reported)."""
    kv = cluster.kv(member_index)
    if len(operations) == 1 and isinstance(operations[0], checkers.Put):
        request = rpc_pb2.PutRequest(key=operations[0].key, value=operations[0].value)
        reply = kv.Put(request, timeout=CALL_TIMEOUT_SECONDS)
        return reply.header.revision, operations
    if len(operations) == 1:
        request = rpc_pb2.DeleteRangeRequest(key=operations[0].key, range_end=operations[0].range_end)
        reply = kv.DeleteRange(request, timeout=CALL_TIMEOUT_SECONDS)
        return reply.header.revision, [operations[0]._replace(deleted=reply.deleted)]
    assert len(operations) <= TXN_OPERATIONS_MAX, len(operations)
    request_operations = [put_operation(operation.key, operation.value) if isinstance(operation, checkers.Put)
                          else delete_operation(operation.key, operation.range_end) for operation in operations]
    reply = kv.Txn(rpc_pb2.TxnRequest(success=request_operations), timeout=CALL_TIMEOUT_SECONDS)
    answered = []
    for operation, result in zip(operations, reply.responses):
        if isinstance(operation, checkers.Delete):
            operation = operation._replace(deleted=result.response_delete_range.deleted)
        answered.append(operation)
    return reply.header.revision, answered


def writer_loop(writer_id, cluster, log, random_generator, stop, pause_seconds):
    """Puts, single-key deletes and txns of 2 to 4 puts and deletes on distinct keys, on a random
    member; on an error (an election, a dead member) the outcome is unknown, so the operations stay
    attempted but not acknowledged, and the writer moves to another member."""
    member_index = random_generator.randrange(MEMBER_COUNT)
    for number in range(WRITER_OPERATIONS_MAX):
        if stop.is_set():
            return
        choice = random_generator.random()
        if choice < 0.5:
            operations = [checkers.Put(random_generator.choice(WRITER_KEYS), b"w%d-%d" % (writer_id, number))]
        elif choice < 0.65:
            operations = [checkers.Delete(random_generator.choice(WRITER_KEYS), b"", 0)]
        else:
            keys = random_generator.sample(WRITER_KEYS, random_generator.randint(2, 4))
            operations = [checkers.Put(key, b"w%d-%d-%d" % (writer_id, number, position))
                          if random_generator.random() < 0.7 else checkers.Delete(key, b"", 0)
                          for position, key in enumerate(keys)]
        log.attempt(operations)
        try:
            revision, answered = run_request(cluster, member_index, operations)
            log.acknowledge(revision, answered)
        except grpc.RpcError:
            log.failed()
            member_index = (member_index + random_generator.randint(1, MEMBER_COUNT - 1)) % MEMBER_COUNT
            stop.wait(0.05)
        stop.wait(pause_seconds)


def with_retries(cluster, random_generator, log, operations, stop):
    """One bulk request, retried on another member while it fails (a retried put writes the same
    value again; a retried delete may find nothing left, which is fine)."""
    log.attempt(operations)
    member_index = random_generator.randrange(MEMBER_COUNT)
    for _ in range(BULK_ATTEMPTS_MAX):
        if stop.is_set():
            return False
        try:
            revision, answered = run_request(cluster, member_index, operations)
            log.acknowledge(revision, answered)
            return True
        except grpc.RpcError:
            log.failed()
            member_index = (member_index + 1) % MEMBER_COUNT
            stop.wait(0.2)
    return False


def bulk_loop(cluster, log, random_generator, stop, round_times_seconds, started_at):
    """At each round time: put BULK_KEYS_PER_ROUND keys under a fresh prefix (txns of at most 128
    operations, etcd's limit), then delete the whole prefix in one DeleteRange: one revision with
    thousands of events, which a watch must deliver whole, live or replayed."""
    for round_number, round_time in enumerate(round_times_seconds):
        if stop.wait(max(0.0, started_at + round_time - time.monotonic())):
            return
        prefix = b"bulk/%02d/" % round_number
        for first in range(0, BULK_KEYS_PER_ROUND, BULK_KEYS_PER_TXN):
            puts = [checkers.Put(prefix + b"%04d" % number, b"b%d" % number)
                    for number in range(first, min(first + BULK_KEYS_PER_TXN, BULK_KEYS_PER_ROUND))]
            with_retries(cluster, random_generator, log, puts, stop)
        with_retries(cluster, random_generator, log, [checkers.Delete(prefix, prefix_end(prefix), 0)], stop)
