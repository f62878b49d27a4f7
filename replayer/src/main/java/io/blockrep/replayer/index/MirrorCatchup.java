package io.blockrep.replayer.index;

import io.blockrep.common.RetriableException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The catch-up wait of a resync or resolve (docs/two-sites.md): an era that the source facility reports
 * closed is complete only once its era-closed marker is in the index; until then its records may still
 * be on the way (through the facility's Kafka publisher and, between sites, through MirrorMaker). This
 * tracks how long that has been the case for one (volume, node) and, past
 * {@code replayer.mirror.catchup.timeout}, fails retriably with the mirror's lag as the reason.
 *
 * <p>Time is injected (a nanosecond ticker). Not thread-safe: one owner, the loop that steps the volume.
 */
public final class MirrorCatchup {
    private final Duration timeout;
    private final LongSupplier nanoTime;
    private final Supplier<String> lagReason;
    private long waitingSince = -1;

    /**
     * @param lagReason what to say about the mirror when giving up (e.g. {@link MirrorLag#describe}); called only then
     */
    public MirrorCatchup(Duration timeout, LongSupplier nanoTime, Supplier<String> lagReason) {
        this.timeout = timeout;
        this.nanoTime = nanoTime;
        this.lagReason = lagReason;
    }

    /**
     * The eras of {@code closedAtSource} (the facility's closed, not yet dropped eras) whose marker the
     * index does not hold yet: the records still on their way.
     */
    public static Set<Long> missing(DirtySetIndex index, String volume, String node, List<Long> closedAtSource) {
        Set<Long> have = new HashSet<>();
        index.closedEras(volume, node).forEach(c -> have.add(c.era()));
        Set<Long> missing = new TreeSet<>(closedAtSource);
        missing.removeAll(have);
        return missing;
    }

    /**
     * One round: returns the eras still awaited (empty when caught up, which restarts the clock).
     *
     * @throws RetriableException when eras have been awaited longer than the timeout
     */
    public Set<Long> check(DirtySetIndex index, String volume, String node, List<Long> closedAtSource) {
        Set<Long> missing = missing(index, volume, node, closedAtSource);
        long now = nanoTime.getAsLong();
        if (missing.isEmpty()) {
            waitingSince = -1;
            return missing;
        }
        if (waitingSince < 0) {
            waitingSince = now;
        } else if (now - waitingSince > timeout.toNanos()) {
            throw new RetriableException("volume '" + volume + "': " + node + " closed era(s) " + missing + " but their era-closed "
                    + "marker has not reached this cluster's dirty topics within replayer.mirror.catchup.timeout (" + timeout
                    + "); the mirror is behind: " + lagReason.get() + ". Run it again once the mirror caught up");
        }
        return missing;
    }
}
