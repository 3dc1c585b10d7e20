#!/usr/bin/env python3
"""kazoo, unmodified, against a ZooKeeper ensemble: Synod's or the real ZooKeeper's, with the same
verdicts expected of both. Usage: kazoo_suite.py HOST:PORT,HOST:PORT,...

Checks CRUD and Stat fields, versions, sequential names (3.8's rule: the suffix counts the
parent's child creates, cversion counts creates and deletes), ephemerals removed when their
session closes, one-shot data/child/exists watches, multi's per-operation results, sync, kazoo's
recipes (Lock, Semaphore, Election, Counter, Barrier, DoubleBarrier, Queue, LockingQueue), and the
seed's DistributedLock pattern with three contending clients on different members (mutual
exclusion and hand-over). The seed's class passes `watch=True` and waits on a Stat, which kazoo
rejects on any server; those two lines are mended here, and nothing else."""
import sys
import threading
import time
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoNodeError, NodeExistsError, NotEmptyError, RolledBackError, NoChildrenForEphemeralsError

hosts = sys.argv[1]
members = hosts.split(",")
passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def client(member=None):
    zk = KazooClient(hosts=member or hosts, timeout=10)
    zk.start(timeout=20)
    return zk


root = f"/suite-{uuid.uuid4().hex[:8]}"
zk = client()
zk.create(root)

# CRUD and Stat.
path = zk.create(f"{root}/a", b"hello")
data, stat = zk.get(path)
check("create then get returns the data", data == b"hello")
check("a new node's Stat: version 0, czxid == mzxid == pzxid, dataLength", stat.version == 0 and stat.czxid == stat.mzxid == stat.pzxid and stat.dataLength == 5 and stat.numChildren == 0)
stat2 = zk.set(path, b"world")
check("setData bumps version and mzxid", stat2.version == 1 and stat2.mzxid > stat.mzxid and stat2.czxid == stat.czxid)
try:
    zk.set(path, b"x", version=0)
    check("setData with a stale version is refused", False)
except BadVersionError:
    check("setData with a stale version is refused", True)
try:
    zk.create(path)
    check("create of an existing node is refused", False)
except NodeExistsError:
    check("create of an existing node is refused", True)
try:
    zk.get(f"{root}/missing")
    check("get of a missing node is NoNode", False)
except NoNodeError:
    check("get of a missing node is NoNode", True)
zk.create(f"{root}/a/child")
try:
    zk.delete(path)
    check("delete of a node with children is refused", False)
except NotEmptyError:
    check("delete of a node with children is refused", True)
parent = zk.exists(path)
check("the parent's numChildren and cversion count the child", parent.numChildren == 1 and parent.cversion == 1)

# Sequential names and cversion (ZOOKEEPER-NOTES: observed on 3.8).
zk.create(f"{root}/cv")
zk.create(f"{root}/cv/a")
zk.delete(f"{root}/cv/a")
cversion = zk.exists(f"{root}/cv").cversion
names = [zk.create(f"{root}/cv/s", sequence=True) for _ in range(2)]
zk.delete(names[1])
names.append(zk.create(f"{root}/cv/s", sequence=True))
check("delete counts in cversion", cversion == 2, f"cversion {cversion}")
check("sequence suffixes count child creates", [n.rsplit("/", 1)[1] for n in names] == ["s0000000001", "s0000000002", "s0000000003"], f"{names}")

# Ephemerals.
other = client()
ephemeral = other.create(f"{root}/e", ephemeral=True)
try:
    zk.create(f"{ephemeral}/child")
    check("an ephemeral cannot have children", False)
except NoChildrenForEphemeralsError:
    check("an ephemeral cannot have children", True)
check("the ephemeral's owner is its session", zk.exists(ephemeral).ephemeralOwner == other.client_id[0])
other.stop()
other.close()
check("closing the session deletes its ephemeral", zk.exists(ephemeral) is None)

# Watches.
fired = []
ready = threading.Event()


def watcher(event):
    fired.append((event.type, event.path))
    ready.set()


zk.get(path, watch=watcher)
zk.set(path, b"again")
ready.wait(10)
check("a data watch fires CHANGED once", fired == [("CHANGED", path)], f"{fired}")
fired.clear(); ready.clear()
zk.set(path, b"once more")
time.sleep(0.5)
check("a data watch is one-shot", fired == [], f"{fired}")
zk.get_children(path, watch=watcher)
zk.create(f"{path}/second")
ready.wait(10)
check("a child watch fires CHILD", fired == [("CHILD", path)], f"{fired}")
fired.clear(); ready.clear()
zk.exists(f"{root}/later", watch=watcher)
zk.create(f"{root}/later")
ready.wait(10)
check("an exists watch on a missing node fires CREATED", fired == [("CREATED", f"{root}/later")], f"{fired}")

