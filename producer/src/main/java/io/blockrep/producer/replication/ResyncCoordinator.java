package io.blockrep.producer.replication;

import io.blockrep.producer.dirty.DirtyLog;
import io.blockrep.common.InvalidInputException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.Map;
import java.util.SortedMap;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The era bookkeeping of a resync: closing and announcing eras, and checking a replayer's report
 * against this side's own bitmaps before an era is dropped (DESIGN.md invariant 4: an era is
 * dropped only when the replica holds every region this side logged in it, checked against its own
 * bitmap, not taken on anyone's word). The {@link ModeMachine} decides when; this class does the
 * era work. Called under the mode machine's lock only.
 */
final class ResyncCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(ResyncCoordinator.class);
    private final String volume;
    private final DirtyLog tracker;
    private final VolumeObserver observer;
    /** Closed eras not announced yet → the last write epoch admitted before the close. Under the machine's lock (awaitsDrain: any thread). */
    private final Map<Long, Long> awaiting = new ConcurrentSkipListMap<>();
    /** Per pending era, the regions replay reports said were copied so far. Under the machine's lock. */
    private final Map<Long, RoaringBitmap> copiedSoFar = new HashMap<>();

    /** When each pending era's marker was last announced (epoch millis). Under the machine's lock (read: any thread). */
    private final Map<Long, Long> announcedAt = new ConcurrentSkipListMap<>();
    private final java.time.Clock clock;

    ResyncCoordinator(String volume, DirtyLog tracker, VolumeObserver observer, java.time.Clock clock) {
        this.volume = volume;
        this.tracker = tracker;
        this.observer = observer;
        this.clock = clock;
    }

    /**
     * Epoch millis since which the oldest pending era has been announced without being replayed, or
     * -1 when no announced era is pending: how long the volume has been waiting for a replayer.
     */
    long oldestAnnouncedMillis() {
        announcedAt.keySet().retainAll(tracker.pendingEras());
        return announcedAt.values().stream().mapToLong(Long::longValue).min().orElse(-1);
    }

    private void announce(long era) {
        announcedAt.putIfAbsent(era, clock.millis());
        observer.eraClosed(volume, era, tracker.dirtyRegions(era).getLongCardinality());
    }

    /**
     * A resync starts: eras closed earlier are announced again (a restart may have lost their
     * markers) unless their announcement still waits for writes, and the open era is closed.
     */
    void begin(WriteEpochs writes) {
        for (long era : tracker.pendingEras()) {
            if (!awaiting.containsKey(era)) {
                announce(era);
            }
        }
        closeEraAndAnnounce(writes);
    }

    /**
     * Closes the open era N and announces it (its era-closed marker: the replayer may copy it) once
     * every write admitted before the close has completed: see {@link WriteEpochs}.
     */
    long closeEraAndAnnounce(WriteEpochs writes) {
        long closed = tracker.closeEra();
        long before = writes.advance();
        LOG.info("volume {}: era {} closed with {} dirty region(s); era {} open", volume, closed,
                tracker.dirtyRegions(closed).getLongCardinality(), tracker.openEra());
        awaiting.put(closed, before);
        announceDrained(writes);
        return closed;
    }

    /** True while a closed era waits for its writes before it is announced. */
    boolean awaitsDrain() {
        return !awaiting.isEmpty();
    }

    /** Announces every closed era whose writes have all completed. */
    void announceDrained(WriteEpochs writes) {
        for (Iterator<Map.Entry<Long, Long>> it = awaiting.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Long> e = it.next();
            if (writes.drainedUpTo(e.getValue())) {
                it.remove();
                announce(e.getKey());
            }
        }
    }

    /**
     * Drops exactly the eras of {@code counts} (era → the region count of its era-closed marker),
     * after checking every one against this side's bitmaps: {@link ReplayReport#check} (closed,
     * pending, the count matches), and coverage: every region this side logged in the era must be
     * among the regions the replayer says it copied ({@code copied}, accumulated over the reports of
     * an era, since a report after a refusal names only what the next pass copied). Any problem
     * refuses the whole report with nothing dropped; regions not covered have their dirty records
     * published again (a tombstone written by someone else can delay a resync, never drop a region).
     * Returns the number of distinct regions the dropped eras held.
     */
    /**
     * Progress of a copy still under way: the replayer says it holds {@code copied} (era → regions) on
     * the replica, acknowledged data set by data set, before it tombstones their keys. Only recorded
     * (for pending eras; others are ignored): nothing is dropped, refused or published again. The final
     * report's coverage check ({@link #drop}) counts them, so a replayer killed mid-copy and started
     * again copies only what its predecessor had not, instead of having the whole era published again.
     * Held in memory: a facility restart forgets it, which costs a copy again, never a region.
     */
    void copied(Map<Long, RoaringBitmap> copied) {
        copiedSoFar.keySet().retainAll(tracker.pendingEras());
        for (Map.Entry<Long, RoaringBitmap> e : copied.entrySet()) {
            if (tracker.pendingEras().contains(e.getKey())) {
                copiedSoFar.computeIfAbsent(e.getKey(), k -> new RoaringBitmap()).or(e.getValue());
            }
        }
    }

    long drop(SortedMap<Long, Long> counts, Map<Long, RoaringBitmap> copied) {
        new ReplayReport(counts).requireValid(volume, tracker);
        copiedSoFar.keySet().retainAll(tracker.pendingEras());
        Map<Long, RoaringBitmap> missing = new TreeMap<>();
        for (long era : counts.keySet()) {
            RoaringBitmap covered = copiedSoFar.computeIfAbsent(era, e -> new RoaringBitmap());
            RoaringBitmap claim = copied.get(era);
            if (claim != null) {
                covered.or(claim);
            }
            RoaringBitmap lacking = RoaringBitmap.andNot(tracker.dirtyRegions(era), covered);
            if (!lacking.isEmpty()) {
                missing.put(era, lacking);
            }
        }
        if (!missing.isEmpty()) {
            List<String> problems = new ArrayList<>();
            missing.forEach((era, regions) -> {
                observer.republish(volume, era, regions);
                problems.add("era " + era + ": " + regions.getLongCardinality() + " region(s) logged here were not reported copied "
                        + "(first " + regions.first() + ")");
            });
            throw new InvalidInputException("volume '" + volume + "': replay report " + counts + " refused, nothing dropped: "
                    + String.join("; ", problems) + "; their dirty records are published again, so the replayer copies them");
        }
        RoaringBitmap all = new RoaringBitmap();
        for (long era : counts.keySet()) {
            all.or(tracker.dirtyRegions(era));
            tracker.dropEra(era);
            copiedSoFar.remove(era);
            announcedAt.remove(era);
        }
        LOG.info("volume {}: era(s) {} replayed ({} region(s)); pending {}", volume, counts.keySet(), all.getLongCardinality(),
                tracker.pendingEras());
        return all.getLongCardinality();
    }
}
