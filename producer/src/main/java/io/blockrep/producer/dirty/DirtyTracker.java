package io.blockrep.producer.dirty;

import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileModes;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeMetadataFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dirty tracking of one volume: the open era's {@link DirtyBitmap}, the closed eras still to be
 * replayed, and the {@link ActivityLog}, all in the volume's folder:
 *
 * <pre>
 * eras.json            the open era and the pending closed ones ({@link ErasFile}), written atomically
 * dirty-&lt;era&gt;.bitmap   one per open or closed era
 * activity.bitmap      hot regions (REPLICATING mode)
 * </pre>
 *
 * <p>Thread-safety: all methods may be called from any thread. Marks and era changes are ordered
 * by a read-write lock: a mark takes the open era under the read lock and sets its bits before
 * releasing it, so once {@link #closeEra()} returns N no mark lands in N any more, and every bit
 * set in N is durable. Era changes are serialised among themselves.
 *
 * <p>Crash-safety order. Eras start at 1 and never go backwards. Closing era N: create
 * {@code dirty-(N+1).bitmap} durably, then rewrite eras.json; a crash in between leaves an unused
 * file for an era above the open one, removed at the next open. Dropping era N: rewrite eras.json,
 * then delete the file; a leftover file of an unlisted era below the open one is removed at open.
 * At open, hot regions in the activity log are marked durably in the open era before the log is
 * emptied; regions wholly inside the excluded ranges are not marked, on this path as on every other
 * ({@link #markWrite}, {@link #markHot}: the only public ways to mark a region dirty or hot).
 *
 * <p>Local state is never silently trusted: every bitmap page carries a checksum, eras.json a checksum
 * and rules, and whatever is damaged or missing at open makes more regions dirty, never fewer
 * ({@link TrackerRecovery} has the table; {@link #stateDamage()} reports what was found).
 */
public final class DirtyTracker implements DirtyLog, AutoCloseable {
    public static final String ERAS_FILE = "eras.json";
    public static final String ACTIVITY_FILE = "activity.bitmap";
    private static final Logger log = LoggerFactory.getLogger(DirtyTracker.class);

    private final Path dir;
    private final String volumeId;
    private final String nodeId;
    private final RegionGeometry geometry;
    private final ExcludedRanges excluded;
    private final ActivityLog activity;
    private final RoaringBitmap recoveredHot;
    private final List<StateDamage> damage;
    private final ReentrantReadWriteLock marking = new ReentrantReadWriteLock();
    private final Object eraChange = new Object();
    // written under marking's write lock (and eraChange); read under either
    private DirtyBitmap open;
    private final TreeMap<Long, RoaringBitmap> closed;

    private DirtyTracker(Path dir, VolumeMetadata meta, String nodeId, ExcludedRanges excluded, DirtyBitmap open,
            TreeMap<Long, RoaringBitmap> closed, ActivityLog activity, RoaringBitmap recoveredHot, List<StateDamage> damage) {
        this.dir = dir;
        this.volumeId = meta.id();
        this.nodeId = nodeId;
        this.geometry = meta.geometry();
        this.excluded = excluded;
        this.open = open;
        this.closed = closed;
        this.activity = activity;
        this.recoveredHot = recoveredHot;
        this.damage = damage;
    }

    /**
     * Opens (or starts) dirty tracking in {@code volumeDir}. Hot regions left by an unclean stop,
     * except those wholly inside {@code excluded}, are marked dirty in the open era durably, then the
     * activity log is emptied; see {@link #recoveredHotRegions()}.
     */
    public static DirtyTracker open(Path volumeDir, VolumeMetadata meta, String nodeId, ExcludedRanges excluded) {
        return open(volumeDir, meta, nodeId, excluded, 1);
    }

    /**
     * As {@link #open(Path, VolumeMetadata, String, ExcludedRanges)}, with the number of the first era
     * of a volume that has no {@code eras.json} yet. The facility passes the creation time in epoch
     * milliseconds, so that a volume re-created with the same id and node never reuses the era numbers
     * (and so the Kafka keys and tombstones) of an earlier incarnation.
     */
    public static DirtyTracker open(Path volumeDir, VolumeMetadata meta, String nodeId, ExcludedRanges excluded, long firstEra) {
        return open(volumeDir, meta, nodeId, excluded, firstEra, false);
    }

    /**
     * As {@link #open(Path, VolumeMetadata, String, ExcludedRanges, long)}; {@code cleanStop} tells whether the
     * facility stopped in order last time (its clean-stop marker was there). After an unclean stop a missing activity
     * log means every region is hot. Damaged or missing files make the tracker more conservative, never less; see
     * {@link TrackerRecovery} and {@link #stateDamage()}.
     */
    public static DirtyTracker open(Path volumeDir, VolumeMetadata meta, String nodeId, ExcludedRanges excluded, long firstEra,
            boolean cleanStop) {
        if (firstEra < 1) {
            throw new IllegalArgumentException("first era must be positive: " + firstEra);
        }
        List<String> problems = excluded.problems(meta.geometry());
        if (!problems.isEmpty()) {
            throw new FatalException("volume " + meta.id() + ": " + String.join("; ", problems));
        }
        try {
            FileModes.createPrivateDirectories(volumeDir);
        } catch (IOException e) {
            throw new FatalException("cannot create " + volumeDir + ": " + e, e);
        }
        TrackerRecovery.Opened files = TrackerRecovery.open(volumeDir, meta, nodeId, excluded, firstEra, cleanStop);
        DirtyBitmap open = files.open();
        long openEra = open.era();
        ActivityLog activity = files.activity();
        RoaringBitmap found = activity.foundAtOpen();
        RoaringBitmap hot = new RoaringBitmap();
        if (!found.isEmpty()) {
            List<CompletableFuture<MarkResult>> marks = new ArrayList<>();
            for (RegionRange r : notExcluded(found, excluded, meta.geometry())) {
                hot.add(r.first(), r.last() + 1);
                marks.add(open.mark(r.first(), r.last()).toCompletableFuture());
            }
            log.warn("volume {}: {} hot regions after an unclean stop; marking them dirty in era {} ({} wholly inside excluded ranges skipped)",
                    meta.id(), hot.getLongCardinality(), openEra, found.getLongCardinality() - hot.getLongCardinality());
            CompletableFuture.allOf(marks.toArray(CompletableFuture[]::new)).join();
            activity.reset().toCompletableFuture().join();
        }
        return new DirtyTracker(volumeDir, meta, nodeId, excluded, open, files.closed(), activity, hot, files.damage());
    }

    /**
     * The runs of {@code regions} that are not wholly inside excluded ranges, as a write covering each run would
     * mark them: a region partly outside the excluded ranges stays in. The activity log may hold excluded regions
     * that an older version marked, or that were hot before the ranges were configured.
     */
    private static List<RegionRange> notExcluded(RoaringBitmap regions, ExcludedRanges excluded, RegionGeometry geometry) {
        List<RegionRange> out = new ArrayList<>();
        for (long[] run : RegionRuns.of(regions)) {
            if (run[0] >= geometry.regionCount()) {
                break; // the bitmap file's geometry matched at open; defensive only
            }
            long last = Math.min(run[1], geometry.regionCount() - 1);
            long start = geometry.regionStart(run[0]);
            long end = geometry.regionStart(last) + geometry.regionLength(last);
            out.addAll(excluded.regionsToMark(start, end - start, geometry));
        }
        return out;
    }

    public static String dirtyFileName(long era) {
        return "dirty-" + era + ".bitmap";
    }

    /** The era new writes are recorded in. */
    @Override
    public long openEra() {
        marking.readLock().lock();
        try {
            return open.era();
        } finally {
            marking.readLock().unlock();
        }
    }

    /**
     * Marks the regions touched by the non-excluded bytes of a write dirty in the open era. The
     * stage completes when they are durable, with the era and the regions set first by this call.
     */
    @Override
    public CompletionStage<MarkResult> markWrite(long offset, long length) {
        List<RegionRange> ranges = excluded.regionsToMark(offset, length, geometry);
        marking.readLock().lock();
        try {
            long era = open.era();
            CompletableFuture<MarkResult> all = CompletableFuture.completedFuture(new MarkResult(era, new long[0]));
            for (RegionRange r : ranges) {
                CompletableFuture<MarkResult> one = open.mark(r.first(), r.last()).toCompletableFuture();
                all = all.thenCombine(one, (a, b) -> MarkResult.merge(era, a, b));
            }
            return all;
        } finally {
            marking.readLock().unlock();
        }
    }

    /** Records the regions of a write's non-excluded bytes as hot; completes when durable. */
    @Override
    public CompletionStage<Void> markHot(long offset, long length) {
        CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
        for (RegionRange r : excluded.regionsToMark(offset, length, geometry)) {
            all = all.thenCombine(activity.markHot(r.first(), r.last()), (a, b) -> null);
        }
        return all;
    }

    /** The activity log, to read and cool hot regions; regions are made hot only through {@link #markHot}. */
    public ActivityLog activity() {
        return activity;
    }

    @Override
    public RoaringBitmap hotRegions() {
        return activity.hotRegions();
    }

    @Override
    public CompletionStage<Void> cool(RoaringBitmap regions) {
        return activity.cool(regions);
    }

    /**
     * Closes the open era N and opens N+1 durably; returns N. When this returns, every region
     * marked in N is durable and later marks go to N+1. N stays pending until {@link #dropEra}.
     */
    @Override
    public long closeEra() {
        synchronized (eraChange) {
            long era = openEra();
            long next = era + 1;
            DirtyBitmap successor = DirtyBitmap.create(dir.resolve(dirtyFileName(next)), volumeId, nodeId, geometry, next);
            DirtyBitmap old;
            marking.writeLock().lock();
            try {
                List<Long> pending = new ArrayList<>(closed.keySet());
                pending.add(era);
                ErasFile.write(dir.resolve(ERAS_FILE), new ErasFile.Eras(volumeId, nodeId, next, pending));
                old = open;
                open = successor;
                closed.put(era, old.regions()); // completed below, once the pending marks are durable
            } catch (RuntimeException e) {
                successor.close();
                throw e;
            } finally {
                marking.writeLock().unlock();
            }
            old.close(); // flushes the marks that were still pending
            RoaringBitmap bits = old.regions();
            marking.writeLock().lock();
            try {
                closed.put(era, bits);
            } finally {
                marking.writeLock().unlock();
            }
            return era;
        }
    }

    /** Forgets a closed era after it was fully replayed: removes it from eras.json, then its file. */
    @Override
    public void dropEra(long era) {
        synchronized (eraChange) {
            marking.writeLock().lock();
            try {
                if (!closed.containsKey(era)) {
                    throw new IllegalArgumentException("era " + era + " of volume " + volumeId + " is not a closed, pending era; pending: "
                            + closed.keySet() + ", open: " + open.era());
                }
                List<Long> pending = new ArrayList<>(closed.keySet());
                pending.remove(era);
                ErasFile.write(dir.resolve(ERAS_FILE), new ErasFile.Eras(volumeId, nodeId, open.era(), pending));
                closed.remove(era);
            } finally {
                marking.writeLock().unlock();
            }
            try {
                Files.deleteIfExists(dir.resolve(dirtyFileName(era)));
            } catch (IOException e) {
                log.warn("volume {}: cannot delete bitmap of dropped era {} (removed at next open): {}", volumeId, era, e.toString());
            }
        }
    }

    /** Closed eras not yet dropped, ascending. */
    @Override
    public List<Long> pendingEras() {
        marking.readLock().lock();
        try {
            return List.copyOf(closed.keySet());
        } finally {
            marking.readLock().unlock();
        }
    }

    /** The durable dirty regions of an open or pending era. */
    @Override
    public RoaringBitmap dirtyRegions(long era) {
        marking.readLock().lock();
        try {
            if (era == open.era()) {
                return open.regions();
            }
            RoaringBitmap bits = closed.get(era);
            if (bits == null) {
                throw new IllegalArgumentException("era " + era + " of volume " + volumeId + " is neither open nor pending");
            }
            return bits.clone();
        } finally {
            marking.readLock().unlock();
        }
    }

    /**
     * The durable dirty regions of every pending era and the open one, oldest first, taken at one instant:
     * no era change lands inside it, so an era in it existed when it was taken and one absent from it below
     * the open era has been dropped for good. The bitmaps are copies the caller may keep.
     */
    @Override
    public NavigableMap<Long, RoaringBitmap> dirtySnapshot() {
        marking.readLock().lock();
        try {
            TreeMap<Long, RoaringBitmap> all = new TreeMap<>();
            closed.forEach((era, bits) -> all.put(era, bits.clone()));
            all.put(open.era(), open.regions());
            return all;
        } finally {
            marking.readLock().unlock();
        }
    }

    /** Durable dirty (era, region) pairs over the open and pending eras: the live dirty records. */
    @Override
    public long dirtyRegionCount() {
        marking.readLock().lock();
        try {
            long n = open.cardinality();
            for (RoaringBitmap bits : closed.values()) {
                n += bits.getLongCardinality();
            }
            return n;
        } finally {
            marking.readLock().unlock();
        }
    }

    /**
     * The hot regions an unclean stop left in the activity log, now dirty in the era that was open
     * at open (those wholly inside excluded ranges were left clean). All of them are reported (not only
     * first touches), so the caller can publish them.
     */
    public RoaringBitmap recoveredHotRegions() {
        return recoveredHot.clone();
    }

    /** The damaged or missing state files found at open and what was done about each; empty when all was sound. */
    public List<StateDamage> stateDamage() {
        return damage;
    }

    /**
     * Flushes and closes the open era's bitmap, and closes the activity log cleanly (emptying it).
     * Call only after both sides have flushed every acknowledged write.
     */
    @Override
    public void close() {
        synchronized (eraChange) {
            try {
                open.close();
            } finally {
                activity.close();
            }
        }
    }

    /** Stops without flushing or emptying anything, as a killed process would. For crash tests. */
    void abandon() {
        open.abandon();
        activity.abandon();
    }
}
