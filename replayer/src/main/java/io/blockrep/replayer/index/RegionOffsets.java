package io.blockrep.replayer.index;

/**
 * Region (unsigned 32-bit) to record offset, as an open-addressing hash table of two primitive arrays:
 * about 24 bytes per entry instead of a boxed map's ~80. Linear probing, backward-shift deletion.
 * Not thread-safe; owned by {@link PendingOffsets}.
 */
final class RegionOffsets {
    private static final long EMPTY = -1;
    private int[] regions = new int[16];
    private long[] offsets = filled(16);
    private int size;

    private static long[] filled(int n) {
        long[] a = new long[n];
        java.util.Arrays.fill(a, EMPTY);
        return a;
    }

    int size() {
        return size;
    }

    /** Maps {@code region} to {@code offset} (non-negative); returns the previous offset or -1. */
    long put(int region, long offset) {
        if (2 * (size + 1) > regions.length) {
            grow();
        }
        int i = slot(region);
        long previous = offsets[i];
        regions[i] = region;
        offsets[i] = offset;
        if (previous == EMPTY) {
            size++;
        }
        return previous;
    }

    /** Removes {@code region}; returns its offset or -1 if absent. */
    long remove(int region) {
        int i = slot(region);
        long previous = offsets[i];
        if (previous == EMPTY) {
            return EMPTY;
        }
        size--;
        int mask = regions.length - 1;
        int hole = i;
        for (int j = (i + 1) & mask; offsets[j] != EMPTY; j = (j + 1) & mask) {
            int home = hash(regions[j]) & mask;
            // move j into the hole unless its home lies cyclically in (hole, j]
            boolean stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (!stays) {
                regions[hole] = regions[j];
                offsets[hole] = offsets[j];
                hole = j;
            }
        }
        offsets[hole] = EMPTY;
        return previous;
    }

    long get(int region) {
        return offsets[slot(region)];
    }

    /** The slot holding {@code region}, or the empty slot where it would go. */
    private int slot(int region) {
        int mask = regions.length - 1;
        int i = hash(region) & mask;
        while (offsets[i] != EMPTY && regions[i] != region) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private static int hash(int region) {
        int h = region * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    private void grow() {
        int[] oldRegions = regions;
        long[] oldOffsets = offsets;
        regions = new int[oldRegions.length * 2];
        offsets = filled(oldRegions.length * 2);
        for (int i = 0; i < oldRegions.length; i++) {
            if (oldOffsets[i] != EMPTY) {
                int s = slot(oldRegions[i]);
                regions[s] = oldRegions[i];
                offsets[s] = oldOffsets[i];
            }
        }
    }
}
