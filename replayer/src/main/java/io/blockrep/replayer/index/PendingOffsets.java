package io.blockrep.replayer.index;

import io.blockrep.schemas.DirtyKey;
import java.util.HashMap;
import java.util.Map;
import org.roaringbitmap.longlong.Roaring64NavigableMap;

/**
 * The backlog of one partition as offsets: the offset of the latest value record of every region key
 * that has no later tombstone. The group's committed offset is the smallest of them, or the consumer's
 * position when there is none, so that lag (end offset minus committed offset) is zero exactly when
 * nothing is left to replay, and otherwise counts the records from the oldest unreplayed one to the
 * end (an upper bound of the region backlog: tombstones and later duplicates in between count too).
 *
 * <p>Compact: the offsets in a {@link Roaring64NavigableMap}, the key-to-offset lookup in one
 * primitive {@link RegionOffsets} table per (volume, node, era). Markers and poison records are never
 * pending. Not thread-safe: owned by the consumer's thread.
 */
final class PendingOffsets {
    private record EraKey(String volume, String node, long era) {
    }

    private final Roaring64NavigableMap offsets = new Roaring64NavigableMap();
    private final Map<EraKey, RegionOffsets> byEra = new HashMap<>();

    /** Records a region value ({@code live}) or tombstone at {@code offset}; markers are ignored. */
    void onRecord(DirtyKey key, boolean live, long offset) {
        if (key.isEraClosed() || key.region() > 0xFFFF_FFFFL) {
            return;
        }
        EraKey era = new EraKey(key.volume(), key.node(), key.era());
        long previous;
        if (live) {
            previous = byEra.computeIfAbsent(era, k -> new RegionOffsets()).put((int) key.region(), offset);
            offsets.addLong(offset);
        } else {
            RegionOffsets table = byEra.get(era);
            previous = table == null ? -1 : table.remove((int) key.region());
            if (table != null && table.size() == 0) {
                byEra.remove(era);
            }
        }
        if (previous >= 0) {
            offsets.removeLong(previous);
        }
    }

    /** The offset to commit: the oldest pending record, or {@code position} when nothing is pending. */
    long commitOffset(long position) {
        return offsets.isEmpty() ? position : Math.min(offsets.first(), position);
    }

    long pendingRecords() {
        return offsets.getLongCardinality();
    }
}