# ACLs: a node only a digest identity may touch; others get NoAuth until they addAuth.
from kazoo.security import make_digest_acl
from kazoo.exceptions import NoAuthError, InvalidACLError
private = zk.create(f"{root}/private", b"secret", acl=[make_digest_acl("alice", "pw", all=True)])
stranger = client()
try:
    stranger.get(private)
    check("a digest ACL refuses a reader without the identity", False)
except NoAuthError:
    check("a digest ACL refuses a reader without the identity", True)
try:
    stranger.set(private, b"x")
    check("a digest ACL refuses a writer without the identity", False)
except NoAuthError:
    check("a digest ACL refuses a writer without the identity", True)
stranger.add_auth("digest", "alice:pw")
check("after addAuth digest the reader gets the data", stranger.get(private)[0] == b"secret")
from kazoo.security import ACL, Id
try:
    zk.create(f"{root}/authacl", acl=[ACL(31, Id("auth", ""))])
    check("an 'auth' ACL without a proven identity is InvalidACL", False)
except InvalidACLError:
    check("an 'auth' ACL without a proven identity is InvalidACL", True)
stranger.create(f"{root}/authacl", acl=[ACL(31, Id("auth", ""))])
acl, _ = stranger.get_acls(f"{root}/authacl")
check("an 'auth' ACL becomes the session's digest", [(a.perms, a.id.scheme, a.id.id) for a in acl] == [(31, "digest", make_digest_acl("alice", "pw").id.id)], f"{acl}")
stranger.stop()
zk.add_auth("digest", "alice:pw")  # so that the clean-up at the end may delete these nodes

# multi.
transaction = zk.transaction()
transaction.create(f"{root}/m")
transaction.check(f"{root}/missing", 0)
results = transaction.commit()
check("a failed multi: rolled back, then the failing op's error", [type(r) for r in results] == [RolledBackError, NoNodeError], f"{results}")
check("a failed multi changes nothing", zk.exists(f"{root}/m") is None)
transaction = zk.transaction()
transaction.create(f"{root}/m", b"1")
transaction.set_data(f"{root}/m", b"2", version=0)
results = transaction.commit()
check("a multi applies all its operations", zk.get(f"{root}/m")[0] == b"2", f"{results}")

# sync, then a read on another member sees the write.
writer, reader = client(members[0]), client(members[-1])
writer.set(path, b"synced")
reader.sync(path)
check("sync then get on another member sees the write", reader.get(path)[0] == b"synced")
writer.stop(); reader.stop()


# The seed's DistributedLock pattern, two lines mended (a callback that sets an Event, and waiting
# on that Event rather than on the Stat `exists` returns).
class DistributedLock:
    def __init__(self, zk_client, lock_path):
        self.zk = zk_client
        self.lock_path = lock_path
        self.lock_node = None

    def acquire(self, timeout=None):
        self.lock_node = self.zk.create(f"{self.lock_path}/lock-", ephemeral=True, sequence=True)
        while True:
            children = self.zk.get_children(self.lock_path)
            children.sort()
            if self.lock_node.split('/')[-1] == children[0]:
                return True
            predecessor = None
            for child in children:
                if child < self.lock_node.split('/')[-1]:
                    predecessor = child
            if predecessor:
                event = threading.Event()  # mended: kazoo takes a callback, not watch=True
                self.zk.exists(f"{self.lock_path}/{predecessor}", watch=lambda _: event.set())
                event.wait(timeout)  # mended: wait on the event, not on the Stat

    def release(self):
        if self.lock_node:
            self.zk.delete(self.lock_node)
            self.lock_node = None


lock_path = f"{root}/lock"
zk.create(lock_path)
holders = []
inside = [0]
violations = []
guard = threading.Lock()


def contender(index):
    member = members[index % len(members)]
    mine = client(member)
    lock = DistributedLock(mine, lock_path)
    for round_number in range(5):
        lock.acquire(timeout=10)
        with guard:
            inside[0] += 1
            if inside[0] != 1:
                violations.append((index, round_number, inside[0]))
        holders.append(index)
        time.sleep(0.01)
        with guard:
            inside[0] -= 1
        lock.release()
    mine.stop()


