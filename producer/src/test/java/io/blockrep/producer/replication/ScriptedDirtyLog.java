package io.blockrep.producer.replication;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.producer.dirty.DirtyLog;
import io.blockrep.producer.dirty.MarkResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.roaringbitmap.RoaringBitmap;

/**
 * An in-memory {@link DirtyLog} whose marks become durable only when the test says so
 * ({@link #completeMark}), the way a bitmap flusher completes them later on its own thread. As the
 * real tracker does, {@link #closeEra()} makes every pending mark of the open era durable before it
 * returns. Single-threaded use (the deterministic tests).
 */
final class ScriptedDirtyLog implements DirtyLog {
    /** A mark not yet durable: its regions, the ones it sets first, and the stage the writer waits on. */
    private record Pending(long era, RoaringBitmap regions, long[] firstTouches, CompletableFuture<MarkResult> done, boolean hot) {
    }

    private final RegionGeometry geometry;
    private long openEra;
    private RoaringBitmap open = new RoaringBitmap();
    private RoaringBitmap openPending = new RoaringBitmap();
    private final TreeMap<Long, RoaringBitmap> closed = new TreeMap<>();
    private final RoaringBitmap hot = new RoaringBitmap();
    private final List<Pending> pending = new ArrayList<>();

    ScriptedDirtyLog(RegionGeometry geometry, long firstEra) {
        this.geometry = geometry;
        this.openEra = firstEra;
    }

    int pendingMarks() {
        return pending.size();
    }

    /** Makes one pending mark (chosen by {@code random}) durable and completes its stage. */
    void completeMark(Random random) {
        complete(pending.remove(random.nextInt(pending.size())));
    }

    void completeAllMarks() {
        while (!pending.isEmpty()) {
            complete(pending.remove(0));
        }
    }

    private void complete(Pending p) {
        if (p.hot()) {
            hot.or(p.regions());
        } else if (p.era() == openEra) {
            open.or(p.regions());
        } else {
            closed.get(p.era()).or(p.regions());
        }
        p.done().complete(MarkResult.of(p.era(), p.firstTouches()));
    }

    /** Every durable dirty region of the open and pending eras. */
    RoaringBitmap durableDirty() {
        return RoaringBitmap.or(dirtySnapshot().values().iterator());
    }

    @Override
    public long openEra() {
        return openEra;
    }

    @Override
    public CompletionStage<MarkResult> markWrite(long offset, long length) {
        RoaringBitmap regions = regions(offset, length);
        RoaringBitmap fresh = RoaringBitmap.andNot(RoaringBitmap.andNot(regions, open), openPending);
        RoaringBitmap notDurable = RoaringBitmap.andNot(regions, open);
        if (notDurable.isEmpty()) {
            return CompletableFuture.completedFuture(MarkResult.of(openEra, new long[0]));
        }
        openPending.or(fresh);
        CompletableFuture<MarkResult> done = new CompletableFuture<>();
        pending.add(new Pending(openEra, notDurable, fresh.stream().asLongStream().toArray(), done, false));
        return done;
    }

    @Override
    public CompletionStage<Void> markHot(long offset, long length) {
        RoaringBitmap regions = RoaringBitmap.andNot(regions(offset, length), hot);
        if (regions.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<MarkResult> done = new CompletableFuture<>();
        pending.add(new Pending(0, regions, new long[0], done, true));
        return done.thenApply(r -> null);
    }

    @Override
    public RoaringBitmap hotRegions() {
        return hot.clone();
    }

    @Override
    public CompletionStage<Void> cool(RoaringBitmap regions) {
        hot.andNot(regions);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public long closeEra() {
        for (Pending p : List.copyOf(pending)) {
            if (!p.hot() && p.era() == openEra) {
                pending.remove(p);
                complete(p);
            }
        }
        long era = openEra;
        closed.put(era, open);
        open = new RoaringBitmap();
        openPending = new RoaringBitmap();
        openEra++;
        return era;
    }

    @Override
    public void dropEra(long era) {
        if (closed.remove(era) == null) {
            throw new IllegalArgumentException("era " + era + " is not pending: " + closed.keySet());
        }
    }

    @Override
    public List<Long> pendingEras() {
        return List.copyOf(closed.keySet());
    }

    @Override
    public RoaringBitmap dirtyRegions(long era) {
        if (era == openEra) {
            return open.clone();
        }
        RoaringBitmap bits = closed.get(era);
        if (bits == null) {
            throw new IllegalArgumentException("era " + era + " is neither open nor pending");
        }
        return bits.clone();
    }

    @Override
    public java.util.NavigableMap<Long, RoaringBitmap> dirtySnapshot() {
        java.util.TreeMap<Long, RoaringBitmap> all = new java.util.TreeMap<>();
        closed.forEach((era, bits) -> all.put(era, bits.clone()));
        all.put(openEra, open.clone());
        return all;
    }

    @Override
    public long dirtyRegionCount() {
        long n = open.getLongCardinality();
        for (RoaringBitmap b : closed.values()) {
            n += b.getLongCardinality();
        }
        return n;
    }

    private RoaringBitmap regions(long offset, long length) {
        RoaringBitmap r = new RoaringBitmap();
        r.add(geometry.firstRegion(offset), geometry.lastRegion(offset, length) + 1);
        return r;
    }
}
