package io.blockrep.common.volume;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.Sizes;
import java.util.ArrayList;
import java.util.List;

/**
 * Size and region size of a volume, and the region math on them. Region {@code i} covers bytes
 * {@code [i*R, (i+1)*R)}; the last region may be short when the size is not a multiple of R.
 * Immutable and thread-safe.
 */
public record RegionGeometry(long size, int regionSize) {
    public static final int MIN_REGION_SIZE = 4 * 1024;
    public static final int MAX_REGION_SIZE = 16 * 1024 * 1024;
    public static final int DEFAULT_REGION_SIZE = 64 * 1024;

    public RegionGeometry {
        List<String> problems = problems(size, regionSize);
        if (!problems.isEmpty()) {
            throw new InvalidInputException(problems, 64);
        }
    }

    /** Every reason {@code (size, regionSize)} is not a valid geometry; empty when it is. */
    public static List<String> problems(long size, long regionSize) {
        List<String> problems = new ArrayList<>();
        if (size <= 0) {
            problems.add("volume size must be positive, got " + size);
        } else if (size % 512 != 0) {
            problems.add("volume size must be a multiple of 512 bytes, got " + size);
        }
        if (regionSize < MIN_REGION_SIZE || regionSize > MAX_REGION_SIZE || Long.bitCount(regionSize) != 1) {
            problems.add("region size must be a power of two between 4K and 16M, got " + Sizes.format(regionSize));
        }
        return problems;
    }

    public int regionShift() {
        return Integer.numberOfTrailingZeros(regionSize);
    }

    public long regionCount() {
        return (size + regionSize - 1) >>> regionShift();
    }

    public long regionOf(long offset) {
        return offset >>> regionShift();
    }

    /** First region touched by {@code [offset, offset+length)}. */
    public long firstRegion(long offset) {
        return regionOf(offset);
    }

    /** Last region touched by {@code [offset, offset+length)}; {@code length} must be positive. */
    public long lastRegion(long offset, long length) {
        return regionOf(offset + length - 1);
    }

    public long regionStart(long region) {
        return region << regionShift();
    }

    /** Length of a region: R, or less for a short last region. */
    public int regionLength(long region) {
        return (int) Math.min(regionSize, size - regionStart(region));
    }

    /** True when {@code [offset, offset+length)} lies inside the volume, without overflow. */
    public boolean contains(long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= size && length <= size - offset;
    }
}
