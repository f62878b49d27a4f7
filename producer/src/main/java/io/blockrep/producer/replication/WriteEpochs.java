package io.blockrep.producer.replication;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes in flight, counted per admission epoch. The epoch advances at every era close, so "every
 * write admitted before era N closed has completed" is {@link #drainedUpTo}: a logged write marks
 * its region in the open era first and writes the local copy after, so until it completed, a copy
 * of era N could read the source without it (and the mark of N would then be dropped with the
 * write still to come). The era-closed marker of N is announced only once that holds.
 *
 * <p>Thread-safety: {@link #admit} and {@link #advance} are called under the mode machine's lock;
 * {@link #complete} from any thread without it. A completion decrements, then reads the epoch; an
 * advance moves the epoch, then the caller reads the counts: one of the two always sees the other.
 */
final class WriteEpochs {
    private volatile long current;
    private final ConcurrentHashMap<Long, AtomicLong> counts = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();

    /** Counts one write admitted now; returns its epoch. Under the machine's lock. */
    long admit() {
        counts.computeIfAbsent(current, e -> new AtomicLong()).incrementAndGet();
        total.incrementAndGet();
        return current;
    }

    /** Admits {@code n} writes at once (held writes released together). Under the machine's lock. */
    long admit(int n) {
        counts.computeIfAbsent(current, e -> new AtomicLong()).addAndGet(n);
        total.addAndGet(n);
        return current;
    }

    /** A write of {@code epoch} completed; true when that ended an epoch that is no longer current. */
    boolean complete(long epoch) {
        total.decrementAndGet();
        AtomicLong c = counts.get(epoch);
        if (c.decrementAndGet() == 0 && epoch != current) {
            counts.remove(epoch, c);
            return true;
        }
        return false;
    }

    /** Moves to a new epoch; returns the one that ended. Under the machine's lock. */
    long advance() {
        return current++;
    }

    /** True when no write admitted in {@code epoch} or before is in flight. */
    boolean drainedUpTo(long epoch) {
        for (Map.Entry<Long, AtomicLong> e : counts.entrySet()) {
            if (e.getKey() <= epoch && e.getValue().get() > 0) {
                return false;
            }
        }
        return true;
    }

    long total() {
        return total.get();
    }
}
