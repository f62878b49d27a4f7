package io.blockrep.producer.replication;

import io.blockrep.producer.dirty.DirtyLog;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Volume;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.roaringbitmap.RoaringBitmap;

/**
 * Cools the activity log of a REPLICATING volume: a hot region may be cleared only when both sides
 * flushed every write to it and none is in flight (ActivityLog's crash-safety order). The write path
 * reports each mirrored write's regions on {@link #enter} and {@link #leave}; {@link #checkpoint}
 * flushes both sides and cools the hot regions that had no write in flight and none admitted or
 * completed since the checkpoint started. Thread-safe; one checkpoint at a time (the facility's
 * scheduler).
 */
final class ActivityCheckpointer {
    private final String name;
    private final Volume volume;
    private final RegionGeometry geometry;
    private final DirtyLog tracker;
    private final ReplicaSink sink;
    private final Supplier<Mode> mode;
    private final Object lock = new Object();
    private final ConcurrentHashMap<Long, Integer> hotInFlight = new ConcurrentHashMap<>();
    private RoaringBitmap touchedSinceCheckpoint = new RoaringBitmap();

    ActivityCheckpointer(Volume volume, DirtyLog tracker, ReplicaSink sink, Supplier<Mode> mode) {
        this.name = volume.id();
        this.volume = volume;
        this.geometry = volume.geometry();
        this.tracker = tracker;
        this.sink = sink;
        this.mode = mode;
    }

    void enter(long offset, long length) {
        long first = geometry.firstRegion(offset);
        long last = geometry.lastRegion(offset, length);
        synchronized (lock) {
            touchedSinceCheckpoint.add(first, last + 1);
            for (long r = first; r <= last; r++) {
                hotInFlight.merge(r, 1, Integer::sum);
            }
        }
    }

    void leave(long offset, long length) {
        long first = geometry.firstRegion(offset);
        long last = geometry.lastRegion(offset, length);
        synchronized (lock) {
            touchedSinceCheckpoint.add(first, last + 1);
            for (long r = first; r <= last; r++) {
                hotInFlight.computeIfPresent(r, (k, n) -> n == 1 ? null : n - 1);
            }
        }
    }

    /** Returns the number of regions cooled; does nothing unless REPLICATING. Waits at most {@code timeoutMillis} for the peer's flush. */
    long checkpoint(long timeoutMillis) throws Exception {
        if (tracker == null || mode.get() != Mode.REPLICATING) {
            return 0;
        }
        synchronized (lock) {
            touchedSinceCheckpoint = new RoaringBitmap();
        }
        volume.flush();
        sink.flush(name).toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
        RoaringBitmap cool;
        synchronized (lock) {
            cool = RoaringBitmap.andNot(tracker.hotRegions(), touchedSinceCheckpoint);
            for (Long r : hotInFlight.keySet()) {
                cool.remove(r.intValue());
            }
            if (!cool.isEmpty()) {
                tracker.cool(cool);
            }
        }
        return cool.getLongCardinality();
    }
}
