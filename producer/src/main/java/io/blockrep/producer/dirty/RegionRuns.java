package io.blockrep.producer.dirty;

import java.util.ArrayList;
import java.util.List;
import org.roaringbitmap.RoaringBitmap;

/** Runs of consecutive region numbers in a bitmap, as {@code [first, last]} pairs in ascending order. */
public final class RegionRuns {
    private RegionRuns() {
    }

    public static List<long[]> of(RoaringBitmap regions) {
        List<long[]> runs = new ArrayList<>();
        long start = -1;
        long prev = -2;
        for (int r : regions) {
            long region = Integer.toUnsignedLong(r);
            if (region != prev + 1) {
                if (start >= 0) {
                    runs.add(new long[] {start, prev});
                }
                start = region;
            }
            prev = region;
        }
        if (start >= 0) {
            runs.add(new long[] {start, prev});
        }
        return runs;
    }
}
