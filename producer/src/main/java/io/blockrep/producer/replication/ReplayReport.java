package io.blockrep.producer.replication;

import io.blockrep.common.InvalidInputException;
import io.blockrep.producer.dirty.DirtyLog;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A replayer's claim that it copied every region of some closed eras of one volume: per era, the
 * region count of that era's era-closed marker (which the facility published when it closed the
 * era). The facility takes it only if every named era is closed and still pending here and its count
 * equals the number of regions in the era's own bitmap; otherwise it drops nothing (invariant 4: an
 * era is dropped only when checked against the facility's own bitmap, never on a replayer's word).
 * A matching count shows that the replayer read the marker of exactly this era, which the dirty
 * topic orders after every region record of the era, so its copy covered all of them.
 *
 * <p>Immutable; {@link #check} reads the tracker and is as thread-safe as it is. Callers that then
 * drop the eras hold whatever lock orders era changes for the volume, so that nothing is dropped
 * between the check and the drop.
 */
public record ReplayReport(SortedMap<Long, Long> regionCountByEra) {
    public ReplayReport {
        regionCountByEra = Collections.unmodifiableSortedMap(new TreeMap<>(regionCountByEra));
    }

    /** The report of one era. */
    public static ReplayReport of(long era, long regionCount) {
        return new ReplayReport(new TreeMap<>(Map.of(era, regionCount)));
    }

    /** Everything wrong with this report against {@code tracker}'s eras; empty when it may be applied. */
    public List<String> check(DirtyLog tracker) {
        List<String> problems = new ArrayList<>();
        if (regionCountByEra.isEmpty()) {
            problems.add("the report names no era");
        }
        long open = tracker.openEra();
        List<Long> pending = tracker.pendingEras();
        for (Map.Entry<Long, Long> e : regionCountByEra.entrySet()) {
            long era = e.getKey();
            long claimed = e.getValue();
            if (era >= open) {
                problems.add("era " + era + " is not closed (the open era is " + open + ")");
                continue;
            }
            if (!pending.contains(era)) {
                problems.add("era " + era + " is not pending (already dropped, or never closed here)");
                continue;
            }
            long actual;
            try {
                actual = tracker.dirtyRegions(era).getLongCardinality();
            } catch (IllegalArgumentException dropped) {
                problems.add("era " + era + " is not pending (dropped just now)");
                continue;
            }
            if (actual != claimed) {
                problems.add("era " + era + ": the report counts " + claimed + " region(s), this facility's bitmap of the era holds "
                        + actual);
            }
        }
        return problems;
    }

    /** Throws, naming every problem and what is pending, unless the report {@linkplain #check checks} out. */
    public void requireValid(String volume, DirtyLog tracker) {
        List<String> problems = check(tracker);
        if (!problems.isEmpty()) {
            throw new InvalidInputException("volume '" + volume + "': replay report " + this + " refused, nothing dropped: "
                    + String.join("; ", problems) + " (pending eras " + tracker.pendingEras() + ", open era " + tracker.openEra() + ")");
        }
    }

    /** The highest era named. */
    public long lastEra() {
        return regionCountByEra.lastKey();
    }

    /** As on the wire: {@code {era=regions, ...}}. */
    @Override
    public String toString() {
        return regionCountByEra.toString();
    }
}
