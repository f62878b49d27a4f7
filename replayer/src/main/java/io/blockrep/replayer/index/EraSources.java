package io.blockrep.replayer.index;

import io.blockrep.schemas.EraClosed;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.roaringbitmap.RoaringBitmap;

/**
 * The last record of every key of one (volume, node, era) in each source topic, and the merge rule of
 * docs/two-sites.md over them: a region is clean if any topic's last record of its key is a tombstone,
 * otherwise dirty if any topic's last record is a value; the era-closed marker likewise (a marker
 * tombstone anywhere wins over a marker value anywhere). Records of one topic must come in partition
 * order; records of different topics in any order (none exists between them).
 *
 * <p>Why no cross-topic order is needed: a tombstone of {@code (v, n, e, r)} is written only after era
 * {@code e} of node {@code n} was closed and {@code r} copied, and later writes are keyed by later
 * eras, so a tombstone is final for its key wherever it is read; a value that turns up after it (a
 * mirror repeating a stretch, a facility re-publishing its backlog) restates a write already copied.
 *
 * <p>Not thread-safe: owned by {@link DirtySetIndex}, under its monitor.
 */
final class EraSources {
    private final Map<String, RoaringBitmap> live = new HashMap<>(4);
    private final Map<String, RoaringBitmap> cleared = new HashMap<>(4);
    private final Map<String, EraClosed> markers = new HashMap<>(4);
    private final Set<String> markerCleared = new HashSet<>(4);

    /** Records that the last record of {@code region} in {@code topic} is a value ({@code value}) or a tombstone. */
    void region(String topic, int region, boolean value) {
        bits(value ? live : cleared, topic).add(region);
        RoaringBitmap other = (value ? cleared : live).get(topic);
        if (other != null) {
            other.remove(region);
        }
    }

    /** Records {@code topic}'s last marker record: {@code marker}, or a tombstone when null. */
    void marker(String topic, EraClosed marker) {
        if (marker == null) {
            markers.remove(topic);
            markerCleared.add(topic);
        } else {
            markers.put(topic, marker);
            markerCleared.remove(topic);
        }
    }

    /** The merge rule for one region. */
    boolean isLive(int region) {
        for (RoaringBitmap c : cleared.values()) {
            if (c.contains(region)) {
                return false;
            }
        }
        for (RoaringBitmap l : live.values()) {
            if (l.contains(region)) {
                return true;
            }
        }
        return false;
    }

    /** The merge rule for the marker: a present marker, or null when none is present or one was tombstoned anywhere. */
    EraClosed marker() {
        if (!markerCleared.isEmpty()) {
            return null;
        }
        return markers.values().stream().findFirst().orElse(null);
    }

    private static RoaringBitmap bits(Map<String, RoaringBitmap> m, String topic) {
        return m.computeIfAbsent(topic, t -> new RoaringBitmap());
    }
}
