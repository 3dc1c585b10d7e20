// ZooKeeper's own Java client as a load generator, so that Synod and ZooKeeper are also compared
// through the client most ZooKeeper users run: sessions x requests in flight, 256 B values, one of
// create (new nodes), set, get or mixed (80% get, 20% set). Prints one line like `synod bench zk`:
//   label workload=create client=java ops/s=N p50=Xms p99=Yms p999=Zms errors=E
// Usage: java ZooKeeperJavaBench HOSTS WORKLOAD SESSIONS OUTSTANDING SECONDS LABEL
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public class ZooKeeperJavaBench {
    static final int VALUE_BYTES = 256;
    static final int KEY_SPACE = 1000;
    /** Latencies kept per session at most, so a long run's memory stays bounded. */
    static final int SAMPLES_PER_SESSION = 1_000_000;

    public static void main(String[] args) throws Exception {
        String hosts = args[0], workload = args[1], label = args[5];
        int sessions = Integer.parseInt(args[2]), outstanding = Integer.parseInt(args[3]);
        double seconds = Double.parseDouble(args[4]);
        String[] members = hosts.split(",");
        String root = "/javabench-" + Long.toHexString(System.nanoTime());
        byte[] value = new byte[VALUE_BYTES];
        Arrays.fill(value, (byte) 'v');

        List<ZooKeeper> clients = new ArrayList<>();
        for (int i = 0; i < sessions; i++) clients.add(connect(members[i % members.length]));
        ZooKeeper setup = clients.get(0);
        setup.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        if (!workload.equals("create")) {
            for (int k = 0; k < KEY_SPACE; k++) setup.create(root + "/k" + k, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        // Readers on other members see the keys before the clock starts.
        for (ZooKeeper client : clients) {
            CountDownLatch synced = new CountDownLatch(1);
            client.sync(root, (rc, path, ctx) -> synced.countDown(), null);
            synced.await(30, TimeUnit.SECONDS);
        }

        AtomicLong errors = new AtomicLong();
        long[][] latencies = new long[sessions][];
        int[] counts = new int[sessions];
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        Thread[] threads = new Thread[sessions];
        long started = System.nanoTime();
        for (int s = 0; s < sessions; s++) {
            final int session = s;
            latencies[s] = new long[SAMPLES_PER_SESSION];
            threads[s] = new Thread(() -> {
                ZooKeeper zk = clients.get(session);
                Semaphore inFlight = new Semaphore(outstanding);
                java.util.Random random = new java.util.Random(session);
                long sequence = 0;
                try {
                    while (System.nanoTime() < deadline) {
                        inFlight.acquire();
                        long start = System.nanoTime();
                        Runnable done = () -> {
                            long elapsed = System.nanoTime() - start;
                            synchronized (latencies[session]) {
                                if (counts[session] < SAMPLES_PER_SESSION) latencies[session][counts[session]++] = elapsed;
                            }
                            inFlight.release();
                        };
                        String key = root + "/k" + random.nextInt(KEY_SPACE);
                        boolean read = workload.equals("get") || (workload.equals("mixed") && random.nextInt(10) < 8);
                        if (workload.equals("create")) {
                            zk.create(root + "/n" + session + "-" + sequence++, value, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                                (rc, path, ctx, name) -> { if (rc != 0) errors.incrementAndGet(); done.run(); }, null);
                        } else if (read) {
                            zk.getData(key, false, (rc, path, ctx, data, stat) -> { if (rc != 0) errors.incrementAndGet(); done.run(); }, null);
                        } else {
                            zk.setData(key, value, -1, (rc, path, ctx, stat) -> { if (rc != 0) errors.incrementAndGet(); done.run(); }, null);
                        }
                    }
                    inFlight.acquire(outstanding);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads[s].start();
        }
        for (Thread thread : threads) thread.join();
        double elapsed = (System.nanoTime() - started) / 1e9;
        int total = 0;
        for (int c : counts) total += c;
        long[] all = new long[total];
        int at = 0;
        for (int s = 0; s < sessions; s++) {
            System.arraycopy(latencies[s], 0, all, at, counts[s]);
            at += counts[s];
        }
        Arrays.sort(all);
        System.out.printf("%s workload=%s client=java ops/s=%.0f p50=%.2fms p99=%.2fms p999=%.2fms errors=%d%n", label, workload, total / elapsed,
            percentile(all, 0.50), percentile(all, 0.99), percentile(all, 0.999), errors.get());
        for (ZooKeeper client : clients) client.close();
    }

    static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) return 0;
        return sorted[Math.min(sorted.length - 1, (int) (q * sorted.length))] / 1e6;
    }

    static ZooKeeper connect(String host) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(host, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        if (!connected.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("not connected to " + host);
        return zk;
    }
}