threads = [threading.Thread(target=contender, args=(i,)) for i in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(120)
check("the seed's lock: three clients on different members never hold it together", not violations, f"{violations}")
check("the seed's lock: every acquisition handed over (15 in all, each client 5)", len(holders) == 15 and all(holders.count(i) == 5 for i in range(3)), f"{holders}")

# kazoo's own recipes, each with clients on different members.
recipe_clients = [client(members[i % len(members)]) for i in range(4)]


def run_all(target, count, seconds=120):
    """Runs target(index) on `count` threads and waits, bounded; the threads still alive."""
    workers = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds)
    return [w for w in workers if w.is_alive()]


def exclusive_section(name, make, count, rounds, capacity=1):
    """Clients enter `make(client)`'s context `rounds` times each; at most `capacity` inside at once."""
    inside, most, entries, guard = [0], [0], [], threading.Lock()

    def contender(index):
        recipe = make(recipe_clients[index])
        for _ in range(rounds):
            with recipe:
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                    entries.append(index)
                time.sleep(0.01)
                with guard:
                    inside[0] -= 1

    stuck = run_all(contender, count)
    check(f"{name}: at most {capacity} inside at once, every entry made ({count * rounds})",
          not stuck and most[0] <= capacity and len(entries) == count * rounds, f"most {most[0]}, entries {len(entries)}, stuck {len(stuck)}")


exclusive_section("Lock", lambda c: c.Lock(f"{root}/recipe-lock", "me"), 3, 5)
exclusive_section("Semaphore (2 leases)", lambda c: c.Semaphore(f"{root}/recipe-semaphore", max_leases=2), 4, 4, capacity=2)

leaders, leading, election_guard = [], [0], threading.Lock()


def candidate(index):
    def lead():
        with election_guard:
            leading[0] += 1
            leaders.append((index, leading[0]))
        time.sleep(0.05)
        with election_guard:
            leading[0] -= 1
    recipe_clients[index].Election(f"{root}/recipe-election", f"c{index}").run(lead)


stuck = run_all(candidate, 3)
check("Election: each candidate leads once, never two at a time",
      not stuck and sorted(i for i, _ in leaders) == [0, 1, 2] and all(n == 1 for _, n in leaders), f"{leaders}")


def increment(index):
    counter = recipe_clients[index].Counter(f"{root}/recipe-counter")
    for _ in range(20):
        counter += 1


stuck = run_all(increment, 3)
check("Counter: 60 concurrent increments from three members count 60", not stuck and zk.Counter(f"{root}/recipe-counter").value == 60,
      f"{zk.Counter(f'{root}/recipe-counter').value}")

barrier = zk.Barrier(f"{root}/recipe-barrier")
barrier.create()
passed_barrier = []
waiters = [threading.Thread(target=lambda i=i: passed_barrier.append(recipe_clients[i].Barrier(f"{root}/recipe-barrier").wait(60)), daemon=True) for i in range(3)]
for waiter in waiters:
    waiter.start()
time.sleep(0.5)
held = len(passed_barrier) == 0
barrier.remove()
for waiter in waiters:
    waiter.join(60)
check("Barrier: waiters are held until it is removed, then all pass", held and passed_barrier == [True, True, True], f"held {held}, {passed_barrier}")

double_entered, double_left = [], []


def double(index):
    recipe = recipe_clients[index].DoubleBarrier(f"{root}/recipe-double", 3)
    recipe.enter()
    double_entered.append(index)
    recipe.leave()
    double_left.append(index)


stuck = run_all(double, 3, 60)
check("DoubleBarrier: three clients enter together and leave together", not stuck and len(double_entered) == 3 and len(double_left) == 3)

queue = zk.Queue(f"{root}/recipe-queue")
for item in range(10):
    queue.put(f"fifo-{item}".encode())
queue.put(b"urgent", priority=1)
check("Queue: priority first, then first in first out", [queue.get() for _ in range(11)] == [b"urgent"] + [f"fifo-{i}".encode() for i in range(10)])
consumed, consumed_guard = [], threading.Lock()


def produce_and_consume(index):
    mine = recipe_clients[index].LockingQueue(f"{root}/recipe-locking-queue")
    for item in range(10):
        mine.put(f"{index}-{item}".encode())
    for _ in range(10):
        entry = mine.get(timeout=30)
        if entry is None:
            return
        with consumed_guard:
            consumed.append(entry)
        mine.consume()


stuck = run_all(produce_and_consume, 3)
check("LockingQueue: 30 entries from three members each consumed once", not stuck and sorted(consumed) == sorted(f"{i}-{j}".encode() for i in range(3) for j in range(10)),
      f"{len(consumed)} consumed, {len(set(consumed))} distinct")
for recipe_client in recipe_clients:
    recipe_client.stop()

zk.delete(root, recursive=True)
zk.stop()
print(f"kazoo: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
