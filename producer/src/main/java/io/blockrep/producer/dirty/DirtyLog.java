package io.blockrep.producer.dirty;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.roaringbitmap.RoaringBitmap;

/**
 * What a replicated volume needs of its dirty tracking: marks in the open era, the activity log's
 * hot regions, and era changes. {@link DirtyTracker} is the durable implementation; unit tests of
 * the mode machine script one in memory, completing marks on command.
 *
 * <p>Contract (the promise rests on it): a stage of {@link #markWrite} or {@link #markHot}
 * completes only when its bits are durable; once {@link #closeEra()} returned N, no mark lands in
 * N any more; excluded ranges are filtered by the implementation on every marking path.
 * Thread-safe.
 */
public interface DirtyLog {
    /** The era new marks are recorded in. */
    long openEra();

    /** Marks the regions of a write's non-excluded bytes dirty in the open era; completes when durable. */
    CompletionStage<MarkResult> markWrite(long offset, long length);

    /** Records the regions of a write's non-excluded bytes as hot; completes when durable. */
    CompletionStage<Void> markHot(long offset, long length);

    /** A snapshot of the durable hot regions. */
    RoaringBitmap hotRegions();

    /** Cools hot regions; completes when on disk. */
    CompletionStage<Void> cool(RoaringBitmap regions);

    /** Closes the open era N durably, opens N+1, returns N. */
    long closeEra();

    /** Forgets a pending era that was replayed. */
    void dropEra(long era);

    /** Closed eras not yet dropped, ascending. */
    List<Long> pendingEras();

    /** The durable dirty regions of an open or pending era; an era that is neither throws {@link IllegalArgumentException}. */
    RoaringBitmap dirtyRegions(long era);

    /** Dirty (era, region) pairs over the open and pending eras. */
    long dirtyRegionCount();

    /** Every pending era and the open one with their durable regions, taken at one instant (no era change inside it). */
    java.util.NavigableMap<Long, RoaringBitmap> dirtySnapshot();
}
