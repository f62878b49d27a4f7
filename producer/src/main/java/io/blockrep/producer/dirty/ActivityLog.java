package io.blockrep.producer.dirty;

import io.blockrep.common.volume.RegionGeometry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionStage;
import org.roaringbitmap.RoaringBitmap;

/**
 * The activity log of a volume in REPLICATING mode: the regions that may have a write in flight
 * ("hot"), recorded durably in a {@link BitmapFile} of kind ACTIVITY (era 0) before the write is
 * issued to either side. After an unclean stop a hot region may differ between the sides, so the
 * hot set found at open is treated as dirty by the caller ({@link DirtyTracker}).
 *
 * <p>Thread-safety: every method may be called from any thread; marks share one fsync per flusher
 * round, as in {@link DirtyBitmap}.
 *
 * <p>Crash-safety order: a write to a region may be issued only after the stage of
 * {@link DirtyTracker#markHot} for it completed. The caller may {@link #cool} a region only when both sides
 * have flushed every write to it and none is in flight; a cooled bit that is still on disk only
 * causes an extra copy after a crash. {@link #close()} empties the log: call it only after both
 * sides have flushed.
 */
public final class ActivityLog implements AutoCloseable {
    private final DurableBitSet bits;
    private final RoaringBitmap foundAtOpen;

    private ActivityLog(DurableBitSet bits) {
        this.bits = bits;
        this.foundAtOpen = bits.durableRegions();
    }

    /** Opens the log at {@code file}, creating an empty one if it does not exist. */
    public static ActivityLog open(Path file, String volumeId, String nodeId, RegionGeometry geometry) {
        return open(file, volumeId, nodeId, geometry, DurableBitSet.FlushHook.NONE);
    }

    static ActivityLog open(Path file, String volumeId, String nodeId, RegionGeometry geometry, DurableBitSet.FlushHook hook) {
        BitmapFile.Header header = header(volumeId, nodeId, geometry);
        BitmapFile f = Files.exists(file) ? BitmapFile.open(file, header) : BitmapFile.create(file, header);
        return new ActivityLog(new DurableBitSet(f, hook));
    }

    /** Wraps an opened file whose bits are all durable (the tracker checked and repaired it). */
    static ActivityLog of(BitmapFile file) {
        return new ActivityLog(new DurableBitSet(file, DurableBitSet.FlushHook.NONE));
    }

    static BitmapFile.Header header(String volumeId, String nodeId, RegionGeometry geometry) {
        return new BitmapFile.Header(BitmapFile.Kind.ACTIVITY, volumeId, nodeId, geometry, 0);
    }

    /**
     * The hot regions on disk when the log was opened: what an unclean stop left behind, unfiltered.
     * {@link DirtyTracker#open} marks them dirty, less the excluded ranges.
     */
    RoaringBitmap foundAtOpen() {
        return foundAtOpen.clone();
    }

    /**
     * Records regions {@code first..last} as hot; completes when durable (at once if they are). Package-private:
     * it does not know the excluded ranges; writers go through {@link DirtyTracker#markHot}, which filters them.
     */
    CompletionStage<Void> markHot(long first, long last) {
        return bits.set(first, last).thenApply(newly -> null);
    }

    public boolean isHot(long region) {
        return bits.isDurable(region);
    }

    /** A snapshot of the durable hot regions. */
    public RoaringBitmap hotRegions() {
        return bits.durableRegions();
    }

    /** Clears {@code regions}; completes when the cleared set is on disk. */
    public CompletionStage<Void> cool(RoaringBitmap regions) {
        return bits.clear(regions);
    }

    /** Clears every hot region; completes when the empty set is on disk. */
    public CompletionStage<Void> reset() {
        return bits.clearAll();
    }

    /** Number of fsyncs of the log since it was opened. */
    public long flushCount() {
        return bits.forceCount();
    }

    /** Clean close: empties the log durably and closes it. Call only after both sides flushed. */
    @Override
    public void close() {
        try {
            bits.clearAll().join();
        } finally {
            bits.close();
        }
    }

    /** Stops without flushing or emptying, as a killed process would. For crash tests. */
    void abandon() {
        bits.abandon();
    }
}
