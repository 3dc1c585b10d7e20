// Curator 5 (Debian's libcurator-*-java), unmodified, against a ZooKeeper ensemble: Synod's or the
// real ZooKeeper's, with the same verdicts expected. InterProcessMutex with three contending
// clients, LeaderLatch with a hand-over, DistributedAtomicLong under concurrent increments, and
// CuratorCache (a persistent recursive watch) seeing creates, changes and deletes.
// Usage: java CuratorCheck HOST:PORT,HOST:PORT,...
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;

public class CuratorCheck {
    static int passed = 0, failed = 0;

    static void check(String name, boolean condition, String detail) {
        if (condition) { passed++; System.out.println("PASS " + name); } else { failed++; System.out.println("FAIL " + name + " " + detail); }
    }

    static CuratorFramework client(String hosts) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.newClient(hosts, 10_000, 10_000, new ExponentialBackoffRetry(100, 10));
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("not connected");
        return client;
    }

    public static void main(String[] args) throws Exception {
        String hosts = args[0];
        String root = "/curator-" + Long.toHexString(System.nanoTime());

        // InterProcessMutex: three clients, five rounds each, never two inside.
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger acquired = new AtomicInteger();
        Thread[] threads = new Thread[3];
        for (int t = 0; t < 3; t++) {
            threads[t] = new Thread(() -> {
                try (CuratorFramework mine = client(hosts)) {
                    InterProcessMutex mutex = new InterProcessMutex(mine, root + "/mutex");
                    for (int round = 0; round < 5; round++) {
                        if (!mutex.acquire(30, TimeUnit.SECONDS)) continue;
                        if (inside.incrementAndGet() != 1) overlaps.incrementAndGet();
                        acquired.incrementAndGet();
                        Thread.sleep(5);
                        inside.decrementAndGet();
                        mutex.release();
                    }
                } catch (Exception error) {
                    System.out.println("mutex client: " + error);
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) thread.join(120_000);
        check("InterProcessMutex: mutual exclusion across three clients", overlaps.get() == 0, "overlaps " + overlaps.get());
        check("InterProcessMutex: every acquisition granted (15)", acquired.get() == 15, "acquired " + acquired.get());

        // LeaderLatch: exactly one leader, and another after it leaves.
        CuratorFramework a = client(hosts), b = client(hosts);
        LeaderLatch first = new LeaderLatch(a, root + "/latch", "a");
        LeaderLatch second = new LeaderLatch(b, root + "/latch", "b");
        first.start();
        second.start();
        boolean someoneLeads = first.await(20, TimeUnit.SECONDS) || second.await(1, TimeUnit.SECONDS);
        check("LeaderLatch: exactly one of two leads", someoneLeads && (first.hasLeadership() ^ second.hasLeadership()), first.hasLeadership() + " " + second.hasLeadership());
        LeaderLatch leader = first.hasLeadership() ? first : second, follower = leader == first ? second : first;
        leader.close();
        check("LeaderLatch: the other takes over when the leader leaves", follower.await(20, TimeUnit.SECONDS), "");
        follower.close();

        // DistributedAtomicLong: 3 x 20 increments from different clients.
        AtomicInteger succeeded = new AtomicInteger();
        for (int t = 0; t < 3; t++) {
            final CuratorFramework counterClient = t == 0 ? a : t == 1 ? b : client(hosts);
            threads[t] = new Thread(() -> {
                DistributedAtomicLong counter = new DistributedAtomicLong(counterClient, root + "/counter", new ExponentialBackoffRetry(10, 29));
                for (int i = 0; i < 20; i++) {
                    try {
                        AtomicValue<Long> value = counter.increment();
                        if (value.succeeded()) succeeded.incrementAndGet();
                    } catch (Exception error) {
                        System.out.println("counter: " + error);
                    }
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) thread.join(120_000);
        long total = new DistributedAtomicLong(a, root + "/counter", new ExponentialBackoffRetry(10, 5)).get().postValue();
        check("DistributedAtomicLong: 60 increments, 60 in the counter", succeeded.get() == 60 && total == 60, "succeeded " + succeeded.get() + " total " + total);

        // CuratorCache: a persistent recursive watch.
        List<String> events = new CopyOnWriteArrayList<>();
        CountDownLatch deleted = new CountDownLatch(1);
        CountDownLatch initialized = new CountDownLatch(1);
        a.create().creatingParentsIfNeeded().forPath(root + "/cache");
        CuratorCache cache = CuratorCache.build(a, root + "/cache");
        cache.listenable().addListener(CuratorCacheListener.builder()
            .forCreates(node -> events.add("created " + node.getPath()))
            .forChanges((old, node) -> events.add("changed " + node.getPath()))
            .forDeletes(node -> { events.add("deleted " + node.getPath()); if (node.getPath().endsWith("/x")) deleted.countDown(); })
            .forInitialized(initialized::countDown)
            .build());
        cache.start();
        // Its watch is set and its first read done before the writes, on a busy machine too.
        boolean ready = initialized.await(20, TimeUnit.SECONDS);
        b.create().forPath(root + "/cache/x", "1".getBytes());
        b.setData().forPath(root + "/cache/x", "2".getBytes());
        b.delete().forPath(root + "/cache/x");
        boolean sawDelete = deleted.await(20, TimeUnit.SECONDS);
        check("CuratorCache: sees the create, the change and the delete of a child",
            ready && sawDelete && events.contains("created " + root + "/cache/x") && events.contains("deleted " + root + "/cache/x"), events.toString());
        cache.close();

        a.delete().deletingChildrenIfNeeded().forPath(root);
        a.close();
        b.close();
        System.out.println("curator: " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
