package io.blockrep.replayer.plan;

import io.blockrep.common.volume.RegionGeometry;
import java.util.ArrayList;
import java.util.List;
import org.roaringbitmap.IntIterator;
import org.roaringbitmap.RoaringBitmap;

/**
 * Turns a set of dirty regions into extents to copy: adjacent regions are coalesced, in offset
 * order, up to a maximum extent size; the last region of a volume may be short. Region indexes
 * are unsigned 32-bit (RoaringBitmap), so a volume has at most 2^32 regions (16 TiB at 4 KiB).
 *
 * <p>Stateless and thread-safe.
 */
public final class ExtentPlanner {
    private final RegionGeometry geometry;
    private final int maxRegionsPerExtent;

    /** @param maxExtentBytes largest extent; rounded down to whole regions, at least one region */
    public ExtentPlanner(RegionGeometry geometry, long maxExtentBytes) {
        this.geometry = geometry;
        this.maxRegionsPerExtent = (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxExtentBytes / geometry.regionSize()));
    }

    public List<Extent> plan(RoaringBitmap dirty) {
        List<Extent> extents = new ArrayList<>();
        IntIterator it = dirty.getIntIterator();
        long runStart = -1;
        int runLength = 0;
        while (it.hasNext()) {
            long region = Integer.toUnsignedLong(it.next());
            if (region >= geometry.regionCount()) {
                throw new IllegalArgumentException("region " + region + " is beyond the volume's " + geometry.regionCount() + " regions");
            }
            if (runLength > 0 && region == runStart + runLength && runLength < maxRegionsPerExtent) {
                runLength++;
                continue;
            }
            if (runLength > 0) {
                extents.add(extent(runStart, runLength));
            }
            runStart = region;
            runLength = 1;
        }
        if (runLength > 0) {
            extents.add(extent(runStart, runLength));
        }
        return extents;
    }

    private Extent extent(long first, int count) {
        long offset = geometry.regionStart(first);
        long end = geometry.regionStart(first + count - 1) + geometry.regionLength(first + count - 1);
        return new Extent(first, count, offset, end - offset);
    }
}
