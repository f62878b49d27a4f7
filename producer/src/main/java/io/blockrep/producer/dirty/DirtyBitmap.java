package io.blockrep.producer.dirty;

import io.blockrep.common.volume.RegionGeometry;
import java.nio.file.Path;
import java.util.concurrent.CompletionStage;
import org.roaringbitmap.RoaringBitmap;

/**
 * One era's durable dirty set for one volume: the bits in memory, mirrored in a {@link BitmapFile}
 * of kind DIRTY.
 *
 * <p>Thread-safety: every method may be called from any thread. {@link #mark} never blocks on
 * I/O; a single flusher thread group-commits the bits set by all concurrent marks with one page
 * write and one fsync.
 *
 * <p>Crash-safety order: the stage returned by {@link #mark} completes only after every bit of
 * its range is on disk, so the caller acknowledges the write that set them only after that. A
 * range whose bits are all durable already completes at once, with no lock and no I/O: later
 * writes to a dirty region cost nothing extra. {@link #isDirty}, {@link #cardinality} and
 * {@link #regions} show durable bits only.
 *
 * <p>Failure: if a flush fails, the pending stages and every later mark fail with a
 * {@code FatalException}; the caller decides what to do with the volume.
 *
 * <p>Memory: two bits per region (the file image and the durable view), e.g. 4 MiB for a 1 TiB
 * volume at 64 KiB regions.
 */
public final class DirtyBitmap implements AutoCloseable {
    private final DurableBitSet bits;

    private DirtyBitmap(DurableBitSet bits) {
        this.bits = bits;
    }

    /** Creates the bitmap file of a new era; fails if it exists. */
    public static DirtyBitmap create(Path file, String volumeId, String nodeId, RegionGeometry geometry, long era) {
        return create(file, header(volumeId, nodeId, geometry, era), DurableBitSet.FlushHook.NONE);
    }

    /** Opens an era's bitmap file, checking it belongs to this volume, node, geometry and era. */
    public static DirtyBitmap open(Path file, String volumeId, String nodeId, RegionGeometry geometry, long era) {
        return open(file, header(volumeId, nodeId, geometry, era), DurableBitSet.FlushHook.NONE);
    }

    static DirtyBitmap create(Path file, BitmapFile.Header header, DurableBitSet.FlushHook hook) {
        return new DirtyBitmap(new DurableBitSet(BitmapFile.create(file, header), hook));
    }

    static DirtyBitmap open(Path file, BitmapFile.Header header, DurableBitSet.FlushHook hook) {
        return new DirtyBitmap(new DurableBitSet(BitmapFile.open(file, header), hook));
    }

    /** Wraps an opened file whose bits are all durable (the tracker checked and repaired it). */
    static DirtyBitmap of(BitmapFile file) {
        return new DirtyBitmap(new DurableBitSet(file, DurableBitSet.FlushHook.NONE));
    }

    static BitmapFile.Header header(String volumeId, String nodeId, RegionGeometry geometry, long era) {
        return new BitmapFile.Header(BitmapFile.Kind.DIRTY, volumeId, nodeId, geometry, era);
    }

    public long era() {
        return bits.header().era();
    }

    public RegionGeometry geometry() {
        return bits.header().geometry();
    }

    /**
     * Marks regions {@code firstRegion..lastRegion} (inclusive) dirty. The stage completes when all
     * of them are durable, with the regions this call set first.
     */
    public CompletionStage<MarkResult> mark(long firstRegion, long lastRegion) {
        long era = era();
        return bits.set(firstRegion, lastRegion).thenApply(newly -> new MarkResult(era, newly));
    }

    /** True when the region's bit is durable. */
    public boolean isDirty(long region) {
        return bits.isDurable(region);
    }

    /** Number of durable dirty regions. */
    public long cardinality() {
        return bits.durableCount();
    }

    /** A snapshot of the durable dirty regions. */
    public RoaringBitmap regions() {
        return bits.durableRegions();
    }

    /** Number of fsyncs of the bitmap file since it was opened. */
    public long flushCount() {
        return bits.forceCount();
    }

    /** Number of 4 KiB bit pages written since the bitmap was opened. */
    public long pagesWritten() {
        return bits.pagesWritten();
    }

    /** Flushes pending marks and closes the file; throws if a flush failed. Reads keep working. */
    @Override
    public void close() {
        bits.close();
    }

    /** Stops without flushing, as a killed process would. For crash tests. */
    void abandon() {
        bits.abandon();
    }
}
